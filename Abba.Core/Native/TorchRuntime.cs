using System.Runtime.InteropServices;
using TorchSharp;

namespace Abba.Core.Native;

/// <summary>TorchSharp could not be initialised;
/// <see cref="Exception.Message"/> is a short diagnosis for users.</summary>
public sealed class TorchUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Versions and devices of the loaded TorchSharp runtime.</summary>
/// <param name="TorchSharpVersion">Version of the managed TorchSharp assembly.</param>
/// <param name="LibTorchVersion">Version of the native libtorch it loaded.</param>
/// <param name="CudaAvailable">Whether a CUDA device can be used.</param>
/// <param name="CudaDevices">Number of CUDA devices.</param>
/// <param name="Threads">Intra-op threads libtorch uses.</param>
public sealed record TorchInfo(
    string TorchSharpVersion, string LibTorchVersion, bool CudaAvailable, int CudaDevices, int Threads);

/// <summary>Loads the native runtime once, turning load failures
/// into a short diagnosis, and resolves devices.</summary>
public static class TorchRuntime
{
    static readonly Lock Gate = new();
    static TorchInfo? info;

    /// <summary>Initialises TorchSharp (idempotent) and describes it.</summary>
    /// <exception cref="TorchUnavailableException">The native libraries did not load.</exception>
    public static TorchInfo Initialise()
    {
        lock (Gate)
        {
            if (info is not null) return info;
            OpenMpWaitPolicy.PreferPassive();   // before libtorch, and with it libgomp, loads
            ProbeBundledLibrary();
            // On failure TorchSharp prints a page-long load trace to stdout (and its fallback copies every native
            // library into a cpu/ folder); keep its chatter off the console, the diagnosis below replaces it.
            var console = Console.Out;
            Console.SetOut(TextWriter.Null);
            try
            {
                torch.InitializeDeviceType(DeviceType.CPU);
                bool cuda = torch.cuda.is_available();
                info = new TorchInfo(
                    typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown",
                    torch.__version__,
                    cuda,
                    cuda ? torch.cuda.device_count() : 0,
                    torch.get_num_threads());
                return info;
            }
            catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException
                                          or InvalidOperationException or BadImageFormatException)
            {
                throw new TorchUnavailableException(Diagnose(e), e);
            }
            finally
            {
                Console.SetOut(console);
            }
        }
    }

    /// <summary>Sets libtorch's intra-op thread count; 0 restores
    /// libtorch's default (the count it started with).</summary>
    public static void SetThreads(int threads) => torch.set_num_threads(threads > 0 ? threads : Initialise().Threads);

    /// <summary>Resolves <c>auto</c>, <c>cpu</c> or <c>cuda</c>
    /// to a device, or throws with a one-line reason.</summary>
    public static torch.Device ResolveDevice(string name)
    {
        var rt = Initialise();
        return name switch
        {
            "cpu" => torch.CPU,
            "cuda" when rt.CudaAvailable => torch.CUDA,
            "cuda" => throw new ArgumentException(
                "--device cuda was requested but no CUDA device is available (this build uses the " + BackendName +
                " TorchSharp backend)."),
            "auto" => rt.CudaAvailable ? torch.CUDA : torch.CPU,
            _ => throw new ArgumentException($"unknown device '{name}' (expected auto, cpu or cuda)."),
        };
    }

    /// <summary>The TorchSharp backend this assembly was built against (<c>cpu</c> or <c>cuda</c>).</summary>
#if TORCH_CUDA
    public const string BackendName = "cuda";
#else
    public const string BackendName = "cpu";
#endif

    /// <summary>
    /// Loads the libLibTorchSharp.so shipped beside TorchSharp.dll before TorchSharp does, so that a failure is
    /// reported with the loader's own reason (TorchSharp's exception loses it).
    /// </summary>
    static void ProbeBundledLibrary()
    {
        if (!OperatingSystem.IsLinux()) return;
        string dir = Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? "";
        string arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        string lib = Path.Combine(dir, "runtimes", "linux-" + arch, "native", "libLibTorchSharp.so");
        if (!File.Exists(lib)) return;
        try { NativeLibrary.Load(lib); }
        catch (DllNotFoundException e) { throw new TorchUnavailableException(Diagnose(lib, e.Message), e); }
    }

    static string Diagnose(string lib, string loaderMessage)
    {
        string reason = loaderMessage.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0)
            ?? loaderMessage;
        bool strongGlibcxx = reason.Contains("GLIBCXX_3.4.32", StringComparison.Ordinal) && RequiresStrongGlibcxx(lib);
        string cause = strongGlibcxx
            ? "this system's libstdc++ lacks GLIBCXX_3.4.32 and this copy of libLibTorchSharp.so was not patched " +
              "(the build marks that requirement weak in its own output copies only)."
            : reason.Contains("GLIBCXX", StringComparison.Ordinal)
              || reason.Contains("GLIBC_", StringComparison.Ordinal)
                ? "this system's C/C++ runtime is older than the TorchSharp natives need."
                : "a native library beside the program is missing or unreadable.";
        string todo = strongGlibcxx
            ? "run abba from a 'dotnet build' or 'dotnet publish' output folder (both patch their copy), or rebuild; " +
              "copying the NuGet package's file over it undoes the fix. See README, Troubleshooting."
            : "rebuild with 'dotnet build -c Release' so the TorchSharp natives are copied beside the program; " +
              "see README, Troubleshooting.";
        return $"TorchSharp failed to initialise: cannot load {lib}\n  loader says: {reason}\n" +
               $"  likely cause: {cause}\n  what to do: {todo}";
    }

    static bool RequiresStrongGlibcxx(string lib)
    {
        try
        {
            byte[] image = File.ReadAllBytes(lib);
            long at = ElfVersionPatch.FindVersionFlagsOffset(image, "GLIBCXX_3.4.32");
            return at >= 0 && (image[at] & ElfVersionPatch.VerFlagWeak) == 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ElfFormatException)
        {
            return false;
        }
    }

    static string Diagnose(Exception e)
    {
        string first = (e.InnerException?.Message ?? e.Message).Split('\n')[0].Trim();
        return $"TorchSharp failed to initialise: {first}\n" +
            "  likely cause: the native libtorch libraries beside the program could not be loaded.\n" +
            "  what to do: rebuild with 'dotnet build -c Release' so the TorchSharp natives are copied " +
            "into the output folder, " +
            "and check that runtimes/linux-x64/native/ sits beside TorchSharp.dll.";
    }
}
