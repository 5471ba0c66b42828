using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using Abba.Core.Data;

namespace Abba.Tests.Data;

/// <summary>IDX reading on small files written here byte by byte, gzip-compressed and raw.</summary>
public sealed class IdxFileTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("abba-idx-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>An IDX file: big-endian magic, sizes, then the data bytes.</summary>
    static byte[] Idx(int magic, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    static byte[] Gzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal)) gzip.Write(raw);
        return output.ToArray();
    }

    string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Three 28x28 images whose pixel (r, c) of image k is (k + r + c) mod 256, with labels 7, 0, 9.</summary>
    static (byte[] Images, byte[] Labels) ThreeDigits()
    {
        var pixels = new byte[3 * 28 * 28];
        for (int k = 0; k < 3; k++)
            for (int r = 0; r < 28; r++)
                for (int c = 0; c < 28; c++) pixels[k * 784 + r * 28 + c] = (byte)((k + r + c) % 256);
        return (Idx(2051, [3, 28, 28], pixels), Idx(2049, [3], [7, 0, 9]));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Read_GzipOrRaw_GivesScaledImagesAndInt64Labels(bool gzip)
    {
        var (images, labels) = ThreeDigits();
        string ip = Write("images", gzip ? Gzip(images) : images), lp = Write("labels", gzip ? Gzip(labels) : labels);
        using var split = Mnist.Read(ip, lp, Convert.ToHexStringLower(SHA256.HashData(images)), Convert.ToHexStringLower(SHA256.HashData(labels)));
        Assert.Equal([3L, 784L], split.Images.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Float32, split.Images.dtype);
        Assert.Equal(TorchSharp.torch.ScalarType.Int64, split.Labels.dtype);
        Assert.Equal([7L, 0L, 9L], split.Labels.data<long>().ToArray());
        // image 2, row 5, column 11: (2 + 5 + 11) / 255
        Assert.Equal(18f / 255f, split.Images[2, 5 * 28 + 11].item<float>(), 6);
        Assert.InRange(split.Images.max().item<float>(), 0f, 1f);
    }

    [Fact]
    public void Read_MissingFile_NamesThePath()
    {
        string path = Path.Combine(folder, "absent-idx1-ubyte.gz");
        var e = Assert.Throws<FileNotFoundException>(() => IdxFile.Read(path, IdxFile.LabelsMagic));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Load_MissingMnistFile_NamesBothPathsLookedFor()
    {
        var e = Assert.Throws<FileNotFoundException>(() => Mnist.Load(folder));
        Assert.Contains(Path.Combine(folder, "train-images-idx3-ubyte") + ".gz", e.Message);
        Assert.Contains(Path.Combine(folder, "train-images-idx3-ubyte") + ".", e.Message);
        Assert.Equal(4, Mnist.MissingFiles(folder).Count);
    }

    [Fact]
    public void Read_LabelsFileWhereImagesExpected_ReportsWrongMagic()
    {
        var (_, labels) = ThreeDigits();
        var e = Assert.Throws<IdxFormatException>(() => IdxFile.Read(Write("labels", Gzip(labels)), IdxFile.ImagesMagic));
        Assert.Equal(IdxProblem.WrongMagic, e.Problem);
        Assert.Contains("magic number 2049", e.Message);
        Assert.Contains("expected 2051", e.Message);
    }

    [Theory]
    [InlineData(3, false)]        // shorter than the magic number
    [InlineData(10, false)]       // inside the header
    [InlineData(16 + 100, false)] // inside the data
    [InlineData(16 + 100, true)]  // the same, gzip-compressed
    public void Read_CutShort_ReportsTruncated(int keep, bool gzip)
    {
        var (images, _) = ThreeDigits();
        byte[] cut = images[..keep];
        var e = Assert.Throws<IdxFormatException>(() => IdxFile.Read(Write("images", gzip ? Gzip(cut) : cut), IdxFile.ImagesMagic));
        Assert.Equal(IdxProblem.Truncated, e.Problem);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Read_GzipStreamCutShort_IsReportedAsCorruptOrTruncated()
    {
        var (images, _) = ThreeDigits();
        byte[] gz = Gzip(images);
        var e = Assert.Throws<IdxFormatException>(() => IdxFile.Read(Write("images.gz", gz[..(gz.Length / 2)]), IdxFile.ImagesMagic));
        Assert.Contains(e.Problem, new[] { IdxProblem.BadGzip, IdxProblem.Truncated });
    }

    [Fact]
    public void Read_ExtraBytesAfterTheData_ReportsTrailingBytes()
    {
        var (_, labels) = ThreeDigits();
        var e = Assert.Throws<IdxFormatException>(() => IdxFile.Read(Write("labels", [.. labels, 1, 2]), IdxFile.LabelsMagic));
        Assert.Equal(IdxProblem.TrailingBytes, e.Problem);
        Assert.Contains("2 bytes after", e.Message);
    }

    [Fact]
    public void Read_OneFlippedPixel_ReportsChecksumMismatch()
    {
        var (images, _) = ThreeDigits();
        string expected = Convert.ToHexStringLower(SHA256.HashData(images));
        images[500] ^= 1;
        var e = Assert.Throws<IdxFormatException>(() => IdxFile.Read(Write("images", Gzip(images)), IdxFile.ImagesMagic, expected));
        Assert.Equal(IdxProblem.ChecksumMismatch, e.Problem);
        Assert.Contains(expected, e.Message);
        Assert.Contains("SHA-256", e.Message);
    }

    [Fact]
    public void Read_ChecksumIsOfTheDecompressedContent_SoRawAndGzipAgree()
    {
        var (images, _) = ThreeDigits();
        string expected = Convert.ToHexStringLower(SHA256.HashData(images));
        Assert.Equal(expected, IdxFile.Read(Write("raw", images), IdxFile.ImagesMagic, expected).Sha256);
        Assert.Equal(expected, IdxFile.Read(Write("gz", Gzip(images)), IdxFile.ImagesMagic, expected).Sha256);
    }

    [Fact]
    public void Read_FewerLabelsThanImages_ReportsInconsistent()
    {
        var (images, _) = ThreeDigits();
        var e = Assert.Throws<IdxFormatException>(() => Mnist.Read(Write("images", images), Write("labels", Idx(2049, [2], [1, 2]))));
        Assert.Equal(IdxProblem.Inconsistent, e.Problem);
        Assert.Contains("2 labels", e.Message);
    }

    [Fact]
    public void ShippedFiles_MatchTheKnownChecksums()
    {
        string shipped = Path.Combine(AppContext.BaseDirectory, "data", "mnist");
        Assert.Empty(Mnist.MissingFiles(shipped));
        foreach (string name in new[] { "t10k-labels-idx1-ubyte", "train-labels-idx1-ubyte" })
            Assert.Equal(Mnist.Sha256[name], IdxFile.Read(Mnist.Locate(shipped, name)!, IdxFile.LabelsMagic, Mnist.Sha256[name]).Sha256);
    }
}
