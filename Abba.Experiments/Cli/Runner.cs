using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Abba.Core.Native;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Catalogue;
using Abba.Experiments.Output;
using Abba.Experiments.Units;

namespace Abba.Experiments.Cli;

/// <summary>How one experiment run ended.</summary>
/// <param name="Name">Experiment name.</param>
/// <param name="Status">ok, failed, cancelled, or refused (a merge with units missing).</param>
/// <param name="Seconds">Wall time.</param>
/// <param name="Folder">Results folder.</param>
/// <param name="Files">Files written, relative to the folder.</param>
/// <param name="Error">Message when it failed.</param>
public sealed record RunOutcome(
    string Name, string Status, double Seconds, string Folder, IReadOnlyList<string> Files, string? Error);

/// <summary>
/// Runs configured experiments: results folder, run.log, progress, manifest, and the closing message. A run loads the
/// units already stored under the same settings and computes the rest; a shard computes its share of the units and
/// stores them only; a merge builds the outputs from stored units alone.
/// </summary>
public sealed class Runner(RunSettings settings, RunLog log, string commandLine, CancellationToken cancel)
{
    static readonly JsonSerializerOptions SettingsJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>Runs <paramref name="plan"/>, as <see cref="IExperiment.Configure"/> planned it (its shard only, when
    /// sharded).</summary>
    public RunOutcome Run(IExperiment experiment, IPlannedRun plan) =>
        settings.Shard is { } shard
            ? RunShard(experiment.Info, plan, shard)
            : Execute(experiment, plan, mayCompute: true);

    /// <summary>
    /// Builds an experiment's outputs from units alone: copies the unit files under each of <paramref name="from"/>
    /// (results roots of the shards) into this run's units folder, then refuses when any unit is missing.
    /// </summary>
    public RunOutcome Merge(IExperiment experiment, IPlannedRun plan, IReadOnlyList<string> from)
    {
        var info = experiment.Info;
        string folder = settings.FolderOf(info.Name);
        var store = new UnitStore(Path.Combine(folder, "units"));
        foreach (string root in from)
        {
            string shardUnits = Path.Combine(Path.GetFullPath(root), settings.ProfileName, info.Name, "units");
            Gather(new UnitStore(shardUnits), store);
        }
        var device = TorchRuntime.ResolveDevice(settings.Device);
        string settingsJson = SettingsOf(info, plan, device);
        if (MissingUnits(info, plan, store, settingsJson) is { } refusal)
            return new RunOutcome(info.Name, "refused", 0, folder, [], refusal);
        return Execute(experiment, plan, mayCompute: false);
    }

    RunOutcome Execute(IExperiment definition, IPlannedRun plan, bool mayCompute)
    {
        var experiment = definition.Info;
        var info = TorchRuntime.Initialise();
        var device = SetUp(experiment, out string folder);
        log.AttachFile(Path.Combine(folder, "run.log"));
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        log.Info($"{experiment.Name}: {experiment.Description} " +
                 $"[{settings.ProfileName} profile, device {NameOf(device)}]");
        var units = new UnitSession(new UnitStore(Path.Combine(folder, "units")), experiment.Name,
            SettingsOf(experiment, plan, device), shard: null, mayCompute);
        if (units.ResumeLine(experiment.Name, [.. plan.Units.Select(u => u.Identity)]) is { } resuming)
            log.Info(resuming);
        ExperimentContext? context = null;
        var (status, error) = Guard(experiment, () => ProgressMode.Run(log, progress =>
        {
            context = new ExperimentContext(settings, folder, device, log, progress, cancel, units);
            plan.Run(context);
            return 0;
        }));
        clock.Stop();
        if (units.Loaded + units.Recomputed > 0)
            log.Info($"{experiment.Name}: {units.Loaded} units loaded from {units.Store.Folder}, " +
                     $"{units.Computed} computed, {units.Recomputed} recomputed");
        var manifest = new Manifest
        {
            Experiment = experiment.Name,
            PaperArtefact = experiment.PaperArtefact,
            Status = status,
            CommandLine = commandLine,
            Profile = settings.ProfileName,
            Seeds = plan.Seeds,
            Device = device.ToString(),
            Threads = TorchSharp.torch.get_num_threads(),
            Settings = settings with { Shard = null, Fresh = false },
            Configuration = plan.Options,
            ConfigurationProvenance = SettingSources.ForManifest(definition),
            Units = new UnitsSummary(
                units.SettingsHash, units.Loaded, units.Computed, units.Recomputed, [.. units.Contributors]),
            TorchSharpVersion = info.TorchSharpVersion,
            LibTorchVersion = info.LibTorchVersion,
            Machine = Manifest.DescribeMachine(),
            Sources = Registry.SourcesOf(definition),
            GitCommit = Manifest.GitCommitOrNull(),
            StartedUtc = started,
            EndedUtc = DateTimeOffset.UtcNow,
            DurationSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3),
            Files = [.. context?.FilesWritten ?? [], "manifest.json", "run.log"],
            Error = error,
        };
        manifest.Save(Path.Combine(folder, "manifest.json"));
        log.Info($"{experiment.Name}: {status} in {clock.Elapsed.TotalSeconds:0.0}s; " +
                 $"wrote {manifest.Files.Count} files to {folder}");
        log.DetachFile();
        return new RunOutcome(experiment.Name, status, clock.Elapsed.TotalSeconds, folder, manifest.Files, error);
    }

