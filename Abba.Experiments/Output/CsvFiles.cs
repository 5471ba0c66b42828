using CsvHelper;

namespace Abba.Experiments.Output;

/// <summary>CSV in one dialect everywhere: header row, comma, invariant culture, LF line ends, UTF-8.</summary>
public static class CsvFiles
{
    static readonly CsvWriterOptions WriterOptions = CsvWriterOptions.Default with { NewLine = "\n" };

    /// <summary>Writes <paramref name="rows"/> of a <c>[CsvRecord]</c> type to <paramref name="path"/> atomically.</summary>
    public static void Write<T>(string path, IEnumerable<T> rows) =>
        AtomicFile.Write(path, temp =>
        {
            using var writer = CsvWriter.ToFile(temp, WriterOptions);
            writer.WriteRecords(rows);
        });

    /// <summary>Reads every row of <paramref name="path"/>, or fails with a message naming the file.</summary>
    public static List<T> Read<T>(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} does not exist: run the experiment first.", path);
        using var reader = CsvReader.FromFile(path);
        return reader.GetRecords<T>().ToList();
    }
}
