using System.CommandLine;
using System.Globalization;
using Abba.Core.Native;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Catalogue;
using Abba.Experiments.Memory;
using Abba.Experiments.Output;
using Abba.Experiments.Report;
using Abba.Experiments.Units;
using Spectre.Console;
using Profile = Abba.Experiments.Pipeline.Profile;

namespace Abba.Experiments.Cli;

/// <summary>Exit codes of <c>abba</c>.</summary>
public static class ExitCodes
{
    /// <summary>Everything ran.</summary>
    public const int Ok = 0;
    /// <summary>An experiment failed.</summary>
    public const int Failed = 1;
    /// <summary>Bad command-line input; nothing ran.</summary>
    public const int BadInput = 2;
    /// <summary>TorchSharp's native runtime did not load.</summary>
    public const int TorchUnavailable = 3;
    /// <summary>Stopped by Ctrl+C.</summary>
    public const int Cancelled = 130;
}

/// <summary>The <c>abba</c> command line: list, run, all, merge, plot, report, info.</summary>
public sealed class AbbaCli(TextWriter stdout, TextWriter stderr)
{
    readonly Option<string> profile = new("--profile") { Description = "quick (CPU-friendly default), paper (the paper's settings) or tiny (seconds, for smoke tests)", DefaultValueFactory = _ => "quick" };
    readonly Option<int> seed = new("--seed") { Description = "first seed", DefaultValueFactory = _ => 0 };
    readonly Option<int?> seeds = new("--seeds") { Description = "number of seeds (seed, seed+1, ...); default: the profile's" };
    readonly Option<string> device = new("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => "auto" };
    readonly Option<int> threads = new("--threads") { Description = "libtorch threads (0 = libtorch's default; ablation then uses 1)", DefaultValueFactory = _ => 0 };
    readonly Option<string> output = new("--out") { Description = "results root folder", DefaultValueFactory = _ => RunSettings.DefaultOutputRoot };
    readonly Option<bool> fresh = new("--fresh") { Description = "start over: remove the experiment's stored units and pre-training cache first (default: resume, re-using units stored with the same settings)" };
    readonly Option<string?> shard = new("--shard") { Description = "I/N: compute only shard I of N (counting from 1) of the units and store them; abba merge then builds the outputs" };
    readonly Option<string[]> from = new("--from") { Description = "another results root whose units to merge (a shard's --out); repeat for each", AllowMultipleArgumentsPerToken = false };
    readonly Option<string?> readme = new("--readme") { Description = "also rewrite the generated results section (runs, claims, figures) of this README" };

    readonly IReadOnlyList<IExperiment> experiments = Registry.CreateAll();

    /// <summary>Cancelled by Ctrl+C.</summary>
    public CancellationToken Cancel { get; init; } = CancellationToken.None;

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    public int Invoke(string[] args)
    {
        if (args is ["run", var name, ..] && !name.StartsWith('-') && Find(name) is null)
            return BadInput($"unknown experiment '{name}'. Valid names: {ValidNames()}");
        if (args is ["merge", var mergeName, ..] && !mergeName.StartsWith('-') && mergeName != "all" && Find(mergeName) is null)
            return BadInput($"unknown experiment '{mergeName}'. Valid names: all, {ValidNames()}");
        if (args is ["plot", var plotName, ..] && !plotName.StartsWith('-') && plotName != "all" && Find(plotName) is null)
            return BadInput($"unknown experiment '{plotName}'. Valid names: all, {ValidNames()}");
        var root = BuildRoot();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) stderr.WriteLine("error: " + e.Message);
            return ExitCodes.BadInput;
        }
        return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, ProcessTerminationTimeout = null });
    }

    /// <summary>The full command tree (also read by the tests that check the README's command reference).</summary>
    public RootCommand BuildRoot()
    {
        var root = new RootCommand("abba: reproduce the ABBA-Adapters experiments and compare ABBA, LoRA and HiRA at equal parameter budgets.");
        root.Subcommands.Add(ListCommand());
        root.Subcommands.Add(RunCommand());
        root.Subcommands.Add(AllCommand());
        root.Subcommands.Add(MergeCommand());
        root.Subcommands.Add(PlotCommand());
        root.Subcommands.Add(ReportCommand());
        root.Subcommands.Add(InfoCommand());
        root.Subcommands.Add(ChildMeasurement.Command(stdout, stderr));
        return root;
    }

    Command ListCommand()
    {
        var cmd = new Command("list", "every experiment with what it measures and the paper artefact it reproduces");
        cmd.SetAction(_ =>
        {
            foreach (var e in experiments) stdout.WriteLine($"{e.Info.Name,-16} {e.Info.PaperArtefact,-14} {e.Info.Description}");
            if (Registry.Names.Count == 0) stdout.WriteLine("(no experiments are registered yet)");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    Command RunCommand()
    {
        var cmd = new Command("run", "run one experiment by name: abba run NAME [options]");
        foreach (var experiment in experiments)
        {
            var sub = new Command(experiment.Info.Name, $"{experiment.Info.Description} ({experiment.Info.PaperArtefact})");
            AddCommonOptions(sub);
            foreach (var o in experiment.Options) sub.Options.Add(o);
            sub.SetAction(parse => RunExperiments(parse, [(experiment, new OptionValues(parse))]));   // the instance whose Option objects were parsed
            cmd.Subcommands.Add(sub);
        }
        cmd.SetAction(_ => BadInput($"name an experiment: abba run NAME. Valid names: {ValidNames()}"));
        return cmd;
    }

    Command AllCommand()
    {
        var cmd = new Command("all", "run every experiment in registry order, then print a summary and write the report");
        AddCommonOptions(cmd);
        cmd.Options.Add(readme);
        cmd.SetAction(parse => RunExperiments(parse, experiments.Select(e => (e, OptionValues.Defaults)).ToArray(), summary: true));
        return cmd;
    }

    Command MergeCommand()
    {
        var cmd = new Command("merge", "build an experiment's outputs (CSVs, figures, manifest) from the units its shards stored: abba merge NAME|all [options]");
        foreach (var experiment in experiments)
        {
            var sub = new Command(experiment.Info.Name, $"merge the units of {experiment.Info.Name} ({experiment.Info.PaperArtefact})");
            AddSettingsOptions(sub);
            sub.Options.Add(from);
            foreach (var o in experiment.Options) sub.Options.Add(o);
            sub.SetAction(parse => RunExperiments(parse, [(experiment, new OptionValues(parse))], merge: true));
            cmd.Subcommands.Add(sub);
        }
        var all = new Command("all", "merge every experiment, then write the report");
        AddSettingsOptions(all);
        all.Options.Add(from);
        all.SetAction(parse => RunExperiments(parse, experiments.Select(e => (e, OptionValues.Defaults)).ToArray(), summary: true, merge: true));
        cmd.Subcommands.Add(all);
        cmd.SetAction(_ => BadInput($"name an experiment: abba merge NAME. Valid names: all, {ValidNames()}"));
        return cmd;
    }

    Command PlotCommand()
    {
        var name = new Argument<string>("name") { Description = "an experiment name, or all" };
        var cmd = new Command("plot", "redraw figures from the CSVs already in the results folder, without recomputing") { name, profile, output };
        cmd.SetAction(parse =>
        {
            string which = parse.GetValue(name)!;
            if (ReadRoot(parse) is not { } root) return ExitCodes.BadInput;
            IReadOnlyList<IExperiment> chosen = which == "all" ? experiments : [Find(which)!];
            if (chosen.Count == 0) stdout.WriteLine("no experiments are registered yet: nothing to plot.");
            int code = ExitCodes.Ok;
            foreach (var e in chosen)
            {
                string folder = Path.Combine(root, e.Info.Name);
                try
                {
                    var files = e.Plot(folder);
                    stdout.WriteLine($"{e.Info.Name}: redrew {files.Count} files in {folder}");
                }
                catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException)
                {
                    stderr.WriteLine($"error: {e.Info.Name}: {ex.Message}");
                    code = ExitCodes.BadInput;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    stderr.WriteLine($"error: {e.Info.Name}: {ex.Message}");
                    code = ExitCodes.Failed;
                }
            }
            return code;
        });
        return cmd;
    }

    Command ReportCommand()
    {
        var cmd = new Command("report", "write OUT/PROFILE/REPORT.md: the paper's claims beside the measured values, from that profile's CSVs") { profile, output, readme };
        cmd.SetAction(parse =>
        {
            string? readmePath = parse.GetValue(readme);
            if (ReadmeProblem(readmePath) is { } problem) return BadInput(problem);
            if (ReadRoot(parse) is not { } root) return ExitCodes.BadInput;
            try
            {
                stdout.WriteLine($"wrote {ReportWriter.Write(root, experiments)}");
                if (readmePath is not null) WriteReadme(readmePath, root);
            }
            catch (InvalidDataException e) { return BadInput(e.Message); }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    Command InfoCommand()
    {
        var cmd = new Command("info", "TorchSharp and libtorch versions, devices, threads, where results go") { output };
        cmd.SetAction(parse => WithTorch(() =>
        {
            var info = TorchRuntime.Initialise();
            stdout.WriteLine($"TorchSharp      {info.TorchSharpVersion} ({TorchRuntime.BackendName} backend)");
            stdout.WriteLine($"libtorch        {info.LibTorchVersion}");
            stdout.WriteLine($"devices         cpu{(info.CudaAvailable ? $", cuda x{info.CudaDevices}" : " (no CUDA device)")}");
            stdout.WriteLine($"threads         {info.Threads} (libtorch intra-op)");
            stdout.WriteLine($"machine         {Manifest.DescribeMachine()}");
            stdout.WriteLine($"results         {Path.GetFullPath(parse.GetValue(output)!)}");
            stdout.WriteLine($"experiments     {(Registry.Names.Count == 0 ? "(none registered)" : string.Join(", ", Registry.Names))}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    void AddCommonOptions(Command cmd)
    {
        AddSettingsOptions(cmd);
        cmd.Options.Add(fresh);
        cmd.Options.Add(shard);
    }

    /// <summary>The options that decide a run's results (and so its units): a merge takes the same ones as its
    /// shards.</summary>
    void AddSettingsOptions(Command cmd)
    {
        foreach (var o in new Option[] { profile, seed, seeds, device, threads, output }) cmd.Options.Add(o);
    }

    /// <summary>The profile's results folder for plot and report (OUT/PROFILE), or null after a one-line
    /// error.</summary>
    string? ReadRoot(ParseResult parse)
    {
        string profileText = parse.GetValue(profile)!;
        if (ParseProfile(profileText) is not { } p)
        {
            BadInput($"--profile must be quick, paper or tiny (got '{profileText}')");
            return null;
        }
        string o = parse.GetValue(output)!;
        if (File.Exists(o))
        {
            BadInput($"--out: '{o}' is a file; give the results root folder");
            return null;
        }
        return new RunSettings(p, 0, 0, "cpu", 0, o).ProfileRoot;
    }

    static Profile? ParseProfile(string text) => text switch { "quick" => Profile.Quick, "paper" => Profile.Paper, "tiny" => Profile.Tiny, _ => null };

    int RunExperiments(ParseResult parse, IReadOnlyList<(IExperiment Experiment, OptionValues Values)> plan, bool summary = false, bool merge = false)
    {
        var settings = ReadSettings(parse, out var problems);
        string? readmePath = summary ? parse.GetValue(readme) : null;
        if (ReadmeProblem(readmePath) is { } readmeProblem) problems.Add(readmeProblem);
        var planned = new List<(IExperiment Experiment, IPlannedRun Plan)>();
        if (settings is not null)
            foreach (var (e, values) in plan)
            {
                var configured = e.Configure(values, settings);
                problems.AddRange(configured.Problems.Select(p => plan.Count > 1 ? $"{e.Info.Name}: {p}" : p));
                if (configured.Plan is { } run) planned.Add((e, run));
            }
        if (problems.Count > 0)
        {
            foreach (var p in problems) stderr.WriteLine("error: " + p);
            return ExitCodes.BadInput;
        }
        return WithTorch(() =>
        {
            try { TorchRuntime.ResolveDevice(settings!.Device); }
            catch (ArgumentException e) { return BadInput(e.Message); }
            if (OutputProblem(settings) is { } outProblem) return BadInput(outProblem);
            if (plan.Count == 0)
            {
                stdout.WriteLine("no experiments are registered yet: nothing to run.");
                return ExitCodes.Ok;
            }
            using var log = new RunLog();
            var runner = new Runner(settings!, log, "abba " + string.Join(' ', parse.Tokens.Select(t => t.Value)), Cancel);
            var outcomes = new List<RunOutcome>();
            var sources = merge ? parse.GetValue(from) ?? [] : [];
            foreach (var (e, run) in planned)
            {
                if (Cancel.IsCancellationRequested) break;
                outcomes.Add(merge ? runner.Merge(e, run, sources) : runner.Run(e, run));
                if (outcomes[^1].Status == "refused") stderr.WriteLine("error: merge: " + outcomes[^1].Error);
            }
            if (merge && outcomes.Any(o => o.Status == "refused")) return ExitCodes.BadInput;
            if (settings!.Shard is { } sharded)
            {
                stdout.WriteLine($"shard {sharded} stored its units; when all {sharded.Count} shards are done, run the same command as `abba merge ...` without --shard (add --from DIR for each shard's --out when they differ)");
                return outcomes.All(o => o.Status == "ok") ? ExitCodes.Ok : ExitCodes.Failed;
            }
            if (summary)
            {
                PrintSummary(outcomes);
                if (!Cancel.IsCancellationRequested)
                {
                    string root = settings.ProfileRoot;
                    stdout.WriteLine($"wrote {ReportWriter.Write(root, experiments)}");
                    if (readmePath is not null) WriteReadme(readmePath, root);
                }
            }
            if (outcomes.Any(o => o.Status == "cancelled") || Cancel.IsCancellationRequested) return ExitCodes.Cancelled;
            return outcomes.All(o => o.Status == "ok") ? ExitCodes.Ok : ExitCodes.Failed;
        });
    }

    RunSettings? ReadSettings(ParseResult parse, out List<string> problems)
    {
        problems = [];
        string profileText = parse.GetValue(profile)!;
        Profile? p = ParseProfile(profileText);
        if (p is null) problems.Add($"--profile must be quick, paper or tiny (got '{profileText}')");
        int s = parse.GetValue(seed);
        if (s < 0) problems.Add($"--seed must be 0 or more (got {s})");
        int? k = parse.GetValue(seeds);
        if (k is < 1) problems.Add($"--seeds must be 1 or more (got {k})");
        string d = parse.GetValue(device)!;
        if (d is not ("auto" or "cpu" or "cuda")) problems.Add($"--device must be auto, cpu or cuda (got '{d}')");
        int t = parse.GetValue(threads);
        if (t < 0) problems.Add($"--threads must be 0 or more (got {t})");
        string o = parse.GetValue(output)!;
        if (string.IsNullOrWhiteSpace(o)) problems.Add("--out must name a folder");
        Shard? part = null;
        if (parse.GetResult(shard) is not null && parse.GetValue(shard) is { } shardText && Shard.Parse(shardText, out string? shardProblem) is var parsed)
            if (parsed is null) problems.Add(shardProblem!); else part = parsed;
        bool isFresh = parse.GetResult(fresh) is not null && parse.GetValue(fresh);
        return problems.Count > 0 ? null : new RunSettings(p!.Value, s, k ?? 0, d, t, o, part, isFresh);
    }

    /// <summary>Why results cannot be written under <c>--out</c> (a file, or not writable), or null; creates the
    /// profile folder.</summary>
    static string? OutputProblem(RunSettings settings)
    {
        if (File.Exists(settings.OutputRoot)) return $"--out: '{settings.OutputRoot}' is a file; give a folder for the results";
        try
        {
            Directory.CreateDirectory(settings.ProfileRoot);
            string probe = Path.Combine(settings.ProfileRoot, $".write-test-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return $"--out: cannot write results under '{settings.OutputRoot}' ({e.Message})";
        }
    }

    /// <summary>Why <paramref name="path"/> cannot take the generated results section, or null when it can.</summary>
    static string? ReadmeProblem(string? path)
    {
        if (path is null) return null;
        if (!File.Exists(path)) return $"--readme: no file '{path}'";
        try
        {
            ReadmeSection.Replace(File.ReadAllText(path), "");
            return null;
        }
        catch (InvalidDataException e) { return $"--readme: {path}: {e.Message}"; }
    }

    void WriteReadme(string path, string root)
    {
        ReadmeSection.Update(path, root, experiments);
        stdout.WriteLine($"updated the results section of {Path.GetFullPath(path)}");
    }

    void PrintSummary(IReadOnlyList<RunOutcome> outcomes)
    {
        var table = new Table().AddColumns("experiment", "status", "duration", "files written");
        foreach (var o in outcomes)
            table.AddRow(Markup.Escape(o.Name), Markup.Escape(o.Status),
                o.Seconds.ToString("0.0", CultureInfo.InvariantCulture) + " s", Markup.Escape($"{o.Files.Count} in {o.Folder}"));
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
        console.Write(table);
        foreach (var o in outcomes.Where(o => o.Error is not null)) stdout.WriteLine($"{o.Name}: {o.Error}");
    }

    int WithTorch(Func<int> body)
    {
        try { return body(); }
        catch (TorchUnavailableException e)
        {
            stderr.WriteLine(e.Message);
            return ExitCodes.TorchUnavailable;
        }
    }

    IExperiment? Find(string name) => experiments.FirstOrDefault(e => e.Info.Name == name);

    static string ValidNames() => Registry.Names.Count == 0 ? "(none registered yet)" : string.Join(", ", Registry.Names);

    int BadInput(string message)
    {
        stderr.WriteLine("error: " + message);
        return ExitCodes.BadInput;
    }
}
