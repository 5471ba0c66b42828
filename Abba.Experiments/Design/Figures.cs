using Abba.Core.Adapters;
using Abba.Experiments.Protocol;
using Abba.Experiments.Output;
using ScottPlot;
using ScottPlot.TickGenerators;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static System.FormattableString;
using static Abba.Experiments.Design.DesignSummary;

namespace Abba.Experiments.Design;

/// <summary>Figures of the design experiment, drawn from its CSVs: one per family, each with the paper's values
/// beside.</summary>
public static class DesignFigures
{
    /// <summary>ABBA's colour (the reference adapter's) and the reference arm's.</summary>
    static readonly Color Ours = MethodStyle.Colour(new AbbaConfig(1, 1, 1)), Reference = Colors.Black;

    /// <summary>
    /// Redraws the figures of every family present in <paramref name="folder"/>'s CSVs; the paper's values from
    /// <c>reference/</c> under <paramref name="referenceBase"/>.
    /// </summary>
    /// <returns>The files written.</returns>
    public static IReadOnlyList<string> Plot(string folder, string referenceBase)
    {
        var rows = CsvFiles.Read<DesignRow>(Path.Combine(folder, DesignFiles.Runs));
        var norms = CsvFiles.Read<GradNormRow>(Path.Combine(folder, DesignFiles.GradNorms));
        var moments = CsvFiles.Read<MomentRow>(Path.Combine(folder, DesignFiles.Moments));
        var paper = PaperValues(referenceBase);
        var summary = Summarise(rows);
        var files = new List<string>();
        int TotalOfReference(DesignFamily f) =>
            rows.FirstOrDefault(r => r.Of(f) && r.Reference) is { } x ? TotalRank(x) : 0;
        int refRank = TotalOfReference(DesignFamily.Rank), splitTotal = TotalOfReference(DesignFamily.Split);
        void Bars(DesignFamily family, string artefact, string name, string title, Func<DesignRow, string?> toPaper)
        {
            if (!rows.Ran(family)) return;
            var plot = new Plot();
            var values = paper.Where(p => p.Artefact == artefact && p.Metric == "gsm8k").ToList();
            BarPanel(plot, rows, summary, family, values, toPaper);
            plot.Title(title + "\n" + Subtitle(rows, family));
            files.AddRange(Figures.Save(plot, folder, name, 1200, 650));
        }
        void Curves(DesignFamily family, string artefact, string name, string title)
        {
            if (!rows.Ran(family)) return;
            var plot = CurvesAndBars(rows, summary, norms, paper, family, artefact, title);
            files.AddRange(Figures.Save(plot, folder, name, 1600, 600));
        }
        Bars(DesignFamily.Init, "Table 3", DesignFiles.InitFigure,
            "Initialisation (paper Table 3); both pairs LoRA-style not drawn (zero gradients, pre-trained CE)",
            a => a.Arm);
        Curves(DesignFamily.Scaling, "Figure 5", DesignFiles.ScalingFigure,
            "Scaling of s (paper Fig. 5): s = alpha^2 (r1 r2)^-e");
        if (moments.Count > 0)
            files.AddRange(Figures.Save(TheoremPlot(moments), folder, DesignFiles.TheoremFigure, 900, 650));
        Bars(DesignFamily.Alpha, "Table 8", DesignFiles.AlphaFigure, "alpha (paper Table 8)", a => a.Arm);
        Bars(DesignFamily.Split, "Table 5", DesignFiles.SplitFigure,
            Invariant($"Rank split at r1 + r2 = {splitTotal} ") +
            "(paper Table 5 at r1 + r2 = 32, matched by r1 / (r1 + r2))",
            a => Invariant($"r1={FirstRank(a) * 32 / Math.Max(1, splitTotal)}"));
        Bars(DesignFamily.Rank, "Table 9", DesignFiles.RankFigure,
            "Total rank r, r1 = r2 = r/2 " +
            Invariant($"(paper Table 9, matched by r / reference r: ours {refRank} = paper 32)"),
            a => Invariant($"r={TotalRank(a) * 32 / Math.Max(1, refRank)}"));
        Curves(DesignFamily.Chained, "Figure 6", DesignFiles.ChainedFigure,
            "Chained ABBA (paper Table 7, Fig. 6): 2 pairs vs 4 at the same budget");
        return files;
    }

