using Abba.Core.Adapters;
using static TorchSharp.torch;

namespace Abba.Core.Memory;

/// <summary>
/// A fine-tuning method as the memory and step-time comparisons run it (paper Fig. 4 and Table 10): LoRA, HiRA and DoRA
/// at rank r, ABBA at r1 = r2 = r/2 (the same parameter count as LoRA), full fine-tuning, and the frozen base alone.
/// Cost does not depend on the values of the adapter's factors, so ABBA starts both-zero here (skipping the truncated
/// SVD of every W0, minutes on a CPU at 4096 x 14336) and every factor is then filled with small random values
/// (<see cref="Randomise"/>) so that all gradients are non-zero.
/// </summary>
/// <param name="Name">CSV name: abba_kr, abba_dense, lora, dora, hira, full_ft, or base.</param>
/// <param name="Label">Figure label.</param>
/// <param name="Config">The method; null for the frozen base alone (no trainable parameters).</param>
public sealed record CostMethod(string Name, string Label, AdapterConfig? Config)
{
    /// <summary>Names of the six training methods, in figure order.</summary>
    public static readonly IReadOnlyList<string> TrainingMethodNames = ["abba_kr", "abba_dense", "lora", "dora", "hira", "full_ft"];

    /// <summary>The method called <paramref name="name"/> at LoRA-equivalent rank <paramref name="rank"/> (even).</summary>
    /// <exception cref="ArgumentException">Unknown name, or an odd rank for ABBA.</exception>
    public static CostMethod ByName(string name, int rank = 32)
    {
        if (name.StartsWith("abba", StringComparison.Ordinal) && rank % 2 != 0)
            throw new ArgumentException($"ABBA splits rank {rank} into r1 = r2 = r/2: use an even rank.");
        return name switch
        {
            "abba_kr" => new(name, "ABBA (Khatri-Rao)", new AbbaConfig(rank / 2, rank / 2, Alpha: 32, Init: AbbaInit.BothZero)),
            "abba_dense" => new(name, "ABBA (dense)", new AbbaConfig(rank / 2, rank / 2, Alpha: 32, Init: AbbaInit.BothZero, Forward: AbbaForward.Dense)),
            "lora" => new(name, "LoRA", new LoraConfig(rank, Alpha: 32)),
            "dora" => new(name, "DoRA", new DoraConfig(rank, Alpha: 32)),
            "hira" => new(name, "HiRA", new HiraConfig(rank)),
            "full_ft" => new(name, "Full FT", new FullFineTuneConfig()),
            "base" => new(name, "frozen base", null),
            _ => throw new ArgumentException($"unknown method '{name}'; expected one of {string.Join(", ", TrainingMethodNames)}, base"),
        };
    }

    /// <summary>Fills every adapter factor of <paramref name="model"/> with N(0, 0.02^2) values (DoRA's magnitude keeps its W0 row norms).</summary>
    public static void Randomise(nn.Module model)
    {
        using var _ = no_grad();
        var adapters = Injector.Adapters(model).Values.ToList();
        if (model is AdapterLinear root) adapters.Add(root);       // named_modules() leaves out the module itself
        foreach (var adapter in adapters.Distinct())
            foreach (var (key, p) in adapter.AdapterParameters)
                if (!key.Contains("magnitude", StringComparison.Ordinal)) p.normal_(0, 0.02);
    }
}
