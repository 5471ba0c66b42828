using System.Diagnostics;
using Abba.Core.Efficiency;
using Abba.Core.Randomness;
using static TorchSharp.torch;

namespace Abba.Experiments.Efficiency;

/// <summary>
/// The machine's own rates, measured by libtorch on the same threads and in the same interleaved rounds as the steps
/// (so a slow spell of a shared machine lowers the rates and the steps alike): a square float32 GEMM of side
/// <c>gemmSize</c> (2 size^3 operations) for the multiply rate, and a copy between two preallocated float32 tensors of
/// <c>copyMegabytes</c> (read once, written once) for the memory bandwidth. Each round's "step" is one GEMM and its
/// "inference forward" one copy.
/// </summary>
public sealed class MachineProbe : IStepBenchmark
{
    readonly Tensor a, b, source, target;
    readonly Device device;
    readonly double gemmFlops, copyBytes;

    /// <summary>Allocates the probe's tensors on <paramref name="device"/>, filled from
    /// <paramref name="seed"/>.</summary>
    public MachineProbe(int gemmSize, int copyMegabytes, Device device, long seed)
    {
        this.device = device;
        using var generator = UnitSeed.NewGenerator(seed);
        a = randn([gemmSize, gemmSize], generator: generator).to(device);
        b = randn([gemmSize, gemmSize], generator: generator).to(device);
        long floats = (long)copyMegabytes * 1024 * 1024 / 4;
        source = randn([floats], generator: generator).to(device);
        target = empty_like(source);
        gemmFlops = 2.0 * gemmSize * gemmSize * gemmSize;
        copyBytes = 2.0 * 4 * floats;
    }

    /// <summary>One GEMM, timed as a step's forward phase.</summary>
    public PhaseTimes Step()
    {
        var clock = Stopwatch.StartNew();
        using (a.mm(b)) { }
        return new PhaseTimes(BenchmarkClock.Lap(clock, device), 0, 0);
    }

    /// <summary>One copy, timed.</summary>
    public double InferenceForward()
    {
        var clock = Stopwatch.StartNew();
        target.copy_(source);
        return BenchmarkClock.Lap(clock, device);
    }

    /// <summary>The probe's rounds, from the interleaved timing's GEMM (step) and copy (inference) seconds.</summary>
    public ProbeRounds Rounds(IEnumerable<PhaseTimes> gemms, IEnumerable<double> copies) =>
        new(gemmFlops, copyBytes, [.. gemms.Select(g => g.Forward)], [.. copies]);

    /// <inheritdoc />
    public void Dispose()
    {
        a.Dispose();
        b.Dispose();
        source.Dispose();
        target.Dispose();
    }
}
