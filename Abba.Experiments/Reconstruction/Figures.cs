using Abba.Core.Reconstruction;
using Abba.Experiments.Output;
using ScottPlot;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Reconstruction;

/// <summary>Figure 2: one panel per matrix type, every method against LoRA rank r, and a legend strip.</summary>
public static class ReconstructionFigure
{
    // The methods' colours come from their configs; ABBA's second budget and the paper's points are series, not
    // methods.
    static readonly Color LoraColor = FitMethod.Lora.Colour(), EqualColor = FitMethod.Abba.Colour(),
        DoubledColor = Color.FromHex("#ff7f0e"), HiraColor = FitMethod.Hira.Colour(), PaperColor = Colors.Black;

    /// <summary>Draws the figure from the rows into <paramref name="folder"/>; returns the files written.</summary>
    public static string[] Save(string folder, IReadOnlyList<ReconstructionRow> rows)
    {
        var points = ReconstructionSummary.Points(rows);
        var multiplot = new Multiplot();
        while (multiplot.Subplots.Count > 0) multiplot.Subplots.RemoveAt(0);
        var types = Enum.GetValues<MatrixType>().Select(t => t.Name()).Where(t => points.Any(p
            => p.Type == t)).ToArray();
        foreach (var type in types) multiplot.Subplots.Add(Panel(type, [.. points.Where(p => p.Type == type)]));
        multiplot.Subplots.Add(LegendStrip(points.Where(p => p.Type == types[0]).ToArray()));
        int columns = Math.Min(2, types.Length), gridRows = (types.Length + 1) / 2;
        multiplot.Layout = new GridAboveStrip(gridRows, columns, StripHeight);
        return Figures.Save(multiplot, folder, ReconstructionFiles.Figure, 1400, gridRows * 520 + StripHeight);
    }

    const int StripHeight = 110;

