using System.Diagnostics;
using Abba.Experiments.Cli;
using Abba.Tests.Support;

namespace Abba.Tests.Cli;

/// <summary>A bad --out, and missing, truncated or malformed files given to plot, report or merge: one line naming the file, exit 2, no trace.</summary>
public class BadFilesTests : IDisposable
{
    readonly TempFolder temp = new();
    static readonly Lazy<string> Results = new(() =>
    {
        string root = Directory.CreateTempSubdirectory("abba-badfiles-").FullName;
        Assert.Equal(ExitCodes.Ok, new AbbaCli(TextWriter.Null, TextWriter.Null).Invoke(["run", "reconstruction", "--profile", "tiny", "--threads", "1", "--out", root]));
        return root;
    });

    static (int Code, string Line) Abba(params string[] args)
    {
        var stderr = new StringWriter();
        int code = new AbbaCli(TextWriter.Null, stderr).Invoke(args);
        var lines = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.DoesNotContain(lines, l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
        return (code, Assert.Single(lines));
    }

    /// <summary>A copy of the tiny results whose reconstruction.csv is replaced by <paramref name="edit"/> of it.</summary>
    string Copy(Func<string, string> edit)
    {
        string root = temp.File(Guid.NewGuid().ToString("N"));
        string folder = Path.Combine(root, "tiny", "reconstruction");
        Directory.CreateDirectory(folder);
        foreach (var f in Directory.GetFiles(Path.Combine(Results.Value, "tiny", "reconstruction"))) File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
        string csv = Path.Combine(folder, "reconstruction.csv");
        File.WriteAllText(csv, edit(File.ReadAllText(csv)));
        return root;
    }

    [Fact]
    public void Out_IsAFile_Exits2()
    {
        File.WriteAllText(temp.File("some-file"), "");
        var (code, line) = Abba("run", "reconstruction", "--profile", "tiny", "--out", temp.File("some-file"));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains($"--out: '{temp.File("some-file")}' is a file", line);
    }

    [Fact]
    public void Out_CannotBeWritten_Exits2()
    {
        var (code, line) = Abba("run", "reconstruction", "--profile", "tiny", "--out", "/proc/x");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("--out: cannot write results under '/proc/x'", line);
    }

    [Theory]
    [InlineData("plot")]
    [InlineData("report")]
    public void TruncatedCsv_NamesTheFileAndRow(string command)
    {
        string root = Copy(text => text[..(text.Length - 60)]);
        var (code, line) = command == "plot" ? Abba("plot", "reconstruction", "--profile", "tiny", "--out", root) : Abba("report", "--profile", "tiny", "--out", root);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Matches(@"reconstruction\.csv: row \d+ \(line \d+\): malformed", line);
    }

    [Fact]
    public void MalformedCsv_NamesTheFileAndRow()
    {
        string root = Copy(text => text.Replace("\northogonal,16,", "\northogonal,sixteen,"));
        var (code, line) = Abba("plot", "reconstruction", "--profile", "tiny", "--out", root);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("reconstruction.csv: row 1 (line 2): malformed", line);
    }

    [Fact]
    public void TruncatedManifest_Report_NamesTheFile()
    {
        string root = Copy(text => text);
        string manifest = Path.Combine(root, "tiny", "reconstruction", "manifest.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest)[..40]);
        var (code, line) = Abba("report", "--profile", "tiny", "--out", root);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains($"{manifest}: not a readable manifest", line);
    }

    [Fact]
    public void MissingCsv_Plot_Exits2()
    {
        string root = Copy(text => text);
        File.Delete(Path.Combine(root, "tiny", "reconstruction", "reconstruction.csv"));
        var (code, line) = Abba("plot", "reconstruction", "--profile", "tiny", "--out", root);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("reconstruction.csv does not exist", line);
    }

    [Fact]
    public void DamagedUnit_Merge_NamesTheFile()
    {
        string root = temp.File("units");
        Assert.Equal(ExitCodes.Ok, new AbbaCli(TextWriter.Null, TextWriter.Null).Invoke(["run", "reconstruction", "--profile", "tiny", "--threads", "1", "--out", root, "--shard", "1/1"]));
        string unit = Directory.GetFiles(Path.Combine(root, "tiny", "reconstruction", "units")).Order().First();
        File.WriteAllText(unit, "{ not json");
        var (code, line) = Abba("merge", "reconstruction", "--profile", "tiny", "--threads", "1", "--out", root);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("1 of 30 units missing", line);
        Assert.Contains($"{unit}: not a readable unit file", line);
    }

    /// <summary>The README's main command writes under results/PROFILE/; for every profile but paper git ignores all of it.</summary>
    [Fact]
    public void AllTiny_WritesOnlyPathsGitIgnores()
    {
        string root = temp.File("results");
        Assert.Equal(ExitCodes.Ok, new AbbaCli(TextWriter.Null, TextWriter.Null).Invoke(["all", "--profile", "tiny", "--out", root]));
        var written = Directory.GetFiles(root, "*", SearchOption.AllDirectories).Select(f => "results/" + Path.GetRelativePath(root, f).Replace('\\', '/')).ToArray();
        Assert.Contains("results/tiny/REPORT.md", written);
        Assert.All(written, f => Assert.StartsWith("results/tiny/", f));
        var info = new ProcessStartInfo("git", "check-ignore --no-index --stdin") { WorkingDirectory = Repo.Root(), RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        using var git = Process.Start(info)!;
        git.StandardInput.Write(string.Join('\n', [.. written, "results/quick/REPORT.md", "results/quick/mnist/cache/w.safetensors", "results/paper/mnist/units/a.json"]) + "\n");
        git.StandardInput.Close();
        var ignored = git.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        git.WaitForExit();
        Assert.All(written, f => Assert.Contains(f, ignored));
        Assert.Contains("results/paper/mnist/units/a.json", ignored);
    }

    public void Dispose() => temp.Dispose();
}