    /// <summary>Computes and stores this shard's units (and whatever they need); writes no CSV, figure or
    /// manifest.</summary>
    RunOutcome RunShard(ExperimentInfo experiment, IPlannedRun plan, Shard shard)
    {
        TorchRuntime.Initialise();
        var device = SetUp(experiment, out string folder);
        string logName = $"shard-{shard.Index}-of-{shard.Count}-{Environment.MachineName}.log";
        log.AttachFile(Path.Combine(folder, "logs", logName));
        var clock = Stopwatch.StartNew();
        var plans = plan.Units;
        var mine = shard.Select(plans.Select(p => (p.Identity, p.Cost)));
        log.Info($"{experiment.Name}: shard {shard} runs {mine.Count} of {plans.Count} units " +
                 $"[{settings.ProfileName} profile, device {NameOf(device)}]");
        var units = new UnitSession(new UnitStore(Path.Combine(folder, "units")), experiment.Name,
            SettingsOf(experiment, plan, device), shard.ToString());
        var myIdentities = plans.Where(p => mine.Contains(p.Identity)).Select(p => p.Identity);
        if (units.ResumeLine(experiment.Name, [.. myIdentities]) is { } resuming)
            log.Info(resuming);
        var (status, error) = Guard(experiment, () => ProgressMode.Run(log, progress =>
        {
            var ctx = new ExperimentContext(settings, folder, device, log, progress, cancel, units);
            using var task = progress.Start($"{experiment.Name} shard {shard}", mine.Count);
            foreach (var unit in plans.Where(p => mine.Contains(p.Identity)))
            {
                ctx.Ensure(unit);
                task.Advance();
            }
            return 0;
        }));
        log.Info($"{experiment.Name}: shard {shard} {status} in {clock.Elapsed.TotalSeconds:0.0}s: " +
                 $"{units.Computed + units.Recomputed} units computed, {units.Loaded} already stored, " +
                 $"in {units.Store.Folder}");
        if (status == "ok")
            log.Info($"when every shard is done, build the outputs with: abba merge {experiment.Name} " +
                     "(same options, without --shard; --from DIR per shard folder when they differ)");
        log.DetachFile();
        return new RunOutcome(experiment.Name, status, clock.Elapsed.TotalSeconds, units.Store.Folder, [], error);
    }

