using Abba.Core.Statistics;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static System.FormattableString;

namespace Abba.Experiments.Reconstruction;

/// <summary>
/// The paper claims Figure 2 makes, judged from the run's CSVs, and how this reproduction departs from it.
/// </summary>
public static class ReconstructionClaims
{
    /// <summary>Every way this reproduction departs from the paper's setting.</summary>
    public static IReadOnlyList<string> Deviations =>
    [
        "The paper gives neither matrix size nor generators: n = 1000 (paper profile; 256 in quick) and the " +
            "generators of " +
        "[docs/reconstruction-generators.md](../../docs/reconstruction-generators.md) (QR-orthogonal, rank-128 " +
            "flat, 10% sparse U[0,1), dense U[0,1)) were inferred from its LoRA curves.",
        "The paper gives no fit method for ABBA: " + ReconstructionOptions.Paper.FitMethod + ".",
        "ABBA runs at two budgets: the caption's r1 = r2 = r/2 (LoRA's parameter count) and the released code's r1 " +
            "= r2 = r (twice it).",
        "HiRA (against a fixed Gaussian W0) and unequal splits r1 != r2 at r = 32 are extras, not in the figure.",
        "Equal-budget fits that lose to LoRA or stop at the step cap are settled (not in the paper): a losing one " +
            "gets a longer fit from the protocol's " +
        "start, random starts and the warm start ABBA(r - 1, 1) (= LoRA rank r - 1, at LoRA rank r's parameter " +
            "count), a capped one the longer fit alone; " +
        "the verdicts rest on the best found, and the CSV keeps the protocol fit's value beside it. A run may leave " +
            "the capped points or the random starts " +
        "out (--settle-losing-only, --settle-starts); its manifest and summary say so.",
        "Each distinct ABBA fit (matrix, seed, r1, r2) runs once: the doubled budget at r is the equal budget's fit " +
            "at 2r wherever 2r is in the sweep.",
    ];

    /// <summary>
    /// The settling rows of the run in <paramref name="folder"/>; none when it wrote no settling CSV.
    /// </summary>
    public static IReadOnlyList<ReconstructionSettleRow> SettleRows(string folder)
    {
        string path = Path.Combine(folder, ReconstructionFiles.Settle);
        return File.Exists(path) ? CsvFiles.Read<ReconstructionSettleRow>(path) : [];
    }

    static readonly ClaimSpec LoraCurve = new("Figure 2",
        "the LoRA curves (truncated SVD) of the inferred generators are the paper's", "digitised LoRA values",
        new ByCriterion("within 0.01 at every point, at n = 1000"));

    static readonly ClaimSpec EqualCurve = new("Figure 2", "the ABBA curve is at r1 = r2 = r/2 (caption)",
        "digitised ABBA values",
        new ByCriterion("within 0.02 of the paper (or below) at every point, at n = 1000; not reproduced when paper " +
                        "points lie below what this budget can reach"));

    static readonly ClaimSpec DoubledCurve = new("Figure 2",
        "the ABBA curve is reached at r1 = r2 = r (the released code's setting, twice LoRA's parameters)",
        "digitised ABBA values", new ByCriterion("within 0.02 of the paper (or below) at every point, at n = 1000"));

    static readonly ClaimSpec BelowLoraSpec = new("Figure 2",
        "ABBA reconstructs every matrix type better than LoRA at the same parameter count (r1 = r2 = r/2)",
        "ABBA below LoRA at all 36 points",
        new ByInterval("error(ABBA) - error(LoRA r) paired over seeds (95% t interval)", -1, PerPart: "(type, r)",
            Note: "ABBA is the best of the paper-protocol fit and its settling fits (at LoRA's parameter count; " +
                "starts " +
                  "in the measured value) where the protocol fit lost to LoRA (or stopped at the step cap, unless " +
                      "the " +
                  "run left those out)"));

