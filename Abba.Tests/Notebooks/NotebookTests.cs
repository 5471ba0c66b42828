using Abba.Tests.Support;

namespace Abba.Tests.Notebooks;

/// <summary>
/// Executes every notebook under notebooks/ against the built assemblies, once with the small results fixture and
/// once with the committed results/ of the paper-profile run, so a notebook breaks CI when either layout defeats it.
/// </summary>
public class NotebookTests
{
    public static TheoryData<string, string> Notebooks()
    {
        var data = new TheoryData<string, string>();
        foreach (var path in Directory.GetFiles(Path.Combine(Repo.Root(), "notebooks"), "*.ipynb").Order(StringComparer.Ordinal))
            foreach (string results in new[] { "fixture", "committed" })
                data.Add(Path.GetFileName(path), results);
        return data;
    }

    [Theory, MemberData(nameof(Notebooks))]
    public void Notebook_RunsEveryCodeCell(string notebook, string results)
    {
        string root = results == "fixture"
            ? Path.Combine(AppContext.BaseDirectory, "Fixtures", "results")
            : Path.Combine(Repo.Root(), "results", "paper");
        Assert.True(File.Exists(Path.Combine(root, "REPORT.md")) || results == "fixture", $"no committed results in {root}");
        string scratch = Path.Combine(Path.GetTempPath(), "abba-notebook-" + Guid.NewGuid().ToString("N"));
        Environment.SetEnvironmentVariable("ABBA_RESULTS", root);
        Environment.SetEnvironmentVariable("ABBA_NOTEBOOK_OUT", scratch);
        try
        {
            var globals = NotebookRunner.Run(Path.Combine(Repo.Root(), "notebooks", notebook));
            Assert.NotEmpty(globals.Displayed);
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
    }
}
