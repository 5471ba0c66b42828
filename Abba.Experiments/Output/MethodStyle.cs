using Abba.Core.Efficiency;
using Abba.Core.Adapters;
using Abba.Core.Memory;
using ScottPlot;

namespace Abba.Experiments.Output;

/// <summary>
/// A method's colour and label in every figure, taken from its Core config (<see cref="AdapterConfig.Colour"/>,
/// <see cref="AdapterConfig.DisplayName"/>): an adapter's method name through <see cref="MethodRegistry"/>, any other
/// CSV method name through <see cref="CostMethod.ByName"/>.
/// </summary>
public static class MethodStyle
{
    /// <summary>The frozen base layer alone ("base"), which has no config.</summary>
    public static readonly Color FrozenBase = Color.FromHex("#bbbbbb");

    // The rank and alpha at which a registered method is built for its style (those of the cost comparisons); neither
    // a colour nor a label depends on them.
    const int StyleRank = 32;
    const double StyleAlpha = 32;

    /// <summary>The colour of <paramref name="config"/>.</summary>
    public static Color Colour(AdapterConfig config) => Color.FromHex(config.Colour);

    /// <summary>
    /// The colour of a CSV method name: an adapter's <see cref="AdapterConfig.Method"/> (abba, lora, hira, full_ft) or
    /// a cost method's name (abba_kr, abba_dense, lora, dora, hira, full_ft, base).
    /// </summary>
    public static Color Colour(string method) => Config(method) is { } c ? Colour(c) : FrozenBase;

    /// <summary>
    /// The figure label of a CSV method name: an adapter's <see cref="AdapterConfig.DisplayName"/>, or a cost method's
    /// own label (e.g. "ABBA (Khatri-Rao)").
    /// </summary>
    public static string Label(string method) => Registered(method)?.DisplayName ?? CostMethod.ByName(method).Label;

    static AdapterConfig? Config(string method) => Registered(method) ?? CostMethod.ByName(method).Config;

    // The registered method whose id is method, as a config; null when method is not a registry id (a cost name).
    static AdapterConfig? Registered(string method) =>
        MethodRegistry.All.FirstOrDefault(m => m.Id == method)?.AtBudget(StyleRank, StyleAlpha);
}
