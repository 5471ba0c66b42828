using System.Text.Json;
using System.Text.Json.Serialization;
using Abba.Core.IO;
using static TorchSharp.torch;

namespace Abba.Core.Adapters;

/// <summary>
/// Saves and loads what fine-tuning trained: every parameter with <c>requires_grad</c>, under its dotted model name
/// (<c>layers.0.self_attn.q_proj.lora_A</c>, <c>fc1.abba_B2</c>; the weights of unfrozen layers for full fine-tuning),
/// as safetensors with the method and its settings in the metadata.
/// </summary>
public static class AdapterCheckpoint
{
    static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    /// <summary>Writes the trainable parameters of <paramref name="model"/>
    /// and <paramref name="config"/> to <paramref name="path"/>.</summary>
    public static void Save(nn.Module model, AdapterConfig config, string path)
    {
        var tensors = model.named_parameters().Where(p => p.parameter.requires_grad)
            .ToDictionary(p => p.name, p => (Tensor)p.parameter);
        if (tensors.Count == 0)
            throw new InvalidOperationException(
                "The model has no trainable parameters to save: inject a method first.");
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "abba-harness-adapter/1",
            ["method"] = config.Method,
            ["config"] = JsonSerializer.Serialize(config, config.GetType(), Json),
            ["modules"] = string.Join(",", Injector.Adapters(model).Keys),
        };
        SafeTensors.Save(path, tensors, metadata);
    }

    /// <summary>The metadata of a checkpoint (method, config JSON, adapted modules).</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path) => SafeTensors.Load(path).Metadata;

    /// <summary>
    /// Copies a checkpoint into <paramref name="model"/>, which must already carry the same method on the same modules.
    /// </summary>
    /// <exception cref="InvalidDataException">Keys are missing,
    /// unexpected or mis-shaped; the message names them.</exception>
    public static void Load(nn.Module model, string path)
    {
        var (tensors, _) = SafeTensors.Load(path);
        try
        {
            var trainable = model.named_parameters().Where(p => p.parameter.requires_grad)
                .ToDictionary(p => p.name, p => p.parameter);
            var missing = trainable.Keys.Where(k => !tensors.ContainsKey(k)).ToArray();
            var unexpected = tensors.Keys.Where(k => !trainable.ContainsKey(k)).ToArray();
            var misShaped = trainable
                .Where(kv => tensors.TryGetValue(kv.Key, out var t) && !t.shape.SequenceEqual(kv.Value.shape))
                .Select(kv => $"{kv.Key} (file [{string.Join(", ", tensors[kv.Key].shape)}], " +
                              $"model [{string.Join(", ", kv.Value.shape)}])")
                .ToArray();
            var problems = new List<string>();
            if (missing.Length > 0) problems.Add("missing keys: " + string.Join(", ", missing));
            if (unexpected.Length > 0) problems.Add("unexpected keys: " + string.Join(", ", unexpected));
            if (misShaped.Length > 0) problems.Add("mis-shaped keys: " + string.Join(", ", misShaped));
            if (problems.Count > 0)
                throw new InvalidDataException($"{path} does not fit the model: {string.Join("; ", problems)}.");
            using var _ = no_grad();
            foreach (var (name, p) in trainable) p.copy_(tensors[name].to(p.dtype, p.device));
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }
}
