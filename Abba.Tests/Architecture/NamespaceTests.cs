using System.Text.RegularExpressions;
using Abba.Tests.Support;

namespace Abba.Tests.Architecture;

/// <summary>Dependencies between Abba.Core's namespaces point one way: read from the sources, the graph has no cycle.</summary>
public partial class NamespaceTests
{
    [GeneratedRegex(@"^namespace\s+(Abba\.Core(?:\.\w+)*)\s*;", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    // `using Abba.Core.X;`, `using static Abba.Core.X.Y;` and fully qualified `Abba.Core.X.Name` in code or docs.
    [GeneratedRegex(@"\bAbba\.Core\.(\w+)")]
    private static partial Regex CoreReference();

    /// <summary>Each Abba.Core namespace and the other Abba.Core namespaces its source files refer to.</summary>
    static Dictionary<string, HashSet<string>> Graph()
    {
        string core = Path.Combine(Repo.Root(), "Abba.Core");
        var graph = new Dictionary<string, HashSet<string>>();
        var sources = Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                     && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"));
        foreach (string file in sources)
        {
            string text = File.ReadAllText(file);
            string? ns = NamespaceLine().Match(text) is { Success: true } m ? m.Groups[1].Value : null;
            if (ns is null) continue;
            var edges = graph.TryGetValue(ns, out var e) ? e : graph[ns] = [];
            foreach (Match r in CoreReference().Matches(text))
                if ("Abba.Core." + r.Groups[1].Value is var target && target != ns) edges.Add(target);
        }
        return graph;
    }

    [Fact]
    public void CoreNamespaces_HaveNoCycle()
    {
        var graph = Graph();
        Assert.Contains("Abba.Core.Adapters", graph.Keys);
        Assert.Contains("Abba.Core.Randomness", graph["Abba.Core.Adapters"]);   // the scan sees using lines
        var cycle = FindCycle(graph);
        Assert.True(cycle is null, $"namespace cycle: {string.Join(" -> ", cycle ?? [])}");
    }

    [Fact]
    public void FindCycle_ReportsACycle() =>
        Assert.Equal(["A", "B", "C", "A"], FindCycle(new() { ["A"] = ["B"], ["B"] = ["C"], ["C"] = ["A"], ["D"] = ["A"] }));

    /// <summary>A cycle as its path (first node repeated at the end), or null; depth-first search with on-stack marks.</summary>
    static List<string>? FindCycle(Dictionary<string, HashSet<string>> graph)
    {
        var done = new HashSet<string>();
        var path = new List<string>();
        List<string>? Visit(string node)
        {
            int at = path.IndexOf(node);
            if (at >= 0) return [.. path[at..], node];
            if (!done.Add(node)) return null;
            path.Add(node);
            foreach (string next in graph.GetValueOrDefault(node) ?? [])
                if (Visit(next) is { } cycle) return cycle;
            path.RemoveAt(path.Count - 1);
            return null;
        }
        return graph.Keys.Order().Select(Visit).FirstOrDefault(c => c is not null);
    }
}
