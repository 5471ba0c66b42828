using System.CommandLine;
using System.Globalization;
using Abba.Core.Native;
using Abba.Experiments.Catalogue;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Report;
using Spectre.Console;

namespace Abba.Experiments.Cli;

/// <summary>
/// <c>abba run NAME</c>, <c>abba all</c> and <c>abba merge NAME|all</c>: every option is checked and every experiment
/// configured before any work starts; then the runner runs (or merges) each planned run.
/// </summary>
sealed class RunCommands(CliContext cli)
{
    CommonOptions Options => cli.Options;

    /// <summary><c>abba run NAME [options]</c>: one sub-command per experiment, with its own options.</summary>
    public Command Run()
    {
        var cmd = new Command("run", "run one experiment by name: abba run NAME [options]");
        foreach (var experiment in cli.Experiments)
        {
            var info = experiment.Info;
            var sub = new Command(info.Name, $"{info.Description} ({info.PaperArtefact})");
            Options.AddRunOptions(sub);
            foreach (var o in experiment.Options) sub.Options.Add(o);
            sub.SetAction(parse => RunExperiments(parse, [(experiment, new OptionValues(parse))]));
            cmd.Subcommands.Add(sub);
        }
        cmd.SetAction(_ => cli.BadInput($"name an experiment: abba run NAME. Valid names: {cli.ValidNames()}"));
        return cmd;
    }

    /// <summary><c>abba all</c>: every experiment with its default options, then the summary and the report.</summary>
    public Command All()
    {
        var cmd = new Command("all",
            "run every experiment in registry order, then print a summary and write the report");
        Options.AddRunOptions(cmd);
        cmd.Options.Add(Options.Jobs);
        cmd.Options.Add(Options.Readme);
        cmd.SetAction(parse => RunExperiments(parse, Defaults(), summary: true));
        return cmd;
    }

    /// <summary><c>abba merge NAME|all</c>: outputs built from the units that shards stored.</summary>
    public Command Merge()
    {
        var cmd = new Command("merge",
            "build an experiment's outputs (CSVs, figures, manifest) from the units its shards " +
            "stored: abba merge NAME|all [options]");
        foreach (var experiment in cli.Experiments)
        {
            var info = experiment.Info;
            var sub = new Command(info.Name, $"merge the units of {info.Name} ({info.PaperArtefact})");
            Options.AddSettingsOptions(sub);
            sub.Options.Add(Options.From);
            foreach (var o in experiment.Options) sub.Options.Add(o);
            sub.SetAction(parse => RunExperiments(parse, [(experiment, new OptionValues(parse))], merge: true));
            cmd.Subcommands.Add(sub);
        }
        var all = new Command("all", "merge every experiment, then write the report");
        Options.AddSettingsOptions(all);
        all.Options.Add(Options.From);
        all.SetAction(parse => RunExperiments(parse, Defaults(), summary: true, merge: true));
        cmd.Subcommands.Add(all);
        cmd.SetAction(_ => cli.BadInput($"name an experiment: abba merge NAME. Valid names: all, {cli.ValidNames()}"));
        return cmd;
    }

    (IExperiment, OptionValues)[] Defaults() => [.. cli.Experiments.Select(e => (e, OptionValues.Defaults))];

    int RunExperiments(ParseResult parse, IReadOnlyList<(IExperiment Experiment, OptionValues Values)> chosen,
        bool summary = false, bool merge = false)
    {
        var problems = new List<string>();
        var settings = Options.Read(parse, problems);
        string? readmePath = summary ? parse.GetValue(Options.Readme) : null;
        if (CommonOptions.ReadmeProblem(readmePath) is { } readmeProblem) problems.Add(readmeProblem);
        int jobs = summary && !merge ? parse.GetValue(Options.Jobs) : 1;
        if (jobs < 0) problems.Add($"--jobs must be 0 or more (got {jobs})");
        if (jobs > 1 && settings?.Shard is not null)
            problems.Add("--jobs runs whole experiments side by side; with --shard, run one shard per process");
        var planned = new List<(IExperiment Experiment, IPlannedRun Plan)>();
        if (settings is not null)
            foreach (var (e, values) in chosen)
            {
                var configured = e.Configure(values, settings);
                problems.AddRange(configured.Problems.Select(p => chosen.Count > 1 ? $"{e.Info.Name}: {p}" : p));
                if (configured.Plan is { } run) planned.Add((e, run));
            }
        if (problems.Count > 0)
        {
            foreach (var p in problems) cli.Error.WriteLine("error: " + p);
            return ExitCodes.BadInput;
        }
        return cli.WithTorch(() => Execute(parse, settings!, planned, readmePath, summary, merge, jobs));
    }

