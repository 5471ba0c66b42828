using System.CommandLine;
using System.Text.Json;
using Abba.Experiments.Cli;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Output;
using Abba.Tests.Output;
using Abba.Tests.Support;

namespace Abba.Tests.Cli;

/// <summary>A test-only experiment (never registered) whose Run is supplied by the test.</summary>
sealed class ProbeExperiment(Action<ExperimentContext> run, int preferredCpuThreads = 0, IReadOnlyList<int>? seeds = null)
    : IExperiment, IPlannedRun
{
    public ExperimentInfo Info { get; } = new("probe", "test-only experiment", "none (test)", [], [])
    {
        PreferredCpuThreads = preferredCpuThreads,
    };
    public IReadOnlyList<Option> Options => [];
    public IReadOnlyDictionary<string, SettingProvenance> Provenance { get; } = new Dictionary<string, SettingProvenance>();
    public IReadOnlyList<string> Deviations => [];
    public IReadOnlyList<Claim> Claims(string folder) => [];
    public Configured Configure(OptionValues values, RunSettings settings) => Configured.Ok(this);
    public IReadOnlyList<string> Plot(string folder) => [];
    object IPlannedRun.Options { get; } = new ProbeConfiguration(Steps: 3, LearningRate: 1e-3);
    public IReadOnlyList<int> Seeds => seeds ?? [];
    public IReadOnlyList<UnitPlan> Units => [];
    public void Run(ExperimentContext context) => run(context);
}

static class ProbeRunner
{
    /// <summary>Runs the probe as its own plan.</summary>
    public static RunOutcome Run(this Runner runner, ProbeExperiment probe) => runner.Run(probe, probe);
}

sealed record ProbeConfiguration(int Steps, double LearningRate);

public class RunnerManifestTests : IDisposable
{
    const string CommandLine = "abba run probe --seed 3 --seeds 2";
    static readonly string[] ManifestKeys =
    [
        "experiment", "paper_artefact", "status", "command_line", "profile", "seeds", "device", "threads", "settings",
        "configuration", "configuration_provenance", "units", "torch_sharp_version", "lib_torch_version", "machine", "sources", "git_commit", "started_utc", "ended_utc",
        "duration_seconds", "files", "error",
    ];

    readonly TempFolder root = new();

    RunOutcome Run(Action<ExperimentContext> body, CancellationToken cancel = default)
    {
        var settings = new RunSettings(Profile.Quick, Seed: 3, Seeds: 2, Device: "cpu", Threads: 0, OutputRoot: root.Path);
        using var log = new RunLog();
        return new Runner(settings, log, CommandLine, cancel).Run(new ProbeExperiment(body, seeds: settings.SeedList(5)));
    }

    JsonElement Manifest()
    {
        using var doc = Abba.Experiments.Output.Manifest.Load(Path.Combine(root.Path, "quick", "probe", "manifest.json"));
        var m = doc.RootElement.Clone();
        Assert.Equal(ManifestKeys.Order(), m.EnumerateObject().Select(p => p.Name).Order());
        var started = m.GetProperty("started_utc").GetDateTimeOffset();
        var ended = m.GetProperty("ended_utc").GetDateTimeOffset();
        Assert.InRange(m.GetProperty("duration_seconds").GetDouble(), 0, (ended - started).TotalSeconds + 0.01);
        Assert.True(started <= ended);
        return m;
    }

