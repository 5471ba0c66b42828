namespace Abba.Experiments.Experiments.Memory;

/// <summary>Settings of the memory experiment, recorded in the manifest.</summary>
public sealed record MemoryOptions
{
    /// <summary>Paper models whose reduced copies are measured.</summary>
    public required string[] Models { get; init; }
    /// <summary>Decoder blocks of each reduced copy (widths and heads stay those of the real model).</summary>
    public required int Layers { get; init; }
    /// <summary>Widths (hidden, intermediate, head) of each reduced copy are the real model's divided by this (1: the real widths).</summary>
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
    /// Reduced models measured a second time in bfloat16 (weights, adapters, activations and AdamW state; slow on a CPU),
    /// to check the bf16 byte sizes the full-scale model assumes.
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
        "bf16 weights, trainable parameters, gradients and AdamW state; PyTorch semantics (only tensors saved for backward " +
        "survive); HF Llama-style block for every model; batch 1, 256 tokens; no CUDA context or allocator cache";

    /// <summary>Seconds, for smoke tests: Llama-3.2-1B's shape at 1/32 of its widths, one block, 8 tokens, one measured step.</summary>
    public static MemoryOptions Tiny => new()
    {
        Models = ["llama-3.2-1b"], Layers = 1, WidthDivisor = 32, Vocab = 32, WarmupSteps = 0, MeasuredSteps = 1, SequenceLength = 8, Rank = 4,
        ChildTimeoutSeconds = 120,
    };

    /// <summary>CPU-friendly: two of the four shapes, one block, one measured step.</summary>
    public static MemoryOptions Quick => new() { Models = ["llama-3.2-1b", "mistral-7b"], Layers = 1, Vocab = 2048, WarmupSteps = 0, MeasuredSteps = 1 };

    /// <summary>All four shapes, two blocks, a warm-up step and two measured steps.</summary>
    public static MemoryOptions Paper => new() { Models = [.. PaperModels.Names], Layers = 2, Vocab = 8192, WarmupSteps = 1, MeasuredSteps = 2 };
}
