using Abba.Core.Adapters;
using Abba.Core.Efficiency;
using Abba.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Core.Memory;

/// <summary>What one measurement of a (model, method) training step found.</summary>
/// <param name="BaselineBytes">Memory in use before the model
/// was built (runtime, libraries, warm-up leftovers).</param>
/// <param name="PeakBytes">Highest memory in use during the measured steps.</param>
/// <param name="TrainableParameters">Parameters that received gradients.</param>
/// <param name="StepSeconds">Wall time of each measured step.</param>
/// <param name="Probe">What the probe measures.</param>
public sealed record StepMeasurement(
    long BaselineBytes, long PeakBytes, long TrainableParameters, IReadOnlyList<double> StepSeconds, string Probe)
{
    /// <summary>Peak minus baseline: what the model, its optimiser and the step added.</summary>
    public long StepBytes => PeakBytes - BaselineBytes;
}

/// <summary>
/// Measures the peak memory of real training steps of a Llama-style decoder with a method on all seven projections
/// (batch 1, random tokens, AdamW). Meant to run alone in a fresh process, so nothing else shares the peak.
/// Order: a one-step warm-up on a tiny copy of the architecture (loads every kernel the step uses), baseline,
/// build the model and optimiser, a few untimed steps, reset the peak,
/// measured steps (<see cref="DecoderStepBenchmark.Step"/>).
/// </summary>
public static class TrainingStepMeasurement
{
    /// <summary>Runs the measurement described above.</summary>
    /// <param name="shape">The decoder to build.</param>
    /// <param name="method">The method; ABBA/LoRA/HiRA/DoRA factors
    /// are randomised (<see cref="CostMethod.Randomise"/>).</param>
    /// <param name="sequenceLength">Tokens per step.</param>
    /// <param name="warmupSteps">Untimed steps before the peak is reset.</param>
    /// <param name="measuredSteps">Steps inside the measured window.</param>
    /// <param name="probe">Peak-memory probe for <paramref name="device"/>.</param>
    /// <param name="device">Where the model runs.</param>
    /// <param name="seed">Seeds the model, the adapters and the tokens (<see cref="DecoderStepBenchmark"/>).</param>
    /// <param name="dtype">Dtype of the whole model, its adapters and AdamW's state (float32 or bfloat16).</param>
    public static StepMeasurement Run(LlamaConfig shape, AdapterConfig method, int sequenceLength, int warmupSteps,
        int measuredSteps, IPeakMemoryProbe probe, Device device, long seed, ScalarType dtype = ScalarType.Float32)
    {
        WarmUp(shape, method, sequenceLength, device, seed, dtype);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long baseline = probe.CurrentBytes();

        using var bench = new DecoderStepBenchmark(shape, method, sequenceLength, device, seed, dtype);
        // Building leaves tensors to the finaliser (TorchSharp's dropped originals):
        // free them before the peak is reset.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        for (int i = 0; i < warmupSteps; i++) bench.Step();
        probe.ResetPeak();
        var seconds = Enumerable.Range(0, measuredSteps).Select(_ => bench.Step().Total).ToArray();
        return new StepMeasurement(baseline, probe.PeakBytes(), bench.TrainableParameters, seconds, probe.Description);
    }

    static void WarmUp(
        LlamaConfig shape, AdapterConfig method, int sequenceLength, Device device, long seed, ScalarType dtype)
    {
        int heads = 2 * (shape.Heads / shape.KvHeads);   // same grouped-query ratio, so the same kernels run
        var tiny = shape with { Heads = heads, KvHeads = 2, HeadDim = 8, HiddenSize = heads * 8, IntermediateSize = 48,
            Layers = 1, VocabSize = 64 };
        var tinyMethod = method.AtBudgetRank(4);
        using var bench = new DecoderStepBenchmark(tiny, tinyMethod, sequenceLength, device, seed, dtype);
        bench.Step();
    }
}
