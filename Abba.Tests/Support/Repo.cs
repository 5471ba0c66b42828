namespace Abba.Tests.Support;

/// <summary>The source tree the tests were built from.</summary>
static class Repo
{
    /// <summary>The folder holding Abba.sln, found by walking up from the test assembly.</summary>
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Abba.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("Abba.sln not found above the test assembly.");
    }
}
