using Abba.Core.Analysis;
using CsvHelper;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Protocol;

/// <summary>The singular spectrum of one learned update dW of one run (an arm's headline run).</summary>
[CsvRecord]
public partial record SpectrumRow
{
    /// <summary>Method (as in the experiment's runs CSV).</summary>
    [CsvColumn("method")] public string Method { get; init; } = "";
    /// <summary>What the arm adapts.</summary>
    [CsvColumn("target")] public string Target { get; init; } = "";
    /// <summary>The pre-trained model.</summary>
    [CsvColumn("model")] public int Model { get; init; }
    /// <summary>The replicate.</summary>
    [CsvColumn("seed")] public int Seed { get; init; }
    /// <summary>The adapted module (layers.0.self_attn.q_proj, fc1, ...).</summary>
    [CsvColumn("module")] public string Module { get; init; } = "";
    /// <summary>||dW||_F^2 / sigma_1^2.</summary>
    [CsvColumn("stable_rank")] public double StableRank { get; init; }
    /// <summary>Singular values above 1% of the largest.</summary>
    [CsvColumn("above_1pct")] public int AboveOnePercent { get; init; }
    /// <summary>r: LoRA's rank at the run's equal budget.</summary>
    [CsvColumn("budget_rank")] public int BudgetRank { get; init; }
    /// <summary>Share of ||dW||_F^2 in the top r singular values (1 for any update of rank at most r).</summary>
    [CsvColumn("top_r_energy")] public double TopEnergy { get; init; }
}

/// <summary>The spectrum rows of one run.</summary>
public static class SpectrumRows
{
    /// <summary>One row per module of <paramref name="spectra"/>, in ordinal module order.</summary>
    public static IEnumerable<SpectrumRow> Of(string method, string target, int model, int seed,
        IReadOnlyDictionary<string, UpdateSpectrum> spectra) =>
        spectra.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new SpectrumRow
        {
            Method = method, Target = target, Model = model, Seed = seed, Module = kv.Key,
            StableRank = kv.Value.StableRank, AboveOnePercent = kv.Value.AboveOnePercent,
            BudgetRank = kv.Value.BudgetRank, TopEnergy = kv.Value.TopEnergy,
        });
}
