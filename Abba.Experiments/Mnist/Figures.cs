using System.Globalization;
using Abba.Experiments.Output;
using ScottPlot;
using static System.FormattableString;
using Abba.Core.Statistics;
using ScottPlot.TickGenerators;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Mnist;

/// <summary>The mnist figures, drawn from the CSVs a run wrote.</summary>
public static class MnistFigures
{
    /// <summary>The methods in legend order, each with its config's label and colour.</summary>
    static readonly (string Method, string Label, Color Color)[] Styles =
        [.. MnistArm.Legend.Select(a => (a.Method, a.Label, a.Colour))];

    /// <summary>Redraws the figures from the CSVs in <paramref name="folder"/>; returns the files written.</summary>
    public static IReadOnlyList<string> Plot(string folder) =>
        [.. LossCurves(folder), .. LandscapeFigure(folder), .. AccuracyBars(folder)];

    /// <summary>Mini-batch loss per step, smoothed by a trailing moving average, mean over seeds with a +-1 std band
    /// (log scale).</summary>
    static string[] LossCurves(string folder)
    {
        var curves = CsvFiles.Read<MnistCurveRow>(Path.Combine(folder, MnistFiles.Curves));
        int steps = curves.Max(c => c.Step), window = Math.Max(1, steps / 50);
        var plot = new Plot();
        foreach (var (method, label, color) in Styles)
        {
            var perSeed = curves.Where(c => c.Method == method).GroupBy(c => c.Seed)
                .Select(g => MnistEffects.MovingAverage(g.OrderBy(c => c.Step).Select(c => c.Loss).ToArray(),
                    window)).ToArray();
            if (perSeed.Length == 0) continue;
            double[] x = [.. Enumerable.Range(1, perSeed[0].Length).Select(i => (double)i)];
            double[] mean = [.. x.Select((_, i) => perSeed.Average(s => s[i]))];
            double[] std = [.. x.Select((_, i) => Describe.SampleStd(perSeed.Select(s => s[i])))];
            if (perSeed.Length > 1)
            {
                var band = plot.Add.FillY(x, Log10(mean.Zip(std, (m, s) => Math.Max(m - s, m * 0.05)).ToArray()),
                    Log10(mean.Zip(std, (m, s) => m + s).ToArray()));
                band.FillColor = color.WithAlpha(0.2);
                band.LineWidth = 0;
            }
            var line = plot.Add.ScatterLine(x, Log10(mean), color);
            line.LineWidth = 2;
            line.LegendText = $"{label} ({perSeed.Length} seed{(perSeed.Length > 1 ? "s, mean ± std" : "")})";
        }
        LogAxis(plot.Axes.Left);
        plot.Title("Fine-tuning on digits 8-9: training loss");
        plot.XLabel("step");
        plot.YLabel($"mini-batch cross-entropy (moving average over {window} steps)");
        plot.ShowLegend(Alignment.UpperRight);
        return Figures.Save(plot, folder, MnistFiles.LossFigure);
    }

    /// <summary>Loss over the PCA plane (heatmap of log10 loss, contours), each method's trajectory, the start and the
    /// target optimum.</summary>
    static string[] LandscapeFigure(string folder)
    {
        var grid = CsvFiles.Read<MnistLandscapeRow>(Path.Combine(folder, MnistFiles.Landscape));
        var paths = CsvFiles.Read<MnistTrajectoryRow>(Path.Combine(folder, MnistFiles.Trajectories));
        var runs = CsvFiles.Read<MnistRunRow>(Path.Combine(folder, MnistFiles.Runs));
        var plane = CsvFiles.Read<MnistPlaneRow>(Path.Combine(folder, MnistFiles.Plane)).Single();
        double[] xs = [.. grid.Select(g => g.X).Distinct().Order()], ys = [.. grid.Select(g => g.Y).Distinct().Order()];
        var cells = new Coordinates3d[ys.Length, xs.Length];
        var intensities = new double[ys.Length, xs.Length];
        foreach (var g in grid)
        {
            int j = Array.IndexOf(ys, g.Y), i = Array.IndexOf(xs, g.X);
            cells[j, i] = new(g.X, g.Y, Math.Log10(g.Loss));
            intensities[ys.Length - 1 - j, i] = Math.Log10(g.Loss);   // heatmap rows run top to bottom
        }
        double dx = (xs[^1] - xs[0]) / (xs.Length - 1), dy = (ys[^1] - ys[0]) / (ys.Length - 1);
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(intensities);
        heatmap.Extent = new CoordinateRect(xs[0] - dx / 2, xs[^1] + dx / 2, ys[0] - dy / 2, ys[^1] + dy / 2);
        heatmap.Colormap = new ScottPlot.Colormaps.Turbo();
        var contours = plot.Add.ContourLines(cells, 14);
        contours.LineColor = Colors.White.WithAlpha(0.6);
        contours.LabelStyle.IsVisible = false;
        plot.Add.ColorBar(heatmap).Label = "log10 cross-entropy on the 8-9 fine-tuning split";
        int firstSeed = runs.Min(r => r.Seed);
        foreach (var (method, label, color) in Styles)
        {
            var path = paths.Where(p => p.Method == method).OrderBy(p => p.Checkpoint).ToArray();
            if (path.Length == 0) continue;
            var final = runs.First(r => r.Method == method && r.Seed == firstSeed);
            var line = plot.Add.Scatter(path.Select(p => p.X).ToArray(), path.Select(p => p.Y).ToArray(), color);
            line.LineWidth = 2;
            line.MarkerSize = 7;
            line.LegendText = string.Create(CultureInfo.InvariantCulture,
                $"{label}: train loss {final.TrainLoss:0.0000}{PaperNote(method)}; the plane holds " +
                    $"{Math.Sqrt(Math.Max(0, 1 - path[^1].OffPlane * path[^1].OffPlane)):P0} of its final " +
                    $"displacement's length");
        }
        var start = plot.Add.Marker(0, 0, MarkerShape.OpenCircle, 14, Colors.Black);
        start.LegendText = "start: pre-trained W0";
        var target = paths.Single(p => p.Method == LandscapeAnalysis.TargetOptimum);
        var star = plot.Add.Marker(target.X, target.Y, MarkerShape.FilledDiamond, 16, Colors.Gold);
        star.LegendText = string.Create(CultureInfo.InvariantCulture,
            $"optimum 1 (full FT, stopped at |grad| < tolerance, step {target.Step}): L = {target.Loss:0.00000}; " +
                $"separable data: the loss keeps falling beyond it");
        plot.Title($"Loss landscape, MNIST 0-7 -> 8-9 (seed {firstSeed}): plane through W0 and optimum 1");
        plot.XLabel(string.Create(CultureInfo.InvariantCulture,
            $"x: towards optimum 1 ({plane.ExplainedX:P1} of the squared displacement)"));
        plot.YLabel(string.Create(CultureInfo.InvariantCulture,
            $"y: top residual principal direction ({plane.ExplainedY:P1})"));
        plot.Axes.SetLimits(xs[0], xs[^1], ys[0], ys[^1]);
        plot.ShowLegend(Alignment.UpperLeft);   // inside: an edge legend crops its last entry (the optimum)
        return Figures.Save(plot, folder, MnistFiles.LandscapeFigure, 1000, 850);
    }

