using System.Text.Json;
using Abba.Experiments.Output;

namespace Abba.Experiments.Units;

/// <summary>A stored unit: who made it, under which settings, and its result (the rows it contributes, as
/// JSON).</summary>
/// <param name="Experiment">Experiment name.</param>
/// <param name="Identity">What the unit computes (see <see cref="UnitIdentity"/>).</param>
/// <param name="SettingsHash">Hash of the run's result-relevant settings.</param>
/// <param name="SettingsJson">Those settings, as JSON (so a refusal can say which differ).</param>
/// <param name="Shard">The shard that computed it ("2/3"), or null for an unsharded run.</param>
/// <param name="Host">The machine that computed it.</param>
/// <param name="PayloadJson">The result, compact JSON; its SHA-256 is the file's checksum.</param>
public sealed record UnitRecord(
    string Experiment, string Identity, string SettingsHash, string SettingsJson, string? Shard, string Host,
    string PayloadJson)
{
    /// <summary>The file name's hash.</summary>
    public string Hash => UnitIdentity.Hash(SettingsHash, Identity);
}

/// <summary>
/// One small JSON file per finished unit, <c>units/&lt;hash&gt;.json</c>, written atomically (temporary file in the
/// same
/// folder, then rename), so several processes on several machines can share one folder: a reader sees a whole unit or
/// none, and two writers of the same unit write the same result. Each file carries the SHA-256 of its payload.
/// </summary>
public sealed class UnitStore(string folder)
{
    /// <summary>The units folder.</summary>
    public string Folder { get; } = Path.GetFullPath(folder);

    /// <summary>The file of unit <paramref name="hash"/>.</summary>
    public string PathOf(string hash) => Path.Combine(Folder, hash + ".json");

    /// <summary>Writes <paramref name="unit"/> atomically.</summary>
    public void Write(UnitRecord unit)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("format", UnitIdentity.Format);
            json.WriteString("experiment", unit.Experiment);
            json.WriteString("identity", unit.Identity);
            json.WriteString("settings_hash", unit.SettingsHash);
            json.WritePropertyName("settings");
            json.WriteRawValue(unit.SettingsJson);
            json.WriteString("shard", unit.Shard);
            json.WriteString("host", unit.Host);
            json.WriteString("checksum", "sha256:" + UnitIdentity.Sha256(unit.PayloadJson));
            json.WritePropertyName("payload");
            json.WriteRawValue(unit.PayloadJson);
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        AtomicFile.WriteBytes(PathOf(unit.Hash), buffer.ToArray());
    }

    /// <summary>Unit <paramref name="hash"/>: the record, or null with a problem (null problem: not stored).</summary>
    public UnitRecord? Read(string hash, out string? problem)
    {
        string path = PathOf(hash);
        problem = null;
        if (!File.Exists(path)) return null;
        var unit = ReadFile(path, out problem);
        if (unit is null || unit.Hash == hash) return unit;
        problem = $"{path}: its identity and settings hash to {unit.Hash}, not its file name";
        return null;
    }

    /// <summary>Every unit file in the folder: its record, or its problem.</summary>
    public IEnumerable<(string Path, UnitRecord? Unit, string? Problem)> ReadAll()
    {
        if (!Directory.Exists(Folder)) yield break;
        // Hidden files are AtomicFile's temporaries, left behind by a killed writer: never units.
        foreach (string path in Directory.GetFiles(Folder, "*.json")
            .Where(p => !Path.GetFileName(p).StartsWith('.'))
            .Order(StringComparer.Ordinal))
        {
            var unit = ReadFile(path, out string? problem);
            yield return (path, unit, problem);
        }
    }

    /// <summary>Parses and checks one unit file; null and a one-line problem naming the file when it is
    /// damaged.</summary>
    public static UnitRecord? ReadFile(string path, out string? problem)
    {
        problem = null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = doc.RootElement;
            int format = root.GetProperty("format").GetInt32();
            if (format != UnitIdentity.Format)
            {
                problem = $"{path}: unit format {format}, this program writes {UnitIdentity.Format}";
                return null;
            }
            string payload = root.GetProperty("payload").GetRawText();
            string checksum = root.GetProperty("checksum").GetString() ?? "";
            if (checksum != "sha256:" + UnitIdentity.Sha256(payload))
            {
                problem = $"{path}: checksum mismatch (the file was changed or cut short)";
                return null;
            }
            return new UnitRecord(root.GetProperty("experiment").GetString()!,
                root.GetProperty("identity").GetString()!,
                root.GetProperty("settings_hash").GetString()!, root.GetProperty("settings").GetRawText(),
                root.GetProperty("shard").GetString(), root.GetProperty("host").GetString() ?? "", payload);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException
            or FormatException or IOException)
        {
            problem = $"{path}: not a readable unit file ({e.Message.Split('\n')[0]})";
            return null;
        }
    }

    /// <summary>The top-level and nested settings that differ between two settings documents, as "name: a vs
    /// b".</summary>
    public static IEnumerable<string> Differences(string settingsA, string settingsB)
    {
        var a = Flatten(settingsA);
        var b = Flatten(settingsB);
        foreach (string key in a.Keys.Union(b.Keys).Order(StringComparer.Ordinal))
            if (a.GetValueOrDefault(key) != b.GetValueOrDefault(key))
                yield return $"{key}: {a.GetValueOrDefault(key) ?? "(none)"} vs {b.GetValueOrDefault(key) ?? "(none)"}";
    }

    static Dictionary<string, string> Flatten(string json)
    {
        var flat = new Dictionary<string, string>();
        using var doc = JsonDocument.Parse(json);
        void Walk(JsonElement e, string prefix)
        {
            if (e.ValueKind == JsonValueKind.Object)
                foreach (var p in e.EnumerateObject())
                    Walk(p.Value, prefix.Length == 0 ? p.Name : prefix + "." + p.Name);
            else flat[prefix] = e.GetRawText();
        }
        Walk(doc.RootElement, "");
        return flat;
    }

}
