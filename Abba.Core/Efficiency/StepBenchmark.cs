using System.Diagnostics;
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

/// <summary>Times several benchmarks interleaved, so slow drifts of a shared machine hit all of them alike.</summary>
public static class InterleavedTiming
{
    /// <summary>
    /// Runs <paramref name="warmup"/> untimed rounds, then <paramref name="repeats"/> rounds; in round k every
    /// benchmark takes one step and one inference forward, starting from benchmark k mod count (a rotation,
    /// so no benchmark always runs first). Returns, per benchmark,
    /// the step phases and the inference-forward seconds of each round.
    /// </summary>
    public static (PhaseTimes[] Steps, double[] Forwards)[] Run(IReadOnlyList<IStepBenchmark> benchmarks, int warmup,
        int repeats, Action? afterRound = null, CancellationToken cancel = default)
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
