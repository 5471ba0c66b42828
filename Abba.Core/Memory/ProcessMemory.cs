using System.Globalization;

namespace Abba.Core.Memory;

/// <summary>
/// Resident memory of this process from Linux's /proc/self/status. The kernel keeps a high-water mark (VmHWM) of the
/// resident set; writing "5" to /proc/self/clear_refs resets it to the current resident size, so a reset followed by
/// a read brackets the peak of whatever ran in between. Linux only; elsewhere every member reports unavailability.
/// </summary>
public static class ProcessMemory
{
    const string StatusPath = "/proc/self/status", ClearRefsPath = "/proc/self/clear_refs";

    /// <summary>Current resident set (VmRSS) in bytes, or null where /proc is missing.</summary>
    public static long? ResidentBytes() => ReadStatusKilobytes("VmRSS:") * 1024;

    /// <summary>Peak resident set since start or the last <see cref="TryResetPeak"/>
    /// (VmHWM), in bytes; null where /proc is missing.</summary>
    public static long? PeakResidentBytes() => ReadStatusKilobytes("VmHWM:") * 1024;

    /// <summary>Resets the kernel's high-water mark to the current resident size.</summary>
    /// <returns>False when the kernel refused (no /proc, or clear_refs not writable);
    /// the peak then covers the whole process life.</returns>
    public static bool TryResetPeak()
    {
        try
        {
            File.WriteAllText(ClearRefsPath, "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return false;
        }
    }

    static long? ReadStatusKilobytes(string key)
    {
        if (!File.Exists(StatusPath)) return null;
        foreach (string line in File.ReadLines(StatusPath))
        {
            if (!line.StartsWith(key, StringComparison.Ordinal)) continue;
            string value = line[key.Length..].Trim();               // "123456 kB"
            int space = value.IndexOf(' ');
            return long.Parse(space < 0 ? value : value[..space], CultureInfo.InvariantCulture);
        }
        return null;
    }
}
