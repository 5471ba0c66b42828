using System.Reflection;
using System.Runtime.InteropServices;

namespace Abba.Experiments.Output;

/// <summary>
/// Lets SkiaSharp and HarfBuzzSharp (ScottPlot's renderer) find their native libraries in the build output's
/// <c>runtimes/RID/native/</c> folder when the host has no deps.json that names it, as in a .NET Interactive notebook
/// kernel that loads the assemblies with <c>#r</c>. The abba program needs none of this; calling it there is harmless.
/// </summary>
public static class NativeAssets
{
    static readonly Lock Gate = new();
    static bool registered;

    /// <summary>Registers the resolver once per process; call before the first plot.</summary>
    public static void UseBuildOutput()
    {
        lock (Gate)
        {
            if (registered) return;
            foreach (var assembly in
                new[] { typeof(SkiaSharp.SKTypeface).Assembly, typeof(HarfBuzzSharp.Blob).Assembly })
                NativeLibrary.SetDllImportResolver(assembly, Resolve);
            registered = true;
        }
    }

    /// <summary>The library from runtimes/RID/native beside the assembly, or zero to fall back to the default
    /// probing.</summary>
    static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        string folder = Path.GetDirectoryName(assembly.Location) ?? "";
        foreach (string rid in RuntimeIdentifiers())
            foreach (string file in FileNames(name))
                if (NativeLibrary.TryLoad(Path.Combine(folder, "runtimes", rid, "native", file), out IntPtr handle))
                    return handle;
        return IntPtr.Zero;
    }

    static IEnumerable<string> RuntimeIdentifiers()
    {
        yield return RuntimeInformation.RuntimeIdentifier;
        string arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        if (OperatingSystem.IsLinux()) yield return $"linux-{arch}";
        else if (OperatingSystem.IsWindows()) yield return $"win-{arch}";
        else if (OperatingSystem.IsMacOS()) yield return "osx";
    }

    static IEnumerable<string> FileNames(string name) =>
        OperatingSystem.IsWindows() ? [name + ".dll", name]
        : OperatingSystem.IsMacOS() ? [name + ".dylib", name]
        : [name + ".so", name];
}
