using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Core.Efficiency;

/// <summary>Wall-clock laps that wait for queued CUDA work, so a lap measures the work and not its launch.</summary>
public static class BenchmarkClock
{
    /// <summary>Seconds since <paramref name="clock"/> last restarted
    /// (after a CUDA synchronise on CUDA); restarts it.</summary>
    public static double Lap(Stopwatch clock, Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize();
        double seconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        return seconds;
    }
}
