using Abba.Experiments.Protocol;
using Abba.Experiments.Output;
using ScottPlot;
using ScottPlot.TickGenerators;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static System.FormattableString;

namespace Abba.Experiments.Ablation;

/// <summary>Figures of the ablation, drawn from its CSVs.</summary>
public static class AblationFigures
{
    /// <summary>
    /// Redraws the figures from the CSVs in <paramref name="folder"/>, reading the paper's values from
    /// <c>reference/</c> under <paramref name="referenceBase"/>: for callers that do not run beside the program
    /// (a notebook can pass the source tree's <c>Abba.Experiments</c> folder).
    /// </summary>
    /// <returns>The files written.</returns>
    public static IReadOnlyList<string> Plot(string folder, string referenceBase)
    {
        var rows = CsvFiles.Read<AblationRow>(Path.Combine(folder, AblationFiles.Runs));
        var summary = CsvFiles.Read<ArmSummaryRow>(Path.Combine(folder, AblationFiles.Summary));
        var rho = CsvFiles.Read<ComparisonRow>(Path.Combine(folder, AblationFiles.Comparisons))
            .Single(c => c.Comparison == AblationAnalysis.SpearmanComparison);
        var paper = AblationAnalysis.PaperComponents(referenceBase);
        var files = new List<string>();
        files.AddRange(Figures.Save(Components(rows, summary, rho, paper),
            folder, AblationFiles.ComponentsFigure, 1300, 1000));
        files.AddRange(Figures.Save(PretrainingCurve(
            CsvFiles.Read<PretrainLossRow>(Path.Combine(folder, AblationFiles.PretrainLoss)),
            CsvFiles.Read<PretrainAccuracyRow>(Path.Combine(folder, AblationFiles.PretrainAccuracy))),
            folder, AblationFiles.PretrainingFigure, 1300, 500));
        return files;
    }

