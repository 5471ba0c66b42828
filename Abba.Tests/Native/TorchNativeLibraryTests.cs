using Abba.Core.Native;
using Abba.Tests.Support;

namespace Abba.Tests.Native;

/// <summary>The patch on TorchSharp's real libLibTorchSharp.so, and the build's own output copy.</summary>
public class TorchNativeLibraryTests
{
    const string Version = "GLIBCXX_3.4.32";
    static readonly string RelativePath = Path.Combine("runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    /// <summary>The unpatched file in the NuGet global packages folder (NUGET_PACKAGES or ~/.nuget/packages).</summary>
    internal static string PackageCopy
    {
        get
        {
            string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
                ? p : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            return Path.Combine(packages, "torchsharp", "0.107.0", RelativePath);
        }
    }

    [PackageLibraryFact]
    public void PatchFile_RealLibrary_FlipsOnlyTheWeakBitOfThatEntry()
    {
        using var dir = new TempFolder();
        string lib = dir.File("libLibTorchSharp.so");
        File.Copy(PackageCopy, lib);
        var original = File.ReadAllBytes(lib);

        Assert.Equal(ElfPatchOutcome.Patched, ElfVersionPatch.PatchFile(lib, Version));

        var patched = File.ReadAllBytes(lib);
        long at = ElfVersionPatch.FindVersionFlagsOffset(original, Version);
        if (Readelf.Available) Assert.Equal(Readelf.VersionNeed(PackageCopy, Version).FlagsOffset, at);
        int[] changed = [.. ElfVersionPatchTests.ChangedOffsets(original, patched)];
        Assert.NotEmpty(changed);
        Assert.All(changed, i => Assert.InRange(i, at, at + 1));
        Assert.Equal(original[at] | ElfVersionPatch.VerFlagWeak, patched[at]);
        Assert.Equal(ElfPatchOutcome.AlreadyWeak, ElfVersionPatch.PatchFile(lib, Version));
        if (Readelf.Available) Assert.Equal("WEAK", Readelf.VersionNeed(lib, Version).Flags);
        Assert.Equal(original, File.ReadAllBytes(PackageCopy));   // the package cache is never touched
    }

    [Fact]
    public void BuildOutputCopy_IsAlreadyWeak()
    {
        string lib = Path.Combine(AppContext.BaseDirectory, RelativePath);
        Assert.True(File.Exists(lib), $"the build did not copy {lib}");

        Assert.Equal(ElfPatchOutcome.AlreadyWeak, ElfVersionPatch.PatchBytes(File.ReadAllBytes(lib), Version));
        if (Readelf.Available) Assert.Equal("WEAK", Readelf.VersionNeed(lib, Version).Flags);
    }
}

/// <summary>A fact that is skipped, with the reason, when TorchSharp 0.107.0 is not in the NuGet packages folder.</summary>
public sealed class PackageLibraryFactAttribute : FactAttribute
{
    public PackageLibraryFactAttribute()
    {
        if (!File.Exists(TorchNativeLibraryTests.PackageCopy))
            Skip = $"TorchSharp's unpatched library is not at {TorchNativeLibraryTests.PackageCopy} (packages restored elsewhere?)";
    }
}
