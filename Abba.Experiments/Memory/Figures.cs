using System.Globalization;
using Abba.Core.Efficiency;
using Abba.Core.Memory;
using Abba.Experiments.Output;
using ScottPlot;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Memory;

/// <summary>Figures of the memory experiment, drawn from its CSVs.</summary>
public static class MemoryFigures
{
    static string Label(string method) => MethodStyle.Label(method);

    /// <summary>Draws the figures from the CSVs in <paramref name="folder"/>; returns the files written.</summary>
    public static IReadOnlyList<string> Save(string folder)
    {
        var measured = CsvFiles.Read<MemoryMeasuredRow>(Path.Combine(folder, MemoryFiles.Measured));
        var breakdown = CsvFiles.Read<MemoryBreakdownRow>(Path.Combine(folder, MemoryFiles.Breakdown));
        var files = new List<string>();
        files.AddRange(Figures.Save(MeasuredVersusModelled(measured), folder, MemoryFiles.MeasuredFigure, 1200, 600));
        files.AddRange(Figures.Save(Breakdown(breakdown), folder, MemoryFiles.BreakdownFigure, 1400, 900));
        string full = Path.Combine(folder, MemoryFiles.FullScale);
        if (File.Exists(full)) files.AddRange(Figures.Save(Figure4(CsvFiles.Read<MemoryModelledRow>(full)), folder,
            MemoryFiles.Figure4, 1200, 600));
        return files;
    }

    /// <summary>The paper's grouped bars: modelled full-scale peaks per model and method, the paper's measured values
    /// as black ticks.</summary>
    static Plot Figure4(IReadOnlyList<MemoryModelledRow> rows)
    {
        var plot = new Plot();
        var methods = CostMethod.TrainingMethodNames;
        var bars = new GroupedBars(plot, methods.Count);
        for (int g = 0; g < PaperModels.Names.Count; g++)
        {
            string model = PaperModels.Names[g];
            for (int k = 0; k < methods.Count; k++)
            {
                if (rows.FirstOrDefault(r => r.Model == model && r.Method == methods[k]) is not { } row) continue;
                bars.Add(g, k, row.ModelledGb, MethodStyle.Colour(row.Method), row.ModelledGb.ToString("0.0",
                    CultureInfo.InvariantCulture));
                if (row.PaperGb is { } paper) plot.Add.Marker(bars.Position(g, k), paper, MarkerShape.HorizontalBar,
                    22, Colors.Black);
            }
            bars.Label(g, model);
        }
        foreach (string m in methods) plot.Legend.ManualItems.Add(new LegendItem { LabelText = Label(m) +
            " (modelled)", FillColor = MethodStyle.Colour(m) });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "paper, measured (Fig. 4)", MarkerShape =
            MarkerShape.HorizontalBar, MarkerColor = Colors.Black, MarkerSize = 16 });
        return bars.Finish("Peak training memory, batch 1, 256 tokens: MODELLED at full scale (bars) vs the paper's " +
            "measurements (ticks)",
            "peak memory (GB = 1e9 bytes)", Alignment.UpperLeft);
    }

    /// <summary>Each measured reduced model (solid) beside the analytic model's prediction (light, labelled with
    /// modelled / measured).</summary>
    static Plot MeasuredVersusModelled(IReadOnlyList<MemoryMeasuredRow> rows)
    {
        var plot = new Plot();
        var models = rows.Select(r => r.Model).Distinct().ToArray();
        var methods = CostMethod.TrainingMethodNames;
        var bars = new GroupedBars(plot, 2 * methods.Count);   // measured and modelled side by side
        for (int g = 0; g < models.Length; g++)
        {
            for (int k = 0; k < methods.Count; k++)
            {
                if (rows.FirstOrDefault(r => r.Model == models[g] && r.Method == methods[k]) is not { } row) continue;
                var colour = MethodStyle.Colour(row.Method);
                bars.Add(g, 2 * k, row.MeasuredBytes / 1e9, colour);
                bars.Add(g, 2 * k + 1, row.ModelledBytes / 1e9, colour.WithAlpha(0.35),
                    row.ModelledOverMeasured.ToString("0.00", CultureInfo.InvariantCulture));
            }
            var first = rows.First(r => r.Model == models[g]);
            bars.Label(g, $"{models[g]} ({first.Layers} block(s), vocab {first.Vocab})");
        }
        foreach (string m in methods)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = Label(m) + ": measured", FillColor =
                MethodStyle.Colour(m) });
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = Label(m) + ": modelled", FillColor =
                MethodStyle.Colour(m).WithAlpha(0.35) });
        }
        return bars.Finish("Reduced models, float32, one process per point: measured peak vs the analytic model " +
            "(labels: modelled / measured)",
            "peak above the process baseline (GB)", Alignment.UpperLeft);
    }

    /// <summary>Stacked components of the modelled full-scale peak, one panel per model.</summary>
    static Multiplot Breakdown(IReadOnlyList<MemoryBreakdownRow> rows)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(PaperModels.Names.Count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(2, 2);
        var components = TrainingMemoryModel.ComponentNames;
        var methods = CostMethod.TrainingMethodNames;
        for (int p = 0; p < PaperModels.Names.Count; p++)
        {
            string model = PaperModels.Names[p];
            double Gb(string method, string component) =>
                rows.FirstOrDefault(r => r.Scale == MemorySummary.FullScaleBreakdown && r.Model == model && r.Method
                    == method && r.Component == component)?.Bytes / 1e9 ?? 0;
            StackedBars.Panel(multiplot.GetPlot(p), [.. methods.Select(Label)], k => [.. components.Select(c =>
                Gb(methods[k], c))], components,
                $"{model}: modelled peak by component (bf16)", "GB", legend: p == 0);
        }
        return multiplot;
    }
}
