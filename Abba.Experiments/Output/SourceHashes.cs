using System.Security.Cryptography;
using System.Text;

namespace Abba.Experiments.Output;

/// <summary>
/// The sources one experiment's results depend on, with their SHA-256 hashes as the build saw them (the build embeds
/// the hash of every source, reference and data file as the resource <c>sources.sha256</c>). An experiment depends on
/// all of Abba.Core, the build files, the reference values and data, and every folder of Abba.Experiments except the
/// command line, the report, the registry and the other experiments' folders. A manifest records them, so the report
/// can tell whether committed results were made by today's code and name the files that changed since.
/// </summary>
/// <param name="Hash">SHA-256 over every (path, hash) pair, in path order.</param>
/// <param name="Files">Each file's path from the repository root, with the first 16 hex digits of its hash.</param>
public sealed record SourceHashes(string Hash, IReadOnlyDictionary<string, string> Files)
{
    /// <summary>Folders of Abba.Experiments that never change a run's results.</summary>
    static readonly string[] NotResults = ["Cli/", "Report/", "Catalogue/", "Program.cs"];

    const string Project = "Abba.Experiments/";

    static readonly Lazy<IReadOnlyDictionary<string, string>> Built = new(ReadEmbedded);

    /// <summary>
    /// The sources of the experiment whose own folder is <paramref name="folder"/> (for example "Mnist"), leaving out
    /// <paramref name="experimentFolders"/>, the folders of every registered experiment, except its own and the
    /// folders it <paramref name="uses"/>.
    /// </summary>
    public static SourceHashes For(
        string folder, IEnumerable<string> experimentFolders, IEnumerable<string>? uses = null)
    {
        var kept = new HashSet<string>(uses ?? []) { folder };
        var others = experimentFolders.Where(f => !kept.Contains(f)).Select(f => $"{Project}{f}/").ToArray();
        var files = Built.Value
            .Where(kv => !NotResults.Any(n => kv.Key.StartsWith(Project + n, StringComparison.Ordinal)))
            .Where(kv => !others.Any(o => kv.Key.StartsWith(o, StringComparison.Ordinal)))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .ToArray();
        var all = new StringBuilder();
        foreach (var (path, hash) in files) all.Append(path).Append(' ').Append(hash).Append('\n');
        string combined = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(all.ToString())));
        return new SourceHashes(combined,
            files.ToDictionary(kv => kv.Key, kv => kv.Value[..16], StringComparer.Ordinal));
    }

    /// <summary>
    /// The files that differ between <paramref name="recorded"/> (a manifest's) and these: changed, added and removed
    /// paths, in path order, each with what happened to it.
    /// </summary>
    public IReadOnlyList<string> ChangesSince(IReadOnlyDictionary<string, string> recorded)
    {
        var changes = new List<string>();
        foreach (var path in Files.Keys.Union(recorded.Keys).Order(StringComparer.Ordinal))
        {
            bool now = Files.TryGetValue(path, out string? hash), then = recorded.TryGetValue(path, out string? old);
            if (now && then && hash != old) changes.Add($"{path} (changed)");
            else if (now && !then) changes.Add($"{path} (added)");
            else if (!now) changes.Add($"{path} (removed)");
        }
        return changes;
    }

    /// <summary>Every embedded (path from the repository root, lower-case SHA-256) pair.</summary>
    static IReadOnlyDictionary<string, string> ReadEmbedded()
    {
        using var stream = typeof(SourceHashes).Assembly.GetManifestResourceStream("sources.sha256")
            ?? throw new InvalidOperationException("the build embedded no sources.sha256 resource");
        using var reader = new StreamReader(stream);
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space <= 0) continue;
            string path = line[(space + 1)..].Replace('\\', '/');
            path = path.StartsWith("../", StringComparison.Ordinal) ? path[3..] : Project + path;
            files[path] = line[..space].ToLowerInvariant();
        }
        return files;
    }
}
