using System.Runtime.InteropServices;

namespace Abba.Core.Memory;

/// <summary>Measures the peak memory of a stretch of work:
/// <see cref="ResetPeak"/>, run it, read <see cref="PeakBytes"/>.</summary>
public interface IPeakMemoryProbe : IDisposable
{
    /// <summary>What is measured, e.g. "process resident set (VmHWM)".</summary>
    string Description { get; }

    /// <summary>Memory in use now, in bytes.</summary>
    long CurrentBytes();

    /// <summary>Starts a new peak at the current usage.</summary>
    void ResetPeak();

    /// <summary>Highest usage seen since the last <see cref="ResetPeak"/>, in bytes.</summary>
    long PeakBytes();
}

/// <summary>CPU: the process's resident set, with the kernel's
/// own high-water mark (exact, nothing is sampled).</summary>
public sealed class ResidentMemoryProbe : IPeakMemoryProbe
{
    ResidentMemoryProbe() { }

    /// <summary>The probe, or null with a reason where /proc/self cannot
    /// report or reset the peak (non-Linux, restricted /proc).</summary>
    public static ResidentMemoryProbe? TryCreate(out string unavailableReason)
    {
        unavailableReason = "";
        if (ProcessMemory.PeakResidentBytes() is null)
            unavailableReason = "/proc/self/status has no VmHWM (not Linux?): the resident peak cannot be read";
        else if (!ProcessMemory.TryResetPeak())
            unavailableReason = "/proc/self/clear_refs is not writable: the resident peak cannot be reset";
        return unavailableReason.Length == 0 ? new ResidentMemoryProbe() : null;
    }

    /// <inheritdoc />
    public string Description => "process resident set (VmHWM after writing 5 to /proc/self/clear_refs)";

    /// <inheritdoc />
    public long CurrentBytes() =>
        ProcessMemory.ResidentBytes() ?? throw new InvalidOperationException("VmRSS is unavailable");

    /// <inheritdoc />
    public void ResetPeak()
    {
        if (!ProcessMemory.TryResetPeak())
            throw new InvalidOperationException("/proc/self/clear_refs refused the reset");
    }

    /// <inheritdoc />
    public long PeakBytes() =>
        ProcessMemory.PeakResidentBytes() ?? throw new InvalidOperationException("VmHWM is unavailable");

    /// <inheritdoc />
    public void Dispose() { }
}

