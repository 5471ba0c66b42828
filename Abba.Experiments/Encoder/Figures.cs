using Abba.Experiments.Output;
using Abba.Experiments.Protocol;
using ScottPlot;
using ScottPlot.TickGenerators;
using static System.FormattableString;

namespace Abba.Experiments.Encoder;

/// <summary>Figures of the encoder comparison, drawn from its CSVs.</summary>
public static class EncoderFigures
{
    /// <summary>Redraws the figures from the CSVs in <paramref name="folder"/>; returns the files written.</summary>
    public static IReadOnlyList<string> Plot(string folder)
    {
        var rows = CsvFiles.Read<EncoderRow>(Path.Combine(folder, EncoderFiles.Runs));
        var summary = CsvFiles.Read<EncoderSummaryRow>(Path.Combine(folder, EncoderFiles.Summary));
        var arms = ArmsOf(rows);
        var files = new List<string>();
        var methods = arms.Where(a => a.Roles.HasFlag(ArmRole.Baseline) || a.Label == EncoderArm.AbbaAllLabel)
            .ToArray();
        files.AddRange(Figures.Save(Panels(rows, summary, methods,
            "Methods at one budget on a REAL model (not the paper's): all-MiniLM-L6-v2, WordNet supersenses"),
            folder, EncoderFiles.MethodsFigure, 1300, 950));
        var projections = arms.Where(a => a.Roles.HasFlag(ArmRole.SingleProjection)
                                          || a.Label == EncoderArm.AbbaAllLabel).ToArray();
        if (projections.Length > 1)
            files.AddRange(Figures.Save(Panels(rows, summary, projections,
                "Which projections to adapt (Figure 3's question) on a REAL model (not the paper's): ABBA on each " +
                "kind alone vs all six"), folder, EncoderFiles.ProjectionsFigure, 1300, 950));
        files.AddRange(Figures.Save(RankCurve(summary, arms), folder, EncoderFiles.RankCurveFigure, 1100, 650));
        return files;
    }

    /// <summary>The arms present in <paramref name="rows"/>, rebuilt from their labels at the run's rank.</summary>
    static EncoderArm[] ArmsOf(IReadOnlyList<EncoderRow> rows)
    {
        int rank = rows.Where(r => r.Arm is "lora" or EncoderArm.AbbaAllLabel).Select(r => r.Rank)
            .DefaultIfEmpty(EncoderOptions.Paper.Rank).First();
        var present = rows.Select(r => r.Arm).ToHashSet();
        return [.. EncoderArm.All(EncoderOptions.Paper with { Rank = rank, Arms = [.. present] })];
    }

