using System.CommandLine;
using System.Text.RegularExpressions;
using Abba.Experiments.Cli;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Catalogue;
using Abba.Experiments.Report;

using Abba.Tests.Support;

namespace Abba.Tests.Docs;

/// <summary>
/// The README and the committed report must match the code and the committed results: the generated results
/// section and REPORT.md are re-rendered from results/ and compared, and every command and option the CLI defines
/// must be documented (and nothing else).
/// </summary>
public partial class ReadmeTests
{
    static string Readme() => File.ReadAllText(Path.Combine(Repo.Root(), "README.md")).Replace("\r\n", "\n");

    [Fact]
    public void ResultsSection_IsWhatTheCommittedResultsRenderTo()
    {
        string root = Repo.Root();
        string readme = Readme();
        string expected = ReadmeSection.Replace(readme,
            ReadmeSection.Render(Path.Combine(root, "results", "paper"), Registry.CreateAll(), root));
        Assert.True(expected == readme,
            "README.md's generated results section is stale: run `abba report --profile paper --readme README.md` after changing results/ or the claims code.");
    }

    [Fact]
    public void CommittedReport_IsWhatTheCommittedResultsRenderTo()
    {
        string results = Path.Combine(Repo.Root(), "results", "paper");
        string path = Path.Combine(results, ReportWriter.FileName);
        Assert.True(File.Exists(path), "results/paper/REPORT.md is not committed");
        Assert.True(ReportWriter.Render(results, Registry.CreateAll()) == File.ReadAllText(path).Replace("\r\n", "\n"),
            "results/paper/REPORT.md is stale: run `abba report --profile paper` after changing results/ or the claims code.");
    }

    [Fact]
    public void ReplaceReadmeSection_ReplacesOnlyBetweenTheMarkers()
    {
        string readme = $"top\n{ReadmeSection.Begin}\nold\nold\n{ReadmeSection.End}\nbottom\n";
        Assert.Equal($"top\n{ReadmeSection.Begin}\nnew\n{ReadmeSection.End}\nbottom\n",
            ReadmeSection.Replace(readme, "new\n"));
        Assert.Throws<InvalidDataException>(() => ReadmeSection.Replace("no markers\n", "x"));
        Assert.Throws<InvalidDataException>(() => ReadmeSection.Replace($"{ReadmeSection.End}\n{ReadmeSection.Begin}\n", "x"));
        Assert.Throws<InvalidDataException>(() => ReadmeSection.Replace(readme + readme, "x"));
    }

    [GeneratedRegex(@"--[a-z][a-z0-9-]*")]
    private static partial Regex OptionName();

    static HashSet<string> OptionsOf(Command command) =>
        command.Options.Where(o => !o.Hidden).Select(o => o.Name).Where(n => n.StartsWith("--", StringComparison.Ordinal) && n is not "--help" and not "--version").ToHashSet();

    /// <summary>Rows of the Markdown table whose header row starts with the cells <paramref name="headers"/>.</summary>
    static List<string[]> Table(string readme, params string[] headers)
    {
        var lines = readme.Split('\n');
        string prefix = "| " + string.Join(" | ", headers) + " |";
        int header = Array.FindIndex(lines, l => l.StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(header >= 0, $"README has no table headed '{prefix}'");
        return lines.Skip(header + 2).TakeWhile(l => l.StartsWith('|'))
            .Select(l => Regex.Split(l.Trim().Trim('|'), @"(?<!\\)\|").Select(c => c.Trim()).ToArray()).ToList();
    }

    [Fact]
    public void CommandReference_ListsEveryCommandAndOption()
    {
        string readme = Readme();
        var root = new AbbaCli(TextWriter.Null, TextWriter.Null).BuildRoot();
        var commands = root.Subcommands.Where(c => !c.Hidden).ToDictionary(c => c.Name);
        var rows = Table(readme, "command", "what it does");
        var documented = rows.ToDictionary(r => r[0].Trim('`').Split(' ')[1], r => r[0]);
        Assert.Equal(commands.Keys.Order(), documented.Keys.Order());

        var run = commands["run"];
        var common = Table(readme, "option", "default").Select(r => OptionName().Match(r[0]).Value).ToHashSet();
        foreach (var sub in run.Subcommands) Assert.Subset(OptionsOf(sub), common);
        var runCommon = run.Subcommands.Select(OptionsOf).Aggregate((a, b) => [.. a.Intersect(b)]);
        Assert.Equal(runCommon.Order(), common.Order());

        // merge takes what run takes (the options that decide the units), less --fresh and --shard, plus --from.
        var merge = commands["merge"].Subcommands.ToDictionary(c => c.Name);
        foreach (var sub in run.Subcommands)
            Assert.Equal(OptionsOf(sub).Except(["--fresh", "--shard"]).Append("--from").Order(), OptionsOf(merge[sub.Name]).Order());
        Assert.Equal(common.Except(["--fresh", "--shard"]).Append("--from").Order(), OptionsOf(merge["all"]).Order());
        Assert.Contains("--from", documented["merge"]);

        foreach (var (name, cell) in documented.Where(d => d.Key is not ("run" or "all" or "merge")))
            Assert.Equal(OptionsOf(commands[name]).Order(), OptionName().Matches(cell).Select(m => m.Value).Distinct().Order());
        Assert.Equal(OptionsOf(commands["all"]).Except(common).Order(), OptionName().Matches(documented["all"]).Select(m => m.Value).Order());

        var experiments = Table(readme, "name", "paper artefact").ToDictionary(r => r[0].Trim('`'), r => r[^1]);
        Assert.Equal(Registry.Names.Order(), experiments.Keys.Order());
        foreach (var sub in run.Subcommands)
            Assert.True(OptionsOf(sub).Except(common).Order().SequenceEqual(OptionName().Matches(experiments[sub.Name]).Select(m => m.Value).Order()),
                $"README's own options for {sub.Name} ({experiments[sub.Name]}) differ from the CLI's ({string.Join(' ', OptionsOf(sub).Except(common).Order())})");

        var described = Table(readme, "experiment", "own option").Select(r => (Experiment: r[0].Trim('`'), Option: r[1].Trim('`'), Meaning: r[2].Replace("\\|", "|"))).ToList();
        var defined = run.Subcommands.SelectMany(sub => sub.Options.Where(o => OptionsOf(sub).Except(common).Contains(o.Name))
            .Select(o => (Experiment: sub.Name, Option: o.Name, Meaning: o.Description ?? ""))).ToList();
        Assert.Equal(defined.Order(), described.Order());
    }
}