    static string Subtitle(IReadOnlyList<DesignRow> rows, DesignFamily family, bool paper = true)
    {
        double rate = rows.First(r => r.Of(family)).Rate, floor = rows.Single(r => r.IsPretrained()).TestCe;
        int seeds = rows.Where(r => r.Of(family)).Select(r => r.Seed).Distinct().Count();
        return Invariant($"SYNTHETIC stand-in; lr {rate} for every arm; {seeds} paired seeds; ") +
               Invariant($"pre-trained CE {floor:0.###}\n") +
               "mean, 95% t interval (black: reference), seeds as open dots; lower is better" +
               (paper ? "; diamonds: paper GSM8K" : "");
    }

    /// <summary>
    /// Bars of the family's test CE (mean, 95% t interval, seeds as dots; the reference arm outlined in black), the
    /// paper's GSM8K values as diamonds on the right axis; <paramref name="toPaper"/> names an arm's paper row.
    /// </summary>
    static void BarPanel(Plot plot, IReadOnlyList<DesignRow> rows, IReadOnlyList<ArmSummaryRow> summary,
        DesignFamily family, IReadOnlyList<PaperDesignRow> paper, Func<DesignRow, string?> toPaper)
    {
        // both pairs LoRA-style stays at the pre-trained CE (in the subtitle)
        var arms = ArmsOf(rows, family).Where(a => a != DesignFamily.BothZeroArm).ToList();
        var ticks = new List<Tick>();
        var px = new List<double>();
        var py = new List<double>();
        for (int i = 0; i < arms.Count; i++)
        {
            var s = Summary(summary, family, arms[i], DesignMetric.TestCe);
            var first = FirstOf(rows, family, arms[i]);
            bool reference = first.Reference;
            var colour = reference ? Reference : Ours;
            if (!double.IsNaN(s.CiHigh))
            {
                var whisker = plot.Add.Line(i, s.CiLow, i, s.CiHigh);
                whisker.Color = colour;
                whisker.LineWidth = 2;
            }
            plot.Add.Markers(new[] { (double)i }, new[] { s.Mean }, MarkerShape.FilledCircle, 10, colour);
            var values = rows.Where(r => r.Of(family) && r.Arm == arms[i]).Select(r => r.TestCe).ToArray();
            if (values.Length > 1)
                plot.Add.Markers(Enumerable.Repeat(i + 0.15, values.Length).ToArray(), values, MarkerShape.OpenCircle,
                    4, Colors.Gray);
            ticks.Add(new Tick(i, arms[i] + (reference ? " (ref)" : "")));
            if (toPaper(first) is { } setting && paper.FirstOrDefault(p => p.Setting == setting) is { } value)
            {
                px.Add(i);
                py.Add(value.Value);
            }
        }
        plot.Axes.Bottom.TickGenerator = new NumericManual([.. ticks]);
        plot.YLabel("held-out answer CE (nats/token)");
        plot.Axes.SetLimitsX(-0.5, arms.Count - 0.5);
        if (px.Count > 0)
        {
            var scatter = plot.Add.Scatter(px.ToArray(), py.ToArray(), Colors.Black);
            scatter.MarkerShape = MarkerShape.FilledDiamond;
            scatter.MarkerSize = 10;
            scatter.LineWidth = 0;
            scatter.LegendText = "paper, Mistral-7B GSM8K (%), right axis";
            scatter.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "paper GSM8K accuracy (%), inverted: better is lower";
            // inverted, so that better is down on both axes
            plot.Axes.SetLimitsY(py.Max() + 1, py.Min() - 2, plot.Axes.Right);
            plot.ShowLegend(Alignment.UpperRight);
        }
    }

