using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace Abba.Core.IO;

/// <summary>
/// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
/// (<c>{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}</c>),
/// then the raw little-endian tensor bytes. None of the available packages reads or writes it, so it lives here.
/// </summary>
public static class SafeTensors
{
    static readonly Dictionary<ScalarType, (string Name, int Size)> Types = new()
    {
        [ScalarType.Float32] = ("F32", 4), [ScalarType.Float64] = ("F64", 8), [ScalarType.Float16] = ("F16", 2),
        [ScalarType.BFloat16] = ("BF16", 2), [ScalarType.Int64] = ("I64", 8), [ScalarType.Int32] = ("I32", 4),
        [ScalarType.Int16] = ("I16", 2), [ScalarType.Int8] = ("I8", 1), [ScalarType.Byte] = ("U8", 1),
        [ScalarType.Bool] = ("BOOL", 1),
    };

    /// <summary>Writes <paramref name="tensors"/> (keys in sorted order)
    /// and string metadata to <paramref name="path"/> atomically.</summary>
    public static void Save(
        string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors writing needs a little-endian machine.");
        var blobs = new List<byte[]>();
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 })
            header["__metadata__"] =
                new SortedDictionary<string, string>(metadata.ToDictionary(), StringComparer.Ordinal);
        long offset = 0;
        foreach (var (key, tensor) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!Types.TryGetValue(tensor.dtype, out var type))
                throw new NotSupportedException($"safetensors: tensor '{key}' has unsupported dtype {tensor.dtype}.");
            using var cpu = tensor.detach().cpu().contiguous();
            byte[] bytes = cpu.bytes.ToArray();
            header[key] =
                new { dtype = type.Name, shape = tensor.shape, data_offsets = new[] { offset, offset + bytes.Length } };
            blobs.Add(bytes);
            offset += bytes.Length;
        }
        byte[] json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8;   // keep the data 8-byte aligned; pad with spaces as the spec allows
        string temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using (var file = File.Create(temp))
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
            file.Write(len);
            file.Write(json);
            for (int i = json.Length; i < padded; i++) file.WriteByte((byte)' ');
            foreach (var b in blobs) file.Write(b);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads every tensor (on the CPU) and the metadata of <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not valid safetensors; the message says why.</exception>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No safetensors file at {path}.", path);
        byte[] file = File.ReadAllBytes(path);
        if (file.Length < 8)
            throw new InvalidDataException($"{path}: too short for a safetensors header ({file.Length} bytes).");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (n > (ulong)file.Length - 8)
            throw new InvalidDataException(
                $"{path}: header length {n} runs past the end of the {file.Length}-byte file.");
        JsonElement root;
        try { root = JsonDocument.Parse(file.AsMemory(8, (int)n)).RootElement; }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: the header is not valid JSON ({e.Message}).", e);
        }
        var tensors = new Dictionary<string, Tensor>();
        var metadata = new Dictionary<string, string>();
        long dataStart = 8 + (long)n;
        foreach (var entry in root.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
            {
                foreach (var m in entry.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                continue;
            }
            tensors[entry.Name] = ReadTensor(path, file, dataStart, entry.Name, entry.Value);
        }
        return (tensors, metadata);
    }

    static Tensor ReadTensor(string path, byte[] file, long dataStart, string key, JsonElement info)
    {
        string dtypeName = info.GetProperty("dtype").GetString() ?? "";
        var match = Types.FirstOrDefault(t => t.Value.Name == dtypeName);
        if (match.Value.Name is null)
            throw new InvalidDataException($"{path}: tensor '{key}' has unsupported dtype '{dtypeName}'.");
        long[] shape = info.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        long[] offsets = info.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (offsets.Length != 2 || offsets[1] - offsets[0] != count * match.Value.Size || offsets[0] < 0
            || dataStart + offsets[1] > file.Length)
            throw new InvalidDataException(
                $"{path}: tensor '{key}' has data offsets [{string.Join(", ", offsets)}] " +
                $"that do not fit its shape [{string.Join(", ", shape)}] or the file.");
        var t = empty(shape, match.Key);
        file.AsSpan((int)(dataStart + offsets[0]), (int)(offsets[1] - offsets[0])).CopyTo(t.bytes);
        return t;
    }
}
