using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Core.Data;

/// <summary>Images [N, 784] float32 in [0, 1] and labels [N] int64 of one MNIST split (or a selection of it).</summary>
/// <param name="Images">Images, one flattened 28x28 row per example.</param>
/// <param name="Labels">Digit labels 0-9.</param>
public sealed record MnistSplit(Tensor Images, Tensor Labels) : IDisposable
{
    /// <summary>Number of examples.</summary>
    public long Count => Labels.shape[0];

    /// <summary>The examples whose label is one of <paramref name="digits"/>, in their original order.</summary>
    public MnistSplit WithDigits(IReadOnlyCollection<int> digits)
    {
        using var scope = NewDisposeScope();
        using var wanted = tensor(digits.Select(d => (long)d).ToArray());
        var index = isin(Labels, wanted).nonzero().squeeze(1);
        return new MnistSplit(Images.index_select(0, index).MoveToOuterDisposeScope(),
            Labels.index_select(0, index).MoveToOuterDisposeScope());
    }

    /// <summary>The examples at <paramref name="index"/> (an int64 index tensor).</summary>
    public MnistSplit Take(Tensor index) => new(Images.index_select(0, index), Labels.index_select(0, index));

    /// <summary>Moves both tensors to <paramref name="device"/>.</summary>
    public MnistSplit To(Device device) => new(Images.to(device), Labels.to(device));

    /// <inheritdoc />
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}

/// <summary>The MNIST training (60,000) and test (10,000) splits.</summary>
/// <param name="Train">Training split.</param>
/// <param name="Test">Test split.</param>
public sealed record MnistData(MnistSplit Train, MnistSplit Test) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}

/// <summary>Locates, verifies and loads the four original MNIST IDX files.</summary>
public static class Mnist
{
    /// <summary>Pixels per image (28 x 28).</summary>
    public const int Pixels = 28 * 28;

    /// <summary>Number of classes.</summary>
    public const int Classes = 10;

    /// <summary>
    /// SHA-256 of each file's decompressed IDX content (not of the .gz), so that a raw copy or a recompressed
    /// copy of the same data is accepted. Values from the provenance note shipped beside the files (SOURCE.md).
    /// </summary>
    public static IReadOnlyDictionary<string, string> Sha256 { get; } = new Dictionary<string, string>
    {
        ["train-images-idx3-ubyte"] = "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        ["train-labels-idx1-ubyte"] = "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ["t10k-images-idx3-ubyte"] = "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        ["t10k-labels-idx1-ubyte"] = "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    };

    /// <summary>The path of file <paramref name="name"/> in <paramref name="folder"/>:
    /// <c>name.gz</c> if present, else <c>name</c>, else null.</summary>
    public static string? Locate(string folder, string name)
    {
        string gz = Path.Combine(folder, name + ".gz"), raw = Path.Combine(folder, name);
        return File.Exists(gz) ? gz : File.Exists(raw) ? raw : null;
    }

    /// <summary>One line per MNIST file missing from <paramref name="folder"/>, naming the paths looked for.</summary>
    public static IReadOnlyList<string> MissingFiles(string folder) =>
        [.. Sha256.Keys.Where(n => Locate(folder, n) is null)
            .Select(n => $"{Path.Combine(Path.GetFullPath(folder), n)}.gz (or uncompressed {n})")];

    /// <summary>Loads both splits from <paramref name="folder"/>, verifying every checksum.</summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message names the paths looked for.</exception>
    /// <exception cref="IdxFormatException">A file is corrupt,
    /// truncated, of the wrong kind or not the original.</exception>
    public static MnistData Load(string folder) =>
        new(LoadSplit(folder, "train"), LoadSplit(folder, "t10k"));

    static MnistSplit LoadSplit(string folder, string prefix)
    {
        string images = Require(folder, $"{prefix}-images-idx3-ubyte"),
            labels = Require(folder, $"{prefix}-labels-idx1-ubyte");
        return Read(images, labels, Sha256[$"{prefix}-images-idx3-ubyte"], Sha256[$"{prefix}-labels-idx1-ubyte"]);
    }

    static string Require(string folder, string name) =>
        Locate(folder, name) ?? throw new FileNotFoundException(
            $"MNIST file not found: looked for {Path.Combine(Path.GetFullPath(folder), name)}.gz and " +
            $"{Path.Combine(Path.GetFullPath(folder), name)}.",
            Path.Combine(folder, name + ".gz"));

    /// <summary>Reads one images/labels pair of IDX files and checks that they fit together.</summary>
    /// <param name="imagesPath">IDX images file (magic 2051, N x 28 x 28), gzip or raw.</param>
    /// <param name="labelsPath">IDX labels file (magic 2049, N labels 0-9), gzip or raw.</param>
    /// <param name="imagesSha256">Expected SHA-256 of the decompressed images file, or null to skip.</param>
    /// <param name="labelsSha256">Expected SHA-256 of the decompressed labels file, or null to skip.</param>
    public static MnistSplit Read(
        string imagesPath, string labelsPath, string? imagesSha256 = null, string? labelsSha256 = null)
    {
        var images = IdxFile.Read(imagesPath, IdxFile.ImagesMagic, imagesSha256);
        var labels = IdxFile.Read(labelsPath, IdxFile.LabelsMagic, labelsSha256);
        if (images.Dimensions is not [var n, 28, 28])
            throw new IdxFormatException(IdxProblem.Inconsistent, imagesPath,
                $"{imagesPath} holds {string.Join(" x ", images.Dimensions)} images; MNIST images are 28 x 28.");
        if (labels.Dimensions[0] != n)
            throw new IdxFormatException(IdxProblem.Inconsistent, labelsPath,
                $"{labelsPath} holds {labels.Dimensions[0]} labels but {imagesPath} holds {n} images.");
        if (labels.Data.Any(b => b >= Classes))
            throw new IdxFormatException(IdxProblem.Inconsistent, labelsPath,
                $"{labelsPath} holds a label outside 0-9.");
        using var pixels = tensor(images.Data, [n, Pixels], ScalarType.Byte);
        using var digits = tensor(labels.Data, [n], ScalarType.Byte);
        return new MnistSplit(pixels.to_type(ScalarType.Float32).div_(255f), digits.to_type(ScalarType.Int64));
    }
}
