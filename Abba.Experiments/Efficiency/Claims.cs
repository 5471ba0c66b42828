using Abba.Core.Statistics;
using Abba.Experiments.Memory;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Protocol;

namespace Abba.Experiments.Efficiency;

/// <summary>The report claim and deviations of the efficiency experiment, judged from its CSVs.</summary>
public static class EfficiencyClaims
{
    /// <summary>The paper's ABBA/LoRA wall-time range (Table 10).</summary>
    public const double PaperLow = 1.02, PaperHigh = 1.04;

    static readonly ClaimSpec SlowerThanLora = new("Table 10", "ABBA trains only about 2-3% slower than LoRA",
        $"ABBA/LoRA wall time {PaperLow:0.00}-{PaperHigh:0.00} (GPU, bf16, whole fine-tuning runs)",
        new ByInterval($"{PaperHigh:0.00} - ABBA/LoRA step time (median over rounds of the ratio timed in the same " +
                       "round; 95% bootstrap interval over rounds): positive when ABBA is within the paper's overhead",
            +1, PerPart: "decisive case (the 4096x4096 layer and the reduced decoder)",
            Note: "a CPU float32 step of one layer or a reduced model, not the paper's GPU bf16 run"));

    /// <summary>The single-layer case that decides the claim with the decoder.</summary>
    static readonly LayerShape DecisiveLayer = new(4096, 4096);

    /// <summary>The <see cref="EfficiencyRow.Kind"/> of the reduced-decoder case.</summary>
    public const string DecoderKind = "decoder";

    /// <summary>The <see cref="EfficiencyRow.Kind"/> of a single-layer case.</summary>
    public const string LayerKind = "layer";

    /// <summary>The claim, judged from the CSVs in <paramref name="folder"/>.</summary>
    public static IReadOnlyList<Claim> Judge(string folder)
    {
        var ratios = CsvFiles.Read<PairedRatioRow>(Path.Combine(folder, EfficiencyFiles.Ratios));
        var steps = CsvFiles.Read<EfficiencyRow>(Path.Combine(folder, EfficiencyFiles.StepTime));
        var kinds = steps.GroupBy(r => r.Case).ToDictionary(g => g.Key, g => g.First().Kind);
        PairedRatioRow[] Of(string numerator, string denominator) =>
            [.. ratios.Where(r => r.Numerator == numerator && r.Denominator == denominator)];
        var abba = Of(CostArm.AbbaLean.Name, CostArm.Lora.Name);
        var decisive = abba.Where(r => kinds[r.Case] == DecoderKind || LayerShape.TryParse(r.Case) == DecisiveLayer)
            .ToArray();
        var parts = decisive.Select(r => Verdicts.FromInterval(
            new ConfidenceInterval(PaperHigh - r.Ratio, PaperHigh - r.High, PaperHigh - r.Low, r.Rounds, ""), +1))
            .ToArray();
        string Each(IEnumerable<PairedRatioRow> rows) => string.Join("; ", rows.Select(r =>
            $"{r.Case} {Comparisons.Format(r.Ratio, r.Low, r.High)} ({r.Rounds} rounds)"));
        string measured = "measured step time, CPU float32, ABBA (lean Khatri-Rao node) / LoRA: " + Each(abba);
        if (Of(CostArm.AbbaLean.Name, CostArm.AbbaPlain.Name) is { Length: > 0 } plain)
            measured += "; lean node / plain autograd: " + Each(plain);
        var floors = steps.Where(r => r.AchievedFraction is not null).ToArray();
        string Fractions(CostArm arm) => $"{arm.Name} " + string.Join(", ", floors.Where(r => r.Method == arm.Name)
            .Select(r => $"{r.Case} {r.AchievedFraction:0.00}"));
        if (floors.Length > 0)
            measured += "; achieved fraction of each step's roofline floor (floor / median step; 0.80 = 1.25x the " +
                        "floor): " + string.Join("; ", new[] { CostArm.Lora, CostArm.AbbaLean, CostArm.Base }
                            .Select(Fractions));
        return [SlowerThanLora.Judge(measured, decisive.Length == 0 ? Verdict.NotRun : Verdicts.Combine(parts))];
    }

    /// <summary>Every way this reproduction departs from the paper's setting.</summary>
    public static IReadOnlyList<string> Deviations { get; } =
    [
        "Step times are measured on a 2-core CPU in float32 with TorchSharp (the paper: whole bf16 fine-tuning runs " +
            "on GPUs), and the machine may be shared: only ratios measured side by side in one run are meaningful, " +
            "so " +
            "every ratio is paired per round and its interval is a bootstrap over rounds.",
        "Floors (floor_ms) are modelled from the shapes at the rates libtorch reached in the same rounds (a square " +
            "GEMM and a large copy), not at a vendor's peak; they cover single layers only.",
        "Single layers see random inputs and a fixed random upstream gradient; the decoder case is a reduced copy " +
            "(fewer blocks, smaller vocabulary) trained on random tokens.",
    ];
}