    /// <summary>
    /// What fine-tuning on 8-9 did, per seed (dots) and median (bar): the 8-9 test error, on an axis that resolves it,
    /// and forgetting as the 0-7 test cross-entropy (log scale) beside the pre-trained models' own, since the 0-7
    /// accuracy, given in the title, is the same for every method.
    /// </summary>
    static string[] AccuracyBars(string folder)
    {
        var runs = CsvFiles.Read<MnistRunRow>(Path.Combine(folder, MnistFiles.Runs));
        var pretrained = CsvFiles.Read<MnistPretrainRow>(Path.Combine(folder, MnistFiles.Pretrain));
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var (error, forgetting) = (multiplot.GetPlot(0), multiplot.GetPlot(1));
        var ticks = new List<Tick>();
        int i = 0;
        foreach (var (method, label, color) in Styles)
        {
            var mine = runs.Where(r => r.Method == method).OrderBy(r => r.Seed).ToArray();
            if (mine.Length == 0) continue;
            SeedDots(error, i, [.. mine.Select(r => 100 * (1 - r.Acc89))], color);
            SeedDots(forgetting, i, [.. mine.Select(r => Math.Log10(r.TestLoss07))], color);
            ticks.Add(new Tick(i++, $"{label}\n({mine[0].Params:N0} params)"));
        }
        if (pretrained.Count > 0)
        {
            var before = forgetting.Add.HorizontalLine(Math.Log10(pretrained.Average(p => p.TestLoss07)), 1,
                Colors.Black, LinePattern.Dashed);
            before.LegendText = $"pre-trained models' own 0-7 test CE (mean of {pretrained.Count})";
            forgetting.ShowLegend(Alignment.LowerRight);
        }
        foreach (var plot in new[] { error, forgetting })
        {
            plot.Axes.Bottom.TickGenerator = new NumericManual([.. ticks]);
            plot.Axes.SetLimitsX(-0.6, ticks.Count - 0.4);
        }
        double maxRetention = runs.Max(r => r.Acc07);
        string retention = maxRetention == 0 ? "0-7 accuracy 0.0 % for every method and seed"
            : Invariant($"0-7 accuracy at most {100 * maxRetention:0.0} %");
        error.Title("8-9 test error after fine-tuning\n(each seed a dot, the median a bar)");
        error.YLabel("8-9 test error (%)");
        forgetting.Title($"Forgetting: 0-7 test cross-entropy\n({retention})");
        forgetting.YLabel("0-7 test cross-entropy (log scale)");
        LogAxis(forgetting.Axes.Left);
        return Figures.Save(multiplot, folder, MnistFiles.AccuracyFigure, 1500, 600);
    }

    /// <summary>Each seed's value as a dot spread around <paramref name="x"/>, and their median as a bar.</summary>
    static void SeedDots(Plot plot, double x, double[] values, Color color)
    {
        double median = Bootstrap.Quantile([.. values.Order()], 0.5);
        var bar = plot.Add.Line(x - 0.3, median, x + 0.3, median);
        bar.Color = color;
        bar.LineWidth = 3;
        double[] xs = [.. values.Select((_, k) => x - 0.15 + 0.3 * k / Math.Max(1, values.Length - 1))];
        plot.Add.Markers(xs, values, MarkerShape.FilledCircle, 7, color);
    }

    static string PaperNote(string method)
    {
        string path = ReferenceData.PathOf(MnistFiles.PaperReference);
        var paper = File.Exists(path)
            ? CsvFiles.Read<PaperLossRow>(path).FirstOrDefault(p => p.Method == method) : null;
        return paper is null ? "" : string.Create(CultureInfo.InvariantCulture, $" (paper {paper.FinalLoss:0.0000})");
    }

    static double[] Log10(double[] values) => [.. values.Select(Math.Log10)];

    /// <summary>Labels an axis that carries log10 values with the values themselves.</summary>
    static void LogAxis(IAxis axis) =>
        axis.TickGenerator = new NumericAutomatic
        {
            MinorTickGenerator = new LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = v => Math.Pow(10, v).ToString("0.####", CultureInfo.InvariantCulture),
        };
}
