using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Abba.Core.IO;
using static TorchSharp.torch;

namespace Abba.Experiments.Experiments;

/// <summary>
/// Pre-trained weights cached under the results folder's <c>cache/</c>, named by a hash of everything they depend on
/// (<paramref name="key"/>: settings, device, seed, seeding scheme), so a changed setting never re-uses stale weights.
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
        var (tensors, metadata) = SafeTensors.Load(WeightsPath);
        if (metadata.GetValueOrDefault("key") == keyText) return tensors;
        foreach (var t in tensors.Values) t.Dispose();
        return null;
    }

    /// <summary>Saves <paramref name="weights"/> with the key and <paramref name="metadata"/>.</summary>
    public void Save(IReadOnlyDictionary<string, Tensor> weights, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(BasePath)!);
        var all = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { ["key"] = keyText };
        SafeTensors.Save(WeightsPath, weights, all);
    }

    static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];
}
