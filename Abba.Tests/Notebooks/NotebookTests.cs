namespace Abba.Tests.Notebooks;

/// <summary>Executes every notebook under notebooks/ against the built assemblies and the results fixture.</summary>
public class NotebookTests
{
    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Abba.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("Abba.sln not found above the test assembly.");
    }

    public static TheoryData<string> Notebooks()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(Path.Combine(RepoRoot(), "notebooks"), "*.ipynb").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory, MemberData(nameof(Notebooks))]
    public void Notebook_RunsEveryCodeCell(string notebook)
    {
        string fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "results");
        string scratch = Path.Combine(Path.GetTempPath(), "abba-notebook-" + Guid.NewGuid().ToString("N"));
        Environment.SetEnvironmentVariable("ABBA_RESULTS", fixture);
        Environment.SetEnvironmentVariable("ABBA_NOTEBOOK_OUT", scratch);
        try
        {
            var globals = NotebookRunner.Run(Path.Combine(RepoRoot(), "notebooks", notebook));
            Assert.NotEmpty(globals.Displayed);
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
    }
}
