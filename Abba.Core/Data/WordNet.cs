using System.Globalization;

namespace Abba.Core.Data;

/// <summary>One pointer of a synset: a relation to another synset (or to one of its words).</summary>
/// <param name="Symbol">The relation, e.g. <c>@</c> (hypernym), <c>~</c> (hyponym), <c>+</c> (derivation).</param>
/// <param name="Offset">The target synset's 8-digit offset in the data file of <paramref name="Pos"/>.</param>
/// <param name="Pos">The target's part of speech: n, v, a, s or r.</param>
/// <param name="Source">Word number in this synset (1-based), or 0 when the pointer is between whole synsets.</param>
/// <param name="Target">Word number in the target synset (1-based), or 0.</param>
public sealed record WordNetPointer(string Symbol, string Offset, char Pos, int Source, int Target);

/// <summary>One line of a WordNet data file (wndb(5)): a synset, its words, relations and gloss.</summary>
/// <param name="Offset">The 8-digit synset offset (the line's byte offset in its file).</param>
/// <param name="LexFileNumber">Index of its lexicographer file in <see cref="WordNet.LexNames"/>.</param>
/// <param name="Pos">Synset type: n (noun), v (verb), a (adjective), s (adjective satellite), r (adverb).</param>
/// <param name="Words">The synset's words as written in the file (spaces as <c>_</c>).</param>
/// <param name="Pointers">Its relations to other synsets.</param>
/// <param name="Frames">Verbs only: (frame number, word number; 0 = every word) pairs.</param>
/// <param name="Gloss">The whole gloss after <c>|</c>, surrounding whitespace trimmed.</param>
public sealed record WordNetSynset(
    string Offset, int LexFileNumber, char Pos, IReadOnlyList<string> Words, IReadOnlyList<WordNetPointer> Pointers,
    IReadOnlyList<(int Frame, int Word)> Frames, string Gloss)
{
    /// <summary>Part of speech and offset, e.g. <c>n02084071</c>: unique across WordNet's data files.</summary>
    public string Id => $"{Pos}{Offset}";

    /// <summary>The lexicographer file's name (the supersense), e.g. <c>noun.animal</c>.</summary>
    public string LexName => WordNet.LexNames[LexFileNumber];

    /// <summary>The gloss up to its first example (<c>; "</c>), trimmed: the definition.</summary>
    public string Definition => Gloss.Split("; \"", 2)[0].Trim();
}

/// <summary>
/// Reads WordNet 3.0 data files (<c>data.noun</c>, <c>data.verb</c>, ...; format wndb(5)). A data line is
/// <c>offset lex_filenum ss_type w_cnt [word lex_id]... p_cnt [symbol offset pos source/target]...
/// [f_cnt [+ f_num w_num]...] | gloss</c>, with w_cnt two hex digits, p_cnt three decimal digits, frames on verbs
/// only; lines starting with two spaces hold the licence.
/// </summary>
public static class WordNet
{
    /// <summary>The 45 lexicographer files in lex_filenum order (lexnames(5); WordNet 3.0 ships no lexnames file
    /// in Debian's package, so the standard list is given here).</summary>
    public static IReadOnlyList<string> LexNames { get; } =
    [
        "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact", "noun.attribute",
        "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling", "noun.food", "noun.group",
        "noun.location", "noun.motive", "noun.object", "noun.person", "noun.phenomenon", "noun.plant",
        "noun.possession", "noun.process", "noun.quantity", "noun.relation", "noun.shape", "noun.state",
        "noun.substance", "noun.time", "verb.body", "verb.change", "verb.cognition", "verb.communication",
        "verb.competition", "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
        "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather", "adj.ppl",
    ];

    /// <summary>Every synset of <c>data.noun</c> then <c>data.verb</c> in <paramref name="wordnetDir"/>, in file
    /// order.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">A data file is missing.</exception>
    /// <exception cref="InvalidDataException">A line does not parse; the message names file and line.</exception>
    public static IReadOnlyList<WordNetSynset> ReadNounsAndVerbs(string wordnetDir)
    {
        if (!Directory.Exists(wordnetDir))
            throw new DirectoryNotFoundException($"WordNet folder not found: {Path.GetFullPath(wordnetDir)}");
        return [.. ReadDataFile(Path.Combine(wordnetDir, "data.noun")),
            .. ReadDataFile(Path.Combine(wordnetDir, "data.verb"))];
    }

