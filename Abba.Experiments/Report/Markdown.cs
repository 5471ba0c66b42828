using System.Globalization;
using System.Text;
using Abba.Experiments.Pipeline;

namespace Abba.Experiments.Report;

/// <summary>The pieces of Markdown that REPORT.md and the README block share.</summary>
static class Markdown
{
    /// <summary>Text made safe for one table cell.</summary>
    public static string Cell(string text) => text.Replace("|", "\\|").Replace("\n", " ");

    /// <summary>"45 s" or "4.7 min"; "?" when unknown.</summary>
    public static string Duration(double seconds) =>
        double.IsNaN(seconds) ? "?"
        : seconds < 120 ? seconds.ToString("0", CultureInfo.InvariantCulture) + " s"
        : (seconds / 60).ToString("0.0", CultureInfo.InvariantCulture) + " min";

    /// <summary><paramref name="text"/> cut to <paramref name="length"/> characters, ending in "..." when
    /// cut.</summary>
    public static string Shorten(string text, int length) =>
        text.Length <= length ? text : text[..(length - 3)] + "...";

    /// <summary>A verdict as a word.</summary>
    public static string Word(Verdict v) => v switch
    {
        Verdict.Reproduced => "reproduced",
        Verdict.Partly => "partly",
        Verdict.NotReproduced => "not reproduced",
        Verdict.Inconclusive => "inconclusive",
        _ => "not run",
    };

    /// <summary>The PNG figures in <paramref name="folder"/>, in name order; none when it does not exist.</summary>
    public static IEnumerable<string> Pngs(string folder) =>
        Directory.Exists(folder) ? Directory.GetFiles(folder, "*.png").Order(StringComparer.Ordinal) : [];

    /// <summary>What the paper and measured columns hold, and what the synthetic and modelled labels mean.</summary>
    public static void AppendScopeNote(StringBuilder md) =>
        md.AppendLine("In the **paper** column every number is the paper's (verbatim, or read off its figures); " +
                      "in **measured** every number was measured by this harness, " +
                      "except where the row says **modelled** " +
                      "(computed from the analytic memory model, not measured). " +
                      "Rows marked **synthetic** are judged on " +
                      "a synthetic stand-in task, not on the paper's models and data.").AppendLine();

    /// <summary>The claims table with each row's basis: "(synthetic)" after the artefact, "(modelled)" after the
    /// verdict.</summary>
    public static void AppendClaims(StringBuilder md, IReadOnlyList<(IExperiment Experiment, Claim Claim)> claims)
    {
        if (claims.Count == 0) return;
        md.AppendLine("| artefact | claim | paper | measured | criterion | rules | verdict |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var (e, c) in claims)
        {
            string artefact = Coverage.IsSynthetic(e.Info.Name) ? $"{c.Artefact} (synthetic)" : c.Artefact;
            string verdict = $"**{Word(c.Verdict)}**" + (c.Modelled ? " (modelled)" : "");
            string rules = c.Rules.ToString().ToLowerInvariant();
            md.AppendLine($"| {Cell(artefact)} | {Cell(c.Statement)} | {Cell(c.PaperValue)} | " +
                          $"{Cell(c.MeasuredValue)} | " +
                          $"{Cell(c.Criterion)} | {rules} | {verdict} |");
        }
        md.AppendLine();
    }

    /// <summary>The claims of every experiment judged from its folder under <paramref name="root"/>; none for a missing
    /// run.</summary>
    public static List<(IExperiment Experiment, Claim Claim)> ClaimsOf(
        string root, IEnumerable<IExperiment> experiments)
    {
        var claims = new List<(IExperiment, Claim)>();
        foreach (var e in experiments)
        {
            try { claims.AddRange(e.Claims(Path.Combine(root, e.Info.Name)).Select(c => (e, c))); }
            catch (FileNotFoundException) { }
        }
        return claims;
    }
}
