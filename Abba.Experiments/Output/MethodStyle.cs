using Abba.Core.Efficiency;
using Abba.Core.Adapters;
using Abba.Core.Memory;
using ScottPlot;

namespace Abba.Experiments.Output;

/// <summary>
/// A method's colour and label in every figure, taken from its Core config (<see cref="AdapterConfig.Colour"/>,
/// <see cref="AdapterConfig.DisplayName"/>); CSV method names map through <see cref="CostMethod.ByName"/>.
/// </summary>
public static class MethodStyle
{
    /// <summary>The frozen base layer alone ("base"), which has no config.</summary>
    public static readonly Color FrozenBase = Color.FromHex("#bbbbbb");

    /// <summary>The colour of <paramref name="config"/>.</summary>
    public static Color Colour(AdapterConfig config) => Color.FromHex(config.Colour);

    /// <summary>
    /// The colour of a CSV method name: an adapter's <see cref="AdapterConfig.Method"/> (abba, lora, hira, full_ft) or
    /// a
    /// cost method's name (abba_kr, abba_dense, lora, dora, hira, full_ft, base).
    /// </summary>
    public static Color Colour(string method) => Config(method) is { } c ? Colour(c) : FrozenBase;

    /// <summary>The figure label of a CSV method name (cost methods keep their own label, e.g. "ABBA
    /// (Khatri-Rao)").</summary>
    public static string Label(string method) => method == "abba" ? Config(method)!.DisplayName : CostMethod.ByName(method).Label;

    static AdapterConfig? Config(string method) => CostMethod.ByName(method == "abba" ? "abba_kr" : method).Config;
}
