using static TorchSharp.torch;

namespace Abba.Core.Memory;

/// <summary>How long the tensors made by a forward pass live.</summary>
public enum ActivationRetention
{
    /// <summary>
    /// PyTorch: an intermediate is freed when its last reference goes, so only what autograd saves for backward stays
    /// (counted for a Hugging Face Llama forward: RMSNorm keeps its float32 upcast, attention keeps q, repeated k and v
    /// and its output, the MLP keeps its four (T, I) tensors).
    /// </summary>
    SavedForBackward,
    /// <summary>
    /// TorchSharp with one dispose scope per step: every intermediate of this repository's decoder forward keeps its
    /// handle until the scope ends (the adapters free theirs in
    /// their own scope, so for them only what autograd saves stays).
    /// </summary>
    EveryIntermediate,
}

/// <summary>Dtypes, shapes and runtime semantics the analytic memory model assumes.</summary>
/// <param name="WeightDtype">Frozen weights.</param>
/// <param name="TrainableDtype">Trainable parameters, their gradients,
/// and tensors derived from them (Khatri-Rao factors, m x n updates).</param>
/// <param name="OptimiserStateDtype">AdamW's two moments.</param>
/// <param name="ActivationDtype">Activations (token-sized tensors).</param>
/// <param name="Retention">Which forward tensors survive until backward.</param>
/// <param name="OptimiserTemporaries">Parameter-sized temporaries AdamW holds at once, in units of all trainable
/// parameters: TorchSharp's AdamW keeps sqrt(v) and sqrt(v)/c for every parameter until its step ends (2); PyTorch's
/// foreach AdamW keeps one list of sqrt(v) (1).</param>
/// <param name="Batch">Sequences per step.</param>
/// <param name="SequenceLength">Tokens per sequence.</param>
public sealed record MemorySettings(
    ScalarType WeightDtype, ScalarType TrainableDtype, ScalarType OptimiserStateDtype, ScalarType ActivationDtype,
    ActivationRetention Retention, int OptimiserTemporaries, int Batch = 1, int SequenceLength = 256)
{
    /// <summary>The paper's setting as we read it: everything in bfloat16 (the official code loads the model in bf16,
    /// so AdamW's state takes the parameter dtype), PyTorch semantics, batch 1, 256 tokens.</summary>
    public static MemorySettings PaperGpu(int sequenceLength = 256) =>
        new(ScalarType.BFloat16, ScalarType.BFloat16, ScalarType.BFloat16, ScalarType.BFloat16,
            ActivationRetention.SavedForBackward, OptimiserTemporaries: 1, SequenceLength: sequenceLength);

    /// <summary>What the measured runs do: float32 throughout, TorchSharp
    /// semantics (this repository's decoder and AdamW), batch 1.</summary>
    public static MemorySettings TorchSharpFloat32(int sequenceLength = 256) =>
        new(ScalarType.Float32, ScalarType.Float32, ScalarType.Float32, ScalarType.Float32,
            ActivationRetention.EveryIntermediate, OptimiserTemporaries: 2, SequenceLength: sequenceLength);

    /// <summary>
    /// <see cref="PaperGpu"/>'s dtypes (bfloat16 throughout) under TorchSharp's runtime semantics: what a bf16 run of
    /// this repository's decoder on the CPU does, so a measurement checks the bf16 byte sizes of the full-scale model
    /// but not its PyTorch retention (<see cref="ActivationRetention.SavedForBackward"/>).
    /// </summary>
    public static MemorySettings TorchSharpBFloat16(int sequenceLength = 256) =>
        PaperGpu(sequenceLength) with { Retention = ActivationRetention.EveryIntermediate, OptimiserTemporaries = 2 };

    /// <summary>Tokens per step, B T.</summary>
    public long Tokens => (long)Batch * SequenceLength;

    /// <summary>Bytes per element of <paramref name="dtype"/>.</summary>
    /// <exception cref="ArgumentException">A dtype the model does not cover.</exception>
    public static int BytesPerElement(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.BFloat16 or ScalarType.Float16 => 2,
        _ => throw new ArgumentException($"no byte size for {dtype}"),
    };
}
