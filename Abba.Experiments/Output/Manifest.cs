using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Abba.Experiments.Output;

/// <summary>The units a run's outputs were built from.</summary>
/// <param name="SettingsHash">Hash of the result-relevant settings (part of every unit's file name).</param>
/// <param name="Loaded">Units loaded from the units folder (resumed, or left by shards).</param>
/// <param name="Computed">Units computed by this run.</param>
/// <param name="Recomputed">Units recomputed because the stored file was damaged.</param>
/// <param name="Contributors">Which shards on which hosts computed the units ("shard 2/3 on node1", "unsharded on
/// laptop").</param>
public sealed record UnitsSummary(
    string SettingsHash, int Loaded, int Computed, int Recomputed, IReadOnlyList<string> Contributors);

/// <summary>What a run was: the <c>manifest.json</c> written beside its results.</summary>
public sealed record Manifest
{
    /// <summary>Experiment name.</summary>
    public required string Experiment { get; init; }
    /// <summary>Paper artefact it reproduces.</summary>
    public required string PaperArtefact { get; init; }
    /// <summary>ok, failed or cancelled.</summary>
    public required string Status { get; init; }
    /// <summary>The command line as typed.</summary>
    public required string CommandLine { get; init; }
    /// <summary>quick or paper.</summary>
    public required string Profile { get; init; }
    /// <summary>Seeds used.</summary>
    public required IReadOnlyList<int> Seeds { get; init; }
    /// <summary>Device the run used.</summary>
    public required string Device { get; init; }
    /// <summary>libtorch intra-op threads.</summary>
    public required int Threads { get; init; }
    /// <summary>The common options as resolved.</summary>
    public required object Settings { get; init; }
    /// <summary>The experiment's own options as resolved.</summary>
    public required object Configuration { get; init; }
    /// <summary>
    /// For each configuration setting: whether the paper states it, it was inferred from the paper, or chosen here, and
    /// why (kept beside <see cref="Configuration"/>, not inside it, so that unit hashes do not change).
    /// </summary>
    public object? ConfigurationProvenance { get; init; }
    /// <summary>Where the run's units came from (null for runs made before units existed).</summary>
    public UnitsSummary? Units { get; init; }
    /// <summary>TorchSharp assembly version.</summary>
    public required string TorchSharpVersion { get; init; }
    /// <summary>libtorch version.</summary>
    public required string LibTorchVersion { get; init; }
    /// <summary>Machine description (OS, cores, .NET).</summary>
    public required string Machine { get; init; }
    /// <summary>
    /// The hashes of the sources the experiment's results depend on, as built (null for runs made before they were
    /// recorded): the report compares them with today's build.
    /// </summary>
    public SourceHashes? Sources { get; init; }
    /// <summary>Git commit of the working tree, when available.</summary>
    public string? GitCommit { get; init; }
    /// <summary>Start time, UTC.</summary>
    public required DateTimeOffset StartedUtc { get; init; }
    /// <summary>End time, UTC.</summary>
    public required DateTimeOffset EndedUtc { get; init; }
    /// <summary>Wall time in seconds.</summary>
    public required double DurationSeconds { get; init; }
    /// <summary>Files written, relative to the results folder.</summary>
    public required IReadOnlyList<string> Files { get; init; }
    /// <summary>The error message when the run failed.</summary>
    public string? Error { get; init; }

    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary><paramref name="value"/> as the manifest would write it (snake_case names).</summary>
    public static JsonElement ToJson(object value) => JsonSerializer.SerializeToElement(value, value.GetType(), Json);

    /// <summary>Writes the manifest to <paramref name="path"/> atomically.</summary>
    public void Save(string path) => AtomicFile.WriteText(path, JsonSerializer.Serialize(this, Json) + "\n");

    /// <summary>Reads a manifest back as a JSON document.</summary>
    /// <exception cref="InvalidDataException">The file is not JSON (truncated or edited); the message names
    /// it.</exception>
    public static JsonDocument Load(string path)
    {
        try { return JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a readable manifest ({e.Message.Split('\n')[0]})", e);
        }
    }

    /// <summary>The profile the manifest in <paramref name="folder"/> names, or "unknown" when there is none.</summary>
    public static string ProfileOf(string folder)
    {
        string path = Path.Combine(folder, "manifest.json");
        if (!File.Exists(path)) return "unknown";
        using var manifest = Load(path);
        return manifest.RootElement.TryGetProperty("profile", out var p) ? p.GetString() ?? "unknown" : "unknown";
    }

    /// <summary>
    /// The setting <paramref name="name"/> (snake_case) of the run in <paramref name="folder"/>, as its manifest's
    /// <c>configuration</c> recorded it; default when there is no manifest or no such setting.
    /// </summary>
    public static T? SettingOf<T>(string folder, string name)
    {
        string path = Path.Combine(folder, "manifest.json");
        if (!File.Exists(path)) return default;
        using var manifest = Load(path);
        return manifest.RootElement.TryGetProperty("configuration", out var c) && c.ValueKind == JsonValueKind.Object
               && c.TryGetProperty(name, out var value)
            ? value.Deserialize<T>(Json)
            : default;
    }

    /// <summary>A one-line description of this machine.</summary>
    public static string DescribeMachine() =>
        $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription}; {Environment.ProcessorCount} cores; " +
        $".NET {Environment.Version}; {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}";

    /// <summary>
    /// The current git commit, or null outside a checkout; "-dirty" when tracked code differs from it. Changes under
    /// results/ do not count: a run rewrites its own tracked run.log and CSVs while it runs.
    /// </summary>
    public static string? GitCommitOrNull()
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", "rev-parse HEAD")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            });
            if (git is null) return null;
            string head = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit(5000);
            if (git.ExitCode != 0 || head.Length == 0) return null;
            using var status = Process.Start(
                new ProcessStartInfo("git", "status --porcelain --untracked-files=no -- . :(exclude)results")
                {
                    RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                });
            string dirty = status?.StandardOutput.ReadToEnd().Trim() ?? "";
            status?.WaitForExit(5000);
            return dirty.Length > 0 ? head + "-dirty" : head;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
