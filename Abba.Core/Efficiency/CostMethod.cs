using Abba.Core.Adapters;
using static TorchSharp.torch;

namespace Abba.Core.Efficiency;

/// <summary>
/// A fine-tuning method as the memory and step-time comparisons run it (paper Fig. 4 and Table 10): LoRA, HiRA and DoRA
/// at rank r, ABBA at r1 = r2 = r/2 (the same parameter count as LoRA), full fine-tuning, and the frozen base alone.
/// Cost does not depend on the values of the adapter's factors, so ABBA starts both-zero here (skipping the truncated
/// SVD of every W0, minutes on a CPU at 4096 x 14336) and every factor is then filled with small random values
/// (<see cref="Randomise"/>) so that all gradients are non-zero.
/// </summary>
/// <param name="Name">CSV name: abba_kr (ABBA's default forward, the lean Khatri-Rao node), abba_kr_plain
/// (Khatri-Rao through plain autograd; results committed before the lean node existed
/// call this abba_kr), abba_dense, lora, dora, hira, full_ft, or base.</param>
/// <param name="Label">Figure label.</param>
/// <param name="Config">The method; null for the frozen base alone (no trainable parameters).</param>
public sealed record CostMethod(string Name, string Label, AdapterConfig? Config)
{
    const double Alpha = 32;

    /// <summary>Names of the six training methods, in figure order.</summary>
    public static readonly IReadOnlyList<string> TrainingMethodNames =
        ["abba_kr", "abba_kr_plain", "abba_dense", "lora", "dora", "hira", "full_ft"];

    // Every cost name and how it is built at rank r; names other than ABBA's forwards and the base are registry ids.
    static readonly IReadOnlyList<(string Name, Func<int, CostMethod> AtRank)> Methods =
    [
        ("abba_kr", r => new("abba_kr", "ABBA (Khatri-Rao)", AbbaConfig.AtBudget(r, Alpha, AbbaInit.BothZero))),
        ("abba_kr_plain",
            r => Described("abba_kr_plain", AbbaConfig.AtBudget(r, Alpha, AbbaInit.BothZero, AbbaForward.KhatriRao))),
        ("abba_dense",
            r => Described("abba_dense", AbbaConfig.AtBudget(r, Alpha, AbbaInit.BothZero, AbbaForward.Dense))),
        .. new[] { "lora", "dora", "hira", "full_ft" }.Select(id =>
            (id, (Func<int, CostMethod>)(r => Described(id, MethodRegistry.ById(id).AtBudget(r, Alpha))))),
        ("base", _ => new("base", "frozen base", null)),
    ];

    /// <summary>The method called <paramref name="name"/> at
    /// LoRA-equivalent rank <paramref name="rank"/> (even).</summary>
    /// <exception cref="ArgumentException">Unknown name, or an odd rank for ABBA.</exception>
    public static CostMethod ByName(string name, int rank = 32) =>
        Methods.SingleOrDefault(m => m.Name == name).AtRank?.Invoke(rank)
        ?? throw new ArgumentException(
            $"unknown method '{name}'; expected one of {string.Join(", ", Methods.Select(m => m.Name))}");

    static CostMethod Described(string name, AdapterConfig config) => new(name, config.DisplayName, config);

    /// <summary>
    /// Fills every adapter factor of <paramref name="model"/> with N(0, 0.02^2) values (DoRA's magnitude keeps its W0
    /// row norms), each tensor from its own generator derived from
    /// <paramref name="seed"/> (<see cref="Injector.RandomiseFactors"/>).
    /// </summary>
    public static void Randomise(nn.Module model, long seed = 0) => Injector.RandomiseFactors(model, seed, std: 0.02);
}
