using System.Globalization;
using Abba.Core.Efficiency;
using Abba.Core.Memory;
using Abba.Experiments.Memory;
using Abba.Experiments.Output;
using ScottPlot;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Efficiency;

/// <summary>Figures of the efficiency experiment, drawn from its CSVs.</summary>
public static class EfficiencyFigures
{
    /// <summary>Draws the figures from the CSVs in <paramref name="folder"/>; returns the files written.</summary>
    public static IReadOnlyList<string> Save(string folder)
    {
        var rows = CsvFiles.Read<EfficiencyRow>(Path.Combine(folder, EfficiencyFiles.StepTime));
        var anatomy = CsvFiles.Read<AnatomyRow>(Path.Combine(folder, EfficiencyFiles.Anatomy));
        return [.. Figures.Save(RatioToLora(rows), folder, EfficiencyFiles.RatioFigure, 1300, 650),
                .. Figures.Save(Phases(rows), folder, EfficiencyFiles.PhasesFigure, 1400, 1000),
                .. Figures.Save(Roofline(rows), folder, EfficiencyFiles.RooflineFigure, 1300, 650),
                .. Figures.Save(Anatomy(anatomy), folder, EfficiencyFiles.AnatomyFigure, 1100, 600)];
    }

    /// <summary>
    /// Each method's paired step-time ratio to LoRA per case, with its 95% interval over rounds and the paper's band.
    /// </summary>
    static Plot RatioToLora(IReadOnlyList<EfficiencyRow> rows)
    {
        var plot = new Plot();
        var band = plot.Add.VerticalSpan(EfficiencyClaims.PaperLow, EfficiencyClaims.PaperHigh,
            Colors.DarkOrange.WithAlpha(0.6));
        band.LegendText = $"paper, Table 10: ABBA/LoRA {EfficiencyClaims.PaperLow:0.00}-" +
                          $"{EfficiencyClaims.PaperHigh:0.00} (GPU, bf16)";
        MethodBars(plot, rows, r => r.StepOverLora, c => c, (x, row) =>
        {
            if (double.IsNaN(row.StepOverLoraLow)) return;
            var line = plot.Add.Line(x, row.StepOverLoraLow, x, row.StepOverLoraHigh);
            line.Color = Colors.Black;
            line.LineWidth = 2;
        }).Finish($"Step time / LoRA's ({rows[0].Tokens} tokens, CPU float32): median per-round ratio, 95% interval",
            "step time / LoRA's step time (forward + backward + AdamW)");
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>Each method's achieved fraction of its floor per layer case, with the 1/1.25 line.</summary>
    static Plot Roofline(IReadOnlyList<EfficiencyRow> rows)
    {
        var plot = new Plot();
        var layers = rows.Where(r => r.AchievedFraction is not null).ToArray();
        MethodBars(plot, layers, r => r.AchievedFraction!.Value, c =>
        {
            var first = layers.First(r => r.Case == c);
            return $"{c}\n{first.MachineGflops:0} GFLOP/s, {first.MachineGbPerSecond:0} GB/s";
        }).Finish("Floor / step time (floor: the step's kernels at libtorch's GEMM rate and bandwidth)",
            "achieved fraction of the floor");
        var target = plot.Add.HorizontalLine(1 / 1.25, 1, Colors.Black, LinePattern.Dashed);
        target.LegendText = "within 1.25x of the floor";
        plot.Axes.Bottom.MinimumSize = 60;
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>
    /// A bar per (case, method) of <paramref name="value"/>, labelled with it, grouped by case under
    /// <paramref name="caseLabel"/>, with a legend entry per method; <paramref name="perBar"/> may draw beside each bar
    /// (given its x position).
    /// </summary>
    static GroupedBars MethodBars(Plot plot, IReadOnlyList<EfficiencyRow> rows, Func<EfficiencyRow, double> value,
        Func<string, string> caseLabel, Action<double, EfficiencyRow>? perBar = null)
    {
        var cases = rows.Select(r => r.Case).Distinct().ToArray();
        string[] methods = [.. CostArm.WithBase.Select(a => a.Name)];
        var bars = new GroupedBars(plot, methods.Length);
        for (int g = 0; g < cases.Length; g++)
        {
            for (int k = 0; k < methods.Length; k++)
                if (rows.FirstOrDefault(r => r.Case == cases[g] && r.Method == methods[k]) is { } row)
                {
                    bars.Add(g, k, value(row), MethodStyle.Colour(row.Method),
                        value(row).ToString("0.00", CultureInfo.InvariantCulture));
                    perBar?.Invoke(bars.Position(g, k), row);
                }
            bars.Label(g, caseLabel(cases[g]));
        }
        foreach (string m in methods) plot.Legend.ManualItems.Add(new LegendItem { LabelText = MethodStyle.Label(m),
            FillColor = MethodStyle.Colour(m) });
        return bars;
    }

    /// <summary>Forward, backward and AdamW medians stacked per method, one panel per case.</summary>
    static Multiplot Phases(IReadOnlyList<EfficiencyRow> rows)
    {
        var cases = rows.Select(r => r.Case).Distinct().ToArray();
        var multiplot = new Multiplot();
        multiplot.AddPlots(cases.Length);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(2, (cases.Length + 1) / 2);
        for (int p = 0; p < cases.Length; p++)
        {
            var caseRows = rows.Where(r => r.Case == cases[p]).ToArray();
            StackedBars.Panel(multiplot.GetPlot(p), [.. caseRows.Select(r => MethodStyle.Label(r.Method))],
                k => [caseRows[k].TimingForwardMs, caseRows[k].TimingBackwardMs, caseRows[k].TimingOptimiserMs],
                    ["forward", "backward", "AdamW"],
                $"{cases[p]}: median phase times", "ms", legend: p == 0);
            var axis = multiplot.GetPlot(p).Axes.Bottom;
            axis.TickLabelStyle.Rotation = 40;
            axis.TickLabelStyle.Alignment = Alignment.MiddleLeft;
            axis.MinimumSize = 150;
        }
        return multiplot;
    }

    /// <summary>The pieces of ABBA's and LoRA's forward, per layer case.</summary>
    static Plot Anatomy(IReadOnlyList<AnatomyRow> rows)
    {
        var plot = new Plot();
        var cases = rows.Select(r => r.Case).Distinct().ToArray();
        var pieces = KhatriRaoAnatomy.Pieces;
        var palette = new ScottPlot.Palettes.Category10();
        var bars = new GroupedBars(plot, pieces.Count);
        for (int g = 0; g < cases.Length; g++)
        {
            for (int k = 0; k < pieces.Count; k++)
                if (rows.FirstOrDefault(r => r.Case == cases[g] && r.Piece == pieces[k]) is { } row)
                {
                    var dot = plot.Add.Marker(bars.Position(g, k), Math.Log10(row.TimingMs), MarkerShape.FilledCircle,
                        10, palette.GetColor(k));
                    if (g == 0) dot.LegendText = pieces[k];
                    var label = plot.Add.Text(row.TimingMs.ToString("0.00", CultureInfo.InvariantCulture),
                        bars.Position(g, k), Math.Log10(row.TimingMs));
                    label.LabelFontSize = 10;
                    label.OffsetY = -8;
                    label.LabelAlignment = Alignment.LowerCenter;
                }
            bars.Label(g, cases[g]);
        }
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(), IntegerTicksOnly = true,
            LabelFormatter = y => $"1e{y:0}",
        };
        bars.Finish("Forward pieces without autograd (median): ABBA's Khatri-Rao path, LoRA's, and W0 x",
            "ms (log scale)");
        plot.Axes.Margins(bottom: 0.1, top: 0.15);
        plot.ShowLegend(Edge.Right);
        return plot;
    }
}
