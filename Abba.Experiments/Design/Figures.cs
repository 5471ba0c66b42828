using Abba.Core.Adapters;
using Abba.Experiments.Protocol;
using Abba.Experiments.Output;
using ScottPlot;
using ScottPlot.TickGenerators;
using Abba.Experiments.Units;
using static System.FormattableString;
using static Abba.Experiments.Design.DesignSummary;

namespace Abba.Experiments.Design;

/// <summary>Figures of the design experiment, drawn from its CSVs: one per family, each captioned with the paper's
/// table or figure it tests and the paper's values beside. Outcomes can be bimodal (runs that did not train), so each
/// arm shows every seed and the median, not a mean with a symmetric interval.</summary>
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
        var all = CsvFiles.Read<DesignRow>(Path.Combine(folder, DesignFiles.Runs));
        var rows = TunedRows(all);
        var norms = CsvFiles.Read<GradNormRow>(Path.Combine(folder, DesignFiles.GradNorms));
        var moments = CsvFiles.Read<MomentRow>(Path.Combine(folder, DesignFiles.Moments));
        var sweep = CsvFiles.Read<LrSweepRow>(Path.Combine(folder, DesignFiles.LrSweep));
        var paper = PaperValues(referenceBase);
        var files = new List<string>();
        int TotalOfReference(DesignFamily f) =>
            rows.FirstOrDefault(r => r.Of(f) && r.Reference) is { } x ? TotalRank(x) : 0;
        int refRank = TotalOfReference(DesignFamily.Rank), splitTotal = TotalOfReference(DesignFamily.Split);
        void Bars(DesignFamily family, string artefact, string name, string title, Func<DesignRow, string?> toPaper)
        {
            if (!rows.Ran(family)) return;
            var plot = new Plot();
            var values = paper.Where(p => p.Artefact == artefact && p.Metric == "gsm8k").ToList();
            BarPanel(plot, rows, family, ArmsOf(rows, family), values, toPaper);
            plot.Title($"{artefact}: {title}\n" + Subtitle(rows, family));
            files.AddRange(Figures.Save(plot, folder, name, 1300, 680));
        }
        Bars(DesignFamily.Init, "Table 3", DesignFiles.InitFigure,
            "initialisation; both pairs LoRA-style not drawn (zero gradients, pre-trained CE)", a => a.Arm);
        if (rows.Ran(DesignFamily.Scaling))
        {
            files.AddRange(Figures.Save(ScalingPlot(rows, norms, paper), folder, DesignFiles.ScalingFigure, 1600, 650));
            files.AddRange(Figures.Save(StabilityPlot(rows, sweep, norms), folder, DesignFiles.StabilityFigure, 1800,
                1100));
        }
        if (moments.Count > 0)
            files.AddRange(Figures.Save(TheoremPlot(moments), folder, DesignFiles.TheoremFigure, 900, 650));
        Bars(DesignFamily.Alpha, "Table 8", DesignFiles.AlphaFigure,
            "alpha at the paper's s = alpha^2 / 16 (its r1 = r2 = 16)", a => a.Arm);
        Bars(DesignFamily.AlphaCode, "Table 8", DesignFiles.AlphaCodeFigure,
            "alpha at the released code's s = alpha", a => a.Arm);
        Bars(DesignFamily.Split, "Table 5", DesignFiles.SplitFigure,
            Invariant($"rank split at r1 + r2 = {splitTotal} ") + "(paper at r1 + r2 = 32, matched by r1 / (r1 + r2))",
            a => Invariant($"r1={FirstRank(a) * 32 / Math.Max(1, splitTotal)}"));
        Bars(DesignFamily.Rank, "Table 9", DesignFiles.RankFigure,
            "total rank r, r1 = r2 = r/2 " + Invariant($"(matched by r / reference r: ours {refRank} = paper 32)"),
            a => Invariant($"r={TotalRank(a) * 32 / Math.Max(1, refRank)}"));
        if (rows.Ran(DesignFamily.Chained))
            files.AddRange(Figures.Save(CurvesAndBars(rows, norms, paper, DesignFamily.Chained,
                    ArmsOf(rows, DesignFamily.Chained), "Figure 6",
                    "Table 7, Figure 6: chained ABBA, 2 pairs vs 4 at the same budget"),
                folder, DesignFiles.ChainedFigure, 1600, 650));
        return files;
    }

    static string Subtitle(IReadOnlyList<DesignRow> rows, DesignFamily family, bool paper = true)
    {
        var mine = rows.Where(r => r.Of(family)).ToList();
        int seeds = mine.Select(r => r.Seed).Distinct().Count(), models = mine.Select(r => r.Model).Distinct().Count();
        return Invariant($"SYNTHETIC stand-in; each arm at its own tuned rate (under its label); {seeds} paired ") +
               Invariant($"seeds over {models} pre-trained model(s), pre-trained CE {FloorText(rows)}\n") +
               "every seed (x: did not train), bar: median; lower is better" +
               (paper ? "; diamonds: paper GSM8K" : "");
    }

    /// <summary>
    /// Each arm's test CE: every seed as a dot (a cross where the run did not train), the median as a bar (black for
    /// the reference arm), the tuned rate under the label; the paper's GSM8K values as diamonds on the right axis;
    /// <paramref name="toPaper"/> names an arm's paper row.
    /// </summary>
    static void BarPanel(Plot plot, IReadOnlyList<DesignRow> rows, DesignFamily family, IReadOnlyList<string> chosen,
        IReadOnlyList<PaperDesignRow> paper, Func<DesignRow, string?> toPaper)
    {
        var arms = chosen.Where(a => a != DesignFamily.BothZeroArm).ToList();
        var ticks = new List<Tick>();
        var px = new List<double>();
        var py = new List<double>();
        for (int i = 0; i < arms.Count; i++)
        {
            var mine = rows.Where(r => r.Of(family) && r.Arm == arms[i]).ToList();
            var first = mine[0];
            var colour = first.Reference ? Reference : Ours;
            double median = Median(mine.Select(r => r.TestCe));
            var bar = plot.Add.Line(i - 0.3, median, i + 0.3, median);
            bar.Color = colour;
            bar.LineWidth = 3;
            double[] Of(bool trained) => [.. mine.Where(r => r.Trained == trained).Select(r => r.TestCe)];
            var spread = Enumerable.Range(0, mine.Count).Select(k => i - 0.15 + 0.3 * k / Math.Max(1, mine.Count - 1));
            var x = spread.ToArray();
            var trainedX = x.Where((_, k) => mine[k].Trained).ToArray();
            var failedX = x.Where((_, k) => !mine[k].Trained).ToArray();
            if (trainedX.Length > 0) plot.Add.Markers(trainedX, Of(true), MarkerShape.FilledCircle, 6, colour);
            if (failedX.Length > 0) plot.Add.Markers(failedX, Of(false), MarkerShape.Cross, 9, Colors.Red);
            ticks.Add(new Tick(i, arms[i] + (first.Reference ? " (ref)" : "") + Invariant($"\nlr {first.Rate:G2}")));
            if (toPaper(first) is { } setting && paper.FirstOrDefault(p => p.Setting == setting) is { } value)
            {
                px.Add(i);
                py.Add(value.Value);
            }
        }
        plot.Axes.Bottom.TickGenerator = new NumericManual([.. ticks]);
        plot.Axes.Bottom.MinimumSize = 50;
        plot.YLabel("held-out answer CE (nats/token)");
        plot.Axes.SetLimitsX(-0.5, arms.Count - 0.5);
        double top = rows.Where(r => r.Of(family) && arms.Contains(r.Arm)).Select(r => r.TestCe)
            .Where(double.IsFinite).DefaultIfEmpty(1).Max();
        plot.Axes.SetLimitsY(0, top * 1.08);
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

    /// <summary>Figure 5 at the reference ranks: the gradient-norm curves of every scaling (left) and their final
    /// CE (right).</summary>
    static Multiplot ScalingPlot(IReadOnlyList<DesignRow> rows, IReadOnlyList<GradNormRow> norms,
        IReadOnlyList<PaperDesignRow> paper)
    {
        var family = DesignFamily.Scaling;
        var reference = FirstOf(rows, family, ReferenceOf(rows, family) ?? ArmsOf(rows, family)[0]);
        int r0 = FirstRank(reference);
        var arms = ArmsOf(rows, family).Where(a => FirstRank(FirstOf(rows, family, a)) == r0).ToList();
        return CurvesAndBars(rows, norms, paper, family, arms, "Figure 5",
            Invariant($"Figure 5: s = alpha^2 (r1 r2)^-e at r1 = r2 = {r0}"));
    }

    /// <summary>Left: each arm's pre-clip gradient norm per step (median over seeds; the paper's plateau as a dotted
    /// line); right: the final test CE.</summary>
    static Multiplot CurvesAndBars(IReadOnlyList<DesignRow> rows, IReadOnlyList<GradNormRow> norms,
        IReadOnlyList<PaperDesignRow> paper, DesignFamily family, IReadOnlyList<string> arms, string artefact,
        string title)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var left = multiplot.GetPlot(0);
        var palette = new ScottPlot.Palettes.Category10();
        double highest = 0;
        for (int i = 0; i < arms.Count; i++)
        {
            var mine = norms.Where(n => n.Family == family.Name && n.Arm == arms[i]).GroupBy(n => n.Step)
                .OrderBy(g => g.Key).ToArray();
            double[] median = [.. mine.Select(g => Median(g.Select(n => n.GradNorm)))];
            highest = Math.Max(highest, median.Skip(median.Length / 10).DefaultIfEmpty(0).Max());
            var curve = left.Add.ScatterLine(mine.Select(g => (double)g.Key).ToArray(), median, palette.GetColor(i));
            curve.LegendText = arms[i] + (FirstOf(rows, family, arms[i]).Reference ? " (ref)" : "");
            string setting = arms[i].Split('/')[0];
            if (paper.FirstOrDefault(p => p.Artefact == artefact && p.Setting == setting) is { } plateau)
            {
                var line = left.Add.HorizontalLine(plateau.Value, 1, palette.GetColor(i), LinePattern.Dotted);
                line.Axes.YAxis = left.Axes.Right;
            }
        }
        left.Axes.Right.Label.Text = "paper plateau (dotted, digitised, Mistral-7B)";
        double paperTop = paper.Where(p => p.Artefact == artefact).Select(p => p.Value).DefaultIfEmpty(3).Max();
        left.Axes.SetLimitsY(0, Math.Max(paperTop, highest) * 1.2);
        left.Axes.SetLimitsY(0, paperTop * 1.2, left.Axes.Right);
        left.Title(title + "\ngradient norm before clipping, median over seeds, each arm at its tuned rate");
        left.XLabel("fine-tuning step");
        left.YLabel("global gradient norm (adapters)");
        left.ShowLegend(Alignment.UpperRight);
        var right = multiplot.GetPlot(1);
        BarPanel(right, rows, family, arms, [], _ => null);
        right.Title("Final held-out CE\n" + Subtitle(rows, family, paper: false));
        return multiplot;
    }

    /// <summary>Rank stability in training. Top: against r1 r2 (log-log) per scaling, the best rate (sweep seeds' mean
    /// validation curve), the late gradient norm and the learned update's final second moment (medians over seeds).
    /// Bottom: per scaling, the gradient norm over the steps at every rank (median over seeds), as Fig. 5 draws it at
    /// one.</summary>
    static Multiplot StabilityPlot(IReadOnlyList<DesignRow> rows, IReadOnlyList<LrSweepRow> sweep,
        IReadOnlyList<GradNormRow> norms)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(6);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(2, 3);
        var palette = new ScottPlot.Palettes.Category10();
        var family = DesignFamily.Scaling;
        var groups = rows.Where(r => r.Of(family)).GroupBy(r => r.Exponent).Where(g => g.Select(FirstRank).Distinct()
            .Count() > 1).OrderByDescending(g => g.Key).ToArray();
        string[] titles =
        [
            "best learning rate (validation optimum)", "late gradient norm (median over seeds)",
            "update second moment, mean dW_ij^2 (median over seeds)",
        ];
        for (int k = 0; k < 3; k++)
        {
            var plot = multiplot.GetPlot(k);
            for (int i = 0; i < groups.Length; i++)
            {
                var byRank = groups[i].GroupBy(FirstRank).OrderBy(g => g.Key).ToArray();
                double[] x = [.. byRank.Select(g => Math.Log10((double)g.Key * g.Key))];
                double[] y = [.. byRank.Select(g => Math.Log10(Math.Max(1e-30, k switch
                {
                    0 => BestOfMean(sweep, g.First().Arm),
                    1 => Median(g.Where(r => r.Trained).Select(r => r.GradNormPlateau).DefaultIfEmpty(double.NaN)),
                    _ => Median(g.Where(r => r.Trained).Select(r => r.UpdateMoment).DefaultIfEmpty(double.NaN)),
                })))];
                var line = plot.Add.Scatter(x, y, palette.GetColor(i));
                line.LegendText = Invariant($"e = {groups[i].Key:0.###}");
            }
            plot.Title(titles[k]);
            plot.XLabel("log10(r1 r2), r1 = r2");
            plot.YLabel("log10");
            plot.ShowLegend(Alignment.UpperRight);
        }
        multiplot.GetPlot(0).Title("Figure 5, Theorem 2 in training (SYNTHETIC stand-in)\n" + titles[0]);
        multiplot.GetPlot(1).Title("s = alpha^2 (r1 r2)^-e, each arm at its tuned rate\n" + titles[1]);
        for (int i = 0; i < Math.Min(3, groups.Length); i++)
        {
            var plot = multiplot.GetPlot(3 + i);
            var byRank = groups[i].GroupBy(FirstRank).OrderBy(g => g.Key).ToArray();
            double highest = 0;
            for (int k = 0; k < byRank.Length; k++)
            {
                string arm = byRank[k].First().Arm;
                var steps = norms.Where(n => n.Family == family.Name && n.Arm == arm).GroupBy(n => n.Step)
                    .OrderBy(g => g.Key).ToArray();
                double[] median = [.. steps.Select(g => Median(g.Select(n => n.GradNorm)))];
                highest = Math.Max(highest, median.Skip(median.Length / 10).Where(double.IsFinite)
                    .DefaultIfEmpty(0).Max());
                var curve = plot.Add.ScatterLine(steps.Select(g => (double)g.Key).ToArray(), median,
                    palette.GetColor(k));
                curve.LegendText = Invariant($"r1 = r2 = {byRank[k].Key}");
            }
            plot.Title(Invariant($"e = {groups[i].Key:0.###}: gradient norm before clipping (median over seeds)"));
            plot.XLabel("fine-tuning step");
            plot.YLabel("global gradient norm (adapters)");
            plot.Axes.SetLimitsY(0, Math.Max(1e-3, highest) * 1.2);
            plot.ShowLegend(Alignment.UpperRight);
        }
        return multiplot;
    }

    /// <summary>The best rate of one scaling arm, from its sweep seeds' mean validation curve.</summary>
    static double BestOfMean(IReadOnlyList<LrSweepRow> sweep, string arm)
    {
        var curve = sweep.Where(s => s.Target == $"{DesignFamily.Scaling}/{arm}").GroupBy(s => s.Rate)
            .OrderBy(g => g.Key).ToArray();
        return curve.Length == 0 ? double.NaN : DesignStability.BestRateOf([.. curve.Select(g => g.Key)],
            [.. curve.Select(g => g.Average(s => DesignStability.Finite(s.ValidationCe)))]);
    }

    /// <summary>Theorem 2's Monte Carlo check: each moment against r1 r2 on log-log axes per scaling (mean over seeds),
    /// with the closed form s^2 n r1 r2 as a line.</summary>
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
            var output = plot.Add.Markers(x, outputs, MarkerShape.FilledCircle, 8, colour);
            output.LegendText = Invariant($"e = {e:0.###}: output (slope expected {1 - 2 * e:0.###})");
            double[] grads = [.. points.Select(g => Math.Log10(g.Average(m => m.GradientMoment)))];
            var grad = plot.Add.Markers(x, grads, MarkerShape.OpenSquare, 8, colour);
            grad.LegendText = "  input gradient";
            double[] closedForm = [.. points.Select(g => Math.Log10(g.First().ExpectedOutput))];
            plot.Add.ScatterLine(x, closedForm, colour);
        }
        plot.Title("Theorem 2, a Monte Carlo check of the algebra (i.i.d. Gaussian factors, not training)\n" +
                   "second moments vs r1 r2 (r1 = r2), s = (r1 r2)^-e; lines: the closed form s^2 n r1 r2");
        plot.XLabel("log10(r1 r2)");
        plot.YLabel("log10 second moment");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }
}
