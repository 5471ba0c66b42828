using Abba.Experiments.Cli;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Reconstruction;
using Abba.Tests.Support;

namespace Abba.Tests.Cli;

/// <summary><c>abba all</c>'s side-by-side lanes: how many, how many threads, and children that write what
/// <c>abba run</c> writes.</summary>
public class SideBySideTests
{
    static RunSettings Settings(int threads = 0, string output = "results") =>
        new(Profile.Tiny, 0, 0, "cpu", threads, output);

    [Theory]
    [InlineData(0, 0, true, 2, 5, 2, 1)]     // 2 cores: two one-thread experiments at once
    [InlineData(0, 0, true, 16, 5, 5, 3)]    // never more lanes than experiments; the cores shared among them
    [InlineData(0, 4, true, 16, 5, 4, 4)]    // --threads 4: cores / 4 lanes
    [InlineData(0, 0, false, 16, 5, 1, 16)]  // a GPU: one at a time
    [InlineData(3, 0, true, 2, 5, 3, 1)]     // --jobs wins
    [InlineData(1, 0, true, 2, 5, 1, 2)]
    [InlineData(0, 0, true, 1, 5, 1, 1)]
    public void Choose_SharesTheCores(int jobs, int threads, bool cpu, int cores, int candidates, int lanes, int each)
    {
        var chosen = Lanes.Choose(jobs, Settings(threads), cpu, cores, candidates);
        Assert.Equal(new Lanes(lanes, each), chosen);
    }

    [Fact]
    public void ArgumentsOf_NameEverySettingThatDecidesTheUnits()
    {
        var settings = new RunSettings(Profile.Quick, 3, 4, "cpu", 0, "out", Fresh: true);
        Assert.Equal(["run", "mnist", "--profile", "quick", "--seed", "3", "--seeds", "4", "--device", "cpu",
            "--threads", "1", "--out", Path.GetFullPath("out"), "--fresh"],
            SideBySide.ArgumentsOf("mnist", settings, 1));
    }

    [Fact]
    public void Run_ChildrenWriteTheCsvsOfAnInProcessRun_AndAFailedChildSaysWhy()
    {
        using var side = new TempFolder();
        using var alone = new TempFolder();
        using var log = new RunLog();
        var outcomes = new SideBySide(Settings(output: side.Path), new Lanes(2, 1), log, CancellationToken.None)
            .Run(["reconstruction", "no-such-experiment"]);

        Assert.Equal(["reconstruction", "no-such-experiment"], outcomes.Select(o => o.Name));
        Assert.Equal("ok", outcomes[0].Status);
        Assert.Contains("manifest.json", outcomes[0].Files);
        Assert.Equal("failed", outcomes[1].Status);
        Assert.Contains("no-such-experiment", outcomes[1].Error);

        string folder = ExperimentRun.Ok(new ReconstructionExperiment(), alone.Path, threads: 1, profile: Profile.Tiny);
        foreach (string csv in new ReconstructionExperiment().Info.CsvNames)
            Assert.Equal(WithoutTimes(Path.Combine(folder, csv)), WithoutTimes(Path.Combine(outcomes[0].Folder, csv)));
    }

    /// <summary>The CSV's lines without its wall-time columns (fit_seconds and the like: measurements of the
    /// machine).</summary>
    static string[] WithoutTimes(string path)
    {
        var lines = File.ReadAllLines(path);
        var keep = lines[0].Split(',').Select((name, i) => (name, i)).Where(c => !c.name.EndsWith("seconds",
            StringComparison.Ordinal)).Select(c => c.i).ToArray();
        return [.. lines.Select(l => string.Join(',', keep.Select(i => l.Split(',')[i])))];
    }
}
