using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Abba.Core.Data;
using Abba.Experiments.Cli;
using Abba.Tests.Support;

namespace Abba.Tests.Data;

/// <summary>Runs only where Debian's wordnet-base is installed; reported as skipped elsewhere.</summary>
public sealed class WordNetFactAttribute : FactAttribute
{
    /// <summary>Where wordnet-base puts the data files.</summary>
    public const string Folder = "/usr/share/wordnet";

    /// <summary>Sets <see cref="FactAttribute.Skip"/> when WordNet's noun data file is absent.</summary>
    public WordNetFactAttribute()
    {
        if (!File.Exists(Path.Combine(Folder, "data.noun")))
            Skip = $"WordNet 3.0 is not installed at {Folder} (Debian package wordnet-base)";
    }
}

/// <summary>The wndb(5) parser on hand-written lines, and the shipped supersense file against its documented
/// rules.</summary>
public class SupersenseTests
{
    static string Shipped(string name) =>
        Path.Combine(Repo.Root(), "Abba.Experiments", "data", "supersense", name);

    static readonly Lazy<SupersenseDataset> Dataset = new(() => SupersenseDataset.Load(Shipped("supersense.tsv.gz")));

    static (int Code, string Out, string[] Errors) Abba(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = new AbbaCli(stdout, stderr).Invoke(args);
        return (code, stdout.ToString(), stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void ParseLine_NounWithPointersAndExample()
    {
        var s = WordNet.ParseLine("02084071 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 002 @ 02083346 n 0000 " +
                                  "~ 01322604 n 0102 | a member of the genus Canis; \"the dog barked all night\"  ");

        Assert.Equal("n02084071", s.Id);
        Assert.Equal(5, s.LexFileNumber);
        Assert.Equal("noun.animal", s.LexName);
        Assert.Equal(["dog", "domestic_dog", "Canis_familiaris"], s.Words);
        Assert.Equal([new WordNetPointer("@", "02083346", 'n', 0, 0), new WordNetPointer("~", "01322604", 'n', 1, 2)],
            s.Pointers);
        Assert.Empty(s.Frames);
        Assert.Equal("a member of the genus Canis; \"the dog barked all night\"", s.Gloss);
        Assert.Equal("a member of the genus Canis", s.Definition);
    }

    [Fact]
    public void ParseLine_VerbWithFrames()
    {
        var s = WordNet.ParseLine("00001740 29 v 04 breathe 0 take_a_breath 0 respire 0 suspire 3 002 " +
                                  "* 00005041 v 0000 + 03110323 a 0301 02 + 02 00 + 08 0a | draw air into, and " +
                                  "expel out of, the lungs; \"I can breathe better\"; \"the patient is respiring\"  ");

        Assert.Equal(("v00001740", "verb.body", 'v'), (s.Id, s.LexName, s.Pos));
        Assert.Equal(["breathe", "take_a_breath", "respire", "suspire"], s.Words);
        Assert.Equal(new WordNetPointer("+", "03110323", 'a', 3, 1), s.Pointers[1]);
        Assert.Equal([(2, 0), (8, 10)], s.Frames);     // w_num is hex: 0a = word 10
        Assert.Equal("draw air into, and expel out of, the lungs", s.Definition);
    }

    [Fact]
    public void ParseLine_HexWordCount()
    {
        string words = string.Join(" ", Enumerable.Range(0, 10).Select(i => $"w{i} {i % 2:x}")).Replace("w9 1", "w9 f");
        var s = WordNet.ParseLine($"00000010 28 n 0a {words} 000 | a span of time  ");

        Assert.Equal(10, s.Words.Count);
        Assert.Equal("w9", s.Words[9]);
        Assert.Equal("noun.time", s.LexName);
        Assert.Equal("a span of time", s.Definition);
    }

    [Theory]
    [InlineData("only a definition", "only a definition")]
    [InlineData(" padded ; \"an example\"; \"another\" ", "padded")]
    [InlineData("a; b; \"ex\"", "a; b")]                          // a plain ';' is part of the definition
    [InlineData("cut: \"no semicolon before this quote\"", "cut: \"no semicolon before this quote\"")]
    public void Definition_IsTheGlossBeforeTheFirstQuotedExample(string gloss, string definition) =>
        Assert.Equal(definition, WordNet.ParseLine($"00000001 04 n 01 act 0 000 | {gloss}  ").Definition);

    [Theory]
    [InlineData("00001740 29 v 01 breathe 0 000 00 draw air", "' | '")]
    [InlineData("0001740 03 n 01 entity 0 000 | that which is", "synset_offset")]
    [InlineData("00001740 45 n 01 entity 0 000 | that which is", "lex_filenum 45")]
    [InlineData("00001740 03 x 01 entity 0 000 | that which is", "ss_type")]
    [InlineData("00001740 03 n 0g entity 0 000 | that which is", "w_cnt")]
    [InlineData("00001740 03 n 02 entity 0 000 | that which is", "lex_id")]
    [InlineData("00001740 03 n 01 entity 0 001 ~ 00001930 n 00 | that which is", "source/target")]
    [InlineData("00001740 03 n 01 entity 0 000 extra | that which is", "unexpected 'extra'")]
    [InlineData("00001740 29 v 01 breathe 0 000 01 * 02 00 | draw air", "+")]
    [InlineData("00001740 29 v 01 breathe 0 000 | draw air", "f_cnt")]
    public void ParseLine_Malformed_NamesTheField(string line, string expected) =>
        Assert.Contains(expected, Assert.Throws<FormatException>(() => WordNet.ParseLine(line)).Message);

    [Fact]
    public void ReadDataFile_BadLine_OneLineNamingFileAndLine()
    {
        using var folder = new TempFolder();
        string path = folder.File("data.noun");
        File.WriteAllText(path, "  1 licence text  \n00000001 04 n 01 act 0 000 | a deed  \n00000002 04 n 01 x 0 | y\n");

        var e = Assert.Throws<InvalidDataException>(() => WordNet.ReadDataFile(path));
        Assert.StartsWith($"{path}:3: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ShippedFile_HasTheDocumentedSplitSizes()
    {
        var d = Dataset.Value;
        Assert.Equal(SupersenseDataset.TestSize, d.Test.Count);
        Assert.Equal(3000, d.Test.Count);
        Assert.Equal(1500, d.Validation.Count);
        Assert.Equal(d.Items.Count - 4500, d.Train.Count);
        Assert.Equal(95708, d.Items.Count);                      // 95,882 noun and verb glosses less 174 dropped
        Assert.Equal(d.Items.Count, d.Items.Select(i => i.Id).Distinct().Count());   // no item in two splits
    }

    [Fact]
    public void ShippedFile_ClassesAndCountsAreSourceMdsTable()
    {
        var d = Dataset.Value;
        var table = File.ReadLines(Shipped("SOURCE.md")).SkipWhile(l => !l.StartsWith("| label | supersense |"))
            .Skip(2).TakeWhile(l => l.StartsWith("| ") && !l.StartsWith("| |")).Select(l => l.Trim('|').Split('|'))
            .Select(c => c.Select(x => x.Trim()).ToArray()).ToList();

        Assert.Equal(table.Select(r => r[1]), d.Classes);
        Assert.Equal(Enumerable.Range(0, d.Classes.Count).Select(i => $"{i}"), table.Select(r => r[0]));
        foreach (var r in table)
            foreach (var (split, column) in new[] { ("train", 2), ("validation", 3), ("test", 4) })
                Assert.Equal(int.Parse(r[column]), d.Items.Count(i => i.Supersense == r[1] && i.Split == split));
        Assert.DoesNotContain("noun.Tops", d.Classes);
        Assert.All(d.Classes, c => Assert.True(d.Items.Count(i => i.Supersense == c) >= 100, c));
    }

    [Fact]
    public void ShippedFile_SplitsFollowTheSha256OrderOfIds()
    {
        var d = Dataset.Value;
        string Hash(string id) => BitConverter.ToString(SHA256.HashData(Encoding.ASCII.GetBytes(id))).Replace("-", "")
            .ToLowerInvariant();
        var ranked = d.Items.OrderBy(i => Hash(i.Id), StringComparer.Ordinal).ToList();

        Assert.Equal(ranked, d.Items);                                   // the file is in hash order
        Assert.All(ranked.Take(3000), i => Assert.Equal("test", i.Split));
        Assert.All(ranked.Skip(3000).Take(1500), i => Assert.Equal("validation", i.Split));
        Assert.All(ranked.Skip(4500), i => Assert.Equal("train", i.Split));
        // A few items read straight from the shipped file's first lines.
        Assert.Equal(("n13681749", "haler", "noun.quantity"), (d.Items[0].Id, d.Items[0].Lemma, d.Items[0].Supersense));
        Assert.Equal("100 halers equal 1 koruna Slovakia", d.Items[0].Text);
        Assert.Equal((d.Items[0].Text, d.Classes.ToList().IndexOf("noun.quantity")), d.Test[0]);
        var first = d.Items.First(i => i.Split == "train");
        Assert.Equal((first.Text, d.Classes.ToList().IndexOf(first.Supersense)), d.Train[0]);
    }

    [Fact]
    public void Load_MissingOrCorrupt_OneLineError()
    {
        using var folder = new TempFolder();
        var missing = Assert.Throws<FileNotFoundException>(() => SupersenseDataset.Load(folder.File("none.tsv.gz")));
        Assert.Contains("none.tsv.gz", missing.Message);

        File.WriteAllText(folder.File("plain.tsv.gz"), SupersenseDataset.Header + "\n");
        Assert.Contains("not a gzip file",
            Assert.Throws<InvalidDataException>(() => SupersenseDataset.Load(folder.File("plain.tsv.gz"))).Message);

        var one = new SupersenseItem("n00000001", "act", "a deed", "noun.act", "train");
        File.WriteAllBytes(folder.File("other.tsv.gz"), SupersenseDataset.Encode([one]));
        var other = Assert.Throws<InvalidDataException>(() => SupersenseDataset.Load(folder.File("other.tsv.gz")));
        Assert.Contains("SHA-256", other.Message);
        Assert.DoesNotContain('\n', other.Message);
    }

    [Fact]
    public void Encode_IsGzipWithoutTimestampAndRoundTrips()
    {
        SupersenseItem[] items = [new("n00000001", "act", "a deed", "noun.act", "test")];
        byte[] bytes = SupersenseDataset.Encode(items);

        Assert.Equal(bytes, SupersenseDataset.Encode(items));
        Assert.Equal([0x1f, 0x8b, 8, 0, 0, 0, 0, 0], bytes[..8]);          // magic, deflate, no flags, MTIME 0
        Assert.Equal(255, bytes[9]);
        using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        Assert.Equal("id\tlemma\tsupersense\tsplit\ttext\nn00000001\tact\tnoun.act\ttest\ta deed\n",
            new StreamReader(gzip).ReadToEnd());
        Assert.Throws<InvalidDataException>(() => SupersenseDataset.ToTsv([items[0] with { Text = "a\tb" }]));
    }

    [WordNetFact]
    public void Cli_RebuildFromWordNet_GivesTheShippedFiles()
    {
        using var folder = new TempFolder();
        var (code, output, errors) = Abba("data", "supersense", "--wordnet", WordNetFactAttribute.Folder,
            "--out", folder.Path);

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Empty(errors);
        Assert.Contains("38 classes; test 3,000, validation 1,500, train 91,208", output);
        Assert.Equal(Decompressed(Shipped("supersense.tsv.gz")), Decompressed(folder.File("supersense.tsv.gz")));
        Assert.Equal(File.ReadAllText(Shipped("SOURCE.md")), File.ReadAllText(folder.File("SOURCE.md")));
        Assert.Equal(File.ReadAllText(Shipped("LICENSE")), File.ReadAllText(folder.File("LICENSE")));
        Assert.Equal(["LICENSE", "SOURCE.md", "supersense.tsv.gz"], folder.Entries());   // no temporaries left
    }

    [WordNetFact]
    public void ShippedLicence_IsTheNoticeInDebiansCopyrightFile()
    {
        // Debian's copy-right format: one leading space per line, '.' for a blank line.
        var lines = File.ReadLines("/usr/share/doc/wordnet-base/copyright").SkipWhile(l => l != "License: WordNet3.0")
            .Skip(1).TakeWhile(l => l.StartsWith(' ')).Select(l => l == " ." ? "" : l[1..]);
        Assert.Equal(string.Join("\n", lines) + "\n", File.ReadAllText(Shipped("LICENSE")));
    }

    [Theory]
    [InlineData("missing-folder")]
    [InlineData("folder-without-data-noun")]
    public void Cli_BadWordNetFolder_Exits2WithOneLine(string which)
    {
        using var folder = new TempFolder();
        string wordnet = folder.File("wordnet");
        if (which == "folder-without-data-noun") Directory.CreateDirectory(wordnet);
        var (code, output, errors) = Abba("data", "supersense", "--wordnet", wordnet, "--out", folder.File("out"));

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(which == "missing-folder" ? "WordNet folder not found" : "data.noun", Assert.Single(errors));
        Assert.Equal("", output);
        Assert.False(Directory.Exists(folder.File("out")), "bad input must write nothing");
    }

    [Fact]
    public void DefaultOutput_IsTheCheckoutsDataFolderInsideARepo()
    {
        using var folder = new TempFolder();
        Assert.Equal(Path.Combine(Repo.Root(), "Abba.Experiments", "data", "supersense"),
            DataCommands.DefaultOutput(Path.Combine(Repo.Root(), "Abba.Core")));
        Assert.Equal(Path.Combine(folder.Path, "data", "supersense"), DataCommands.DefaultOutput(folder.Path));
    }

    static byte[] Decompressed(string path)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var content = new MemoryStream();
        gzip.CopyTo(content);
        return content.ToArray();
    }
}
