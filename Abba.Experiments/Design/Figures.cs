using Abba.Experiments.Protocol;
using Abba.Experiments.Output;
using ScottPlot;
using ScottPlot.TickGenerators;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static System.FormattableString;

namespace Abba.Experiments.Design;

/// <summary>Figures of the design experiment, drawn from its CSVs: one per family, each with the paper's values beside.</summary>
public sealed partial class DesignExperiment
{
    static readonly Color Ours = MethodStyle.Colour("abba"), Reference = Colors.Black;

    /// <inheritdoc />
    public IReadOnlyList<string> Plot(string folder) => Plot(folder, ProgramFiles.Folder);

    /// <summary>Redraws the figures of every family present in <paramref name="folder"/>'s CSVs; the paper's values from <c>reference/</c> under <paramref name="referenceBase"/>.</summary>
    /// <returns>The files written.</returns>
    public IReadOnlyList<string> Plot(string folder, string referenceBase)
    {
        var rows = CsvFiles.Read<DesignRow>(Path.Combine(folder, DesignFiles.Runs));
        var norms = CsvFiles.Read<GradNormRow>(Path.Combine(folder, DesignFiles.GradNorms));
        var moments = CsvFiles.Read<MomentRow>(Path.Combine(folder, DesignFiles.Moments));
        var paper = PaperValues(referenceBase);
        var summary = Summarise(rows);
        var files = new List<string>();
        int refRank = ReferenceOf(rows, "rank") is { } rr ? RankOf(rr) : 0;
        int splitTotal = rows.FirstOrDefault(r => r.Family == "split" && r.Reference)?.Ranks.Split('/').Sum(int.Parse) ?? 0;
        void Bars(string family, string artefact, string name, string title, Func<string, string?> toPaper)
        {
            if (!rows.Any(r => r.Family == family)) return;
            var plot = new Plot();
            BarPanel(plot, rows, summary, family, paper.Where(p => p.Artefact == artefact && p.Metric == "gsm8k").ToList(), toPaper);
            plot.Title(title + "\n" + Subtitle(rows, family));
            files.AddRange(Figures.Save(plot, folder, name, 1200, 650));
        }
        Bars("init", "Table 3", DesignFiles.InitFigure, "Initialisation (paper Table 3); both pairs LoRA-style not drawn (zero gradients, pre-trained CE)", a => a);
        if (rows.Any(r => r.Family == "scaling"))
            files.AddRange(Figures.Save(CurvesAndBars(rows, summary, norms, paper, "scaling", "Figure 5", "Scaling of s (paper Fig. 5): s = alpha^2 (r1 r2)^-e"), folder, DesignFiles.ScalingFigure, 1600, 600));
        if (moments.Count > 0) files.AddRange(Figures.Save(TheoremPlot(moments), folder, DesignFiles.TheoremFigure, 900, 650));
        Bars("alpha", "Table 8", DesignFiles.AlphaFigure, "alpha (paper Table 8)", a => a);
        Bars("split", "Table 5", DesignFiles.SplitFigure, Invariant($"Rank split at r1 + r2 = {splitTotal} (paper Table 5 at r1 + r2 = 32, matched by r1 / (r1 + r2))"),
            a => Invariant($"r1={int.Parse(a[3..]) * 32 / Math.Max(1, splitTotal)}"));
        Bars("rank", "Table 9", DesignFiles.RankFigure, Invariant($"Total rank r, r1 = r2 = r/2 (paper Table 9, matched by r / reference r: ours {refRank} = paper 32)"),
            a => Invariant($"r={RankOf(a) * 32 / Math.Max(1, refRank)}"));
        if (rows.Any(r => r.Family == "chained"))
            files.AddRange(Figures.Save(CurvesAndBars(rows, summary, norms, paper, "chained", "Figure 6", "Chained ABBA (paper Table 7, Fig. 6): 2 pairs vs 4 at the same budget"), folder, DesignFiles.ChainedFigure, 1600, 600));
        return files;
    }

    static string Subtitle(IReadOnlyList<DesignRow> rows, string family, bool paper = true) =>
        Invariant($"SYNTHETIC stand-in; lr {rows.First(r => r.Family == family).Rate} for every arm; {rows.Where(r => r.Family == family).Select(r => r.Seed).Distinct().Count()} paired seeds; pre-trained CE {rows.Single(r => r.Family == "pretrained").TestCe:0.###}\n") +
        "mean, 95% t interval (black: reference), seeds as open dots; lower is better" + (paper ? "; diamonds: paper GSM8K" : "");

