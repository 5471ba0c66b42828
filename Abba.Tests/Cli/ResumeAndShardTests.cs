using System.Diagnostics;
using Abba.Experiments.Cli;
using Abba.Experiments.Memory;
using Abba.Tests.Support;

namespace Abba.Tests.Cli;

/// <summary>
/// Interrupted, resumed, sharded and merged runs give the CSV of one uninterrupted run (outside the timing column
/// fit_seconds). Reconstruction's tiny profile has 30 units: 14 distinct fits (the doubled budget at r = 2 is the equal
/// budget's fit at r = 4) and 16 settling units (4 equal-budget points x 4: three starts for a losing point, one for a
/// capped one; each runs only when its point has that reason), which read their point's fits and
/// compute them when no shard has stored them yet; one thread keeps every fit bit-reproducible.
/// </summary>
public class ResumeAndShardTests : IDisposable
{
    const int Units = 30;
    readonly TempFolder temp = new();
    static readonly Lazy<string> Reference = new(() =>
    {
        string root = Directory.CreateTempSubdirectory("abba-reference-").FullName;
        var (code, _, err) = Abba(Run(root));
        Assert.True(code == ExitCodes.Ok, err);
        return WithoutTimings(root);
    });

    static string[] Run(string root, params string[] more) =>
        ["run", "reconstruction", "--profile", "tiny", "--threads", "1", "--device", "cpu", "--out", root, .. more];

    static string Folder(string root) => Path.Combine(root, "tiny", "reconstruction");

    static string UnitsFolder(string root) => Path.Combine(Folder(root), "units");

    static int StoredUnits(string root) =>
        Directory.Exists(UnitsFolder(root)) ? Directory.GetFiles(UnitsFolder(root), "*.json").Count(f => !Path.GetFileName(f).StartsWith('.')) : 0;

    /// <summary>The results CSV without its last column (fit_seconds).</summary>
    static string WithoutTimings(string root) =>
        string.Join('\n', File.ReadLines(Path.Combine(Folder(root), "reconstruction.csv")).Select(l => l[..l.LastIndexOf(',')]));

    static (int Code, string Out, string Err) Abba(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = new AbbaCli(stdout, stderr).Invoke(args);
        return (code, stdout.ToString(), stderr.ToString());
    }

