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
        var comparisons = CsvFiles.Read<ComparisonRow>(Path.Combine(folder, AblationFiles.Comparisons));
        var paper = AblationAnalysis.PaperComponents(referenceBase);
        var files = new List<string>();
        if (AblationAnalysis.HasComponents(AblationAnalysis.Headline(rows)))
            files.AddRange(Figures.Save(Components(rows, summary,
                comparisons.Single(c => c.Comparison == AblationAnalysis.SpearmanComparison), paper),
                folder, AblationFiles.ComponentsFigure, 1300, 1000));
        files.AddRange(Figures.Save(PretrainingCurve(
            CsvFiles.Read<PretrainLossRow>(Path.Combine(folder, AblationFiles.PretrainLoss)),
            CsvFiles.Read<PretrainAccuracyRow>(Path.Combine(folder, AblationFiles.PretrainAccuracy))),
            folder, AblationFiles.PretrainingFigure, 1300, 500));
        files.AddRange(Figures.Save(RankCurve(rows, summary, comparisons), folder, AblationFiles.RankCurveFigure,
            1300, 550));
        var curves = CsvFiles.Read<SpectrumCurveRow>(Path.Combine(folder, AblationFiles.SpectrumCurves));
        if (curves.Count > 0)
            files.AddRange(Figures.Save(Spectra(rows, curves), folder, AblationFiles.SpectraFigure, 1000, 600));
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
                  Invariant($"each arm at its tuned learning rate, {seeds} paired replicate(s), ") +
                  "mean with 95% t interval; " +
                  "lower CE is better\n" +
                  "Spearman rho (-CE vs paper GSM8K) = " +
                  $"{Comparisons.Format(rho.Estimate, rho.CiLow, rho.CiHigh, "0.00")} " +
                  Invariant($"(bootstrap over replicates), exact one-sided p = {p:0.000}; ranked by parameter ") +
                  Invariant($"count alone: rho = {AblationAnalysis.NullRho(rows, paper):0.00}"));
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

    /// <summary>Pre-training loss per step (log scale) and held-out accuracy on P and F at checkpoints, one line per
    /// pre-trained model.</summary>
    static Multiplot PretrainingCurve(
        IReadOnlyList<PretrainLossRow> losses, IReadOnlyList<PretrainAccuracyRow> accuracy)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var left = multiplot.GetPlot(0);
        var right = multiplot.GetPlot(1);
        var patterns = new[] { LinePattern.Solid, LinePattern.Dashed, LinePattern.Dotted };
        var shapes = new[] { MarkerShape.FilledCircle, MarkerShape.OpenSquare, MarkerShape.FilledTriangleUp };
        foreach (var model in losses.Select(l => l.Model).Distinct().Order())
        {
            var pattern = patterns[model % patterns.Length];
            var mine = losses.Where(l => l.Model == model).ToArray();
            var curve = left.Add.ScatterLine(mine.Select(l => (double)l.Step).ToArray(),
                mine.Select(l => Math.Log10(Math.Max(l.Loss, 1e-6))).ToArray(), AblationMethod.FullFineTune.Colour);
            curve.LinePattern = pattern;
            curve.LegendText = $"model {model}: training loss (answer tokens)";
            var tasks = new[]
            {
                (Task: "add", AblationMethod.Lora.Colour, Legend: "held-out addition (P)"),
                (Task: "subtract", AblationMethod.Abba.Colour, Legend: "held-out subtraction (F), barely trained"),
            };
            foreach (var (task, colour, legend) in tasks)
            {
                var points = accuracy.Where(a => a.Task == task && a.Model == model).ToArray();
                var line = right.Add.Scatter(points.Select(p => (double)p.Step).ToArray(),
                    points.Select(p => 100 * p.Accuracy).ToArray(), colour);
                // one marker shape per model (a dashed pattern on a line with markers does not render in SVG)
                line.MarkerShape = shapes[model % shapes.Length];
                line.LegendText = $"model {model}: {legend}";
            }
        }
        left.Axes.Left.TickGenerator = new NumericAutomatic
        {
            MinorTickGenerator = new LogMinorTickGenerator(), IntegerTicksOnly = true, LabelFormatter = y => $"1e{y:0}",
        };
        left.Title("Pre-training on addition (task P) from scratch, per model");
        left.XLabel("step");
        left.YLabel("cross-entropy (log scale)");
        left.ShowLegend(Alignment.UpperRight);
        right.Axes.SetLimitsY(-2, 102);
        right.Title("Held-out exact-match accuracy during pre-training");
        right.XLabel("step");
        right.YLabel("accuracy (%)");
        right.ShowLegend(Alignment.MiddleRight);
        return multiplot;
    }

    /// <summary>
    /// LoRA's rank curve on all seven (test CE and exact match, mean with 95% t interval over replicates, at each
    /// rank's tuned rate) on a log2 rank axis, with ABBA's arms placed at their parameter budgets' LoRA rank and the
    /// noise floor as a band around LoRA r.
    /// </summary>
    static Multiplot RankCurve(IReadOnlyList<AblationRow> rows, IReadOnlyList<ArmSummaryRow> allSummary,
        IReadOnlyList<ComparisonRow> comparisons)
    {
        var summary = allSummary.Where(s => s.RateChoice != RateChoice.Shared).ToArray();
        var curve = Arm.RankCurveIn(rows);
        var others = new[] { Arm.AbbaAll, Arm.Released }.Where(a => rows.Any(a.Matches)).ToArray();
        double floor = AblationAnalysis.Floor(comparisons, AblationAnalysis.NoiseFloorComparison);
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var metrics = new[] { (AblationMetrics.TestCe, 1.0, "held-out answer CE"), (AblationMetrics.ExactMatch, 100.0,
            "held-out exact match (%)") };
        for (int k = 0; k < metrics.Length; k++)
        {
            var (metric, scale, label) = metrics[k];
            var plot = multiplot.GetPlot(k);
            double X(Arm a) => Math.Log2(rows.First(a.Matches).Rank);
            var points = curve.Select(a => (X: X(a), S: AblationAnalysis.Of(summary, a.Method.Name, a.Target.Name,
                metric))).ToArray();
            var line = plot.Add.ScatterLine(points.Select(p => p.X).ToArray(),
                points.Select(p => scale * p.S.Mean).ToArray(), AblationMethod.Lora.Colour);
            line.LegendText = "LoRA on all seven, by rank";
            foreach (var p in points) Interval(plot, p.X, p.S, scale, AblationMethod.Lora.Colour);
            foreach (var a in others)
            {
                var s = AblationAnalysis.Of(summary, a.Method.Name, a.Target.Name, metric);
                // ABBA's budget rank is r1 + r2, the LoRA rank of the same parameter count; drawn just right of it
                double x = X(a) + 0.12;
                var marker = plot.Add.Marker(x, scale * s.Mean,
                    a == Arm.AbbaAll ? MarkerShape.FilledDiamond : MarkerShape.OpenDiamond, 12, a.Method.Colour);
                marker.LegendText = a.Method.Label;
                Interval(plot, x, s, scale, a.Method.Colour);
            }
            if (k == 0 && floor > 0 && curve.FirstOrDefault(a => a.Method == AblationMethod.Lora) is { } lora)
            {
                double mean = AblationAnalysis.Of(summary, lora.Method.Name, lora.Target.Name, metric).Mean;
                var band = plot.Add.VerticalSpan(mean - floor, mean + floor, Colors.Gray.WithAlpha(0.2));
                band.LegendText = Invariant($"LoRA r +- the CE noise floor ({floor:0.0000})");
            }
            plot.Axes.Bottom.TickGenerator = new NumericManual([.. curve.Select(a =>
                new Tick(X(a), Invariant($"{rows.First(a.Matches).Rank}")))]);
            plot.XLabel("rank r (ABBA: r1 + r2, the LoRA rank of its parameter count)");
            plot.YLabel(label);
            plot.ShowLegend(k == 0 ? Alignment.UpperRight : Alignment.LowerRight);
        }
        multiplot.GetPlot(0).Title("Does capacity matter? LoRA's rank curve (SYNTHETIC stand-in)\n" +
                                   "each rank at its tuned rate; mean, 95% t interval over replicates");
        multiplot.GetPlot(1).Title("the claims judge each doubling by paired intervals\n" +
                                   "(these include the spread between pre-trained models)");
        return multiplot;
    }

    static void Interval(Plot plot, double x, ArmSummaryRow s, double scale, Color colour)
    {
        if (double.IsNaN(s.CiLow)) return;
        var bar = plot.Add.ErrorBar([x], [scale * s.Mean], [scale * (s.CiHigh - s.Mean)]);
        bar.Color = colour;
        bar.LineWidth = 1.5f;
    }

    /// <summary>Each arm's mean normalised singular spectrum sigma_i / sigma_1 of its learned updates (log scale),
    /// with the budget rank r marked.</summary>
    static Plot Spectra(IReadOnlyList<AblationRow> rows, IReadOnlyList<SpectrumCurveRow> curves)
    {
        var plot = new Plot();
        var arms = Arm.WholeModelIn(rows).Where(a => curves.Any(c => c.Method == a.Method.Name && c.Target ==
            a.Target.Name)).ToArray();
        var patterns = new[] { LinePattern.Solid, LinePattern.Dashed, LinePattern.Dotted };
        int budget = rows.Where(Arm.Baselines[0].Matches).Select(r => r.Rank).FirstOrDefault();
        for (int k = 0; k < arms.Length; k++)
        {
            var a = arms[k];
            var mine = curves.Where(c => c.Method == a.Method.Name && c.Target == a.Target.Name).ToArray();
            var line = plot.Add.ScatterLine(mine.Select(c => (double)c.Index).ToArray(),
                mine.Select(c => Math.Log10(Math.Max(c.NormalisedSigma, 1e-6))).ToArray(), a.Method.Colour);
            line.LinePattern = a.Method.Family == AblationMethod.Lora.Name ? patterns[k % patterns.Length]
                : a == Arm.Released ? LinePattern.Dashed : LinePattern.Solid;
            line.LineWidth = a == Arm.AbbaAll ? 3 : 1.5f;
            line.LegendText = a.Method.Label;
        }
        if (budget > 0)
        {
            var v = plot.Add.VerticalLine(budget, 1, Colors.Gray, LinePattern.Dashed);
            v.LegendText = Invariant($"r = {budget} (LoRA r's rank; ABBA's budget)");
        }
        plot.Axes.Left.TickGenerator = new NumericAutomatic
        {
            MinorTickGenerator = new LogMinorTickGenerator(), IntegerTicksOnly = true, LabelFormatter = y => $"1e{y:0}",
        };
        plot.Title("What was learned: singular spectrum of each learned update dW (SYNTHETIC stand-in)\n" +
                   "sigma_i / sigma_1, mean over the adapted modules and replicates; full FT: W - W0 of every " +
                   "projection");
        plot.Axes.SetLimitsY(-6.2, 0.2);
        plot.XLabel("singular value index i");
        plot.YLabel("sigma_i / sigma_1 (log scale; 1e-6 and below drawn at 1e-6)");
        plot.ShowLegend(Alignment.LowerLeft);
        return plot;
    }
}
