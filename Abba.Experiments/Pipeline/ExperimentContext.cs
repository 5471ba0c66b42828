using Abba.Experiments.Output;
using TorchSharp;
using Abba.Experiments.Units;

namespace Abba.Experiments.Pipeline;

/// <summary>Everything a running experiment needs: where to write, on what device, with which seeds.</summary>
public sealed class ExperimentContext(
    RunSettings settings, string outputDir, torch.Device device, RunLog log, IProgressReporter progress,
    CancellationToken cancel, UnitSession units)
{
    readonly List<string> files = [];

    /// <summary>The common options of this run.</summary>
    public RunSettings Settings { get; } = settings;

    /// <summary>This experiment's results folder (created).</summary>
    public string OutputDir { get; } = outputDir;

    /// <summary>The device tensors and models go to.</summary>
    public torch.Device Device { get; } = device;

    /// <summary>Writes to the console and to run.log.</summary>
    public RunLog Log { get; } = log;

    /// <summary>Reports progress of long loops.</summary>
    public IProgressReporter Progress { get; } = progress;

    /// <summary>Set when the user pressed Ctrl+C: finish the current unit of work, then stop.</summary>
    public CancellationToken Cancel { get; } = cancel;

    /// <summary>The run's units: stored ones are loaded, missing ones computed and stored.</summary>
    public UnitSession Units { get; } = units;

    /// <summary>The result of unit <paramref name="plan"/>: loaded when stored with the same identity and settings,
    /// else computed and stored.</summary>
    public T Unit<T>(UnitPlan plan) => Units.Get<T>(plan.Identity, () => Compute(plan), Log);

    /// <summary>
    /// The results of <paramref name="plans"/> in order, under one progress bar named <paramref name="what"/>; each is
    /// stored as it finishes, so an interrupted run resumes after its last unit. <paramref name="describe"/>, when
    /// given, logs one line per result.
    /// </summary>
    public List<T> UnitsOf<T>(string what, IReadOnlyList<UnitPlan> plans, Func<T, string>? describe = null)
    {
        var results = new List<T>();
        using var progress = Progress.Start(what, plans.Count);
        foreach (var plan in plans)
        {
            results.Add(Unit<T>(plan));
            if (describe is not null) Log.Info(describe(results[^1]));
            progress.Advance();
        }
        return results;
    }

    /// <summary>Makes sure unit <paramref name="plan"/> is stored (a shard's work); returns its payload JSON.</summary>
    public string Ensure(UnitPlan plan) => Units.Ensure(plan.Identity, () => Compute(plan), Log);

    object Compute(UnitPlan plan)
    {
        ThrowIfCancelled();
        return plan.Compute(this);
    }

    /// <summary>The run's profile.</summary>
    public Profile Profile => Settings.Profile;


    /// <summary>Throws <see cref="OperationCanceledException"/> when the user pressed Ctrl+C; call between units of
    /// work.</summary>
    public void ThrowIfCancelled() => Cancel.ThrowIfCancellationRequested();

    /// <summary>Files written so far, relative to <see cref="OutputDir"/>.</summary>
    public IReadOnlyList<string> FilesWritten => files;

    /// <summary>Full path of <paramref name="fileName"/> in the results folder.</summary>
    public string PathOf(string fileName) => Path.Combine(OutputDir, fileName);

    /// <summary>Writes rows to <paramref name="fileName"/> atomically and records it.</summary>
    public void WriteCsv<T>(string fileName, IEnumerable<T> rows)
    {
        CsvFiles.Write(PathOf(fileName), rows);
        Record(fileName);
    }

    /// <summary>Writes a run's summary text to <paramref name="fileName"/> atomically, records it, and logs each of
    /// its lines.</summary>
    public void WriteSummary(string fileName, string text)
    {
        AtomicFile.WriteText(PathOf(fileName), text);
        Record(fileName);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries)) Log.Info(line);
    }

    /// <summary>Records files written by a helper (figures, caches) for the manifest.</summary>
    public void Record(params IEnumerable<string> paths)
    {
        foreach (var p in paths)
        {
            string rel = Path.GetRelativePath(OutputDir, Path.GetFullPath(p, OutputDir));
            if (!files.Contains(rel)) files.Add(rel);
        }
    }
}