    static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    [Fact]
    public void Run_Succeeds_ManifestRecordsTheRunAndEveryFile()
    {
        var outcome = Run(ctx =>
        {
            var seeds = ctx.Settings.SeedList(5);
            ctx.WriteCsv("probe.csv", seeds.Select(s => new ProbeRow { Step = s, TrainLoss = 0.5, Method = "abba" }));
        });

        Assert.Equal("ok", outcome.Status);
        var m = Manifest();
        Assert.Equal("ok", m.GetProperty("status").GetString());
        Assert.Equal(CommandLine, m.GetProperty("command_line").GetString());
        Assert.Equal("quick", m.GetProperty("profile").GetString());
        Assert.Equal([3, 4], m.GetProperty("seeds").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("cpu", m.GetProperty("device").GetString(), ignoreCase: true);
        Assert.StartsWith("0.107.0", m.GetProperty("torch_sharp_version").GetString());
        Assert.StartsWith("2.10.0", m.GetProperty("lib_torch_version").GetString());
        Assert.Equal(3, m.GetProperty("configuration").GetProperty("steps").GetInt32());
        Assert.Equal(JsonValueKind.Null, m.GetProperty("error").ValueKind);
        Assert.Equal(["probe.csv", "manifest.json", "run.log"], Strings(m.GetProperty("files")));
        Assert.All(Strings(m.GetProperty("files")), f => Assert.True(File.Exists(Path.Combine(root.Path, "quick", "probe", f)), f));
        Assert.Equal(2, CsvFiles.Read<ProbeRow>(Path.Combine(root.Path, "quick", "probe", "probe.csv")).Count);
    }

    [Fact]
    public void Run_ExperimentThrows_StatusFailedWithErrorAndCompleteManifest()
    {
        var outcome = Run(ctx =>
        {
            ctx.WriteCsv("probe.csv", new[] { new ProbeRow { Step = 0, TrainLoss = 1, Method = "lora" } });
            throw new InvalidOperationException("loss diverged at step 2");
        });

        Assert.Equal("failed", outcome.Status);
        var m = Manifest();
        Assert.Equal("failed", m.GetProperty("status").GetString());
        Assert.Equal("loss diverged at step 2", m.GetProperty("error").GetString());
        Assert.Equal(["probe.csv", "manifest.json", "run.log"], Strings(m.GetProperty("files")));
        Assert.Contains("loss diverged at step 2", File.ReadAllText(Path.Combine(root.Path, "quick", "probe", "run.log")));
    }

    [Fact]
    public void Run_CancelledBetweenUnits_StatusCancelledAndFinishedFilesKept()
    {
        using var cancel = new CancellationTokenSource();
        var outcome = Run(ctx =>
        {
            ctx.WriteCsv("probe.csv", new[] { new ProbeRow { Step = 0, TrainLoss = 1, Method = "hira" } });
            cancel.Cancel();                 // Ctrl+C during the first unit of work
            ctx.ThrowIfCancelled();
            ctx.WriteCsv("never.csv", new[] { new ProbeRow() });
        }, cancel.Token);

        Assert.Equal("cancelled", outcome.Status);
        var m = Manifest();
        Assert.Equal("cancelled", m.GetProperty("status").GetString());
        Assert.Equal(["probe.csv", "manifest.json", "run.log"], Strings(m.GetProperty("files")));
        Assert.Single(CsvFiles.Read<ProbeRow>(Path.Combine(root.Path, "quick", "probe", "probe.csv")));
        Assert.False(File.Exists(Path.Combine(root.Path, "quick", "probe", "never.csv")));
    }

    [Fact]
    public void Threads_ExplicitWins_ElseTheExperimentsPreference_ElseLibtorchsDefaultRestored()
    {
        int libtorchDefault = Abba.Core.Native.TorchRuntime.Initialise().Threads;
        int RunWith(int threadsOption, int preferred)
        {
            int seen = -1;
            var settings = new RunSettings(Profile.Quick, Seed: 0, Seeds: 1, Device: "cpu", Threads: threadsOption, OutputRoot: root.Path);
            using var log = new RunLog();
            new Runner(settings, log, CommandLine, default).Run(new ProbeExperiment(_ => seen = TorchSharp.torch.get_num_threads(), preferred));
            Assert.Equal(seen, Manifest().GetProperty("threads").GetInt32());
            return seen;
        }
        try
        {
            Assert.Equal(1, RunWith(0, preferred: 1));
            Assert.Equal(libtorchDefault, RunWith(0, preferred: 0));   // a preference does not leak into the next run
            Assert.Equal(2, RunWith(2, preferred: 1));
        }
        finally { Abba.Core.Native.TorchRuntime.SetThreads(0); }
    }

    public void Dispose() => root.Dispose();
}