    /// <summary>
    /// A frameless plot holding only the legend (the panels' series as manual items), laid out in rows.
    /// </summary>
    static Plot LegendStrip(ReconstructionPoint[] points)
    {
        var plot = new Plot();
        foreach (var s in Panel(points[0].Type, points).GetPlottables().OfType<ScottPlot.Plottables.Scatter>())
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = s.LegendText, LineColor = s.LineColor, LineWidth = s.LineWidth, LinePattern = s.LinePattern,
                MarkerShape = s.MarkerShape, MarkerSize = s.MarkerSize, MarkerFillColor = s.MarkerFillColor,
                    MarkerLineColor = s.MarkerLineColor,
            });
        plot.Legend.Orientation = Orientation.Horizontal;
        plot.Legend.FontSize = 15;
        plot.ShowLegend(Alignment.MiddleCenter);
        plot.Axes.Frameless();
        plot.HideGrid();
        return plot;
    }

    /// <summary>
    /// The first subplots in a rows x columns grid, the last one a strip of fixed height across the bottom.
    /// </summary>
    sealed class GridAboveStrip(int rows, int columns, float stripHeight) : IMultiplotLayout
    {
        public PixelRect[] GetSubplotRectangles(SubplotCollection subplots, PixelRect figure)
        {
            float cellWidth = figure.Width / columns, cellHeight = (figure.Height - stripHeight) / rows;
            var cells = Enumerable.Range(0, subplots.Count - 1).Select(i => new PixelRect(
                figure.Left + i % columns * cellWidth, figure.Left + (i % columns + 1) * cellWidth,
                figure.Top + (i / columns + 1) * cellHeight, figure.Top + i / columns * cellHeight));
            return [.. cells, new PixelRect(figure.Left, figure.Right, figure.Bottom, figure.Bottom - stripHeight)];
        }
    }

    /// <summary>
    /// One panel: every method against LoRA rank r, the paper's digitised points, and the ABBA Eckart-Young bounds.
    /// </summary>
    static Plot Panel(string type, ReconstructionPoint[] p)
    {
        var plot = new Plot();
        double[] r = [.. p.Select(x => (double)x.Rank)];
        Series(plot, r, p.Select(x => (double?)x.Lora), LoraColor, "LoRA r (truncated SVD)", MarkerShape.FilledCircle);
        if (p.Any(x => x.EqualStd is not null))
        {
            var band = plot.Add.FillY(r, [.. p.Select(x => (x.EqualMean - x.EqualStd) ?? double.NaN)],
                [.. p.Select(x => (x.EqualMean + x.EqualStd) ?? double.NaN)]);
            band.FillColor = EqualColor.WithAlpha(0.25);
            band.LineWidth = 0;
        }
        int seeds = p.Max(x => x.EqualSeeds);
        Series(plot, r, p.Select(x => x.EqualMean), EqualColor, $"ABBA r1 + r2 = r (equal params), best " +
            $"found{(seeds > 1 ? $", mean ± sd, {seeds} seeds" : "")}", MarkerShape.FilledSquare);
        Series(plot, r, p.Select(x => x.EqualProtocolMean), EqualColor, "ABBA r1 = r2 = r/2, paper-protocol " +
            "fit", MarkerShape.OpenSquare, line: false, size: 9);
        Series(plot, r, p.Select(x => x.EqualBound), EqualColor, "Eckart-Young bound, rank " +
            "(r/2)^2", MarkerShape.None, dashed: true);
        Series(plot, r, p.Select(x => x.Doubled), DoubledColor, "ABBA r1 = r2 = r (2x params, as released " +
            "code)", MarkerShape.FilledTriangleUp);
        Series(plot, r, p.Select(x => x.DoubledBound), DoubledColor, "Eckart-Young bound, rank " +
            "r^2", MarkerShape.None, dashed: true);
        Series(plot, r, p.Select(x => x.Hira), HiraColor, "HiRA r vs Gaussian W0 (extra)", MarkerShape.FilledDiamond);
        Series(plot, r, p.Select(x => x.PaperAbba), PaperColor, "paper ABBA (digitised, n ~ " +
            "1000)", MarkerShape.OpenCircle, line: false, size: 11);
        Series(plot, r, p.Select(x => x.PaperLora), Colors.Gray, "paper LoRA " +
            "(digitised)", MarkerShape.OpenSquare, line: false, size: 9);
        plot.Title($"{Title(type)} (n = {p[0].N})");
        plot.XLabel("LoRA rank r");
        plot.YLabel("||M - M_hat||^2 / ||M||^2");
        plot.Axes.SetLimitsX(0, r.Max() + 4);
        FocusOnFigureCurves(plot, p);
        plot.HideLegend();
        return plot;
    }

    /// <summary>
    /// Y range of the paper's own curves (LoRA, ABBA, bounds, paper points); HiRA, when it lies far above them (the
    /// random panel), is left off-scale with a note rather than squeezing the paper's curves into a sliver.
    /// </summary>
    static void FocusOnFigureCurves(Plot plot, ReconstructionPoint[] p)
    {
        double[] ys = [.. p.SelectMany(x => new[] { x.Lora, x.EqualMean, x.EqualProtocolMean, x.Doubled,
            x.PaperAbba, x.PaperLora, x.EqualBound }).OfType<double>()];
        double low = ys.Min(), high = ys.Max(), pad = 0.06 * Math.Max(high - low, 0.05);
        double[] hira = [.. p.Select(x => x.Hira).OfType<double>()];
        if (hira.Length == 0 || hira.Min() <= high + 4 * pad) return;
        plot.Axes.SetLimitsY(low - pad, high + 2 * pad);
        var note = plot.Add.Text($"HiRA off scale: {hira.Min():0.00} to {hira.Max():0.00}", p[^1].Rank, high + pad);
        note.LabelFontColor = HiraColor;
        note.LabelFontSize = 14;
        note.LabelAlignment = Alignment.UpperRight;
    }

    static void Series(Plot plot, double[] x, IEnumerable<double?> y, Color color, string label, MarkerShape marker,
        bool dashed = false, bool line = true, float size = 7)
    {
        var pairs = x.Zip(y).Where(q => q.Second is not null).ToArray();
        if (pairs.Length == 0) return;
        var s = plot.Add.Scatter(pairs.Select(q => q.First).ToArray(), pairs.Select(q => q.Second!.Value).ToArray(),
            color);
        s.LegendText = label;
        s.MarkerShape = marker;
        s.MarkerSize = marker == MarkerShape.None ? 0 : size;
        s.LineWidth = line ? (dashed ? 1.5f : 2) : 0;
        if (dashed) s.LinePattern = LinePattern.Dashed;
    }

    static string Title(string type) => MatrixGenerators.Parse(type) switch
    {
        MatrixType.Orthogonal => "Orthogonal",
        MatrixType.LowRank => "Low-rank (rank 128, flat spectrum)",
        MatrixType.Sparse => "Sparse (10% nonzero, U[0,1))",
        _ => "Random (U[0,1))",
    };
}
