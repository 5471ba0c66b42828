using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Abba.Core.IO;
using Abba.Experiments.Output;
using Abba.Experiments.Units;
using static TorchSharp.torch;

namespace Abba.Experiments.Pipeline;

/// <summary>
/// Pre-trained weights cached under the results folder's <c>cache/</c>, named by a hash of everything they depend on
/// (<paramref name="key"/>: settings, device, seed, seeding scheme), so a changed setting never re-uses stale weights.
/// Written atomically (temporary file, then rename), so shards sharing a folder see whole files only; two shards that
/// pre-train the same key write the same weights, and the last rename wins.
/// </summary>
public sealed class PretrainCache(string outputDir, object key, int seed)
{
    readonly string keyText = JsonSerializer.Serialize(key);

    /// <summary>The cache files' common path, without extension.</summary>
    public string BasePath => Path.Combine(outputDir, "cache", $"pretrain-{Hash(keyText)}-seed{seed}");

    /// <summary>The weights file.</summary>
    public string WeightsPath => BasePath + ".safetensors";

    /// <summary>A file kept beside the weights (for example the pre-training curve).</summary>
    public string SidePath(string suffix) => $"{BasePath}-{suffix}";

    /// <summary>The cached weights, or null when there are none made with this key.</summary>
    public Dictionary<string, Tensor>? TryLoad()
    {
        if (!File.Exists(WeightsPath)) return null;
        Dictionary<string, Tensor> tensors;
        Dictionary<string, string> metadata;
        try { (tensors, metadata) = SafeTensors.Load(WeightsPath); }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or ArgumentException
            or JsonException)
        {
            return null;   // damaged: pre-train again
        }
        if (metadata.GetValueOrDefault("key") == keyText) return tensors;
        foreach (var t in tensors.Values) t.Dispose();
        return null;
    }

    /// <summary>Saves <paramref name="weights"/> with the key and <paramref name="metadata"/>.</summary>
    public void Save(IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(BasePath)!);
        var all = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { ["key"] = keyText };
        AtomicFile.Write(WeightsPath, temp => SafeTensors.Save(temp, weights, all));
    }

    static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];
}
