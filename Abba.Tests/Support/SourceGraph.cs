using System.Text.RegularExpressions;

namespace Abba.Tests.Support;

/// <summary>
/// The namespace dependency graph of a source folder, read from the text of its .cs files: each file's namespace
/// declaration, its <c>using</c> lines (plain, static and alias) and its fully qualified references. A namespace also
/// depends on each enclosing namespace declared in the folder, since C# resolves names there without a using.
/// </summary>
public sealed partial class SourceGraph
{
    /// <summary>Edges from a namespace to the namespaces it references (itself excluded).</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> Edges { get; }

    SourceGraph(IReadOnlyDictionary<string, IReadOnlySet<string>> edges) => Edges = edges;

    /// <summary>Reads every .cs file under <paramref name="folder"/> (bin and obj left out), keeping namespaces that start with <paramref name="prefix"/>.</summary>
    public static SourceGraph Read(string folder, string prefix)
    {
        var files = Directory.GetFiles(folder, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(p => p is "bin" or "obj"))
            .Select(f => (Namespace: Namespace(File.ReadAllText(f)), References: References(File.ReadAllText(f), prefix)))
            .Where(f => f.Namespace?.StartsWith(prefix, StringComparison.Ordinal) == true).ToArray();
        var declared = files.Select(f => f.Namespace!).ToHashSet();
        var edges = new Dictionary<string, HashSet<string>>();
        foreach (var (ns, references) in files)
        {
            var targets = edges.TryGetValue(ns!, out var t) ? t : edges[ns!] = [];
            foreach (var r in references.Select(r => Longest(r, declared)).OfType<string>()) targets.Add(r);
            foreach (var enclosing in declared.Where(d => ns!.StartsWith(d + ".", StringComparison.Ordinal))) targets.Add(enclosing);
            targets.Remove(ns!);
        }
        return new SourceGraph(edges.ToDictionary(kv => kv.Key, kv => (IReadOnlySet<string>)kv.Value));
    }

    /// <summary>One cycle as a path that starts and ends at the same namespace, or null when the graph has none.</summary>
    public IReadOnlyList<string>? FindCycle()
    {
        var state = new Dictionary<string, int>();   // 1: on the current path, 2: done
        var path = new List<string>();
        IReadOnlyList<string>? Visit(string node)
        {
            state[node] = 1;
            path.Add(node);
            foreach (var next in Edges.GetValueOrDefault(node) ?? new HashSet<string>())
            {
                if (state.GetValueOrDefault(next) == 1) return [.. path.SkipWhile(n => n != next), next];
                if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } cycle) return cycle;
            }
            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }
        foreach (var node in Edges.Keys.Order(StringComparer.Ordinal))
            if (state.GetValueOrDefault(node) == 0 && Visit(node) is { } cycle) return cycle;
        return null;
    }

    static string? Namespace(string text) => NamespaceLine().Match(text) is { Success: true } m ? m.Groups[1].Value : null;

    static IEnumerable<string> References(string text, string prefix) =>
        UsingLine().Matches(text).Select(m => m.Groups[1].Value)
            .Concat(Qualified().Matches(text).Select(m => m.Value.TrimEnd('.')))
            .Where(r => r.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>The longest declared namespace that <paramref name="reference"/> is or starts with (a type name may follow it).</summary>
    static string? Longest(string reference, IReadOnlySet<string> declared) =>
        declared.Where(d => reference == d || reference.StartsWith(d + ".", StringComparison.Ordinal)).MaxBy(d => d.Length);

    [GeneratedRegex(@"^\s*namespace\s+([\w.]+)", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"^\s*(?:global\s+)?using\s+(?:static\s+)?(?:\w+\s*=\s*)?([\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex UsingLine();

    [GeneratedRegex(@"(?<![\w.])Abba(?:\.\w+)+\.")]
    private static partial Regex Qualified();
}
