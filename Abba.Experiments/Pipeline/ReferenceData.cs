using Abba.Experiments.Output;
using Abba.Experiments.Units;

namespace Abba.Experiments.Pipeline;

/// <summary>The paper's reference values: the CSVs under <c>reference/</c>, shipped beside the program.</summary>
public static class ReferenceData
{
    /// <summary>The folder's name beside the program (and in the source tree's Abba.Experiments folder).</summary>
    public const string Folder = "reference";

    /// <summary>
    /// The path of <paramref name="file"/> under <c>reference/</c> in <paramref name="baseDirectory"/> (default: beside
    /// abba.dll, wherever
    /// the process runs, see <see cref="ProgramFiles"/>; a caller can pass the source tree's <c>Abba.Experiments</c>
    /// folder).
    /// </summary>
    public static string PathOf(string file, string? baseDirectory = null) =>
        Path.Combine(baseDirectory ?? ProgramFiles.Folder, Folder, file);

    /// <summary>Every row of reference/<paramref name="file"/>.</summary>
    public static List<T> Read<T>(string file, string? baseDirectory = null) =>
        CsvFiles.Read<T>(PathOf(file, baseDirectory));
}
