using System.IO.Compression;
using System.Security.Cryptography;

namespace Abba.Core.Data;

/// <summary>What is wrong with an IDX file.</summary>
public enum IdxProblem
{
    /// <summary>The file starts like gzip but does not decompress.</summary>
    BadGzip,
    /// <summary>The first four bytes are not the expected magic number.</summary>
    WrongMagic,
    /// <summary>The file ends before its header or before the data its header declares.</summary>
    Truncated,
    /// <summary>The file holds bytes after the data its header declares.</summary>
    TrailingBytes,
    /// <summary>The decompressed content does not have the expected SHA-256.</summary>
    ChecksumMismatch,
    /// <summary>The header or content does not fit what the reader
    /// was asked for (sizes, counts, label range).</summary>
    Inconsistent,
}

/// <summary>An IDX file could not be read; <see cref="Problem"/> says why and the message says what to do.</summary>
public sealed class IdxFormatException(IdxProblem problem, string path, string message) : IOException(message)
{
    /// <summary>What is wrong.</summary>
    public IdxProblem Problem { get; } = problem;

    /// <summary>The file that was read.</summary>
    public string FilePath { get; } = path;
}

/// <summary>The content of an unsigned-byte IDX file:
/// its magic number, dimensions and data in row-major order.</summary>
/// <param name="Magic">Magic number (2051 for images, 2049 for labels).</param>
/// <param name="Dimensions">Sizes from the header, outermost first.</param>
/// <param name="Data">The data bytes, product(Dimensions) of them.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the decompressed file (header and data).</param>
public sealed record IdxArray(int Magic, int[] Dimensions, byte[] Data, string Sha256);

/// <summary>
/// Reads IDX files (LeCun's MNIST format): a big-endian header <c>0x00 0x00 type ndims</c>, then ndims
/// big-endian int32 sizes, then the data. Only unsigned bytes (type 0x08) are supported. The file may be
/// gzip-compressed (recognised by its magic bytes, not its name) or raw.
/// </summary>
public static class IdxFile
{
    /// <summary>Magic number of an unsigned-byte 3-D IDX file (MNIST images).</summary>
    public const int ImagesMagic = 0x0803;

    /// <summary>Magic number of an unsigned-byte 1-D IDX file (MNIST labels).</summary>
    public const int LabelsMagic = 0x0801;

    /// <summary>Reads <paramref name="path"/>, checking the magic
    /// number, the sizes and, when given, the SHA-256.</summary>
    /// <param name="path">The file, gzip-compressed or raw.</param>
    /// <param name="expectedMagic">The magic number the file must have.</param>
    /// <param name="expectedSha256">Hex SHA-256 of the decompressed content, or null to skip the check.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IdxFormatException">The file is not a valid IDX file of the expected kind.</exception>
    public static IdxArray Read(string path, int expectedMagic, string? expectedSha256 = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file not found: {path}", path);
        byte[] bytes = Decompress(path, File.ReadAllBytes(path));
        var (dims, headerLength) = ReadHeader(path, bytes, expectedMagic);
        long dataLength = dims.Aggregate(1L, (n, d) => n * d);
        long actual = bytes.Length - headerLength;
        if (actual < dataLength)
            throw new IdxFormatException(IdxProblem.Truncated, path,
                $"{path} is truncated: its header declares {dataLength} data bytes ({string.Join(" x ", dims)}) " +
                $"but only {actual} follow.");
        if (actual > dataLength)
            throw new IdxFormatException(IdxProblem.TrailingBytes, path,
                $"{path} has {actual - dataLength} bytes after the {dataLength} data bytes its header declares: " +
                "not a valid IDX file.");
        string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (expectedSha256 is not null && !string.Equals(sha, expectedSha256, StringComparison.OrdinalIgnoreCase))
            throw new IdxFormatException(IdxProblem.ChecksumMismatch, path,
                $"{path}: SHA-256 of the decompressed content is {sha}, " +
                $"expected {expectedSha256.ToLowerInvariant()}. " +
                "The file is corrupt or is not the original; replace it with the original file.");
        return new IdxArray(expectedMagic, dims, bytes[headerLength..], sha);
    }

    static byte[] Decompress(string path, byte[] bytes)
    {
        if (bytes is not [0x1f, 0x8b, ..]) return bytes;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gzip.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new IdxFormatException(IdxProblem.BadGzip, path,
                $"{path} starts like a gzip file but does not decompress ({e.Message}); " +
                "the download may be incomplete or corrupt.");
        }
    }

    static (int[] Dims, int HeaderLength) ReadHeader(string path, byte[] bytes, int expectedMagic)
    {
        if (bytes.Length < 4)
            throw new IdxFormatException(IdxProblem.Truncated, path,
                $"{path} is truncated: {bytes.Length} bytes, shorter than the 4-byte IDX magic number.");
        int magic = BigEndianInt(bytes, 0);
        if (magic != expectedMagic)
            throw new IdxFormatException(IdxProblem.WrongMagic, path,
                $"{path} has magic number {magic} (0x{magic:x8}), expected {expectedMagic} (0x{expectedMagic:x8}): " +
                "it is not the IDX file expected here.");
        int rank = magic & 0xff;
        int headerLength = 4 + 4 * rank;
        if (bytes.Length < headerLength)
            throw new IdxFormatException(IdxProblem.Truncated, path,
                $"{path} is truncated: {bytes.Length} bytes, shorter than its {headerLength}-byte header.");
        int[] dims = [.. Enumerable.Range(0, rank).Select(i => BigEndianInt(bytes, 4 + 4 * i))];
        if (dims.Any(d => d < 0))
            throw new IdxFormatException(IdxProblem.Inconsistent, path,
                $"{path} declares a negative size ({string.Join(" x ", dims)}).");
        return (dims, headerLength);
    }

    static int BigEndianInt(byte[] bytes, int offset) =>
        System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(offset, 4));
}
