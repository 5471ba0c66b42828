using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Abba.Tests.Support;

namespace Abba.Tests.Notebooks;

/// <summary>
/// Runs a notebook the way a user does: in a real .NET Interactive kernel, through the <c>dotnet-repl</c> tool pinned in
/// <c>.config/dotnet-tools.json</c> (<c>dotnet tool run dotnet-repl -- --run NB --exit-after-run --output-path OUT</c>),
/// with the kernel's working directory the notebook's folder, as VS Code and Jupyter set it (the notebooks' <c>#r</c>
/// paths are relative to it). The executed copy goes to a temp folder; the committed notebook stays without outputs.
/// </summary>
static class KernelRunner
{
    /// <summary>Longest a single notebook may run (kernel start included).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    static readonly Lazy<string?> Restore = new(() =>
    {
        var (code, output) = Dotnet(["tool", "restore"], Repo.Root(), new Dictionary<string, string>(), TimeSpan.FromMinutes(3));
        return code == 0 ? null : $"`dotnet tool restore` failed ({code}):\n{output}";
    });

    /// <summary>
    /// Runs <paramref name="notebook"/> with <paramref name="environment"/> set; returns null when every cell ran, otherwise
    /// the first failing cell's number (counting code cells from 1) and error, or why the kernel did not run.
    /// </summary>
    public static string? Run(string notebook, string outputPath, IReadOnlyDictionary<string, string> environment)
    {
        if (Restore.Value is { } restoreError) return restoreError;
        string[] args = ["tool", "run", "dotnet-repl", "--", "--run", Path.GetFileName(notebook), "--exit-after-run", "--output-path", outputPath];
        var (code, output) = Dotnet(args, Path.GetDirectoryName(notebook)!, environment, Timeout);
        if (code == 0) return null;
        string? cell = File.Exists(outputPath) ? FirstError(outputPath) : null;
        return $"{Path.GetFileName(notebook)}: dotnet-repl exited with {code}; {cell ?? "no cell error in its output"}\n--- kernel output (tail) ---\n{Tail(output, 3000)}";
    }

    /// <summary>"cell N: error" for the first code cell whose outputs hold an error, or null.</summary>
    public static string? FirstError(string executedNotebook)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(executedNotebook));
        int index = 0;
        foreach (var cell in doc.RootElement.GetProperty("cells").EnumerateArray())
        {
            if (cell.GetProperty("cell_type").GetString() != "code") continue;
            index++;
            if (!cell.TryGetProperty("outputs", out var outputs)) continue;
            foreach (var o in outputs.EnumerateArray())
                if (o.TryGetProperty("output_type", out var type) && type.GetString() == "error")
                    return $"code cell {index} failed: {(o.TryGetProperty("evalue", out var e) ? e.GetString() : "?")}";
        }
        return null;
    }

    static (int Code, string Output) Dotnet(string[] args, string workingDirectory, IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (-1, $"timed out after {timeout.TotalSeconds:0} s\n{output}");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }

    static string Tail(string text, int length) => text.Length <= length ? text : "..." + text[^length..];
}
