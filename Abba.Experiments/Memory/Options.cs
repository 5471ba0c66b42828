using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
namespace Abba.Experiments.Memory;

/// <summary>Settings of the memory experiment, recorded in the manifest.</summary>
public sealed record MemoryOptions
{
    /// <summary>Paper models whose reduced copies are measured.</summary>
    public required string[] Models { get; init; }
    /// <summary>Decoder blocks of each reduced copy (widths and heads stay those of the real model).</summary>
    public required int Layers { get; init; }
    /// <summary>Widths (hidden, intermediate, head) of each reduced copy are the real model's divided by this (1: the
    /// real widths).</summary>
    public int WidthDivisor { get; init; } = 1;
    /// <summary>Vocabulary of each reduced copy.</summary>
    public required int Vocab { get; init; }
    /// <summary>Untimed training steps before the peak is reset.</summary>
    public required int WarmupSteps { get; init; }
    /// <summary>Training steps inside the measured window.</summary>
    public required int MeasuredSteps { get; init; }
    /// <summary>Tokens per step (batch 1), as the paper's Figure 4.</summary>
    public int SequenceLength { get; init; } = 256;
    /// <summary>LoRA/HiRA/DoRA rank; ABBA r1 = r2 = r/2.</summary>
    public int Rank { get; init; } = 32;
    /// <summary>
    /// Reduced models measured a second time in bfloat16 (weights, adapters, activations and AdamW state; slow on a
    /// CPU), to check the bf16 byte sizes the full-scale model assumes.
    /// </summary>
    public string[] BFloat16Models { get; init; } = ["llama-3.2-1b"];
    /// <summary>Methods measured in bfloat16.</summary>
    public string[] BFloat16Methods { get; init; } = ["abba_kr", "abba_kr_plain", "lora"];
    /// <summary>Largest accepted |modelled / measured - 1| before full-scale numbers are shown.</summary>
    public double Tolerance { get; init; } = 0.15;
    /// <summary>Time limit of one child measurement.</summary>
    public int ChildTimeoutSeconds { get; init; } = 900;
    /// <summary>Full-scale modelled setting, in words.</summary>
    public string FullScaleSetting { get; init; } =
        "bf16 weights, trainable parameters, gradients and AdamW state; " +
        "PyTorch semantics (only tensors saved for backward survive); " +
        "HF Llama-style block for every model; batch 1, 256 tokens; no CUDA context or allocator cache";

    /// <summary>Seconds, for smoke tests: Llama-3.2-1B's shape at 1/32 of its widths, one block, 8 tokens, one measured
    /// step.</summary>
    public static MemoryOptions Tiny => new()
    {
        Models = ["llama-3.2-1b"], Layers = 1, WidthDivisor = 32, Vocab = 32, WarmupSteps = 0, MeasuredSteps = 1,
            SequenceLength = 8, Rank = 4,
        ChildTimeoutSeconds = 120,
    };

    /// <summary>CPU-friendly: two of the four shapes, one block, one measured step.</summary>
    public static MemoryOptions Quick => new() { Models = ["llama-3.2-1b", "mistral-7b"], Layers = 1, Vocab = 2048,
        WarmupSteps = 0, MeasuredSteps = 1 };

    /// <summary>All four shapes, two blocks, a warm-up step and two measured steps.</summary>
    public static MemoryOptions Paper => new() { Models = [.. PaperModels.Names], Layers = 2, Vocab = 8192,
        WarmupSteps = 1, MeasuredSteps = 2 };

    /// <summary>Where each setting comes from: stated by the paper, inferred from it, or chosen here (one entry per
    /// property; a test fails when a property has none). Written to the manifest as
    /// <c>configuration_provenance</c>.</summary>
    public static IReadOnlyDictionary<string, SettingProvenance> Provenance { get; } =
        new Dictionary<string, SettingProvenance>
    {
        ["Models"] = SettingProvenance.Stated("Figure 4's four models"),
        ["Layers"] = SettingProvenance.Chosen("reduced depth, to fit a CPU; full scale is modelled"),
        ["WidthDivisor"] = SettingProvenance.Chosen("reduced widths for smoke tests only (1: the real widths)"),
        ["Vocab"] = SettingProvenance.Chosen("reduced vocabulary, to fit a CPU"),
        ["WarmupSteps"] = SettingProvenance.Chosen(SettingProvenance.Silent),
        ["MeasuredSteps"] = SettingProvenance.Chosen(SettingProvenance.Silent),
        ["SequenceLength"] = SettingProvenance.Stated("batch size 1, sequence length 256"),
        ["Rank"] = SettingProvenance.Inferred("not stated for Figure 4; r = 32 as in the main tables"),
        ["BFloat16Models"] = SettingProvenance.Chosen("a check of the modelled bf16 byte sizes"),
        ["BFloat16Methods"] = SettingProvenance.Chosen("a check of the modelled bf16 byte sizes"),
        ["Tolerance"] = SettingProvenance.Chosen("how far the analytic model may be from the reduced measurements"),
        ["ChildTimeoutSeconds"] = SettingProvenance.Chosen("a time limit, not a result setting"),
        ["FullScaleSetting"] = SettingProvenance.Inferred("dtype and optimiser are not stated for Figure 4; bf16 " +
            "and AdamW as in the main runs"),
    };
}
