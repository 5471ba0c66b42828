using System.Runtime.InteropServices;

namespace Abba.Core.Native;

/// <summary>
/// Makes libtorch's OpenMP worker threads sleep, not spin, while they wait. OpenMP's default (active waiting) lets a
/// thread spin at every barrier; on a small machine shared by several processes the spinning thread takes the core
/// its partner needs. Measured on the 2-core project machine under load: small-MLP training with 2 threads ran about
/// 10x slower than with 1 thread, and with OMP_WAIT_POLICY=PASSIVE it ran as fast as with 1 thread.
/// libgomp reads the variable once, when libtorch loads,
/// and <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach the native environment on Unix,
/// so this calls libc's setenv before TorchSharp's first use. A value the user already set is kept.
/// </summary>
public static class OpenMpWaitPolicy
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    /// <summary>Sets OMP_WAIT_POLICY=PASSIVE in the native environment unless it is already set (Linux only).</summary>
    /// <returns>Whether the variable now holds the value the process will use (set here, or set by the user).</returns>
    public static bool PreferPassive()
    {
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null) return true;
        if (!OperatingSystem.IsLinux()) return false;
        if (!NativeLibrary.TryLoad("libc.so.6", out var libc)
            || !NativeLibrary.TryGetExport(libc, "setenv", out var address)) return false;
        return Marshal.GetDelegateForFunctionPointer<SetEnv>(address)("OMP_WAIT_POLICY", "PASSIVE", 0) == 0;
    }
}
