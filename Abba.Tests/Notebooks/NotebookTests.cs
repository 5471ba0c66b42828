using Abba.Tests.Support;

namespace Abba.Tests.Notebooks;

/// <summary>
/// Executes every notebook under notebooks/ in a real .NET Interactive kernel (<see cref="KernelRunner"/>) against the
/// Release build of Abba.Experiments that the notebooks' <c>#r</c> lines name, once with the committed paper-profile
/// results and once with the small results fixture, so a notebook breaks CI when either layout defeats it.
/// </summary>
public class NotebookTests
{
    public static TheoryData<string, string> Notebooks()
    {
        var data = new TheoryData<string, string>();
        foreach (var path in Directory.GetFiles(Path.Combine(Repo.Root(), "notebooks"), "*.ipynb").Order(StringComparer.Ordinal))
            foreach (string results in new[] { "committed", "fixture" })
                data.Add(Path.GetFileName(path), results);
        return data;
    }

    [Theory, MemberData(nameof(Notebooks))]
    public void Notebook_RunsEveryCellInAKernel(string notebook, string results)
    {
        string build = Path.Combine(Repo.Root(), "Abba.Experiments", "bin", "Release", "net10.0", "abba.dll");
        Assert.True(File.Exists(build), $"the notebooks reference the Release build ({build}): run `dotnet build Abba.sln -c Release` first");
        string root = results == "fixture"
            ? Path.Combine(AppContext.BaseDirectory, "Fixtures", "results")
            : Path.Combine(Repo.Root(), "results", "paper");
        Assert.True(File.Exists(Path.Combine(root, "REPORT.md")) || results == "fixture", $"no committed results in {root}");
        using var scratch = new TempFolder();
        var environment = new Dictionary<string, string> { ["ABBA_RESULTS"] = root, ["ABBA_NOTEBOOK_OUT"] = scratch.File("out") };
        string executed = scratch.File(notebook);
        string? error = KernelRunner.Run(Path.Combine(Repo.Root(), "notebooks", notebook), executed, environment);
        Assert.True(error is null, error);
        Assert.True(File.Exists(executed), $"dotnet-repl wrote no executed copy of {notebook}");
    }
}