    TorchSharp.torch.Device SetUp(ExperimentInfo experiment, out string folder)
    {
        var device = TorchRuntime.ResolveDevice(settings.Device);
        TorchRuntime.SetThreads(settings.Threads > 0 ? settings.Threads
            : device.type == TorchSharp.DeviceType.CPU ? experiment.PreferredCpuThreads : 0);
        string root = folder = settings.FolderOf(experiment.Name);
        if (settings.Fresh)
            foreach (string stored in new[] { "units", "cache" }.Select(f => Path.Combine(root, f))
                         .Where(Directory.Exists))
            {
                Directory.Delete(stored, recursive: true);
                log.Info($"{experiment.Name}: --fresh: removed {stored}");
            }
        Directory.CreateDirectory(folder);
        return device;
    }

    (string Status, string? Error) Guard(ExperimentInfo experiment, Action body)
    {
        try
        {
            body();
            return ("ok", null);
        }
        catch (OperationCanceledException)
        {
            log.Warn($"{experiment.Name}: cancelled; finished units are stored, " +
                     "and rerunning the same command resumes.");
            return ("cancelled", "cancelled by the user");
        }
        catch (Exception e) when (e is not TorchUnavailableException)
        {
            log.Warn($"{experiment.Name} failed: {e.Message}");
            log.Detail(e.ToString());
            return ("failed", e.Message);
        }
    }

    /// <summary>The settings that change a unit's result: hashed into every unit's file name.</summary>
    string SettingsOf(ExperimentInfo experiment, IPlannedRun plan, TorchSharp.torch.Device device) =>
        JsonSerializer.Serialize(new
        {
            Format = UnitIdentity.Format,
            Experiment = experiment.Name,
            Profile = settings.ProfileName,
            settings.Seed,
            settings.Seeds,
            Device = NameOf(device),
            Configuration = plan.UnitSettings,
        }, SettingsJson);

    static string NameOf(TorchSharp.torch.Device device) => device.type.ToString().ToLowerInvariant();

    void Gather(UnitStore source, UnitStore target)
    {
        if (source.Folder == target.Folder) return;
        int copied = 0;
        foreach (var (path, unit, problem) in source.ReadAll())
        {
            if (unit is null) { log.Warn($"{problem}; skipped"); continue; }
            if (File.Exists(target.PathOf(unit.Hash))) continue;
            Directory.CreateDirectory(target.Folder);
            AtomicFile.WriteBytes(target.PathOf(unit.Hash), File.ReadAllBytes(path));
            copied++;
        }
        log.Info($"merge: {copied} units copied from {source.Folder}");
    }

    /// <summary>Why a merge must refuse (one line), or null when every planned unit is stored.</summary>
    string? MissingUnits(ExperimentInfo experiment, IPlannedRun plan, UnitStore store, string settingsJson)
    {
        string settingsHash = UnitIdentity.Sha256(settingsJson);
        var plans = plan.Units;
        var damaged = new List<string>();
        var missing = plans.Where(p =>
        {
            var unit = store.Read(UnitIdentity.Hash(settingsHash, p.Identity), out string? problem);
            if (problem is not null) damaged.Add(problem);
            return unit is null;
        }).ToArray();
        if (missing.Length == 0) return null;
        string kinds = string.Join(", ",
            missing.GroupBy(p => UnitIdentity.Kind(p.Identity)).Select(g => $"{g.Count()} {g.Key}"));
        var foreign = store.ReadAll().Select(u => u.Unit).OfType<UnitRecord>()
            .FirstOrDefault(u => u.SettingsHash != settingsHash);
        string other = foreign is null ? ""
            : $"; units of other settings are stored " +
              $"({string.Join("; ", UnitStore.Differences(foreign.SettingsJson, settingsJson).Take(3))}): " +
              "give merge the shards' options";
        string more = damaged.Count > 1 ? $" and {damaged.Count - 1} more" : "";
        string broken = damaged.Count == 0 ? "" : $"; damaged: {damaged[0]}{more}";
        return $"{experiment.Name}: {missing.Length} of {plans.Count} units missing ({kinds}) in {store.Folder}" +
               $"{broken}{other}; run the missing shards (or abba run {experiment.Name} with the same options) first";
    }
}
