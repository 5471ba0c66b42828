using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Abba.Core.Data;

/// <summary>One labelled gloss of the supersense dataset.</summary>
/// <param name="Id">Part of speech and synset offset, e.g. <c>n02084071</c>.</param>
/// <param name="Lemma">The synset's first word, <c>_</c> written as a space.</param>
/// <param name="Text">The synset's definition (its gloss before the first example).</param>
/// <param name="Supersense">The lexicographer file, e.g. <c>noun.animal</c>: the label.</param>
/// <param name="Split"><c>train</c>, <c>validation</c> or <c>test</c>.</param>
public sealed record SupersenseItem(string Id, string Lemma, string Text, string Supersense, string Split);

/// <summary>
/// WordNet 3.0 supersense classification: the definition of every noun and verb synset, labelled with its
/// lexicographer file. Classes with fewer than <see cref="MinimumClassSize"/> glosses are dropped. Splits are fixed:
/// items ordered by the SHA-256 of their id (lower-case hex, ordinal) give the first <see cref="TestSize"/> to test,
/// the next <see cref="ValidationSize"/> to validation and the rest to train; the file keeps that order, so a
/// prefix of a split is a random sample of it.
/// </summary>
public sealed class SupersenseDataset
{
    /// <summary>The shipped file's name.</summary>
    public const string FileName = "supersense.tsv.gz";

    /// <summary>The TSV's header line.</summary>
    public const string Header = "id\tlemma\tsupersense\tsplit\ttext";

    /// <summary>Classes with fewer glosses than this are dropped.</summary>
    public const int MinimumClassSize = 100;

    /// <summary>Items in the test split.</summary>
    public const int TestSize = 3000;

    /// <summary>Items in the validation split.</summary>
    public const int ValidationSize = 1500;

    /// <summary>SHA-256 of the shipped file's decompressed TSV (what <see cref="Build"/> gives from WordNet 3.0);
    /// the gzip bytes around it may differ between zlib versions.</summary>
    public const string ContentSha256 = "17a9b949a4990bb440c3126982817b08725f2caf52c091955916c677e95a376d";

    /// <summary>The split names, in file order.</summary>
    public static IReadOnlyList<string> Splits { get; } = ["test", "validation", "train"];

    SupersenseDataset(IReadOnlyList<SupersenseItem> items)
    {
        Items = items;
        Classes = [.. items.Select(i => i.Supersense).Distinct().Order(StringComparer.Ordinal)];
        var label = Classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
        List<(string, int)> Of(string split) =>
            [.. items.Where(i => i.Split == split).Select(i => (i.Text, label[i.Supersense]))];
        Train = Of("train");
        Validation = Of("validation");
        Test = Of("test");
    }

    /// <summary>Every item, in file order.</summary>
    public IReadOnlyList<SupersenseItem> Items { get; }

    /// <summary>The supersenses, sorted ordinally; a label is an index into this list.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Training texts and labels, in file order.</summary>
    public IReadOnlyList<(string Text, int Label)> Train { get; }

    /// <summary>Validation texts and labels, in file order.</summary>
    public IReadOnlyList<(string Text, int Label)> Validation { get; }

    /// <summary>Test texts and labels, in file order.</summary>
    public IReadOnlyList<(string Text, int Label)> Test { get; }

