using Abba.Tests.Support;

namespace Abba.Tests.Architecture;

/// <summary>
/// Dependencies inside Abba.Experiments point one way: the CLI dispatches into the registry, the report and the
/// experiments; each experiment depends on the experiment contract (Pipeline), the unit of work (Units) and the output
/// helpers, never on the CLI; the contract depends on no experiment, and the unit of work on no contract.
/// </summary>
public class ExperimentsNamespaceTests
{
    const string Contract = "Abba.Experiments.Pipeline";
    static readonly string[] ExperimentNamespaces =
        [.. new[] { "Reconstruction", "Mnist", "Ablation", "Design", "Memory", "Efficiency" }.Select(e => "Abba.Experiments." + e)];
    static readonly SourceGraph Graph = SourceGraph.Read(Path.Combine(Repo.Root(), "Abba.Experiments"), "Abba.Experiments");

    [Fact]
    public void NamespaceGraph_HasNoCycle()
    {
        var cycle = Graph.FindCycle();
        Assert.True(cycle is null, $"namespace cycle: {string.Join(" -> ", cycle ?? [])}");
    }

    [Fact]
    public void Experiments_NeverReferenceTheCli()
    {
        var offenders = Graph.Edges.Where(kv => ExperimentNamespaces.Contains(kv.Key) && kv.Value.Contains("Abba.Experiments.Cli"))
            .Select(kv => kv.Key).ToArray();
        Assert.True(offenders.Length == 0, $"reference Abba.Experiments.Cli: {string.Join(", ", offenders)}");
    }

    [Fact]
    public void EveryExperiment_HasItsOwnNamespace_AndTheContractKnowsNone()
    {
        foreach (var e in ExperimentNamespaces) Assert.Contains(e, Graph.Edges.Keys);
        Assert.DoesNotContain(Graph.Edges[Contract], d => ExperimentNamespaces.Contains(d));
        Assert.DoesNotContain(Graph.Edges["Abba.Experiments.Units"], d => d == Contract || ExperimentNamespaces.Contains(d));
        Assert.DoesNotContain(Graph.Edges["Abba.Experiments.Output"], d => d == Contract || ExperimentNamespaces.Contains(d));
    }

    [Fact]
    public void EachExperiment_DeclaresTheOtherExperimentsWhoseCodeItUses()
    {
        // The declared folders decide which sources a manifest hashes: an undeclared use would let a change go unseen.
        foreach (var e in Abba.Experiments.Catalogue.Registry.CreateAll())
        {
            string own = "Abba.Experiments." + Abba.Experiments.Catalogue.Registry.SourceFolderOf(e);
            var used = Graph.Edges[own].Where(d => d != own && ExperimentNamespaces.Contains(d))
                .Select(d => d["Abba.Experiments.".Length..]).Order();
            Assert.Equal(used, e.Info.UsesFolders.Order());
        }
    }

    [Fact]
    public void SourceGraph_SeesUsingsQualifiedNamesAndEnclosingNamespaces()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("A.cs"), "using Abba.X.B;\nnamespace Abba.X;\nclass A { }\n");
        File.WriteAllText(folder.File("B.cs"), "namespace Abba.X.B;\nclass B { Abba.X.C.Thing t; }\n");
        File.WriteAllText(folder.File("C.cs"), "namespace Abba.X.C;\nclass Thing { }\n");
        var graph = SourceGraph.Read(folder.Path, "Abba.X");
        Assert.Equal(["Abba.X.B"], graph.Edges["Abba.X"]);
        Assert.Equal(["Abba.X", "Abba.X.C"], graph.Edges["Abba.X.B"].Order());
        Assert.Equal(["Abba.X", "Abba.X.B", "Abba.X"], graph.FindCycle());
    }
}