    /// <summary>Two panels (test CE, accuracy): a bar per arm with its 95% t interval, the seeds as dots.</summary>
    static Multiplot Panels(IReadOnlyList<EncoderRow> rows, IReadOnlyList<EncoderSummaryRow> summary,
        IReadOnlyList<EncoderArm> arms, string title)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Rows();
        int seeds = rows.Select(r => r.Seed).Distinct().Count();
        var top = multiplot.GetPlot(0);
        Bars(top, rows, summary, arms, EncoderMetrics.TestCe, 1, "test cross-entropy (nats), lower is better");
        top.Title(title + "\n" + Invariant($"each arm at its tuned learning rate, {seeds} paired seed(s), ") +
                  "mean (diamond) with 95% t interval, seeds as dots");
        top.Axes.Title.Label.FontSize = 14;
        var bottom = multiplot.GetPlot(1);
        Bars(bottom, rows, summary, arms, EncoderMetrics.Accuracy, 100, "test accuracy (%)");
        return multiplot;
    }

    static void Bars(Plot plot, IReadOnlyList<EncoderRow> rows, IReadOnlyList<EncoderSummaryRow> summary,
        IReadOnlyList<EncoderArm> arms, Metric<EncoderRow> metric, double scale, string label)
    {
        var ticks = new List<Tick>();
        double low = double.PositiveInfinity, high = double.NegativeInfinity;
        for (int k = 0; k < arms.Count; k++)
        {
            var s = summary.Single(s => s.Arm == arms[k].Label && s.Metric == metric.Name);
            double error = double.IsNaN(s.CiHigh) ? 0 : scale * (s.CiHigh - s.Mean);
            // A point with its interval, not a bar: the axis does not start at zero, so bar lengths would mislead.
            var mean = plot.Add.Marker(k, scale * s.Mean, MarkerShape.FilledDiamond, 16, Color.FromHex(arms[k].Colour));
            mean.LegendText = "";
            var interval = plot.Add.ErrorBar([(double)k], [scale * s.Mean], [error]);
            interval.Color = Color.FromHex(arms[k].Colour);
            interval.LineWidth = 2;
            double[] values = [.. rows.Where(r => r.Arm == arms[k].Label).Select(r => scale * metric.Of(r))];
            plot.Add.Markers(Enumerable.Repeat((double)k, values.Length).ToArray(), values, MarkerShape.OpenCircle,
                5, Colors.Black);
            low = Math.Min(low, Math.Min(values.Min(), scale * s.Mean - error));
            high = Math.Max(high, Math.Max(values.Max(), scale * s.Mean + error));
            ticks.Add(new Tick(k, arms[k].Display.Replace(" (", "\n(", StringComparison.Ordinal)));
        }
        double pad = 0.1 * Math.Max(high - low, 1e-6);
        plot.Axes.SetLimitsY(Math.Max(0, low - pad), high + pad);
        plot.Axes.SetLimitsX(-0.6, arms.Count - 0.4);
        plot.Axes.Bottom.TickGenerator = new NumericManual([.. ticks]);
        plot.YLabel(label);
    }

    /// <summary>LoRA's test CE against its rank (log axis), with 95% t intervals; ABBA at its budget rank beside
    /// it.</summary>
    static Plot RankCurve(IReadOnlyList<EncoderSummaryRow> summary, IReadOnlyList<EncoderArm> arms)
    {
        var plot = new Plot();
        var curve = arms.Where(a => a.Roles.HasFlag(ArmRole.RankCurve)).OrderBy(a => a.Rank).ToArray();
        void Points(IReadOnlyList<EncoderArm> points, string colour, string legend, MarkerShape shape, double shift)
        {
            var cells = points.Select(a => summary.Single(s => s.Arm == a.Label && s.Metric == "test_ce")).ToArray();
            double[] xs = [.. points.Select(a => Math.Log2(a.Rank) + shift)];
            double[] ys = [.. cells.Select(c => c.Mean)];
            double[] errors = [.. cells.Select(c => double.IsNaN(c.CiHigh) ? 0 : c.CiHigh - c.Mean)];
            var scatter = plot.Add.Scatter(xs, ys, Color.FromHex(colour));
            scatter.MarkerShape = shape;
            scatter.MarkerSize = 10;
            scatter.LegendText = legend;
            var bars = plot.Add.ErrorBar(xs, ys, errors);
            bars.Color = Color.FromHex(colour);
        }
        if (curve.Length > 0) Points(curve, curve[0].Colour, "LoRA at rank r (mean, 95% t interval)",
            MarkerShape.FilledCircle, 0);
        var abba = arms.Where(a => a.Label == EncoderArm.AbbaAllLabel).ToArray();
        if (abba.Length > 0) Points(abba, abba[0].Colour, "ABBA r1 = r2 = r/2 (the parameters of LoRA r)",
            MarkerShape.FilledDiamond, 0.1);
        plot.Axes.Bottom.TickGenerator = new NumericManual(
            [.. curve.Select(a => new Tick(Math.Log2(a.Rank), Invariant($"{a.Rank}")))]);
        plot.Title("Does capacity matter on this task? LoRA rank curve (REAL model, not the paper's)\n" +
                   "intervals over seeds, unpaired; the paired rank steps are tested in encoder_comparisons.csv");
        plot.XLabel("rank r (log scale)");
        plot.YLabel("test cross-entropy (nats)");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }
}
