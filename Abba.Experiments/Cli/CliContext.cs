using Abba.Core.Native;
using Abba.Experiments.Pipeline;

namespace Abba.Experiments.Cli;

/// <summary>What every command needs: the writers, the registered experiments, the shared options, Ctrl+C.</summary>
sealed record CliContext(
    TextWriter Out, TextWriter Error, IReadOnlyList<IExperiment> Experiments, CommonOptions Options,
    CancellationToken Cancel)
{
    /// <summary>The experiment named <paramref name="name"/>, or null.</summary>
    public IExperiment? Find(string name) => Experiments.FirstOrDefault(e => e.Info.Name == name);

    /// <summary>The registered names, for error messages.</summary>
    public string ValidNames() =>
        Experiments.Count == 0 ? "(none registered yet)" : string.Join(", ", Experiments.Select(e => e.Info.Name));

    /// <summary>Prints one "error: ..." line and gives the bad-input exit code.</summary>
    public int BadInput(string message)
    {
        Error.WriteLine("error: " + message);
        return ExitCodes.BadInput;
    }

    /// <summary>Runs <paramref name="body"/>; a native runtime that does not load is one message and its exit
    /// code.</summary>
    public int WithTorch(Func<int> body)
    {
        try { return body(); }
        catch (TorchUnavailableException e)
        {
            Error.WriteLine(e.Message);
            return ExitCodes.TorchUnavailable;
        }
    }
}
