using System.Diagnostics;
using Abba.Core.Native;
using Abba.Experiments.Experiments;
using Abba.Experiments.Output;

namespace Abba.Experiments.Cli;

/// <summary>How one experiment run ended.</summary>
/// <param name="Name">Experiment name.</param>
/// <param name="Status">ok, failed or cancelled.</param>
/// <param name="Seconds">Wall time.</param>
/// <param name="Folder">Results folder.</param>
/// <param name="Files">Files written, relative to the folder.</param>
/// <param name="Error">Message when it failed.</param>
public sealed record RunOutcome(string Name, string Status, double Seconds, string Folder, IReadOnlyList<string> Files, string? Error);

/// <summary>Runs configured experiments: results folder, run.log, progress, manifest, and the closing message.</summary>
public sealed class Runner(RunSettings settings, RunLog log, string commandLine, CancellationToken cancel)
{
    /// <summary>Runs one experiment that <see cref="IExperiment.Configure"/> already accepted.</summary>
    public RunOutcome Run(IExperiment experiment)
    {
        var info = TorchRuntime.Initialise();
        var device = TorchRuntime.ResolveDevice(settings.Device);
        TorchRuntime.SetThreads(settings.Threads > 0 ? settings.Threads
            : device.type == TorchSharp.DeviceType.CPU ? experiment.PreferredCpuThreads : 0);
        string folder = Path.GetFullPath(Path.Combine(settings.OutputRoot, experiment.Name));
        Directory.CreateDirectory(folder);
        log.AttachFile(Path.Combine(folder, "run.log"));
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        log.Info($"{experiment.Name}: {experiment.Description} [{settings.Profile.ToString().ToLowerInvariant()} profile, device {device.type.ToString().ToLowerInvariant()}]");
        ExperimentContext? context = null;
        string status = "ok";
        string? error = null;
        try
        {
            ProgressMode.Run(log, progress =>
            {
                context = new ExperimentContext(settings, folder, device, log, progress, cancel);
                experiment.Run(context);
                return 0;
            });
        }
        catch (OperationCanceledException)
        {
            status = "cancelled";
            error = "cancelled by the user";
            log.Warn($"{experiment.Name}: cancelled; files already written are complete.");
        }
        catch (Exception e) when (e is not TorchUnavailableException)
        {
            status = "failed";
            error = e.Message;
            log.Warn($"{experiment.Name} failed: {e.Message}");
            log.Detail(e.ToString());
        }
        clock.Stop();
        var manifest = new Manifest
        {
            Experiment = experiment.Name,
            PaperArtefact = experiment.PaperArtefact,
            Status = status,
            CommandLine = commandLine,
            Profile = settings.Profile.ToString().ToLowerInvariant(),
            Seeds = context?.SeedsUsed ?? settings.SeedList(1),
            Device = device.ToString(),
            Threads = TorchSharp.torch.get_num_threads(),
            Settings = settings,
            Configuration = experiment.Configuration,
            TorchSharpVersion = info.TorchSharpVersion,
            LibTorchVersion = info.LibTorchVersion,
            Machine = Manifest.DescribeMachine(),
            GitCommit = Manifest.GitCommitOrNull(),
            StartedUtc = started,
            EndedUtc = DateTimeOffset.UtcNow,
            DurationSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3),
            Files = [.. context?.FilesWritten ?? [], "manifest.json", "run.log"],
            Error = error,
        };
        manifest.Save(Path.Combine(folder, "manifest.json"));
        log.Info($"{experiment.Name}: {status} in {clock.Elapsed.TotalSeconds:0.0}s; wrote {manifest.Files.Count} files to {folder}");
        log.DetachFile();
        return new RunOutcome(experiment.Name, status, clock.Elapsed.TotalSeconds, folder, manifest.Files, error);
    }
}
