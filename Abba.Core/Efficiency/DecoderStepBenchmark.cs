using System.Diagnostics;
using Abba.Core.Adapters;
using Abba.Core.Models;
using Abba.Core.Randomness;
using Abba.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Core.Efficiency;

/// <summary>
/// Training steps of a Llama-style decoder with a method on all seven projections of every block, on one fixed batch
/// of random tokens (batch 1). A step is PyTorch-like: gradients set to none, forward and cross-entropy backward inside
/// one dispose scope (so every intermediate lives until backward ends), the scope disposed, then AdamW's step.
/// </summary>
public sealed class DecoderStepBenchmark : IStepBenchmark
{
    readonly LlamaDecoder model;
    readonly optim.Optimizer optimizer;
    readonly Tensor tokens, targets;
    readonly Device device;

    /// <summary>
    /// Builds the model on <paramref name="device"/>; its weights, the adapters' factors and the tokens come from
    /// generators derived from <paramref name="seed"/> (never torch's global generator). With <paramref name="dtype"/>
    /// the model is cast before the adapters are injected, so weights,
    /// adapters, activations and AdamW's state all take that dtype.
    /// </summary>
    public DecoderStepBenchmark(LlamaConfig shape, AdapterConfig method, int sequenceLength, Device device, long seed,
        ScalarType? dtype = null)
    {
        this.device = device;
        model = new LlamaDecoder(shape, UnitSeed.Derive(seed, "decoder-step/model"));
        model.to(device);
        if (dtype is { } t && t != model.parameters().First().dtype)
        {
            model.to(t);
            // TorchSharp drops the originals without disposing them:
            // free them now, or a memory measurement counts both copies.
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Injector.Inject(model, LlamaConfig.ProjectionNames, method, UnitSeed.Derive(seed, "decoder-step/adapters"));
        // cost does not depend on the values
        Injector.RandomiseFactors(model, UnitSeed.Derive(seed, "decoder-step/randomise"));
        var trainable = model.parameters().Where(p => p.requires_grad).ToArray();
        TrainableParameters = trainable.Sum(p => p.numel());
        optimizer = optim.AdamW(trainable, lr: 1e-5);
        using var generator = UnitSeed.NewGenerator(UnitSeed.Derive(seed, "decoder-step/tokens"));
        tokens = Draw.Integers(generator, shape.VocabSize, [1, sequenceLength], device);     // (1, T)
        targets = Draw.Integers(generator, shape.VocabSize, [1, sequenceLength], device);    // (1, T)
    }

    /// <summary>Parameters the optimiser updates.</summary>
    public long TrainableParameters { get; }

    /// <summary>The decoder, with the method injected.</summary>
    public LlamaDecoder Model => model;

    /// <inheritdoc />
    public PhaseTimes Step()
    {
        model.zero_grad();                                   // set_to_none, as PyTorch's default
        var clock = Stopwatch.StartNew();
        double forward;
        using (NewDisposeScope())
        {
            var loss = LanguageModelTrainer.Loss(model.call(tokens), targets);
            forward = Lap(clock);
            loss.backward();
        }
        double backward = Lap(clock);                        // includes freeing the step's tensors
        optimizer.step()?.Dispose();
        return new PhaseTimes(forward, backward, Lap(clock));
    }

    /// <inheritdoc />
    public double InferenceForward()
    {
        var clock = Stopwatch.StartNew();
        using (no_grad())
        using (NewDisposeScope())
            model.call(tokens);
        return Lap(clock);
    }

    double Lap(Stopwatch clock) => BenchmarkClock.Lap(clock, device);

    /// <inheritdoc />
    public void Dispose()
    {
        optimizer.Dispose();
        model.Dispose();
        tokens.Dispose();
        targets.Dispose();
    }
}
