using System.Globalization;

namespace Abba.Experiments.Output;

/// <summary>Timestamped lines to the console and, once a folder is attached, to its run.log.</summary>
public sealed class RunLog : IDisposable
{
    readonly Lock gate = new();
    StreamWriter? file;

    /// <summary>Where console lines go instead of standard output (set while a live progress display is up).</summary>
    public Action<string>? ConsoleSink { get; set; }

    /// <summary>Starts (or replaces) the log file at <paramref name="path"/>.</summary>
    public void AttachFile(string path)
    {
        lock (gate)
        {
            file?.Dispose();
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            file = new StreamWriter(path, append: false) { AutoFlush = true, NewLine = "\n" };
        }
    }

    /// <summary>Stops writing to the file.</summary>
    public void DetachFile()
    {
        lock (gate) { file?.Dispose(); file = null; }
    }

    /// <summary>Writes an informational line.</summary>
    public void Info(string message) => Write(message, Console.Out);

    /// <summary>Writes a warning line to standard error.</summary>
    public void Warn(string message) => Write("warning: " + message, Console.Error);

    /// <summary>Writes a line to the file only (details that would clutter the console).</summary>
    public void Detail(string message)
    {
        lock (gate) file?.WriteLine(Stamp() + message);
    }

    void Write(string message, TextWriter console)
    {
        lock (gate)
        {
            if (ConsoleSink is { } sink) sink(message);
            else console.WriteLine(message);
            file?.WriteLine(Stamp() + message);
        }
    }

    static string Stamp() => DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ ", CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public void Dispose() => DetachFile();
}
