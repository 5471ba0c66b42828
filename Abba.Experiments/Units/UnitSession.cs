using System.Text.Json;
using System.Text.Json.Serialization;
using Abba.Experiments.Output;

namespace Abba.Experiments.Units;

/// <summary>
/// The units of one experiment run: loads a stored unit with the same identity and settings, or computes, stores and
/// returns it; warns and recomputes a damaged one. In a merge, computing is refused (every unit must be stored).
/// </summary>
public sealed class UnitSession(
    UnitStore store, string experiment, string settingsJson, string? shard, bool mayCompute = true)
{
    /// <summary>Payload JSON: snake_case, NaN and infinities allowed, compact.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>Test hook: milliseconds to sleep after storing each unit, so a test can kill the process between
    /// units.</summary>
    static readonly int PauseAfterUnitMs =
        int.TryParse(Environment.GetEnvironmentVariable("ABBA_TEST_PAUSE_AFTER_UNIT_MS"), out int ms) ? ms : 0;

    /// <summary>Where the units live.</summary>
    public UnitStore Store { get; } = store;
    /// <summary>Hash of the result-relevant settings: part of every unit's hash.</summary>
    public string SettingsHash { get; } = UnitIdentity.Sha256(settingsJson);
    /// <summary>The result-relevant settings as JSON.</summary>
    public string SettingsJson { get; } = settingsJson;
    /// <summary>Units loaded from the store, computed here, and recomputed because the stored file was
    /// damaged.</summary>
    public int Loaded { get; private set; }
    /// <inheritdoc cref="Loaded"/>
    public int Computed { get; private set; }
    /// <inheritdoc cref="Loaded"/>
    public int Recomputed { get; private set; }
    /// <summary>Shard labels ("2/3 on host", "unsharded on host") of the units this run used.</summary>
    public SortedSet<string> Contributors { get; } = new(StringComparer.Ordinal);

    readonly Dictionary<string, string> known = [];

    /// <summary>The hash (file name) of unit <paramref name="identity"/> under these settings.</summary>
    public string HashOf(string identity) => UnitIdentity.Hash(SettingsHash, identity);

    /// <summary>How many of <paramref name="identities"/> are stored under these settings (readable, not
    /// damaged).</summary>
    public int CountStored(IEnumerable<string> identities) =>
        identities.Count(id => Store.Read(HashOf(id), out _) is not null);

    /// <summary>
    /// The line a run logs before it starts: how many of its <paramref name="planned"/> units it will reuse from the
    /// store and how many it will compute, and where; null when nothing is stored yet (a fresh run).
    /// </summary>
    public string? ResumeLine(string experiment, IReadOnlyCollection<string> planned)
    {
        int stored = CountStored(planned);
        if (stored == 0) return null;
        return $"{experiment}: resuming: {stored} of {planned.Count} planned units are stored in {Store.Folder} and " +
               $"will be reused; {planned.Count - stored} to compute";
    }

    /// <summary>The stored result of unit <paramref name="identity"/>, or computes and stores it first.</summary>
    public T Get<T>(string identity, Func<object> compute, RunLog log) =>
        JsonSerializer.Deserialize<T>(Ensure(identity, compute, log), Json)!;

    /// <summary>
    /// The payload JSON of unit <paramref name="identity"/>: loaded when stored under these settings, else computed by
    /// <paramref name="compute"/> (which checks for cancellation itself), stored and returned.
    /// </summary>
    public string Ensure(string identity, Func<object> compute, RunLog log)
    {
        string hash = HashOf(identity);
        if (known.TryGetValue(hash, out string? seen)) return seen;   // a prerequisite asked for again
        if (Store.Read(hash, out string? problem) is { } stored)
        {
            Loaded++;
            Contributors.Add(Label(stored.Shard, stored.Host));
            return known[hash] = stored.PayloadJson;
        }
        if (problem is not null) log.Warn($"{problem}; recomputing {identity}");
        if (!mayCompute) throw new InvalidOperationException($"unit {identity} ({Store.PathOf(hash)}) is not stored");
        object result = compute();
        string payload = JsonSerializer.Serialize(result, result.GetType(), Json);
        Store.Write(new UnitRecord(experiment, identity, SettingsHash, SettingsJson, shard, Worker, payload));
        if (problem is null) Computed++; else Recomputed++;
        Contributors.Add(Label(shard, Worker));
        if (PauseAfterUnitMs > 0) Thread.Sleep(PauseAfterUnitMs);
        return known[hash] = payload;
    }

    /// <summary>
    /// This machine and its libtorch thread count. The thread count is not part of a unit's identity (shards on
    /// machines
    /// with different core counts can still be merged), but results can differ in the last bits between thread counts,
    /// so every unit records it and the manifest's contributors show it.
    /// </summary>
    static string Worker => $"{Environment.MachineName} ({TorchSharp.torch.get_num_threads()} threads)";

    static string Label(string? shard, string host) => $"{(shard is null ? "unsharded" : "shard " + shard)} on {host}";
}