    /// <summary>Reads the shipped file, checking its content's SHA-256 and structure.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not gzip, not the shipped content, or malformed; the
    /// message is one line naming the file.</exception>
    public static SupersenseDataset Load(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"supersense data file not found: {Path.GetFullPath(path)}", path);
        byte[] content = Decompress(path);
        string sha = Convert.ToHexStringLower(SHA256.HashData(content));
        if (sha != ContentSha256)
            throw new InvalidDataException($"{path}: content SHA-256 {sha} is not the shipped file's " +
                                           $"{ContentSha256} (rebuild it with `abba data supersense`)");
        return new SupersenseDataset(Parse(path, Encoding.UTF8.GetString(content)));
    }

    /// <summary>Parses WordNet's noun and verb data files in <paramref name="wordnetDir"/>, drops the small classes
    /// and assigns the splits: the items of the shipped file, in its order.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">A data file is missing.</exception>
    /// <exception cref="InvalidDataException">A data line does not parse.</exception>
    public static IReadOnlyList<SupersenseItem> Build(string wordnetDir) =>
        FromSynsets(WordNet.ReadNounsAndVerbs(wordnetDir));

    /// <summary>The dataset's items from parsed synsets: small classes dropped, splits assigned, hash order.</summary>
    public static IReadOnlyList<SupersenseItem> FromSynsets(IEnumerable<WordNetSynset> synsets)
    {
        var kept = synsets.GroupBy(s => s.LexName).Where(g => g.Count() >= MinimumClassSize).SelectMany(g => g)
            .Select(s => (Key: SplitKey(s.Id), Synset: s)).OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        if (kept.Count <= TestSize + ValidationSize)
            throw new InvalidDataException($"only {kept.Count} glosses in classes of {MinimumClassSize} or more; " +
                                           $"the splits need more than {TestSize + ValidationSize}");
        return [.. kept.Select((p, i) => new SupersenseItem(p.Synset.Id, p.Synset.Words[0].Replace('_', ' '),
            p.Synset.Definition, p.Synset.LexName, SplitAt(i)))];
    }

    /// <summary>The key that orders items and decides their split: lower-case hex SHA-256 of the UTF-8 id.</summary>
    public static string SplitKey(string id) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)));

    static string SplitAt(int rank) =>
        rank < TestSize ? "test" : rank < TestSize + ValidationSize ? "validation" : "train";

    /// <summary>The TSV text of <paramref name="items"/>: the header, one line per item, <c>\n</c> line ends.</summary>
    /// <exception cref="InvalidDataException">A field holds a tab or a line break.</exception>
    public static string ToTsv(IReadOnlyList<SupersenseItem> items)
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (var i in items)
        {
            string[] fields = [i.Id, i.Lemma, i.Supersense, i.Split, i.Text];
            if (fields.FirstOrDefault(f => f.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0) is { } bad)
                throw new InvalidDataException($"{i.Id}: field '{bad}' holds a tab or line break");
            text.AppendJoin('\t', fields).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>The shipped file's bytes: the UTF-8 TSV, gzip-compressed with no name, no timestamp and the OS
    /// byte set to "unknown" (255), so the bytes depend only on the content and the zlib version.</summary>
    public static byte[] Encode(IReadOnlyList<SupersenseItem> items)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
            gzip.Write(Encoding.UTF8.GetBytes(ToTsv(items)));
        byte[] bytes = buffer.ToArray();
        bytes[4] = bytes[5] = bytes[6] = bytes[7] = 0; // MTIME: none
        bytes[9] = 255;                                 // OS: unknown (zlib writes the build platform's code)
        return bytes;
    }

    static byte[] Decompress(string path)
    {
        try
        {
            using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
            using var content = new MemoryStream();
            gzip.CopyTo(content);
            return content.ToArray();
        }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: not a gzip file ({e.Message})"); }
    }

    static List<SupersenseItem> Parse(string path, string text)
    {
        string[] lines = text.Split('\n');
        if (lines[0] != Header) throw new InvalidDataException($"{path}: the header is not '{Header}'");
        if (lines[^1] != "") throw new InvalidDataException($"{path}: the last line does not end with a newline");
        var items = new List<SupersenseItem>(lines.Length - 2);
        for (int n = 1; n < lines.Length - 1; n++)
        {
            string[] f = lines[n].Split('\t');
            if (f.Length != 5 || f.Any(x => x.Length == 0) || !Splits.Contains(f[3]))
                throw new InvalidDataException($"{path}:{n + 1}: expected 5 non-empty fields with a split of " +
                                               "test, validation or train");
            items.Add(new SupersenseItem(f[0], f[1], f[4], f[2], f[3]));
        }
        return items;
    }
}
