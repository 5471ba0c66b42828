using System.Diagnostics;
using Abba.Core.Adapters;
using Abba.Core.Memory;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Core.Efficiency;

/// <summary>Wall time of the three phases of one training step, in seconds.</summary>
/// <param name="Forward">Forward pass with autograd recording.</param>
/// <param name="Backward">Backward pass, and freeing the step's tensors.</param>
/// <param name="Optimiser">AdamW step (0 when nothing is trainable).</param>
public readonly record struct PhaseTimes(double Forward, double Backward, double Optimiser)
{
    /// <summary>The whole step.</summary>
    public double Total => Forward + Backward + Optimiser;
}

/// <summary>Something whose training step and inference forward can be timed.</summary>
public interface IStepBenchmark : IDisposable
{
    /// <summary>One training step (forward, backward, AdamW), timed per phase.</summary>
    PhaseTimes Step();

    /// <summary>One forward pass without autograd, in seconds.</summary>
    double InferenceForward();
}

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

    /// <summary>Builds the layer (W0 ~ N(0, 0.02^2), seeded) and its inputs on <paramref name="device"/>.</summary>
    public LayerStepBenchmark(CostMethod method, long inFeatures, long outFeatures, long tokens, Device device, int seed)
    {
        this.device = device;
        manual_seed(seed);
        var linear = nn.Linear(inFeatures, outFeatures, hasBias: false, device: device);
        using (no_grad()) linear.weight!.normal_(0, 0.02);
        linear.weight!.requires_grad = method.Config?.TrainsBaseWeights ?? false;
        layer = method.Config is { TrainsBaseWeights: false } config ? Injector.Create(linear, config, seed) : linear;
        CostMethod.Randomise(layer);
        x = randn(tokens, inFeatures, device: device);
        upstream = randn(tokens, outFeatures, device: device);
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
            var input = x.detach().requires_grad_(true);              // a fresh leaf each step: its gradient dies with the scope
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

/// <summary>Times several benchmarks interleaved, so slow drifts of a shared machine hit all of them alike.</summary>
public static class InterleavedTiming
{
    /// <summary>
    /// Runs <paramref name="warmup"/> untimed rounds, then <paramref name="repeats"/> rounds; in round k every benchmark
    /// takes one step and one inference forward, starting from benchmark k mod count (a rotation, so no benchmark
    /// always runs first). Returns, per benchmark, the step phases and the inference-forward seconds of each round.
    /// </summary>
    public static (PhaseTimes[] Steps, double[] Forwards)[] Run(IReadOnlyList<IStepBenchmark> benchmarks, int warmup, int repeats,
        Action? afterRound = null, CancellationToken cancel = default)
    {
        var results = benchmarks.Select(_ => (Steps: new PhaseTimes[repeats], Forwards: new double[repeats])).ToArray();
        for (int round = -warmup; round < repeats; round++)
        {
            cancel.ThrowIfCancellationRequested();
            for (int j = 0; j < benchmarks.Count; j++)
            {
                int i = (j + Math.Max(round, 0)) % benchmarks.Count;
                var step = benchmarks[i].Step();
                double forward = benchmarks[i].InferenceForward();
                if (round >= 0) (results[i].Steps[round], results[i].Forwards[round]) = (step, forward);
            }
            afterRound?.Invoke();
        }
        return results;
    }

    /// <summary>The median of <paramref name="values"/>.</summary>
    public static double Median(IEnumerable<double> values) => Quantile(values, 0.5);

    /// <summary>The <paramref name="q"/>-quantile of <paramref name="values"/>, linearly interpolated.</summary>
    public static double Quantile(IEnumerable<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("no values");
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
