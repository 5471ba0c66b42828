using System.Reflection;
using System.Text.Json;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Catalogue;
using Abba.Experiments.Reconstruction;
using Abba.Experiments.Output;
using Abba.Experiments.Report;
using Abba.Tests.Support;

namespace Abba.Tests.Report;

/// <summary>
/// The scope a reader sees: which paper artefacts are covered (and by which experiment), where every setting comes
/// from, and the synthetic/modelled labels of the claims tables.
/// </summary>
public class ScopeTests
{
    [Fact]
    public void Coverage_NamesEveryExperimentsArtefactAndOnlyRegisteredExperiments()
    {
        foreach (var e in Registry.CreateAll())
            Assert.Contains(Coverage.Artefacts, a => a.Status == CoverageStatus.Covered && a.Experiment == e.Info.Name && a.Name == e.Info.PaperArtefact);
        foreach (var a in Coverage.Artefacts)
        {
            Assert.Equal(a.Status == CoverageStatus.Covered, a.Experiment is not null);
            if (a.Experiment is not null) Assert.Contains(a.Experiment, Registry.Names);
            Assert.False(string.IsNullOrWhiteSpace(a.Basis), $"{a.Name} gives no basis or reason");
        }
        Assert.Equal(Coverage.Artefacts.Count, Coverage.Artefacts.Select(a => a.Name).Distinct().Count());
    }

    [Fact]
    public void EachFigure_NamesArtefactsItsOwnExperimentCovers()
    {
        var cites = new System.Text.RegularExpressions.Regex(@"(Figure|Table|Theorem) \d+");
        foreach (var e in Registry.CreateAll())
            foreach (var figure in e.Info.Figures)
            {
                var refs = cites.Matches(figure.Artefact).Select(m => m.Value).ToArray();
                Assert.True(refs.Length > 0, $"{e.Info.Name}/{figure.Name}: '{figure.Artefact}' names no paper artefact");
                foreach (string r in refs.Where(r => !r.StartsWith("Theorem", StringComparison.Ordinal)))
                    Assert.True(Coverage.Artefacts.Any(a => a.Experiment == e.Info.Name
                                                             && (a.Name == r || a.Name.StartsWith(r + " ", StringComparison.Ordinal))),
                        $"{e.Info.Name}/{figure.Name} cites {r}, which the coverage table does not give to {e.Info.Name}");
            }
    }

    [Fact]
    public void Coverage_ListsTablesOneToTwelveAndFiguresOneToSix()
    {
        var names = Coverage.Artefacts.Select(a => a.Name.Split(' ')[0] + " " + a.Name.Split(' ')[1]).ToHashSet();
        foreach (int t in Enumerable.Range(1, 12)) Assert.Contains($"Table {t}", names);
        foreach (int f in Enumerable.Range(1, 6)) Assert.Contains($"Figure {f}", names);
    }

    [Fact]
    public void SettingSources_CoverEveryPropertyOfEveryOptionsRecord()
    {
        foreach (var e in Registry.CreateAll())
        {
            var configured = e.Configure(OptionValues.Defaults, new RunSettings(Profile.Paper, 0, 0, "cpu", 0, RunSettings.DefaultOutputRoot));
            Assert.Empty(configured.Problems);
            var type = configured.Plan!.Options.GetType();
            var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).Order();
            Assert.Equal(properties, e.Provenance.Keys.Order());
            Assert.All(e.Provenance.Values, p => Assert.False(string.IsNullOrWhiteSpace(p.Note)));
        }
    }

    [Fact]
    public void SettingSources_ForManifest_UsesTheConfigurationsJsonNames()
    {
        var manifestNames = SettingSources.ForManifest(new ReconstructionExperiment());
        Assert.Equal("inferred", manifestNames["n"].Word);
        Assert.Equal("chosen", manifestNames["learning_rate"].Word);
    }

    [Fact]
    public void Manifest_WritesProvenanceBesideTheConfiguration()
    {
        using var temp = new TempFolder();
        var options = ReconstructionOptions.Paper;
        var manifest = new Manifest
        {
            Experiment = "reconstruction", PaperArtefact = "Figure 2", Status = "ok", CommandLine = "abba", Profile = "paper", Seeds = [0],
            Device = "cpu", Threads = 1, Settings = new { }, Configuration = options, ConfigurationProvenance =
                SettingSources.ForManifest(new ReconstructionExperiment()),
            TorchSharpVersion = "x", LibTorchVersion = "x", Machine = "x", StartedUtc = default, EndedUtc = default, DurationSeconds = 0, Files = [],
        };
        manifest.Save(temp.File("manifest.json"));
        using var doc = Manifest.Load(temp.File("manifest.json"));
        var provenance = doc.RootElement.GetProperty("configuration_provenance");
        Assert.Equal("inferred", provenance.GetProperty("n").GetProperty("source").GetString());
        Assert.False(provenance.GetProperty("n").TryGetProperty("word", out _));
        foreach (var setting in doc.RootElement.GetProperty("configuration").EnumerateObject())
            Assert.True(provenance.TryGetProperty(setting.Name, out _), $"configuration.{setting.Name} has no provenance");
        Assert.Equal(JsonValueKind.Number, doc.RootElement.GetProperty("configuration").GetProperty("n").ValueKind);
    }

    [Fact]
    public void CommittedReport_LabelsSyntheticAndModelledRowsAndListsWhatIsNotCovered()
    {
        string report = File.ReadAllText(Path.Combine(Repo.Root(), "results", "paper", ReportWriter.FileName));
        string summary = report[..report.IndexOf("## Coverage of the paper", StringComparison.Ordinal)];
        Assert.Contains("| Figure 3 (synthetic) |", summary);
        Assert.Contains("| Table 2 (synthetic) |", summary);
        Assert.Contains("(modelled) |", summary);
        Assert.Contains("## Not covered", report);
        foreach (var a in Coverage.Artefacts.Where(a => a.Status != CoverageStatus.Covered))
            Assert.Contains($"| {a.Name} |", report[report.IndexOf("## Not covered", StringComparison.Ordinal)..]);
        Assert.DoesNotContain("NOTES.md", report);
    }

    [Fact]
    public void Repository_LinksNoFileOutsideIt()
    {
        string root = Repo.Root();
        var files = new[] { "README.md", Path.Combine("results", "paper", ReportWriter.FileName) }
            .Concat(Directory.GetFiles(Path.Combine(root, "notebooks"), "*.ipynb").Select(f => Path.GetRelativePath(root, f)))
            .Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Select(f => Path.GetRelativePath(root, f)));
        foreach (string file in files)
        {
            string text = File.ReadAllText(Path.Combine(root, file));
            Assert.False(text.Contains("NOTES.md", StringComparison.Ordinal), $"{file} refers to NOTES.md, which the repository does not contain");
            Assert.False(text.Contains("../shared", StringComparison.Ordinal), $"{file} refers to ../shared, outside the repository");
        }
        Assert.True(File.Exists(Path.Combine(root, "docs", "reconstruction-generators.md")));
    }
}
