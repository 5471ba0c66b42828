using TorchSharp;

namespace Abba.Core.Native;

/// <summary>TorchSharp could not be initialised; <see cref="Exception.Message"/> is a short diagnosis for users.</summary>
public sealed class TorchUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Versions and devices of the loaded TorchSharp runtime.</summary>
/// <param name="TorchSharpVersion">Version of the managed TorchSharp assembly.</param>
/// <param name="LibTorchVersion">Version of the native libtorch it loaded.</param>
/// <param name="CudaAvailable">Whether a CUDA device can be used.</param>
/// <param name="CudaDevices">Number of CUDA devices.</param>
/// <param name="Threads">Intra-op threads libtorch uses.</param>
public sealed record TorchInfo(string TorchSharpVersion, string LibTorchVersion, bool CudaAvailable, int CudaDevices, int Threads);

/// <summary>Loads the native runtime once, turning load failures into a short diagnosis, and resolves devices.</summary>
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
            catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException or InvalidOperationException or BadImageFormatException)
            {
                throw new TorchUnavailableException(Diagnose(e), e);
            }
        }
    }

    /// <summary>Sets libtorch's intra-op thread count; 0 keeps libtorch's default.</summary>
    public static void SetThreads(int threads)
    {
        if (threads > 0) torch.set_num_threads(threads);
    }

    /// <summary>Resolves <c>auto</c>, <c>cpu</c> or <c>cuda</c> to a device, or throws with a one-line reason.</summary>
    public static torch.Device ResolveDevice(string name)
    {
        var rt = Initialise();
        return name switch
        {
            "cpu" => torch.CPU,
            "cuda" when rt.CudaAvailable => torch.CUDA,
            "cuda" => throw new ArgumentException("--device cuda was requested but no CUDA device is available (this build uses the " + BackendName + " TorchSharp backend)."),
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

    static string Diagnose(Exception e)
    {
        string inner = e.InnerException?.Message ?? e.Message;
        string first = inner.Split('\n')[0].Trim();
        bool glibcxx = inner.Contains("GLIBCXX", StringComparison.Ordinal);
        string cause = glibcxx
            ? "libLibTorchSharp.so needs a newer libstdc++ (GLIBCXX_3.4.32) than this system has, and the build's ELF patch was not applied to the copy that was loaded."
            : "the native libtorch libraries beside the program could not be loaded.";
        string todo = glibcxx
            ? "Rebuild with 'dotnet build' (the build marks that requirement weak in its output copy); if you copied the program elsewhere, publish it with 'dotnet publish' instead."
            : "Rebuild with 'dotnet build' so the TorchSharp-cpu natives are copied into the output folder, and check that runtimes/linux-x64/native/ sits beside TorchSharp.dll.";
        return $"TorchSharp failed to initialise: {first}\n  likely cause: {cause}\n  what to do: {todo}";
    }
}
