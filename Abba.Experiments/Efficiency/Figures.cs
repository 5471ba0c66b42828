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
        return [.. Figures.Save(RatioToLora(rows), folder, EfficiencyFiles.RatioFigure, 1200, 600),
                .. Figures.Save(Phases(rows), folder, EfficiencyFiles.PhasesFigure, 1400, 900),
                .. Figures.Save(Anatomy(anatomy), folder, EfficiencyFiles.AnatomyFigure, 1000, 600)];
    }

    /// <summary>Median step time over LoRA's, per case and method, with the 1.3x target line.</summary>
    static Plot RatioToLora(IReadOnlyList<EfficiencyRow> rows)
    {
        var plot = new Plot();
        var cases = rows.Select(r => r.Case).Distinct().ToArray();
        string[] methods = [.. CostArm.WithBase.Select(a => a.Name)];
        var bars = new GroupedBars(plot, methods.Length);
        for (int g = 0; g < cases.Length; g++)
        {
            for (int k = 0; k < methods.Length; k++)
                if (rows.FirstOrDefault(r => r.Case == cases[g] && r.Method == methods[k]) is { } row)
                    bars.Add(g, k, row.StepOverLora, MethodStyle.Colour(row.Method), row.StepOverLora.ToString("0.00",
                        CultureInfo.InvariantCulture));
            bars.Label(g, cases[g]);
        }
        var target = plot.Add.HorizontalLine(1.3, 1, Colors.Black);
        target.LegendText = "target for ABBA (Khatri-Rao): 1.3x LoRA";
        foreach (string m in methods) plot.Legend.ManualItems.Add(new LegendItem { LabelText = MethodStyle.Label(m),
            FillColor = MethodStyle.Colour(m) });
        bars.Finish($"Step time / LoRA's (forward + backward + AdamW, {rows[0].Tokens} tokens; interleaved medians)",
            "step time / LoRA's step time");
        plot.ShowLegend(Edge.Right);
        return plot;
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
                    bars.Add(g, k, row.TimingMs, palette.GetColor(k));
            bars.Label(g, cases[g]);
        }
        for (int k = 0; k < pieces.Count; k++) plot.Legend.ManualItems.Add(new LegendItem { LabelText = pieces[k],
            FillColor = palette.GetColor(k) });
        return bars.Finish("Forward pieces without autograd (median): ABBA's Khatri-Rao path vs LoRA's, beside W0 x",
            "ms", Alignment.UpperLeft);
    }
}
