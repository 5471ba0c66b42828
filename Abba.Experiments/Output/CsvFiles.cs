using CsvHelper;

namespace Abba.Experiments.Output;

/// <summary>CSV in one dialect everywhere: header row, comma, invariant culture, LF line ends, UTF-8.</summary>
public static partial class CsvFiles
{
    static readonly CsvWriterOptions WriterOptions = CsvWriterOptions.Default with { NewLine = "\n" };

    /// <summary>Writes <paramref name="rows"/> of a <c>[CsvRecord]</c> type to <paramref name="path"/>
    /// atomically.</summary>
    public static void Write<T>(string path, IEnumerable<T> rows) =>
        AtomicFile.Write(path, temp =>
        {
            using var writer = CsvWriter.ToFile(temp, WriterOptions);
            writer.WriteRecords(rows);
        });

    /// <summary>Reads every row of <paramref name="path"/>, or fails with one line naming the file (and the row, when
    /// one is bad).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is truncated or malformed.</exception>
    public static List<T> Read<T>(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} does not exist: run the experiment first.", path);
        try
        {
            using var reader = CsvReader.FromFile(path);
            return reader.GetRecords<T>().ToList();
        }
        catch (Exception e) when (e is not InvalidDataException and not OutOfMemoryException)
        {
            string message = e.Message.Split('\n')[0].Trim();
            // CsvHelper counts records from the header (record 1), so record n is data row n - 1 on line n.
            string row = RecordNumber().Match(message) is { Success: true } m
                && int.TryParse(m.Groups[1].Value, out int n)
                ? $"row {n - 1} (line {n}): " : "";
            throw new InvalidDataException(
                $"{path}: {row}{(row.Length > 0 ? "malformed" : "unreadable")} ({message})", e);
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"record (\d+)")]
    private static partial System.Text.RegularExpressions.Regex RecordNumber();
}
