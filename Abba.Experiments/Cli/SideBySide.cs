using System.Diagnostics;
using System.Text.Json;
using Abba.Experiments.Memory;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;

namespace Abba.Experiments.Cli;

/// <summary>How <c>abba all</c> spreads its experiments over the cores: <paramref name="Jobs"/> processes side by
/// side, each with <paramref name="ThreadsEach"/> libtorch threads.</summary>
/// <param name="Jobs">Experiments run at once (1: one after another, in this process).</param>
/// <param name="ThreadsEach">libtorch threads of each side-by-side process.</param>
public sealed record Lanes(int Jobs, int ThreadsEach)
{
    /// <summary>
    /// The lanes for <c>--jobs</c> = <paramref name="jobs"/> (0: as many as the cores allow, one thread each, or
    /// cores / <c>--threads</c> when that is given; one on a GPU) over <paramref name="candidates"/> experiments that
    /// may run side by side.
    /// </summary>
    public static Lanes Choose(int jobs, RunSettings settings, bool onCpu, int cores, int candidates)
    {
        int wanted = jobs > 0 ? jobs
            : !onCpu ? 1
            : Math.Max(1, cores / Math.Max(1, settings.Threads));
        int n = Math.Max(1, Math.Min(wanted, candidates));
        int threads = settings.Threads > 0 ? settings.Threads : Math.Max(1, cores / n);
        return new Lanes(n, threads);
    }
}

/// <summary>
/// Runs experiments side by side, each as its own <c>abba run NAME</c> process, so that experiments which train small
/// models on one thread use every core. Each child writes its folder, run.log, units and manifest exactly as
/// <c>abba run NAME --threads T</c> does (the same seed, device and thread count give the same CSVs). Its progress
/// lines are relayed as they come, the rest of what it prints when it ends, and its outcome is read from the manifest
/// it wrote. Ctrl+C stops the children; their finished units are stored, so the same command resumes.
/// </summary>
public sealed class SideBySide(RunSettings settings, Lanes lanes, RunLog log, CancellationToken cancel)
{
    readonly Lock errors = new();

    /// <summary>The command line of the child that runs <paramref name="experiment"/> (after the program).</summary>
    public static IReadOnlyList<string> ArgumentsOf(string experiment, RunSettings settings, int threads) =>
    [
        "run", experiment, "--profile", settings.ProfileName, "--seed", $"{settings.Seed}",
        .. settings.Seeds > 0 ? new[] { "--seeds", $"{settings.Seeds}" } : [],
        "--device", settings.Device, "--threads", $"{threads}", "--out", Path.GetFullPath(settings.OutputRoot),
        .. settings.Fresh ? new[] { "--fresh" } : [],
    ];

    /// <summary>Runs every experiment in <paramref name="names"/>, <see cref="Lanes.Jobs"/> at a time, in the order
    /// given; the outcomes come back in that order.</summary>
    public IReadOnlyList<RunOutcome> Run(IReadOnlyList<string> names)
    {
        var outcomes = new RunOutcome?[names.Count];
        int next = -1;
        var workers = Enumerable.Range(0, lanes.Jobs).Select(_ => Task.Run(() =>
        {
            for (int i; (i = Interlocked.Increment(ref next)) < names.Count && !cancel.IsCancellationRequested;)
                outcomes[i] = RunChild(names[i]);
        })).ToArray();
        Task.WaitAll(workers);
        return [.. outcomes.OfType<RunOutcome>()];
    }

    RunOutcome RunChild(string name)
    {
        var (file, prefix) = ChildMeasurement.CurrentExecutable();
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string a in prefix.Concat(ArgumentsOf(name, settings, lanes.ThreadsEach))) info.ArgumentList.Add(a);
        string folder = settings.FolderOf(name);
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        string lastError = "";
        using var process = new Process { StartInfo = info };
        var held = new List<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line) return;
            if (IsProgress(line)) log.Info(line);
            else lock (held) held.Add(line);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not { } line) return;
            if (line.Length > 0) lastError = line;
            lock (errors) Console.Error.WriteLine(line);
        };
        try { process.Start(); }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new RunOutcome(name, "failed", 0, folder, [], $"cannot start '{file}': {e.Message}");
        }
        log.Info($"{name}: started in its own process (pid {process.Id}); its log: " +
                 Path.Combine(folder, "run.log"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using (cancel.Register(() => Stop(process)))
            process.WaitForExit();
        clock.Stop();
        lock (held) if (held.Count > 0) log.Info(string.Join('\n', held));
        if (cancel.IsCancellationRequested && process.ExitCode != 0)
            return new RunOutcome(name, "cancelled", clock.Elapsed.TotalSeconds, folder, [], "cancelled by the user");
        return OutcomeOf(name, folder, started, process.ExitCode, lastError, clock.Elapsed.TotalSeconds);
    }

    /// <summary>A plain progress line ("[hh:mm:ss] task: k/n ..."): relayed as it comes. Everything else a child
    /// prints (its heading, tables and closing line) is held and printed in one piece when it ends, so two children's
    /// tables never interleave.</summary>
    static bool IsProgress(string line) =>
        line.Length > 10 && line[0] == '[' && line[3] == ':' && line[6] == ':' && line[9] == ']';

    static void Stop(Process process)
    {
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }   // it exited meanwhile
    }

    /// <summary>What the child's manifest says, when it wrote one during this run; otherwise how it exited.</summary>
    static RunOutcome OutcomeOf(string name, string folder, DateTimeOffset started, int exitCode, string lastError,
        double seconds)
    {
        string path = Path.Combine(folder, "manifest.json");
        if (File.Exists(path) && File.GetLastWriteTimeUtc(path) >= started.UtcDateTime)
        {
            using var manifest = Manifest.Load(path);
            var root = manifest.RootElement;
            string status = root.GetProperty("status").GetString() ?? "failed";
            var files = root.GetProperty("files").EnumerateArray().Select(f => f.GetString() ?? "").ToArray();
            string? error = root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String
                ? e.GetString() : null;
            return new RunOutcome(name, status, root.GetProperty("duration_seconds").GetDouble(), folder, files, error);
        }
        string message = lastError.Length > 0 ? lastError : $"the child process exited with code {exitCode}";
        return new RunOutcome(name, exitCode == ExitCodes.Cancelled ? "cancelled" : "failed", seconds, folder, [],
            message);
    }
}
