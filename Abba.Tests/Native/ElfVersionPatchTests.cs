using System.Diagnostics;
using Abba.Core.Native;
using Abba.Tests.Support;

namespace Abba.Tests.Native;

public class ElfVersionPatchTests
{
    [Theory]
    [InlineData((ushort)0x0, (ushort)0x2)]
    [InlineData((ushort)0x1, (ushort)0x3)]      // other flag bits are kept
    public void PatchBytes_StrongEntry_ChangesOnlyItsFlagsToWeak(ushort before, ushort after)
    {
        var (image, flagsAt) = SyntheticElf.Build(targetFlags: before);
        var original = (byte[])image.Clone();

        var outcome = ElfVersionPatch.PatchBytes(image, SyntheticElf.Target);

        Assert.Equal(ElfPatchOutcome.Patched, outcome);
        Assert.All(ChangedOffsets(original, image), at => Assert.InRange(at, flagsAt, flagsAt + 1));
        Assert.Equal(after, (ushort)(image[flagsAt] | image[flagsAt + 1] << 8));
    }

    [Fact]
    public void PatchBytes_SecondRun_ChangesNothingAndSaysAlreadyWeak()
    {
        var (image, _) = SyntheticElf.Build();
        ElfVersionPatch.PatchBytes(image, SyntheticElf.Target);
        var once = (byte[])image.Clone();

        var outcome = ElfVersionPatch.PatchBytes(image, SyntheticElf.Target);

        Assert.Equal(ElfPatchOutcome.AlreadyWeak, outcome);
        Assert.Equal(once, image);
    }

    [Fact]
    public void PatchBytes_WithoutTheEntry_SaysEntryAbsentAndLeavesBytesAlone()
    {
        var (image, _) = SyntheticElf.Build(targetName: "GLIBCXX_3.4.30");
        var original = (byte[])image.Clone();

        Assert.Equal(ElfPatchOutcome.EntryAbsent, ElfVersionPatch.PatchBytes(image, SyntheticElf.Target));
        Assert.Equal(original, image);
    }

    [Fact]
    public void FindVersionFlagsOffset_FollowsVnNextAndVnaNext_ToTheRightEntry()
    {
        var (image, flagsAt) = SyntheticElf.Build();
        Assert.Equal(flagsAt, ElfVersionPatch.FindVersionFlagsOffset(image, SyntheticElf.Target));
        Assert.Equal(-1, ElfVersionPatch.FindVersionFlagsOffset(image, "GLIBCXX_3.4"));   // a prefix is not a match
    }

    [Fact]
    public void PatchBytes_NotAnElf_ThrowsNamingTheProblem()
    {
        var e = Assert.Throws<ElfFormatException>(() => ElfVersionPatch.PatchBytes("#!/bin/sh\necho hi\n"u8.ToArray(), SyntheticElf.Target));
        Assert.Contains("Not an ELF file", e.Message);
    }

    [Theory]
    [InlineData(40)]        // inside the ELF header
    [InlineData(-100)]      // inside the section header table (counted from the end)
    public void PatchBytes_TruncatedFile_ThrowsNamingTruncation(int keep)
    {
        var (image, _) = SyntheticElf.Build();
        var cut = image[..(keep > 0 ? keep : image.Length + keep)];

        var e = Assert.Throws<ElfFormatException>(() => ElfVersionPatch.PatchBytes(cut, SyntheticElf.Target));
        Assert.StartsWith("Truncated ELF file", e.Message);
    }

    [Fact]
    public void PatchBytes_Elf32_ThrowsUnsupported()
    {
        var (image, _) = SyntheticElf.Build();
        image[4] = 1;   // ELFCLASS32
        var e = Assert.Throws<ElfFormatException>(() => ElfVersionPatch.PatchBytes(image, SyntheticElf.Target));
        Assert.Contains("64-bit little-endian", e.Message);
    }

    [Fact]
    public void PatchFile_ReplacesTheFile_SoAHardLinkKeepsTheOldBytes()
    {
        using var dir = new TempFolder();
        var (image, flagsAt) = SyntheticElf.Build();
        File.WriteAllBytes(dir.File("cache.so"), image);
        Run("ln", dir.File("cache.so"), dir.File("output.so"));   // a hard link, as a package cache might hand out

        Assert.Equal(ElfPatchOutcome.Patched, ElfVersionPatch.PatchFile(dir.File("output.so"), SyntheticElf.Target));

        Assert.Equal(image, File.ReadAllBytes(dir.File("cache.so")));
        Assert.Equal(ElfVersionPatch.VerFlagWeak, File.ReadAllBytes(dir.File("output.so"))[flagsAt]);
        Assert.Equal(["cache.so", "output.so"], dir.Entries());
    }

    [Fact]
    public void PatchFile_SecondRun_LeavesTheFileUntouched()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("lib.so"), SyntheticElf.Build().Image);
        ElfVersionPatch.PatchFile(dir.File("lib.so"), SyntheticElf.Target);
        var once = File.ReadAllBytes(dir.File("lib.so"));
        var written = File.GetLastWriteTimeUtc(dir.File("lib.so"));

        Assert.Equal(ElfPatchOutcome.AlreadyWeak, ElfVersionPatch.PatchFile(dir.File("lib.so"), SyntheticElf.Target));
        Assert.Equal(once, File.ReadAllBytes(dir.File("lib.so")));
        Assert.Equal(written, File.GetLastWriteTimeUtc(dir.File("lib.so")));
    }

    [Fact]
    public void PatchFile_NonElf_ThrowsAndLeavesTheFile()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("notes.txt"), "not a library");

        Assert.Throws<ElfFormatException>(() => ElfVersionPatch.PatchFile(dir.File("notes.txt"), SyntheticElf.Target));
        Assert.Equal("not a library", File.ReadAllText(dir.File("notes.txt")));
        Assert.Equal(["notes.txt"], dir.Entries());
    }

    internal static IEnumerable<int> ChangedOffsets(byte[] a, byte[] b)
    {
        Assert.Equal(a.Length, b.Length);
        return Enumerable.Range(0, a.Length).Where(i => a[i] != b[i]);
    }

    internal static string Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        string output = p.StandardOutput.ReadToEnd();
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{program} {string.Join(' ', args)} failed: {error}");
        return output;
    }
}
