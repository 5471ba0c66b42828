using System.CommandLine;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Report;

namespace Abba.Experiments.Cli;

/// <summary><c>abba plot</c> and <c>abba report</c>: figures and the report from results already written.</summary>
sealed class ResultCommands(CliContext cli)
{
    /// <summary><c>abba plot NAME|all</c>: redraws the figures from the files in the results folder.</summary>
    public Command Plot()
    {
        var name = new Argument<string>("name") { Description = "an experiment name, or all" };
        var cmd = new Command("plot", "redraw figures from the CSVs already in the results folder, without recomputing")
        {
            name, cli.Options.Profile, cli.Options.Output,
        };
        cmd.SetAction(parse =>
        {
            string which = parse.GetValue(name)!;
            if (cli.Options.ReadRoot(parse, out string? problem) is not { } root) return cli.BadInput(problem!);
            IReadOnlyList<IExperiment> chosen = which == "all" ? cli.Experiments : [cli.Find(which)!];
            if (chosen.Count == 0) cli.Out.WriteLine("no experiments are registered yet: nothing to plot.");
            return chosen.Select(e => Redraw(e, root)).DefaultIfEmpty(ExitCodes.Ok).Max();
        });
        return cmd;
    }

    int Redraw(IExperiment e, string root)
    {
        string folder = Path.Combine(root, e.Info.Name);
        try
        {
            var files = e.Plot(folder);
            cli.Out.WriteLine($"{e.Info.Name}: redrew {files.Count} files in {folder}");
            return ExitCodes.Ok;
        }
        catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException)
        {
            cli.Error.WriteLine($"error: {e.Info.Name}: {ex.Message}");
            return ExitCodes.BadInput;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            cli.Error.WriteLine($"error: {e.Info.Name}: {ex.Message}");
            return ExitCodes.Failed;
        }
    }

    /// <summary><c>abba report</c>: REPORT.md (and, with --readme, the README's generated block).</summary>
    public Command Report()
    {
        var cmd = new Command("report", "write OUT/PROFILE/REPORT.md: the paper's claims beside the measured values, " +
                                        "from that profile's CSVs")
        {
            cli.Options.Profile, cli.Options.Output, cli.Options.Readme,
        };
        cmd.SetAction(parse =>
        {
            string? readmePath = parse.GetValue(cli.Options.Readme);
            if (CommonOptions.ReadmeProblem(readmePath) is { } problem) return cli.BadInput(problem);
            if (cli.Options.ReadRoot(parse, out string? rootProblem) is not { } root) return cli.BadInput(rootProblem!);
            try
            {
                cli.Out.WriteLine($"wrote {ReportWriter.Write(root, cli.Experiments)}");
                if (readmePath is not null) WriteReadme(cli, readmePath, root);
            }
            catch (InvalidDataException e) { return cli.BadInput(e.Message); }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>Rewrites the README's generated block from the results under <paramref name="root"/>.</summary>
    public static void WriteReadme(CliContext cli, string path, string root)
    {
        ReadmeSection.Update(path, root, cli.Experiments);
        cli.Out.WriteLine($"updated the results section of {Path.GetFullPath(path)}");
    }
}