    static Process Start(IEnumerable<string> args, int pauseAfterUnitMs = 0, bool capture = false)
    {
        var (file, prefix) = ChildMeasurement.CurrentExecutable();
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in prefix.Concat(args)) info.ArgumentList.Add(a);
        info.Environment["CI"] = "true";
        if (pauseAfterUnitMs > 0) info.Environment["ABBA_TEST_PAUSE_AFTER_UNIT_MS"] = pauseAfterUnitMs.ToString();
        var p = Process.Start(info)!;
        if (capture) return p;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(Units)]
    public void SigkillAfterKUnits_ThenRerun_GivesTheUninterruptedCsv(int k)
    {
        string root = temp.File($"killed-{k}");
        using (var child = Start(Run(root), pauseAfterUnitMs: 150))
        {
            var clock = Stopwatch.StartNew();
            while (StoredUnits(root) < Math.Max(k, 0) || (k == 0 && !Directory.Exists(Path.Combine(root, "tiny"))))
            {
                Assert.False(child.HasExited, "the run ended before it could be killed");
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "no progress");
                Thread.Sleep(10);
            }
            child.Kill();   // SIGKILL: no handler runs
            child.WaitForExit();
        }
        Assert.False(File.Exists(Path.Combine(Folder(root), "reconstruction.csv")), "killed before the CSV was written");
        int stored = StoredUnits(root);
        Assert.InRange(stored, k, k == Units ? Units : k + 1);

        // The rerun is a process of its own: what it prints is what a user sees after the kill.
        string output;
        using (var rerun = Start(Run(root), capture: true))
        {
            output = rerun.StandardOutput.ReadToEnd();
            rerun.WaitForExit();
            Assert.True(rerun.ExitCode == ExitCodes.Ok, output);
        }
        Assert.Equal(Reference.Value, WithoutTimings(root));
        string resuming = $"resuming: {stored} of {Units} planned units are stored in {Path.GetFullPath(UnitsFolder(root))} " +
                          $"and will be reused; {Units - stored} to compute";
        if (stored > 0) Assert.Contains(resuming, output);
        else Assert.DoesNotContain("resuming:", output);
        if (stored > 0) Assert.Contains($"{stored} units loaded", File.ReadAllText(Path.Combine(Folder(root), "run.log")));
    }

    [Fact]
    public void ThreeShardProcesses_ThenMerge_GiveTheUnshardedCsv_AndTheManifestNamesTheShards()
    {
        string root = temp.File("shared");
        var shards = Enumerable.Range(1, 3).Select(i => Start(Run(root, "--shard", $"{i}/3"))).ToArray();
        foreach (var s in shards) { s.WaitForExit(); Assert.Equal(0, s.ExitCode); s.Dispose(); }
        Assert.Equal(Units, StoredUnits(root));
        Assert.False(File.Exists(Path.Combine(Folder(root), "reconstruction.csv")), "a shard writes units only");

        var (code, _, err) = Abba(["merge", .. Run(root).Skip(1)]);
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Equal(Reference.Value, WithoutTimings(root));
        string manifest = File.ReadAllText(Path.Combine(Folder(root), "manifest.json"));
        foreach (int i in new[] { 1, 2, 3 }) Assert.Contains($"shard {i}/3 on {Environment.MachineName}", manifest);
    }

    [Fact]
    public void MergeFrom_GathersShardFolders_AndRefusesWhenUnitsAreMissing()
    {
        string[] shardRoots = [.. Enumerable.Range(1, 3).Select(i => temp.File($"shard{i}"))];
        for (int i = 0; i < 3; i++) Assert.Equal(ExitCodes.Ok, Abba(Run(shardRoots[i], "--shard", $"{i + 1}/3")).Code);
        // A shard stores the fits its settling units read when no other shard has stored them (here each shard has its own
        // folder): the same files, so the shards hold every unit and the merge keeps one copy of each.
        var names = shardRoots.SelectMany(r => Directory.GetFiles(UnitsFolder(r), "*.json")).Select(Path.GetFileName).ToArray();
        Assert.Equal(Units, names.Distinct().Count());
        Assert.All(shardRoots, r => Assert.InRange(StoredUnits(r), 6, Units));

        string partial = temp.File("partial");
        var (refused, _, why) = Abba(["merge", .. Run(partial).Skip(1), "--from", shardRoots[0], "--from", shardRoots[1]]);
        Assert.Equal(ExitCodes.BadInput, refused);
        string line = Assert.Single(why.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"\d+ of 30 units missing \(\d+ reconstruction/(fit|settle)", line);

        string merged = temp.File("merged");
        var (code, _, err) = Abba(["merge", .. Run(merged).Skip(1), .. shardRoots.SelectMany(r => new[] { "--from", r })]);
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Equal(Reference.Value, WithoutTimings(merged));

        var (other, _, differs) = Abba(["merge", .. Run(merged).Skip(1), "--seed", "1"]);
        Assert.Equal(ExitCodes.BadInput, other);
        Assert.Contains("units of other settings are stored (seed: 0 vs 1", differs);
    }

    [Fact]
    public void CorruptUnit_IsRecomputedWithAWarning()
    {
        string root = temp.File("corrupt");
        Assert.Equal(ExitCodes.Ok, Abba(Run(root)).Code);
        // A unit whose error is a number (a settling unit that did not run stores NaN): changing it leaves valid JSON with a wrong checksum.
        string victim = Directory.GetFiles(UnitsFolder(root), "*.json").Order().First(f => File.ReadAllText(f).Contains("\"rel_sq_error\":0."));   // no temporaries: the run was not killed
        File.WriteAllText(victim, File.ReadAllText(victim).Replace("\"rel_sq_error\":0.", "\"rel_sq_error\":1."));
        string truncated = Directory.GetFiles(UnitsFolder(root), "*.json").Order().Last();
        File.WriteAllText(truncated, File.ReadAllText(truncated)[..100]);

        var (code, _, err) = Abba(Run(root));
        Assert.True(code == ExitCodes.Ok, err);
        string log = File.ReadAllText(Path.Combine(Folder(root), "run.log"));
        Assert.Contains($"{victim}: checksum mismatch", log);
        Assert.Contains($"{truncated}: not a readable unit file", log);
        Assert.Contains("28 units loaded", log);
        Assert.Contains("2 recomputed", log);
        Assert.Equal(Reference.Value, WithoutTimings(root));
    }

    [Fact]
    public void Fresh_IgnoresStoredUnits()
    {
        string root = temp.File("fresh");
        Assert.Equal(ExitCodes.Ok, Abba(Run(root)).Code);
        Assert.Equal(ExitCodes.Ok, Abba(Run(root, "--fresh")).Code);
        string log = File.ReadAllText(Path.Combine(Folder(root), "run.log"));
        Assert.DoesNotContain("units loaded", log);
        Assert.Equal(Units, StoredUnits(root));
    }

    public void Dispose() => temp.Dispose();
}
