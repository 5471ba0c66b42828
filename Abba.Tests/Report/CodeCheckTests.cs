using System.Text.Json.Nodes;
using Abba.Experiments.Catalogue;
using Abba.Experiments.Output;
using Abba.Experiments.Report;
using Abba.Tests.Support;

namespace Abba.Tests.Report;

/// <summary>
/// The report says, per experiment, whether its results were made by today's code: a manifest that recorded today's
/// source hashes is current, one whose hashes differ is stale and names the files, one without hashes is "not
/// recorded", and a dirty tree is called dirty.
/// </summary>
public class CodeCheckTests : IDisposable
{
    readonly TempFolder root = new();

    /// <summary>Writes the committed mnist manifest into a scratch results root, with <paramref name="sources"/>.</summary>
    string Render(JsonObject? sources, string? commit = null)
    {
        string folder = Path.Combine(root.Path, "paper", "mnist");
        Directory.CreateDirectory(folder);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root(), "results", "paper", "mnist", "manifest.json")))!;
        manifest["sources"] = sources;
        if (commit is not null) manifest["git_commit"] = commit;
        File.WriteAllText(Path.Combine(folder, "manifest.json"), manifest.ToJsonString());
        return ReportWriter.Render(Path.Combine(root.Path, "paper"), Registry.CreateAll());
    }

    static JsonObject Recorded(SourceHashes hashes, Func<IReadOnlyDictionary<string, string>, IEnumerable<KeyValuePair<string, string>>> edit)
    {
        var files = new JsonObject();
        foreach (var (path, hash) in edit(hashes.Files)) files[path] = hash;
        return new JsonObject { ["hash"] = hashes.Hash, ["files"] = files };
    }

    static SourceHashes Today => Registry.SourcesOf(Registry.TryCreate("mnist")!);

    [Fact]
    public void TodaysHashes_AreCurrent()
    {
        string report = Render(Recorded(Today, files => files), commit: "0123456789abcdef");
        Assert.Contains("| `mnist` | today's | clean | 0123456 |", report);
        Assert.Contains("Code: made by today's code (every source it depends on is unchanged), from a clean tree.", report);
    }

    [Fact]
    public void ChangedHashes_AreStale_AndTheReportNamesTheFiles()
    {
        var today = Today;
        string changed = today.Files.Keys.First(p => p.StartsWith("Abba.Core/", StringComparison.Ordinal));
        string removed = today.Files.Keys.Last(p => p.StartsWith("Abba.Experiments/Mnist/", StringComparison.Ordinal));
        var stale = Recorded(today, files => files
            .Where(kv => kv.Key != removed)
            .Select(kv => kv.Key == changed ? new(kv.Key, "0000000000000000") : kv)
            .Append(new("Abba.Experiments/Mnist/Gone.cs", "1111111111111111")));
        string report = Render(stale, commit: "0123456789abcdef-dirty");
        Assert.Contains("| `mnist` | changed (3 files) | dirty | 0123456-dirty |", report);
        Assert.Contains($"`{changed} (changed)`", report);
        Assert.Contains($"`{removed} (added)`", report);
        Assert.Contains("`Abba.Experiments/Mnist/Gone.cs (removed)`", report);
        Assert.Contains("made from a dirty tree", report);
    }

    [Fact]
    public void NoHashes_AreNotRecorded()
    {
        string report = Render(null);
        Assert.Contains("| `mnist` | not recorded |", report);
        Assert.Contains("Code: not recorded (the run predates source hashing", report);
    }

    [Fact]
    public void AnExperimentsSources_LeaveOutTheOtherExperimentsAndTheCli_AndIncludeCoreAndItsOwnFolder()
    {
        var files = Today.Files.Keys.ToArray();
        Assert.Contains(files, f => f.StartsWith("Abba.Core/Adapters/", StringComparison.Ordinal));
        Assert.Contains(files, f => f.StartsWith("Abba.Experiments/Mnist/", StringComparison.Ordinal));
        Assert.Contains(files, f => f.StartsWith("Abba.Experiments/data/mnist/", StringComparison.Ordinal));
        Assert.Contains("Directory.Build.props", files);
        Assert.DoesNotContain(files, f => f.StartsWith("Abba.Experiments/Ablation/", StringComparison.Ordinal));
        Assert.DoesNotContain(files, f => f.StartsWith("Abba.Experiments/Cli/", StringComparison.Ordinal));
        Assert.DoesNotContain(files, f => f.StartsWith("Abba.Experiments/Report/", StringComparison.Ordinal));
        // Each recorded hash is the file's own SHA-256 (first 16 hex digits), as the build saw it.
        string props = Path.Combine(Repo.Root(), "Directory.Build.props");
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(props)))[..16];
        Assert.Equal(sha, Today.Files["Directory.Build.props"]);
    }

    [Fact]
    public void AnExperimentsSources_IncludeTheFoldersOfExperimentsItUses()
    {
        // efficiency times memory's cost arms, so a change to them must make efficiency's results "not today's".
        var files = Registry.SourcesOf(Registry.TryCreate("efficiency")!).Files.Keys.ToArray();
        Assert.Contains(files, f => f.StartsWith("Abba.Experiments/Memory/", StringComparison.Ordinal));
        Assert.Contains(files, f => f.StartsWith("Abba.Experiments/Efficiency/", StringComparison.Ordinal));
        Assert.DoesNotContain(files, f => f.StartsWith("Abba.Experiments/Mnist/", StringComparison.Ordinal));
    }

    public void Dispose() => root.Dispose();
}
