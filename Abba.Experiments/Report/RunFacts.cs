using System.Text.Json;
using Abba.Experiments.Output;

namespace Abba.Experiments.Report;

/// <summary>What a run's manifest.json says, as text for the report; "?" for a missing field.</summary>
/// <param name="Fields">Every top-level field, as text.</param>
/// <param name="SeedCount">How many seeds the run used.</param>
/// <param name="Seconds">Its duration.</param>
/// <param name="Sources">The source hashes it recorded (path to hash), or null when it recorded none.</param>
sealed record RunFacts(IReadOnlyDictionary<string, string> Fields, int SeedCount, double Seconds,
    IReadOnlyDictionary<string, string>? Sources)
{
    /// <summary>A field as text, "?" when the manifest lacks it.</summary>
    public string Get(string name) => Fields.TryGetValue(name, out var v) ? v : "?";

    /// <summary>The recorded commit, shortened to 7 digits, with "-dirty" kept when the tree was.</summary>
    public string ShortCommit
    {
        get
        {
            string commit = Get("git_commit");
            bool dirty = commit.EndsWith("-dirty", StringComparison.Ordinal);
            string head = dirty ? commit[..^"-dirty".Length] : commit;
            return (head.Length > 7 ? head[..7] : head) + (dirty ? "-dirty" : "");
        }
    }

    /// <summary>The facts of the run in <paramref name="folder"/>, or null when it has no manifest.</summary>
    public static RunFacts? Read(string folder)
    {
        string path = Path.Combine(folder, "manifest.json");
        if (!File.Exists(path)) return null;
        using var doc = Manifest.Load(path);
        var r = doc.RootElement;
        var fields = r.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.Array
            ? "[" + string.Join(", ", p.Value.EnumerateArray().Select(e => e.ToString())) + "]"
            : p.Value.ToString());
        int seedCount = r.TryGetProperty("seeds", out var s) && s.ValueKind == JsonValueKind.Array
            ? s.GetArrayLength() : 0;
        double seconds = r.TryGetProperty("duration_seconds", out var d) && d.ValueKind == JsonValueKind.Number
            ? d.GetDouble() : double.NaN;
        IReadOnlyDictionary<string, string>? sources = null;
        if (r.TryGetProperty("sources", out var src) && src.ValueKind == JsonValueKind.Object
            && src.TryGetProperty("files", out var files) && files.ValueKind == JsonValueKind.Object)
            sources = files.EnumerateObject()
                .ToDictionary(f => f.Name, f => f.Value.GetString() ?? "", StringComparer.Ordinal);
        return new RunFacts(fields, seedCount, seconds, sources);
    }
}
