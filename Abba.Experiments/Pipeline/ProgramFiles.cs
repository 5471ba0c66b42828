using Abba.Experiments.Units;
namespace Abba.Experiments.Pipeline;

/// <summary>
/// The folder of the files shipped beside the abba program (<c>reference/</c>, <c>data/mnist/</c>): the folder abba.dll
/// was loaded from. A notebook kernel or a test host that loaded abba.dll from the build output therefore finds them
/// whatever its working directory and whatever program hosts it (AppContext.BaseDirectory would name the host's
/// folder).
/// </summary>
public static class ProgramFiles
{
    /// <summary>abba.dll's folder; the application's base folder when the assembly has no file (single-file
    /// publish).</summary>
    public static string Folder { get; } = typeof(ProgramFiles).Assembly.Location is { Length: > 0 } location
        ? Path.GetDirectoryName(location)!
        : AppContext.BaseDirectory;
}
