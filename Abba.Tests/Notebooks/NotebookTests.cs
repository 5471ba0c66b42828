namespace Abba.Tests.Notebooks;

/// <summary>
/// Executes every notebook under notebooks/ against the built assemblies, once with the small results fixture and
/// once with the committed results/ of the paper-profile run, so a notebook breaks CI when either layout defeats it.
/// </summary>
public class NotebookTests
{
    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Abba.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("Abba.sln not found above the test assembly.");
    }

    public static TheoryData<string, string> Notebooks()
    {
        var data = new TheoryData<string, string>();
        foreach (var path in Directory.GetFiles(Path.Combine(RepoRoot(), "notebooks"), "*.ipynb").Order(StringComparer.Ordinal))
            foreach (string results in new[] { "fixture", "committed" })
                data.Add(Path.GetFileName(path), results);
        return data;
    }

    [Theory, MemberData(nameof(Notebooks))]
    public void Notebook_RunsEveryCodeCell(string notebook, string results)
    {
        string root = results == "fixture"
            ? Path.Combine(AppContext.BaseDirectory, "Fixtures", "results")
            : Path.Combine(RepoRoot(), "results");
        Assert.True(File.Exists(Path.Combine(root, "REPORT.md")) || results == "fixture", $"no committed results in {root}");
        string scratch = Path.Combine(Path.GetTempPath(), "abba-notebook-" + Guid.NewGuid().ToString("N"));
        Environment.SetEnvironmentVariable("ABBA_RESULTS", root);
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