    /// <summary>Every synset of one data file, skipping the licence lines.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A line does not parse: "path:line: problem".</exception>
    public static IReadOnlyList<WordNetSynset> ReadDataFile(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"WordNet data file not found: {Path.GetFullPath(path)}", path);
        var synsets = new List<WordNetSynset>();
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            if (line.StartsWith("  ", StringComparison.Ordinal)) continue;
            try { synsets.Add(ParseLine(line)); }
            catch (FormatException e) { throw new InvalidDataException($"{path}:{number}: {e.Message}"); }
        }
        return synsets;
    }

    /// <summary>The licence notice a data file opens with: its leading lines (<c>  N text  </c>) without the line
    /// numbers and trailing spaces, joined by <c>\n</c> and ending with one.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file does not open with numbered licence lines.</exception>
    public static string ReadLicence(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"WordNet data file not found: {Path.GetFullPath(path)}", path);
        var lines = new List<string>();
        foreach (string line in File.ReadLines(path).TakeWhile(l => l.StartsWith("  ", StringComparison.Ordinal)))
        {
            string[] parts = line.Trim().Split(' ', 2);
            if (parts[0] != (lines.Count + 1).ToString(CultureInfo.InvariantCulture))
                throw new InvalidDataException($"{path}:{lines.Count + 1}: not licence line {lines.Count + 1}");
            lines.Add(parts.Length > 1 ? parts[1] : "");
        }
        if (lines.Count == 0) throw new InvalidDataException($"{path}: no licence lines at the top");
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>Parses one data line (not a licence line).</summary>
    /// <exception cref="FormatException">The line is not a wndb(5) data line; the message says which field.</exception>
    public static WordNetSynset ParseLine(string line)
    {
        int bar = line.IndexOf(" | ", StringComparison.Ordinal);
        if (bar < 0) throw new FormatException("no ' | ' before the gloss");
        var fields = new Fields(line[..bar].Split(' '));
        string offset = fields.Digits("synset_offset", 8);
        int lexFile = fields.Number("lex_filenum", 2, 10);
        if (lexFile >= LexNames.Count) throw new FormatException($"lex_filenum {lexFile} is not 00-44");
        char pos = fields.Pos("ss_type");
        var words = new string[fields.Number("w_cnt", 2, 16)];
        for (int i = 0; i < words.Length; i++)
        {
            words[i] = fields.Next("word");
            fields.Number("lex_id", 1, 16);
        }
        var pointers = new WordNetPointer[fields.Number("p_cnt", 3, 10)];
        for (int i = 0; i < pointers.Length; i++)
        {
            string symbol = fields.Next("pointer_symbol"), target = fields.Digits("pointer offset", 8);
            char targetPos = fields.Pos("pointer pos");
            string st = fields.Next("source/target");
            if (st.Length != 4 || !int.TryParse(st, NumberStyles.AllowHexSpecifier, null, out int both))
                throw new FormatException($"source/target '{st}' is not 4 hex digits");
            pointers[i] = new WordNetPointer(symbol, target, targetPos, both >> 8, both & 0xff);
        }
        var frames = new List<(int, int)>();
        if (pos == 'v')
            for (int i = fields.Number("f_cnt", 2, 10); i > 0; i--)
            {
                if (fields.Next("frame marker") != "+") throw new FormatException("a verb frame does not start with +");
                frames.Add((fields.Number("f_num", 2, 10), fields.Number("w_num", 2, 16)));
            }
        fields.End();
        return new WordNetSynset(offset, lexFile, pos, words, pointers, frames, line[(bar + 3)..].Trim());
    }

    /// <summary>The space-separated fields before the gloss, consumed in order.</summary>
    sealed class Fields(string[] tokens)
    {
        int next;

        public string Next(string name) =>
            next < tokens.Length && tokens[next].Length > 0
                ? tokens[next++]
                : throw new FormatException($"{name} missing (field {next + 1})");

        public string Digits(string name, int length)
        {
            string t = Next(name);
            return t.Length == length && t.All(char.IsAsciiDigit)
                ? t : throw new FormatException($"{name} '{t}' is not {length} decimal digits");
        }

        public int Number(string name, int length, int radix)
        {
            string t = Next(name);
            var style = radix == 16 ? NumberStyles.AllowHexSpecifier : NumberStyles.None;
            return t.Length == length && int.TryParse(t, style, CultureInfo.InvariantCulture, out int value)
                ? value
                : throw new FormatException(
                    $"{name} '{t}' is not {length} {(radix == 16 ? "hex" : "decimal")} digit{(length > 1 ? "s" : "")}");
        }

        public char Pos(string name)
        {
            string t = Next(name);
            return t is "n" or "v" or "a" or "s" or "r"
                ? t[0] : throw new FormatException($"{name} '{t}' is not n, v, a, s or r");
        }

        public void End()
        {
            if (next < tokens.Length)
                throw new FormatException($"unexpected '{tokens[next]}' before the gloss (field {next + 1})");
        }
    }
}
