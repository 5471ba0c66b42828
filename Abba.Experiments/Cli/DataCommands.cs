using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Abba.Core.Data;
using Abba.Experiments.Output;

namespace Abba.Experiments.Cli;

/// <summary><c>abba data supersense</c>: rebuilds the shipped supersense dataset from WordNet's own files.</summary>
public static class DataCommands
{
    /// <summary>Where Debian's <c>wordnet-base</c> puts WordNet 3.0.</summary>
    public const string DefaultWordNet = "/usr/share/wordnet";

    /// <summary>The <c>data</c> command and its subcommands.</summary>
    public static Command Command(TextWriter stdout, TextWriter stderr)
    {
        var data = new Command("data", "rebuild the datasets the harness ships from their original sources");
        data.Subcommands.Add(Supersense(stdout, stderr));
        return data;
    }

    /// <summary>The default output folder: the source tree's copy when run inside a checkout, else
    /// <c>./data/supersense</c>.</summary>
    public static string DefaultOutput(string currentDirectory)
    {
        for (var dir = new DirectoryInfo(currentDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Abba.sln")))
                return Path.Combine(dir.FullName, "Abba.Experiments", "data", "supersense");
        return Path.Combine(currentDirectory, "data", "supersense");
    }

    static Command Supersense(TextWriter stdout, TextWriter stderr)
    {
        var wordnet = new Option<string>("--wordnet")
        {
            Description = "the WordNet 3.0 folder holding data.noun and data.verb",
            DefaultValueFactory = _ => DefaultWordNet,
        };
        var output = new Option<string?>("--out")
        {
            Description = "folder for supersense.tsv.gz, SOURCE.md and LICENSE (default: Abba.Experiments/data/" +
                          "supersense of the checkout holding the current folder, else ./data/supersense)",
        };
        var cmd = new Command("supersense", "rebuild the WordNet 3.0 supersense dataset (noun and verb definitions " +
                                            "labelled with their lexicographer file) and its provenance note")
        {
            wordnet, output,
        };
        cmd.SetAction(parse =>
        {
            string dir = parse.GetValue(wordnet)!;
            string folder = parse.GetValue(output) ?? DefaultOutput(Directory.GetCurrentDirectory());
            try { return Rebuild(dir, folder, stdout); }
            catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException or InvalidDataException)
            {
                stderr.WriteLine("error: " + e.Message);
                return ExitCodes.BadInput;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"error: cannot write {Path.GetFullPath(folder)}: {e.Message}");
                return ExitCodes.Failed;
            }
        });
        return cmd;
    }

    static int Rebuild(string wordnetDir, string folder, TextWriter stdout)
    {
        var synsets = WordNet.ReadNounsAndVerbs(wordnetDir);
        string licence = WordNet.ReadLicence(Path.Combine(wordnetDir, "data.noun"));
        var items = SupersenseDataset.FromSynsets(synsets);
        byte[] file = SupersenseDataset.Encode(items);
        var source = new SourceNote(wordnetDir, synsets, items, file);
        string data = Path.Combine(folder, SupersenseDataset.FileName);
        AtomicFile.WriteBytes(data, file);
        AtomicFile.WriteText(Path.Combine(folder, "SOURCE.md"), source.Render());
        AtomicFile.WriteText(Path.Combine(folder, "LICENSE"), licence);
        stdout.WriteLine($"wrote {Path.GetFullPath(data)} ({file.Length:N0} bytes) with SOURCE.md and LICENSE");
        stdout.WriteLine($"{source.Counts.Count} classes; " +
                         string.Join(", ", SupersenseDataset.Splits.Select(s => $"{s} {source.SplitTotal(s):N0}")));
        stdout.WriteLine(Row("supersense", SupersenseDataset.Splits));
        foreach (var (name, perSplit) in source.Counts)
            stdout.WriteLine(Row(name, SupersenseDataset.Splits.Select(s => $"{perSplit[s]}")));
        foreach (var (name, count) in source.Dropped)
            stdout.WriteLine($"  dropped {name} ({count} glosses, fewer than {SupersenseDataset.MinimumClassSize})");
        return ExitCodes.Ok;
    }

    static string Row(string name, IEnumerable<string> cells) =>
        $"  {name,-20}" + string.Concat(cells.Select(c => $" {c,10}"));

    /// <summary>SOURCE.md: where the file came from, how it was cut, what it holds.</summary>
    sealed class SourceNote(string wordnetDir, IReadOnlyList<WordNetSynset> synsets,
        IReadOnlyList<SupersenseItem> items, byte[] file)
    {
        /// <summary>Items per class (ordinal order, so row i is label i) and split.</summary>
        public IReadOnlyList<(string Name, Dictionary<string, int> PerSplit)> Counts { get; } =
            [.. items.GroupBy(i => i.Supersense).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => (g.Key, SupersenseDataset.Splits.ToDictionary(s => s, s => g.Count(i => i.Split == s))))];