    /// <summary>The claims, judged from the CSVs in <paramref name="folder"/>.</summary>
    public static IReadOnlyList<Claim> Judge(string folder)
    {
        var rows = CsvFiles.Read<ReconstructionRow>(Path.Combine(folder, ReconstructionFiles.Csv));
        var points = ReconstructionSummary.Points(rows);
        int n = rows[0].N;
        bool paperSize = n == ReconstructionSummary.PaperN;
        var equal = ReconstructionSummary.Match(points, ReconstructionOptions.EqualBudget);
        var doubled = ReconstructionSummary.Match(points, ReconstructionOptions.DoubledBudget);
        var loraGap = points.Where(p => p.PaperLora is not null).Select(p => Math.Abs(p.Lora - p.PaperLora!.Value))
            .DefaultIfEmpty(double.NaN).Max();
        string equalMeasured = equal is { } e
            ? Invariant($"mean |diff| {e.Mad:0.000} (max {e.Max:0.000}); {e.PaperBelowBound} of {e.Points} ") +
              "paper points below the rank-(r/2)^2 Eckart-Young bound"
            : "not run";
        var equalVerdict = !paperSize ? Verdict.NotRun
            : equal?.PaperBelowBound > 0 ? Verdict.NotReproduced : Verdicts.Judge(points.Select(p
                => p.EqualMatchesPaper));
        return
        [
            BelowLora(rows, SettleRows(folder), points, n),
            LoraCurve.Judge(Invariant($"max |ours - paper| = {loraGap:0.000} at n = {n}"),
                !paperSize ? Verdict.NotRun : loraGap <= 0.01 ? Verdict.Reproduced : Verdict.NotReproduced),
            EqualCurve.Judge(equalMeasured, equalVerdict),
            DoubledCurve.Judge(doubled is { } d ? Invariant($"mean |diff| {d.Mad:0.000} (max {d.Max:0.000})")
                : "not run",
                paperSize ? Verdicts.Judge(points.Select(p => p.DoubledMatchesPaper)) : Verdict.NotRun),
        ];
    }

    /// <summary>
    /// Equal-budget ABBA below LoRA, by the interval rule per (type, r): the paired difference best-found ABBA - LoRA
    /// over
    /// seeds, negative as the paper says; the parts combined by <see cref="Verdicts.Combine"/>.
    /// </summary>
    static Claim BelowLora(IReadOnlyList<ReconstructionRow> rows, IReadOnlyList<ReconstructionSettleRow> settle,
        IReadOnlyList<ReconstructionPoint> points, int n)
    {
        var judged = points.Where(p => p.EqualVsLora is not null).ToArray();
        int seeds = judged.Length == 0 ? 0 : judged.Max(p => p.EqualSeeds);
        string Diff(ReconstructionPoint p, ConfidenceInterval d) => $"{p.Type} r = {p.Rank}: " +
            $"{Protocol.Comparisons.Format(d.Estimate, d.Low, d.High, "+0.0000;-0.0000;0.0000")}";
        string perType = string.Join("; ",
            judged.GroupBy(p => p.Type).Select(g
                => $"{g.Key} {ReconstructionSummary.Tally(g.Select(p => p.EqualBelowLora))}"));
        var failing = judged.Where(p => p.EqualBelowLora != Verdict.Reproduced).ToArray();
        var equal = rows.Where(r => r.BestRelSqError is not null).ToArray();
        var settledRows = equal.Where(r => r.Settle != "").ToArray();
        var starts = settledRows.Length == 0 ? "none" : string.Join(", ",
            settle.Select(s => s.Start).Distinct().Order(StringComparer.Ordinal));
        string settled = Invariant($"settled {settledRows.Length} of {equal.Length} fits ") +
            Invariant($"({equal.Count(r => r.Settle == ReconstructionSettle.Loses)} losing, ") +
                         Invariant($"{equal.Count(r => r.Settle == ReconstructionSettle.Capped)} capped; starts ") +
                             Invariant($"{starts}); best start ") +
                         string.Join(", ",
                             settledRows.GroupBy(r => r.BestStart).OrderByDescending(g => g.Count()).ThenBy(g
                                 => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"));
        string measured = $"best found, n = {n}, {seeds} seeds: {perType}" +
            (failing.Length == 0 ? "" : "; not reproduced or inconclusive: " +
                "" + string.Join("; ", failing.Select(p => Diff(p, p.EqualVsLora!)))) +
            $"; paper-protocol fits alone: " +
                $"{ReconstructionSummary.Tally(judged.Select(p => p.EqualBelowLoraProtocol))}; {settled}";
        return BelowLoraSpec.Judge(measured, Verdicts.Combine([.. judged.Select(p => p.EqualBelowLora)]));
    }
}