    int Execute(
        ParseResult parse, RunSettings settings, IReadOnlyList<(IExperiment Experiment, IPlannedRun Plan)> planned,
        string? readmePath, bool summary, bool merge, int jobs)
    {
        TorchSharp.torch.Device device;
        try { device = TorchRuntime.ResolveDevice(settings.Device); }
        catch (ArgumentException e) { return cli.BadInput(e.Message); }
        if (CommonOptions.OutputProblem(settings) is { } outProblem) return cli.BadInput(outProblem);
        if (planned.Count == 0)
        {
            cli.Out.WriteLine("no experiments are registered yet: nothing to run.");
            return ExitCodes.Ok;
        }
        using var log = new RunLog();
        string commandLine = "abba " + string.Join(' ', parse.Tokens.Select(t => t.Value));
        var runner = new Runner(settings, log, commandLine, cli.Cancel);
        var outcomes = new List<RunOutcome>();
        var wall = System.Diagnostics.Stopwatch.StartNew();
        var sources = merge ? parse.GetValue(Options.From) ?? [] : [];
        var together = planned.Where(p => !Registry.RunsAlone.Contains(p.Experiment.Info.Name)).ToArray();
        var lanes = Lanes.Choose(jobs, settings, device.type == TorchSharp.DeviceType.CPU, Environment.ProcessorCount,
            together.Length);
        if (!merge && settings.Shard is null && lanes.Jobs > 1)
        {
            planned = [.. planned.Except(together)];
            log.Info($"{together.Length} experiments side by side, {lanes.Jobs} at a time, each in its own process " +
                     $"with {lanes.ThreadsEach} libtorch thread(s); then, alone: " +
                     string.Join(", ", planned.Select(p => p.Experiment.Info.Name)));
            outcomes.AddRange(new SideBySide(settings, lanes, log, cli.Cancel)
                .Run([.. together.Select(p => p.Experiment.Info.Name)]));
        }
        foreach (var (e, run) in planned)
        {
            if (cli.Cancel.IsCancellationRequested) break;
            outcomes.Add(merge ? runner.Merge(e, run, sources) : runner.Run(e, run));
            if (outcomes[^1].Status == "refused") cli.Error.WriteLine("error: merge: " + outcomes[^1].Error);
        }
        if (merge && outcomes.Any(o => o.Status == "refused")) return ExitCodes.BadInput;
        if (settings.Shard is { } sharded)
        {
            cli.Out.WriteLine($"shard {sharded} stored its units; when all {sharded.Count} shards are done, " +
                              "run the same command as `abba merge ...` without --shard " +
                              "(add --from DIR for each shard's --out when they differ)");
            return outcomes.All(o => o.Status == "ok") ? ExitCodes.Ok : ExitCodes.Failed;
        }
        if (summary)
        {
            PrintSummary(outcomes);
            string minutes = wall.Elapsed.TotalMinutes.ToString("0.0", CultureInfo.InvariantCulture);
            cli.Out.WriteLine($"{outcomes.Count} experiment(s) in {minutes} minutes wall");
            if (!cli.Cancel.IsCancellationRequested)
            {
                cli.Out.WriteLine($"wrote {ReportWriter.Write(settings.ProfileRoot, cli.Experiments)}");
                if (readmePath is not null) ResultCommands.WriteReadme(cli, readmePath, settings.ProfileRoot);
            }
        }
        if (outcomes.Any(o => o.Status == "cancelled") || cli.Cancel.IsCancellationRequested)
            return ExitCodes.Cancelled;
        return outcomes.All(o => o.Status == "ok") ? ExitCodes.Ok : ExitCodes.Failed;
    }

    void PrintSummary(IReadOnlyList<RunOutcome> outcomes)
    {
        var table = new Table().AddColumns("experiment", "status", "duration", "files written");
        foreach (var o in outcomes)
            table.AddRow(Markup.Escape(o.Name), Markup.Escape(o.Status),
                o.Seconds.ToString("0.0", CultureInfo.InvariantCulture) + " s",
                Markup.Escape($"{o.Files.Count} in {o.Folder}"));
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(cli.Out) });
        console.Write(table);
        foreach (var o in outcomes.Where(o => o.Error is not null)) cli.Out.WriteLine($"{o.Name}: {o.Error}");
    }
}