        /// <summary>The classes left out, with their gloss counts.</summary>
        public IReadOnlyList<(string Name, int Count)> Dropped { get; } =
            [.. synsets.GroupBy(s => s.LexName).Where(g => g.Count() < SupersenseDataset.MinimumClassSize)
                .OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => (g.Key, g.Count()))];

        public int SplitTotal(string split) => Counts.Sum(c => c.PerSplit[split]);

        int Total => items.Count;

        public string Render()
        {
            var md = new StringBuilder();
            string content = Sha256(Encoding.UTF8.GetBytes(SupersenseDataset.ToTsv(items)));
            string command = "abba data supersense" + (wordnetDir == DefaultWordNet ? "" : $" --wordnet {wordnetDir}");
            md.Append(CultureInfo.InvariantCulture, $"""
                # WordNet 3.0 supersenses: where this file came from

                `{SupersenseDataset.FileName}` holds the definition of every noun and verb synset of WordNet 3.0,
                labelled with the synset's lexicographer file (its supersense, e.g. `noun.animal`). The harness built
                it from WordNet's own data files with

                    {command}

                which rewrites this folder (`{SupersenseDataset.FileName}`, this note and `LICENSE`). The build copies
                the folder to `<output>/data/supersense/`; `SupersenseDataset.Load` reads the file and checks it.

                ## Source

                - WordNet 3.0, Princeton University, read from `{wordnetDir}` (Debian package
                  `wordnet-base` {DebianVersion()}).
                - `data.noun` SHA-256 `{Sha256(File.ReadAllBytes(Path.Combine(wordnetDir, "data.noun")))}`
                - `data.verb` SHA-256 `{Sha256(File.ReadAllBytes(Path.Combine(wordnetDir, "data.verb")))}`
                - Licence: WordNet 3.0 licence, kept verbatim in `LICENSE` (the notice at the top of the data files,
                  the same text as in Debian's `/usr/share/doc/wordnet-base/copyright`); it must stay with any copy.

                ## What a row holds

                Gzip-compressed UTF-8 TSV, header `{SupersenseDataset.Header.Replace("\t", " ")}` (tab-separated),
                `\n` line ends. `id` is the part of speech and synset offset (`n02084071`), `lemma` the synset's
                first word with `_` as a space, `supersense` the lexicographer file (lexnames(5)), `text` the gloss
                up to its first example (`; "`), trimmed. Glosses hold no tabs or line breaks (checked when
                writing). Labels are indices into the classes sorted ordinally (the table below, in label order).

                ## Classes and splits

                WordNet holds {synsets.Count:N0} noun and verb glosses in {Counts.Count + Dropped.Count} classes.
                Classes with fewer than {SupersenseDataset.MinimumClassSize} glosses are dropped (too few to train
                on or to test with):
                {string.Join("\n", Dropped.Select(d => $"- `{d.Name}`: {d.Count} glosses"))}

                That leaves {items.Count:N0} glosses in {Counts.Count} classes.

                Split rule: order the kept items by the SHA-256 of their `id` (UTF-8 bytes, lower-case hex, ordinal
                comparison); the first {SupersenseDataset.TestSize:N0} are `test`, the next
                {SupersenseDataset.ValidationSize:N0} are `validation`, the rest are `train`. The file lists the
                items in that order, so each split is in hash order and any prefix of a split is a random sample.


                """);
            md.Append("| label | supersense | train | validation | test | total |\n|---:|---|---:|---:|---:|---:|\n");
            foreach (var ((name, s), label) in Counts.Select((c, i) => (c, i)))
                md.Append(CultureInfo.InvariantCulture,
                    $"| {label} | {name} | {s["train"]} | {s["validation"]} | {s["test"]} | {s.Values.Sum()} |\n");
            md.Append(CultureInfo.InvariantCulture, $"""
                | | **total** | {SplitTotal("train")} | {SplitTotal("validation")} | {SplitTotal("test")} | {Total} |

                ## Checksums

                - `{SupersenseDataset.FileName}`: {file.Length:N0} bytes,
                  SHA-256 `{Sha256(file)}`
                - its decompressed TSV: SHA-256 `{content}`

                `SupersenseDataset.Load` checks the decompressed content's hash: the gzip bytes are deterministic
                (no name, no timestamp, OS byte 255) but may differ between zlib versions; the content cannot.

                """);
            return md.ToString();
        }

        static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

        static string DebianVersion()
        {
            try
            {
                using var dpkg = Process.Start(new ProcessStartInfo("dpkg-query", "-W -f=${Version} wordnet-base")
                {
                    RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                });
                string version = dpkg?.StandardOutput.ReadToEnd().Trim() ?? "";
                dpkg?.WaitForExit(5000);
                return dpkg?.ExitCode == 0 && version.Length > 0 ? version : "(version unknown: not installed)";
            }
            catch (System.ComponentModel.Win32Exception) { return "(version unknown: no dpkg-query)"; }
        }
    }
}
