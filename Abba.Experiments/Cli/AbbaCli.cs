using System.CommandLine;
using Abba.Core.Native;
using Abba.Experiments.Catalogue;
using Abba.Experiments.Memory;
using Abba.Experiments.Output;

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
    readonly CommonOptions options = new();
    CliContext? cli;

    /// <summary>Cancelled by Ctrl+C.</summary>
    public CancellationToken Cancel { get; init; } = CancellationToken.None;

    /// <summary>Every registered experiment, created once for this command line.</summary>
    CliContext Cli => cli ??= new CliContext(stdout, stderr, Registry.CreateAll(), options, Cancel);

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    public int Invoke(string[] args)
    {
        string valid = Cli.ValidNames();
        if (args is ["run", var name, ..] && !name.StartsWith('-') && Cli.Find(name) is null)
            return Cli.BadInput($"unknown experiment '{name}'. Valid names: {valid}");
        if (args is [("merge" or "plot"), var other, ..] && !other.StartsWith('-') && other != "all"
            && Cli.Find(other) is null)
            return Cli.BadInput($"unknown experiment '{other}'. Valid names: all, {valid}");
        var parse = BuildRoot().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) stderr.WriteLine("error: " + e.Message);
            return ExitCodes.BadInput;
        }
        var invocation = new InvocationConfiguration
        {
            Output = stdout, Error = stderr, ProcessTerminationTimeout = null,
        };
        return parse.Invoke(invocation);
    }

    /// <summary>The full command tree (also read by the tests that check the README's command reference).</summary>
    public RootCommand BuildRoot()
    {
        var runs = new RunCommands(Cli);
        var results = new ResultCommands(Cli);
        var root = new RootCommand("abba: reproduce the ABBA-Adapters experiments and compare ABBA, LoRA and HiRA at " +
                                   "equal parameter budgets.");
        Command[] commands = [List(), runs.Run(), runs.All(), runs.Merge(), results.Plot(), results.Report(), Info()];
        foreach (var command in commands) root.Subcommands.Add(command);
        root.Subcommands.Add(ChildMeasurement.Command(stdout, stderr));
        root.Subcommands.Add(Encoder.EncoderMemory.Command(stdout, stderr));
        root.Subcommands.Add(DataCommands.Command(stdout, stderr));
        return root;
    }

    Command List()
    {
        var cmd = new Command("list", "every experiment with what it measures and the paper artefact it reproduces");
        cmd.SetAction(_ =>
        {
            foreach (var e in Cli.Experiments)
                stdout.WriteLine($"{e.Info.Name,-16} {e.Info.PaperArtefact,-14} {e.Info.Description}");
            if (Cli.Experiments.Count == 0) stdout.WriteLine("(no experiments are registered yet)");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    Command Info()
    {
        var cmd = new Command("info", "TorchSharp and libtorch versions, devices, threads, where results go")
        {
            options.Output,
        };
        cmd.SetAction(parse => Cli.WithTorch(() =>
        {
            var info = TorchRuntime.Initialise();
            string cuda = info.CudaAvailable ? $", cuda x{info.CudaDevices}" : " (no CUDA device)";
            string names = Cli.Experiments.Count == 0 ? "(none registered)" : Cli.ValidNames();
            stdout.WriteLine($"TorchSharp      {info.TorchSharpVersion} ({TorchRuntime.BackendName} backend)");
            stdout.WriteLine($"libtorch        {info.LibTorchVersion}");
            stdout.WriteLine($"devices         cpu{cuda}");
            stdout.WriteLine($"threads         {info.Threads} (libtorch intra-op)");
            stdout.WriteLine($"machine         {Manifest.DescribeMachine()}");
            stdout.WriteLine($"results         {Path.GetFullPath(parse.GetValue(options.Output)!)}");
            stdout.WriteLine($"experiments     {names}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