    /// <summary>Left: each arm's pre-clip gradient norm per step (mean over seeds; the paper's plateau as a dotted
    /// line); right: the final test CE bars.</summary>
    static Multiplot CurvesAndBars(IReadOnlyList<DesignRow> rows, IReadOnlyList<ArmSummaryRow> summary,
        IReadOnlyList<GradNormRow> norms, IReadOnlyList<PaperDesignRow> paper, DesignFamily family, string artefact,
        string title)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var left = multiplot.GetPlot(0);
        var arms = ArmsOf(rows, family);
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < arms.Count; i++)
        {
            var mine = norms.Where(n => n.Family == family.Name && n.Arm == arms[i]).GroupBy(n => n.Step)
                .OrderBy(g => g.Key).ToArray();
            var curve = left.Add.ScatterLine(mine.Select(g => (double)g.Key).ToArray(),
                mine.Select(g => g.Average(n => n.GradNorm)).ToArray(), palette.GetColor(i));
            curve.LegendText = arms[i] + (FirstOf(rows, family, arms[i]).Reference ? " (ref)" : "");
            if (paper.FirstOrDefault(p => p.Artefact == artefact && p.Setting == arms[i]) is { } plateau)
            {
                var line = left.Add.HorizontalLine(plateau.Value, 1, palette.GetColor(i), LinePattern.Dotted);
                line.Axes.YAxis = left.Axes.Right;
            }
        }
        left.Axes.Right.Label.Text = "paper plateau (dotted, digitised, Mistral-7B)";
        double highest = paper.Where(p => p.Artefact == artefact).Select(p => p.Value).DefaultIfEmpty(3).Max();
        left.Axes.SetLimitsY(0, Math.Max(3, highest * 1.2), left.Axes.Right);
        left.Title(title + "\ngradient norm before clipping, mean over seeds");
        left.XLabel("fine-tuning step");
        left.YLabel("global gradient norm (adapters)");
        left.ShowLegend(Alignment.UpperRight);
        var right = multiplot.GetPlot(1);
        BarPanel(right, rows, summary, family, [], a => null);
        right.Title("Final held-out CE\n" + Subtitle(rows, family, paper: false));
        return multiplot;
    }

    /// <summary>Theorem 2: each moment against r1 r2 on log-log axes per scaling (mean over seeds), with the closed
    /// form s^2 n r1 r2 dashed.</summary>
    static Plot TheoremPlot(IReadOnlyList<MomentRow> moments)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var groups = moments.GroupBy(m => m.Exponent).ToArray();
        for (int i = 0; i < groups.Length; i++)
        {
            var points = groups[i].GroupBy(m => m.R1 * m.R2).OrderBy(g => g.Key).ToArray();
            double[] x = [.. points.Select(g => Math.Log10(g.Key))];
            double e = groups[i].Key;
            var colour = palette.GetColor(i);
            double[] outputs = [.. points.Select(g => Math.Log10(g.Average(m => m.OutputMoment)))];
            var output = plot.Add.Scatter(x, outputs, colour);
            output.LegendText = Invariant($"e = {e:0.###}: output (slope expected {1 - 2 * e:0.###})");
            double[] grads = [.. points.Select(g => Math.Log10(g.Average(m => m.GradientMoment)))];
            var grad = plot.Add.Scatter(x, grads, colour);
            grad.MarkerShape = MarkerShape.OpenSquare;
            grad.LinePattern = LinePattern.Dotted;
            grad.LegendText = "  input gradient";
            double[] closedForm = [.. points.Select(g => Math.Log10(g.First().ExpectedOutput))];
            var expected = plot.Add.ScatterLine(x, closedForm, colour);
            expected.LinePattern = LinePattern.Dashed;
        }
        plot.Title("Theorem 2: second moments vs r1 r2 (r1 = r2), s = (r1 r2)^-e\n" +
                   "dashed: the closed form s^2 n r1 r2 of the output moment");
        plot.XLabel("log10(r1 r2)");
        plot.YLabel("log10 second moment");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }
}