    /// <summary>
    /// Fig. 3 layout, two panels: test cross-entropy (primary, lower is better) and exact match, bars of the mean with
    /// 95% t intervals and the seeds as dots, per target in the paper's order; the paper's GSM8K values on the right
    /// axis.
    /// </summary>
    static Multiplot Components(IReadOnlyList<AblationRow> rows, IReadOnlyList<ArmSummaryRow> allSummary,
        ComparisonRow rho, IReadOnlyList<PaperComponentRow> paper)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Rows();
        var headline = AblationAnalysis.Headline(rows);
        var summary = allSummary.Where(s => s.RateChoice != RateChoice.Shared).ToArray();
        var (_, p) = AblationAnalysis.Correlation(rows, paper, "gsm8k");
        int seeds = headline.Where(r => r.Method == AblationMethod.Abba.Name).Select(r => r.Seed).Distinct().Count();
        var top = multiplot.GetPlot(0);
        MetricPanel(top, headline, summary, AblationMetrics.TestCe, 1, "held-out answer CE (nats/token)");
        top.Title("Which projections to adapt (paper Fig. 3): SYNTHETIC stand-in, addition -> subtraction, " +
                  "not MetaMathQA -> GSM8K\n" +
                  Invariant($"each arm at its tuned learning rate, {seeds} paired seed(s), ") +
                  "mean with 95% t interval; " +
                  "lower CE is better\n" +
                  "Spearman rho (-CE vs paper GSM8K) = " +
                  $"{Comparisons.Format(rho.Estimate, rho.CiLow, rho.CiHigh, "0.00")} " +
                  Invariant($"(bootstrap over seeds), exact one-sided p = {p:0.000}"));
        top.HideLegend();
        top.Axes.Title.Label.FontSize = 14;
        var bottom = multiplot.GetPlot(1);
        MetricPanel(bottom, headline, summary, AblationMetrics.ExactMatch, 100, "held-out exact match (%)");
        bottom.Axes.SetLimitsY(0, 105, bottom.Axes.Left);
        AddPaperValues(bottom, paper);
        foreach (var m in Present(summary))
            bottom.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = m.Label + " (mean, 95% t interval, seeds as dots)", FillColor = m.Colour,
            });
        bottom.ShowLegend(Edge.Bottom);
        return multiplot;
    }

    /// <summary>The methods with a row in <paramref name="summary"/>, in legend order.</summary>
    static AblationMethod[] Present(IEnumerable<ArmSummaryRow> summary) =>
        [.. AblationMethod.All.Where(m => summary.Any(s => s.Method == m.Name))];

    /// <summary>One panel: a bar per (target, method) of <paramref name="metric"/> times <paramref name="scale"/>, with
    /// its interval and seeds; the pretrained floor dashed.</summary>
    static void MetricPanel(Plot plot, IReadOnlyList<AblationRow> rows, IReadOnlyList<ArmSummaryRow> summary,
        Metric<AblationRow> metric, double scale, string label)
    {
        var methods = Present(summary);
        var ticks = new List<Tick>();
        for (int g = 0; g < Target.Groups.Count; g++)
        {
            var target = Target.Groups[g];
            var present = methods.Select(m => new Arm(m, target)).Where(a => summary.Any(a.Matches)).ToArray();
            for (int k = 0; k < present.Length; k++)
            {
                var s = summary.Single(s => present[k].Matches(s) && s.Metric == metric.Name);
                double width = 0.8 / present.Length, x = g + (k - (present.Length - 1) / 2.0) * width;
                double error = double.IsNaN(s.CiHigh) ? 0 : scale * (s.CiHigh - s.Mean);
                plot.Add.Bar(new Bar
                {
                    Position = x, Value = scale * s.Mean, Error = error, FillColor = present[k].Method.Colour,
                    Size = width * 0.9,
                });
                var values = rows.Where(present[k].Matches).Select(r => scale * metric.Of(r)).ToArray();
                if (values.Length > 1)
                    plot.Add.Markers(Enumerable.Repeat(x, values.Length).ToArray(), values, MarkerShape.OpenCircle, 4,
                        Colors.Black);
            }
            ticks.Add(new Tick(g, target.Tick));
        }
        var floor = summary.Single(s => s.RateChoice == RateChoice.None && s.Metric == metric.Name);
        var line = plot.Add.HorizontalLine(scale * floor.Mean, 1.5f, Colors.Gray, LinePattern.Dashed);
        line.LegendText = Invariant($"before fine-tuning ({scale * floor.Mean:0.###})");
        plot.Axes.Bottom.TickGenerator = new NumericManual([.. ticks]);
        plot.YLabel(label);
    }

    /// <summary>The paper's GSM8K bars (Mistral-7B) as diamonds on their own right-hand axis.</summary>
    static void AddPaperValues(Plot plot, IReadOnlyList<PaperComponentRow> paper)
    {
        Target[] targets = [.. Target.PaperOrder, Target.All];
        double[] xs = [.. Enumerable.Range(0, targets.Length).Select(i => (double)i)];
        double[] ys = [.. targets.Select(t => AblationAnalysis.PaperValue(paper, "gsm8k", t))];
        var scatter = plot.Add.Scatter(xs, ys, Colors.Black);
        scatter.MarkerShape = MarkerShape.FilledDiamond;
        scatter.MarkerSize = 10;
        scatter.LinePattern = LinePattern.Dotted;
        scatter.LegendText = "paper, ABBA on Mistral-7B, GSM8K (right axis)";
        scatter.Axes.YAxis = plot.Axes.Right;
        plot.Axes.Right.Label.Text = "paper GSM8K accuracy (%)";
        plot.Axes.SetLimitsY(54, 67, plot.Axes.Right);
    }

    /// <summary>Pre-training loss per step (log scale) and held-out accuracy on P and F at checkpoints.</summary>
    static Multiplot PretrainingCurve(
        IReadOnlyList<PretrainLossRow> losses, IReadOnlyList<PretrainAccuracyRow> accuracy)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var left = multiplot.GetPlot(0);
        var curve = left.Add.ScatterLine(losses.Select(l => (double)l.Step).ToArray(),
            losses.Select(l => Math.Log10(Math.Max(l.Loss, 1e-6))).ToArray(), AblationMethod.FullFineTune.Colour);
        curve.LegendText = "training loss (answer tokens)";
        left.Axes.Left.TickGenerator = new NumericAutomatic
        {
            MinorTickGenerator = new LogMinorTickGenerator(), IntegerTicksOnly = true, LabelFormatter = y => $"1e{y:0}",
        };
        left.Title("Pre-training on addition (task P), from scratch");
        left.XLabel("step");
        left.YLabel("cross-entropy (log scale)");
        var right = multiplot.GetPlot(1);
        var tasks = new[]
        {
            (Task: "add", AblationMethod.Lora.Colour, Legend: "held-out addition (P)"),
            (Task: "subtract", AblationMethod.Abba.Colour, Legend: "held-out subtraction (F), never trained"),
        };
        foreach (var (task, colour, legend) in tasks)
        {
            var points = accuracy.Where(a => a.Task == task).ToArray();
            var s = right.Add.Scatter(points.Select(p => (double)p.Step).ToArray(),
                points.Select(p => 100 * p.Accuracy).ToArray(), colour);
            s.LegendText = legend;
        }
        right.Axes.SetLimitsY(-2, 102);
        right.Title("Held-out exact-match accuracy during pre-training");
        right.XLabel("step");
        right.YLabel("accuracy (%)");
        right.ShowLegend(Alignment.MiddleRight);
        return multiplot;
    }
}
