using System.Diagnostics;
using Abba.Core.Adapters;
using Abba.Core.Randomness;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Core.Efficiency;

/// <summary>
/// One (m x n) Linear layer under a method, fed T tokens: the step runs y = layer(x) with x requiring a gradient (as
/// inside a network), backpropagates a fixed random upstream gradient dL/dy, and takes an AdamW step on the trainable
/// parameters. The frozen base alone (<see cref="CostMethod"/> "base") runs forward and the input's backward only.
/// </summary>
public sealed class LayerStepBenchmark : IStepBenchmark
{
    readonly nn.Module<Tensor, Tensor> layer;
    readonly Tensor x, upstream;
    readonly optim.Optimizer? optimizer;
    readonly Device device;

    /// <summary>
    /// Builds the layer (W0 ~ N(0, 0.02^2)) and its inputs on <paramref name="device"/>, drawing every value from
    /// generators derived from <paramref name="seed"/>: the same seed
    /// gives every method the same W0, input and upstream gradient.
    /// </summary>
    public LayerStepBenchmark(
        CostMethod method, long inFeatures, long outFeatures, long tokens, Device device, long seed)
    {
        this.device = device;
        using var generator = UnitSeed.NewGenerator(UnitSeed.Derive(seed, "layer-step/values"));
        bool trainsW0 = method.Config?.TrainsBaseWeights ?? false;
        var W0 = new Parameter(Draw.Normal(generator, [outFeatures, inFeatures], std: 0.02, device: device),
            requires_grad: trainsW0);
        var linear = nn.Linear(W0, null);                                       // from our W0: no default init draw
        layer = method.Config is { TrainsBaseWeights: false } config
            ? Injector.Create(linear, config, UnitSeed.Derive(seed, "layer-step/adapter"))
            : linear;
        CostMethod.Randomise(layer, UnitSeed.Derive(seed, "layer-step/randomise"));
        x = Draw.Normal(generator, [tokens, inFeatures], device: device);               // (T, n)
        upstream = Draw.Normal(generator, [tokens, outFeatures], device: device);       // (T, m)
        var trainable = layer.parameters().Where(p => p.requires_grad).ToArray();
        TrainableParameters = trainable.Sum(p => p.numel());
        optimizer = trainable.Length > 0 ? optim.AdamW(trainable, lr: 1e-5) : null;
    }

    /// <summary>Parameters the optimiser updates.</summary>
    public long TrainableParameters { get; }

    /// <summary>The timed layer: an adapter, or the plain Linear for full fine-tuning and the frozen base.</summary>
    public nn.Module<Tensor, Tensor> Layer => layer;

    /// <inheritdoc />
    public PhaseTimes Step()
    {
        layer.zero_grad();
        var clock = Stopwatch.StartNew();
        double forward;
        using (NewDisposeScope())
        {
            // a fresh leaf each step: its gradient dies with the scope
            var input = x.detach().requires_grad_(true);
            var y = layer.call(input);                                 // (T, m)
            forward = Lap(clock);
            y.backward([upstream]);
        }
        double backward = Lap(clock);                                  // includes freeing the step's tensors
        optimizer?.step()?.Dispose();
        return new PhaseTimes(forward, backward, Lap(clock));
    }

    /// <inheritdoc />
    public double InferenceForward()
    {
        var clock = Stopwatch.StartNew();
        using (no_grad())
        using (NewDisposeScope())
            layer.call(x);
        return Lap(clock);
    }

    double Lap(Stopwatch clock) => BenchmarkClock.Lap(clock, device);

    /// <inheritdoc />
    public void Dispose()
    {
        optimizer?.Dispose();
        layer.Dispose();
        x.Dispose();
        upstream.Dispose();
    }
}