/// <summary>
/// CUDA, best effort: device memory in use (total - free) sampled from a background thread through cudaMemGetInfo
/// (libcudart) or, failing that, NVML (libnvidia-ml), because TorchSharp exposes no CUDA memory statistics. Both report
/// the whole device, so other processes on the same GPU are included, and a caching allocator's reserved-but-free
/// blocks count as used; allocations that live shorter than the sampling interval can be missed.
/// </summary>
public sealed class CudaMemoryProbe : IPeakMemoryProbe
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate int CudaSetDevice(int device);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate int CudaMemGetInfo(out nuint free, out nuint total);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate int NvmlInit();
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate int NvmlGetHandle(uint index, out IntPtr device);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate int NvmlGetMemory(IntPtr device, out NvmlMemory memory);
    [StructLayout(LayoutKind.Sequential)] struct NvmlMemory { public ulong Total, Free, Used; }

    static readonly string[] CudartNames = ["libcudart.so", "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0"];
    static readonly string[] NvmlNames = ["libnvidia-ml.so.1", "libnvidia-ml.so"];

    readonly Func<long?> sample;
    readonly Thread sampler;
    readonly TimeSpan interval;
    volatile bool stop;
    long current, peak;

    CudaMemoryProbe(string description, Func<long?> sample, TimeSpan interval)
    {
        Description = description;
        this.sample = sample;
        this.interval = interval;
        current = peak = sample() ?? 0;
        sampler = new Thread(Loop) { IsBackground = true, Name = "cuda-memory-sampler" };
        sampler.Start();
    }

    /// <summary>A running sampler for <paramref name="device"/>, or null
    /// with a reason when neither library can be loaded or queried.</summary>
    public static CudaMemoryProbe? TryCreate(int device, TimeSpan interval, out string unavailableReason)
    {
        var probe = TryCudart(device, interval) ?? TryNvml(device, interval);
        unavailableReason = probe is null
            ? $"CUDA memory cannot be measured: neither libcudart ({string.Join(", ", CudartNames)}) " +
              $"nor NVML ({string.Join(", ", NvmlNames)}) could be loaded and queried"
            : "";
        return probe;
    }

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public long CurrentBytes() => Interlocked.Read(ref current);

    /// <inheritdoc />
    public void ResetPeak()
    {
        long now = sample() ?? Interlocked.Read(ref current);
        Interlocked.Exchange(ref current, now);
        Interlocked.Exchange(ref peak, now);
    }

    /// <inheritdoc />
    public long PeakBytes()
    {
        if (sample() is { } now) Record(now);
        return Interlocked.Read(ref peak);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        stop = true;
        sampler.Join();
    }

    void Loop()
    {
        while (!stop)
        {
            if (sample() is { } used) Record(used);
            Thread.Sleep(interval);
        }
    }

    void Record(long used)
    {
        Interlocked.Exchange(ref current, used);
        long seen;
        while (used > (seen = Interlocked.Read(ref peak))
            && Interlocked.CompareExchange(ref peak, used, seen) != seen) { }
    }

    static CudaMemoryProbe? TryCudart(int device, TimeSpan interval)
    {
        if (!TryLoad(CudartNames, out var lib)) return null;
        if (!NativeLibrary.TryGetExport(lib, "cudaSetDevice", out var setPtr) ||
            !NativeLibrary.TryGetExport(lib, "cudaMemGetInfo", out var infoPtr)) return null;
        var setDevice = Marshal.GetDelegateForFunctionPointer<CudaSetDevice>(setPtr);
        var memGetInfo = Marshal.GetDelegateForFunctionPointer<CudaMemGetInfo>(infoPtr);
        // The CUDA runtime's current device is per thread: every sampling call selects it first.
        long? Sample() =>
            setDevice(device) == 0 && memGetInfo(out var free, out var total) == 0 ? (long)(total - free) : null;
        return Sample() is null ? null : new CudaMemoryProbe(
            $"CUDA device {device} memory in use (cudaMemGetInfo, sampled every {interval.TotalMilliseconds:0.#} ms)",
            Sample, interval);
    }

    static CudaMemoryProbe? TryNvml(int device, TimeSpan interval)
    {
        if (!TryLoad(NvmlNames, out var lib)) return null;
        if (!NativeLibrary.TryGetExport(lib, "nvmlInit_v2", out var initPtr) ||
            !NativeLibrary.TryGetExport(lib, "nvmlDeviceGetHandleByIndex_v2", out var handlePtr) ||
            !NativeLibrary.TryGetExport(lib, "nvmlDeviceGetMemoryInfo", out var memoryPtr)) return null;
        if (Marshal.GetDelegateForFunctionPointer<NvmlInit>(initPtr)() != 0) return null;
        if (Marshal.GetDelegateForFunctionPointer<NvmlGetHandle>(handlePtr)((uint)device, out var handle) != 0)
            return null;
        var getMemory = Marshal.GetDelegateForFunctionPointer<NvmlGetMemory>(memoryPtr);
        long? Sample() => getMemory(handle, out var m) == 0 ? (long)m.Used : null;
        return Sample() is null ? null : new CudaMemoryProbe(
            $"CUDA device {device} memory in use (NVML, sampled every {interval.TotalMilliseconds:0.#} ms)",
            Sample, interval);
    }

    static bool TryLoad(IEnumerable<string> names, out IntPtr library)
    {
        foreach (string name in names)
            if (NativeLibrary.TryLoad(name, out library)) return true;
        library = IntPtr.Zero;
        return false;
    }
}
