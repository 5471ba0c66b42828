using ScottPlot;
using ScottPlot.TickGenerators;

namespace Abba.Experiments.Output;

/// <summary>
/// Bars in groups along the x axis: group g's slots sit at g (slots + 1) + k, one empty slot between groups, and each
/// group's label is centred under its slots.
/// </summary>
public sealed class GroupedBars(Plot plot, int slots)
{
    readonly List<Tick> ticks = [];

    /// <summary>The x position of slot <paramref name="slot"/> of group <paramref name="group"/>.</summary>
    public double Position(int group, int slot) => group * (slots + 1) + slot;

    /// <summary>Adds a bar in slot <paramref name="slot"/> of group <paramref name="group"/>.</summary>
    public void Add(int group, int slot, double value, Color colour, string label = "", double error = 0) =>
        plot.Add.Bar(new Bar
        {
            Position = Position(group, slot), Value = value, FillColor = colour, Label = label, Error = error,
        });

    /// <summary>Labels group <paramref name="group"/>.</summary>
    public void Label(int group, string label) => ticks.Add(new Tick(Position(group, 0) + (slots - 1) / 2.0, label));

    /// <summary>
    /// Puts the group labels on the bottom axis and the bars' base on it, titles the plot and its y axis, and shows the
    /// legend at <paramref name="legend"/> when given; returns the plot.
    /// </summary>
    public Plot Finish(string title, string yLabel, Alignment? legend = null)
    {
        plot.Axes.Bottom.TickGenerator = new NumericManual([.. ticks]);
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.YLabel(yLabel);
        if (legend is { } at) plot.ShowLegend(at);
        return plot;
    }
}

/// <summary>One panel of stacked bars: a bar per label, each the sum of its parts in palette order.</summary>
public static class StackedBars
{
    /// <summary>
    /// Draws a bar for each of <paramref name="labels"/> stacked from <paramref name="parts"/>(its index), titles the
    /// panel, and, when <paramref name="legend"/> is set, names the parts in a legend.
    /// </summary>
    public static void Panel(Plot plot, IReadOnlyList<string> labels, Func<int, IReadOnlyList<double>> parts,
        IReadOnlyList<string> partNames, string title, string yLabel, bool legend)
    {
        var palette = new ScottPlot.Palettes.Category10();
        for (int k = 0; k < labels.Count; k++)
        {
            double bottom = 0;
            var values = parts(k);
            for (int c = 0; c < values.Count; c++)
            {
                plot.Add.Bar(new Bar
                {
                    Position = k, ValueBase = bottom, Value = bottom + values[c], FillColor = palette.GetColor(c),
                });
                bottom += values[c];
            }
        }
        plot.Axes.Bottom.TickGenerator = new NumericManual([.. labels.Select((l, k) => new Tick(k, l))]);
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.YLabel(yLabel);
        if (!legend) return;
        for (int c = 0; c < partNames.Count; c++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = partNames[c], FillColor = palette.GetColor(c) });
        plot.ShowLegend(Alignment.UpperLeft);
    }
}
