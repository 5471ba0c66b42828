using Abba.Core.Memory;
using Abba.Core.Native;
using static TorchSharp.torch;

namespace Abba.Tests.Memory;

/// <summary>Runs alone: other tests allocating in the same process would blur the resident-set peak.</summary>
[CollectionDefinition(nameof(ProcessMemoryCollection), DisableParallelization = true)]
public sealed class ProcessMemoryCollection;

[Collection(nameof(ProcessMemoryCollection))]
public class PeakMemoryProbeTests
{
    const long ExtraBytes = 256L << 20;

    [Fact]
    public void ResidentProbe_StepWithKnownExtraBuffer_ReportsThatMuchLargerPeak()
    {
        TorchRuntime.Initialise();
        using var probe = ResidentMemoryProbe.TryCreate(out string reason) ?? throw new InvalidOperationException(reason);
        long plain = PeakAboveStart(probe, extra: false);
        long withBuffer = PeakAboveStart(probe, extra: true);
        double seen = withBuffer - plain;
        Assert.InRange(seen / ExtraBytes, 0.9, 1.15);
    }

    /// <summary>A small matmul step, optionally holding a 256 MiB buffer (written, so its pages are resident) while it runs.</summary>
    static long PeakAboveStart(IPeakMemoryProbe probe, bool extra)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        probe.ResetPeak();
        long start = probe.CurrentBytes();
        using (NewDisposeScope())
        {
            var buffer = extra ? ones(ExtraBytes / sizeof(float)) : null;
            var a = randn(256, 256);
            (a.matmul(a) + (buffer?.sum() ?? zeros(1))).sum().item<float>();
        }
        return probe.PeakBytes() - start;
    }

    [Fact]
    public void CudaProbe_WithoutCudaLibraries_SaysWhyItIsUnavailable()
    {
        var probe = CudaMemoryProbe.TryCreate(0, TimeSpan.FromMilliseconds(5), out string reason);
        if (probe is not null)
        {
            probe.Dispose();
            return;   // a GPU machine: nothing to check here
        }
        Assert.Contains("libcudart", reason);
        Assert.Contains("NVML", reason);
    }
}