    /// <summary>Bars of the family's test CE (mean, 95% t interval, seeds as dots; the reference arm outlined in black), the paper's GSM8K values as diamonds on the right axis.</summary>
    static void BarPanel(Plot plot, IReadOnlyList<DesignRow> rows, IReadOnlyList<ArmSummaryRow> summary, string family, IReadOnlyList<PaperDesignRow> paper, Func<string, string?> toPaper)
    {
        var arms = ArmsOf(rows, family).Where(a => a != "both_zero").ToList();   // it stays at the pre-trained CE (in the subtitle)
        var ticks = new List<Tick>();
        var px = new List<double>();
        var py = new List<double>();
        for (int i = 0; i < arms.Count; i++)
        {
            var s = summary.Single(s => s.Target == family && s.Method == arms[i] && s.Metric == "test_ce");
            bool reference = rows.First(r => r.Family == family && r.Arm == arms[i]).Reference;
            var colour = reference ? Reference : Ours;
            if (!double.IsNaN(s.CiHigh))
            {
                var whisker = plot.Add.Line(i, s.CiLow, i, s.CiHigh);
                whisker.Color = colour;
                whisker.LineWidth = 2;
            }
            plot.Add.Markers(new[] { (double)i }, new[] { s.Mean }, MarkerShape.FilledCircle, 10, colour);
            var values = rows.Where(r => r.Family == family && r.Arm == arms[i]).Select(r => r.TestCe).ToArray();
            if (values.Length > 1) plot.Add.Markers(Enumerable.Repeat(i + 0.15, values.Length).ToArray(), values, MarkerShape.OpenCircle, 4, Colors.Gray);
            ticks.Add(new Tick(i, arms[i] + (reference ? " (ref)" : "")));
            if (toPaper(arms[i]) is { } setting && paper.FirstOrDefault(p => p.Setting == setting) is { } value) { px.Add(i); py.Add(value.Value); }
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
            plot.Axes.SetLimitsY(py.Max() + 1, py.Min() - 2, plot.Axes.Right);   // inverted, so that better is down on both axes
            plot.ShowLegend(Alignment.UpperRight);
        }
    }

    /// <summary>Left: each arm's pre-clip gradient norm per step (mean over seeds; the paper's plateau as a dotted line); right: the final test CE bars.</summary>
    static Multiplot CurvesAndBars(IReadOnlyList<DesignRow> rows, IReadOnlyList<ArmSummaryRow> summary, IReadOnlyList<GradNormRow> norms, IReadOnlyList<PaperDesignRow> paper,
        string family, string artefact, string title)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var left = multiplot.GetPlot(0);
        var arms = ArmsOf(rows, family);
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < arms.Count; i++)
        {
            var mine = norms.Where(n => n.Family == family && n.Arm == arms[i]).GroupBy(n => n.Step).OrderBy(g => g.Key).ToArray();
            var curve = left.Add.ScatterLine(mine.Select(g => (double)g.Key).ToArray(), mine.Select(g => g.Average(n => n.GradNorm)).ToArray(), palette.GetColor(i));
            curve.LegendText = arms[i] + (rows.First(r => r.Family == family && r.Arm == arms[i]).Reference ? " (ref)" : "");
            if (paper.FirstOrDefault(p => p.Artefact == artefact && p.Setting == arms[i]) is { } plateau)
            {
                var line = left.Add.HorizontalLine(plateau.Value, 1, palette.GetColor(i), LinePattern.Dotted);
                line.Axes.YAxis = left.Axes.Right;
            }
        }
        left.Axes.Right.Label.Text = "paper plateau (dotted, digitised, Mistral-7B)";
        left.Axes.SetLimitsY(0, Math.Max(3, paper.Where(p => p.Artefact == artefact).Select(p => p.Value).DefaultIfEmpty(3).Max() * 1.2), left.Axes.Right);
        left.Title(title + "\ngradient norm before clipping, mean over seeds");
        left.XLabel("fine-tuning step");
        left.YLabel("global gradient norm (adapters)");
        left.ShowLegend(Alignment.UpperRight);
        var right = multiplot.GetPlot(1);
        BarPanel(right, rows, summary, family, [], a => null);
        right.Title("Final held-out CE\n" + Subtitle(rows, family, paper: false));
        return multiplot;
    }

    /// <summary>Theorem 2: each moment against r1 r2 on log-log axes per scaling (mean over seeds), with the closed form s^2 n r1 r2 dashed.</summary>
    static Plot TheoremPlot(IReadOnlyList<MomentRow> moments)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var groups = moments.GroupBy(m => m.Exponent).ToArray();
        for (int i = 0; i < groups.Length; i++)
        {
            var points = groups[i].GroupBy(m => m.R1 * m.R2).OrderBy(g => g.Key).ToArray();
            double[] x = [.. points.Select(g => Math.Log10(g.Key))];
            var output = plot.Add.Scatter(x, [.. points.Select(g => Math.Log10(g.Average(m => m.OutputMoment)))], palette.GetColor(i));
            output.LegendText = Invariant($"e = {groups[i].Key:0.###}: output (slope expected {1 - 2 * groups[i].Key:0.###})");
            var grad = plot.Add.Scatter(x, [.. points.Select(g => Math.Log10(g.Average(m => m.GradientMoment)))], palette.GetColor(i));
            grad.MarkerShape = MarkerShape.OpenSquare;
            grad.LinePattern = LinePattern.Dotted;
            grad.LegendText = "  input gradient";
            var expected = plot.Add.ScatterLine(x, [.. points.Select(g => Math.Log10(g.First().ExpectedOutput))], palette.GetColor(i));
            expected.LinePattern = LinePattern.Dashed;
        }
        plot.Title("Theorem 2: second moments vs r1 r2 (r1 = r2), s = (r1 r2)^-e\ndashed: the closed form s^2 n r1 r2 of the output moment");
        plot.XLabel("log10(r1 r2)");
        plot.YLabel("log10 second moment");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }
}
