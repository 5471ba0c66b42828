using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
namespace Abba.Experiments.Efficiency;

/// <summary>An adapted layer shape: in features to out features.</summary>
/// <param name="In">n.</param>
/// <param name="Out">m.</param>
public sealed record LayerShape(int In, int Out)
{
    /// <summary>"in x out", the case name in CSVs.</summary>
    public override string ToString() => $"{In}x{Out}";

    /// <summary>Parses "INxOUT"; null when malformed or not positive.</summary>
    public static LayerShape? TryParse(string text) =>
        text.Split('x') is [var a, var b] && int.TryParse(a, out int n) && int.TryParse(b,
            out int m) && n > 0 && m > 0 ? new(n, m) : null;
}

/// <summary>Settings of the efficiency experiment, recorded in the manifest.</summary>
public sealed record EfficiencyOptions
{
    /// <summary>Single adapted layers (Llama-3.2-1B's q_proj, Mistral-7B's q_proj and gate_proj).</summary>
    public LayerShape[] Layers { get; init; } = [new(2048, 2048), new(4096, 4096), new(4096, 14336)];
    /// <summary>Tokens per step (batch 1 x 256, as the paper's memory runs).</summary>
    public int Tokens { get; init; } = 256;
    /// <summary>LoRA/HiRA/DoRA rank; ABBA r1 = r2 = r/2.</summary>
    public int Rank { get; init; } = 32;
    /// <summary>Untimed rounds before the timed ones.</summary>
    public required int Warmup { get; init; }
    /// <summary>Timed rounds per single-layer case.</summary>
    public required int Repeats { get; init; }
    /// <summary>Paper model whose reduced copy is timed as a whole decoder ("" skips it).</summary>
    public string DecoderModel { get; init; } = "llama-3.2-1b";
    /// <summary>Blocks of the reduced decoder.</summary>
    public int DecoderLayers { get; init; } = 1;
    /// <summary>Vocabulary of the reduced decoder.</summary>
    public int DecoderVocab { get; init; } = 2048;
    /// <summary>Timed rounds of the decoder case.</summary>
    public required int DecoderRepeats { get; init; }
    /// <summary>Side of the square float32 GEMM that measures the machine's multiply rate in every round.</summary>
    public int ProbeGemmSize { get; init; } = 2048;
    /// <summary>Megabytes copied to measure the machine's memory bandwidth in every round.</summary>
    public int ProbeCopyMegabytes { get; init; } = 64;

    /// <summary>Seconds, for smoke tests: one 16 x 24 layer, 8 tokens, rank 4, two timed rounds, no decoder.</summary>
    public static EfficiencyOptions Tiny => new() { Layers = [new(16, 24)], Tokens = 8, Rank = 4, Warmup = 0,
        Repeats = 2, DecoderRepeats = 1, DecoderModel = "", ProbeGemmSize = 32, ProbeCopyMegabytes = 1 };

    /// <summary>CPU-friendly: one warm-up round and 3 timed rounds per case.</summary>
    public static EfficiencyOptions Quick => new() { Warmup = 1, Repeats = 3, DecoderRepeats = 3 };

    /// <summary>
    /// 50 rounds per layer, 21 for a two-block decoder: enough that the paired ABBA/LoRA interval is narrower than
    /// +-3% on this machine.
    /// </summary>
    public static EfficiencyOptions Paper => new() { Warmup = 2, Repeats = 50, DecoderRepeats = 21, DecoderLayers = 2 };

    /// <summary>Where each setting comes from: stated by the paper, inferred from it, or chosen here (one entry per
    /// property; a test fails when a property has none). Written to the manifest as
    /// <c>configuration_provenance</c>.</summary>
    public static IReadOnlyDictionary<string, SettingProvenance> Provenance { get; } =
        new Dictionary<string, SettingProvenance>
    {
        ["Layers"] = SettingProvenance.Chosen("the paper times whole GPU runs; these are its models' projection " +
            "shapes"),
        ["Tokens"] = SettingProvenance.Chosen("256, Figure 4's sequence length; Table 10 states no batch shape"),
        ["Rank"] = SettingProvenance.Inferred("not stated for Table 10; r = 32 as in the main tables"),
        ["Warmup"] = SettingProvenance.Chosen("timing rounds"),
        ["Repeats"] = SettingProvenance.Chosen("timing rounds"),
        ["DecoderModel"] = SettingProvenance.Chosen("a reduced Llama-3.2-1B, one of Table 10's models"),
        ["DecoderLayers"] = SettingProvenance.Chosen("reduced depth, to fit a CPU"),
        ["DecoderVocab"] = SettingProvenance.Chosen("reduced vocabulary, to fit a CPU"),
        ["DecoderRepeats"] = SettingProvenance.Chosen("timing rounds"),
        ["ProbeGemmSize"] = SettingProvenance.Chosen("the roofline's multiply rate: a GEMM large enough to reach " +
            "libtorch's peak on a CPU"),
        ["ProbeCopyMegabytes"] = SettingProvenance.Chosen("the roofline's bandwidth: a copy far larger than the " +
            "caches"),
    };
}
