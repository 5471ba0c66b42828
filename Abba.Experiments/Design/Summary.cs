using System.Text;
using Abba.Core.Analysis;
using Abba.Core.Statistics;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Protocol;
using static System.FormattableString;

namespace Abba.Experiments.Design;

/// <summary>One metric of a design row: its CSV name, how the text writes it, and how to read it.</summary>
/// <param name="Name">The name in CSV columns and rows.</param>
/// <param name="Label">The name in the claims' measured values ("test CE").</param>
/// <param name="Short">The name in the comparisons CSV ("ce" in "ce(init/row1) - ce(init/ours)").</param>
/// <param name="Percent">Whether cells show it in percent.</param>
/// <param name="Of">Reads it from a row.</param>
public sealed record DesignMetric(string Name, string Label, string Short, bool Percent, Func<DesignRow, double> Of)
{
    /// <summary>Primary metric: held-out answer cross-entropy.</summary>
    public static readonly DesignMetric TestCe = new("test_ce", "test CE", "ce", false, r => r.TestCe);
    /// <summary>Fraction of answer digits right.</summary>
    public static readonly DesignMetric DigitAccuracy =
        new("digit_accuracy", "digit accuracy", "digit accuracy", false, r => r.DigitAccuracy);
    /// <summary>Exact match of greedy answers.</summary>
    public static readonly DesignMetric ExactMatch =
        new("exact_match", "exact match", "exact match", true, r => r.ExactMatch);
    /// <summary>Mean pre-clip gradient norm over the second half of fine-tuning.</summary>
    public static readonly DesignMetric GradNormPlateau =
        new("grad_norm_plateau", "late gradient norm", "grad norm", false, r => r.GradNormPlateau);

    /// <summary>The metrics summarised per arm: the primary one first.</summary>
    public static readonly IReadOnlyList<DesignMetric> All = [TestCe, DigitAccuracy, ExactMatch, GradNormPlateau];

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>Summaries, comparisons, Theorem 2 slopes and the summary text of the design experiment, from its
/// rows.</summary>
public static class DesignSummary
{
    /// <summary>How far a fitted Theorem 2 slope's interval may reach from the derived slope (the harness's chosen
    /// noise band ±0.05).</summary>
    public const double SlopeTolerance = 0.05;

    /// <summary>The paper's values, shipped in <c>reference/</c> beside the executable.</summary>
    public static List<PaperDesignRow> PaperValues(string baseDirectory) =>
        ReferenceData.Read<PaperDesignRow>(DesignFiles.PaperReference, baseDirectory);

    /// <summary>Whether <paramref name="row"/> is of <paramref name="family"/>.</summary>
    public static bool Of(this DesignRow row, DesignFamily family) => row.Family == family.Name;

    /// <summary>Whether <paramref name="row"/> is the pre-trained model's, before fine-tuning.</summary>
    public static bool IsPretrained(this DesignRow row) => row.Family == DesignFamily.PretrainedName;

    /// <summary>Whether any row is of <paramref name="family"/>: whether the family ran.</summary>
    public static bool Ran(this IReadOnlyList<DesignRow> rows, DesignFamily family) => rows.Any(r => r.Of(family));

    /// <summary>
    /// Mean, standard deviation and 95% t interval over seeds of every metric of every (family, arm); method = arm,
    /// target = family.
    /// </summary>
    public static List<ArmSummaryRow> Summarise(IReadOnlyList<DesignRow> rows) =>
        [.. from g in rows.GroupBy(r => (r.Family, r.Arm))
            from metric in DesignMetric.All
            let first = g.First()
            let choice = first.IsPretrained() ? "none" : "reference_tuned"
            select Comparisons.Summarise(first.Arm, first.Family, choice, first.Rate, first.Params, metric.Name,
                [.. g.Select(metric.Of)])];

    /// <summary>The arms of <paramref name="family"/> in run order.</summary>
    public static List<string> ArmsOf(IReadOnlyList<DesignRow> rows, DesignFamily family) =>
        [.. rows.Where(r => r.Of(family)).Select(r => r.Arm).Distinct()];

    /// <summary>The reference arm of <paramref name="family"/>, or null when the family did not run.</summary>
    public static string? ReferenceOf(IReadOnlyList<DesignRow> rows, DesignFamily family) =>
        rows.FirstOrDefault(r => r.Of(family) && r.Reference)?.Arm;

    /// <summary>The first row of <paramref name="arm"/> of <paramref name="family"/>.</summary>
    public static DesignRow FirstOf(IReadOnlyList<DesignRow> rows, DesignFamily family, string arm) =>
        rows.First(r => r.Of(family) && r.Arm == arm);

    /// <summary>The pair ranks of a row, r1, r2 (, ...), read from its ranks column.</summary>
    public static int[] PairRanks(DesignRow row) =>
        [.. row.Ranks.Split('/').Select(r => int.Parse(r, System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>r1 + r2 (+ ...) of a row: the total rank.</summary>
    public static int TotalRank(DesignRow row) => PairRanks(row).Sum();

    /// <summary>r1 of a row.</summary>
    public static int FirstRank(DesignRow row) => PairRanks(row)[0];

    static Dictionary<int, double> PerSeed(IReadOnlyList<DesignRow> rows, DesignFamily family, string arm,
        DesignMetric metric) =>
        rows.Where(r => r.Of(family) && r.Arm == arm).ToDictionary(r => r.Seed, metric.Of);

    /// <summary><paramref name="metric"/>(worse) - metric(better) per seed, paired, where the paper says
    /// <paramref name="better"/> is lower (sign +1).</summary>
    static ComparisonRow Paired(string artefact, IReadOnlyList<DesignRow> rows, DesignFamily family, string worse,
        string better, DesignMetric metric)
    {
        var a = PerSeed(rows, family, worse, metric);
        var b = PerSeed(rows, family, better, metric);
        int[] seeds = [.. a.Keys.Intersect(b.Keys).Order()];
        string m = metric.Short;
        return Comparisons.Row(artefact, $"{m}({family}/{worse}) - {m}({family}/{better})", metric.Name, +1,
            Intervals.PairedDifference([.. seeds.Select(s => a[s])], [.. seeds.Select(s => b[s])]));
    }

    /// <summary>The alpha the paper's GSM8K column peaks at, among the alphas run.</summary>
    public static string PeakAlpha(IReadOnlyList<DesignRow> rows, IReadOnlyList<PaperDesignRow> paper)
    {
        var run = ArmsOf(rows, DesignFamily.Alpha);
        return paper.Where(p => p.Artefact == "Table 8" && p.Metric == "gsm8k" && run.Contains(p.Setting))
            .OrderByDescending(p => p.Value).First().Setting;
    }

    /// <summary>The alphas the peak is compared with: the smallest run, and every one from 48 up (the paper's curve
    /// falls at 48-64).</summary>
    public static List<string> AlphaEndpoints(IReadOnlyList<DesignRow> rows, string peak)
    {
        var alphas = rows.Where(r => r.Of(DesignFamily.Alpha)).Select(r => (r.Arm, r.Alpha)).Distinct()
            .OrderBy(a => a.Alpha).ToList();
        return [.. alphas.Where((a, i) => a.Arm != peak && (i == 0 || a.Alpha >= 48)).Select(a => a.Arm)];
    }

    /// <summary>
    /// Every effect the claims test, with paired t intervals over seeds: each Table 3 row against ours; each other
    /// scaling against the paper's (late gradient norm and test CE); every alpha against the paper's peak; each unequal
    /// split against the equal one; each larger rank against the reference; 4 pairs against 2 (test CE and late
    /// gradient norm).
    /// </summary>
    public static List<ComparisonRow> Compare(IReadOnlyList<DesignRow> rows, IReadOnlyList<PaperDesignRow> paper)
    {
        var result = new List<ComparisonRow>();
        var ce = DesignMetric.TestCe;
        if (ReferenceOf(rows, DesignFamily.Init) is { } ours)
            result.AddRange(DesignFamily.InitRows.Where(r => r.Name != ours && r.Name != DesignFamily.BothZeroArm)
                .Select(r => Paired("Table 3", rows, DesignFamily.Init, r.Name, ours, ce)));
        if (ReferenceOf(rows, DesignFamily.Scaling) is { } paperScaling)
            foreach (var metric in new[] { DesignMetric.GradNormPlateau, ce })
                result.AddRange(ArmsOf(rows, DesignFamily.Scaling).Where(a => a != paperScaling)
                    .Select(a => Paired("Figure 5", rows, DesignFamily.Scaling, a, paperScaling, metric)));
        if (ReferenceOf(rows, DesignFamily.Alpha) is not null)
        {
            string peak = PeakAlpha(rows, paper);
            result.AddRange(ArmsOf(rows, DesignFamily.Alpha).Where(a => a != peak)
                .Select(a => Paired("Table 8", rows, DesignFamily.Alpha, a, peak, ce)));
        }
        if (ReferenceOf(rows, DesignFamily.Split) is { } equal)
            result.AddRange(ArmsOf(rows, DesignFamily.Split).Where(a => a != equal)
                .Select(a => Paired("Table 5", rows, DesignFamily.Split, a, equal, ce)));
        if (ReferenceOf(rows, DesignFamily.Rank) is { } reference)
        {
            int r0 = TotalRank(FirstOf(rows, DesignFamily.Rank, reference));
            result.AddRange(ArmsOf(rows, DesignFamily.Rank)
                .Where(a => TotalRank(FirstOf(rows, DesignFamily.Rank, a)) > r0)
                .Select(a => Paired("Table 9", rows, DesignFamily.Rank, a, reference, ce)));
        }
        if (ReferenceOf(rows, DesignFamily.Chained) is { } two)
            foreach (var (artefact, metric) in new[] { ("Table 7", ce), ("Figure 6", DesignMetric.GradNormPlateau) })
                result.AddRange(ArmsOf(rows, DesignFamily.Chained).Where(a => a != two)
                    .Select(a => Paired(artefact, rows, DesignFamily.Chained, a, two, metric)));
        return result;
    }

    /// <summary>The moments of Theorem 2, by the name the slopes CSV gives each.</summary>
    static readonly IReadOnlyList<(string Name, Func<MomentRow, double> Of)> MomentsOfTheorem =
        [("output", m => m.OutputMoment), ("input_gradient", m => m.GradientMoment)];

    /// <summary>
    /// Theorem 2: per (scaling, moment), the least-squares slope of log moment on log(r1 r2) fitted per seed, then the
    /// mean slope with a 95% t interval over seeds, beside the derived slope 1 - 2e (<see cref="RankStability"/>).
    /// </summary>
    public static List<SlopeRow> Slopes(IReadOnlyList<MomentRow> moments) =>
        [.. from g in moments.GroupBy(m => m.Exponent)
            from moment in MomentsOfTheorem
            let perSeed = g.GroupBy(m => m.Seed).Select(s => RankStability.LogLogFit(
                [.. s.Select(m => (double)m.R1 * m.R2)], [.. s.Select(moment.Of)]).Slope).ToArray()
            let ci = Intervals.StudentTMean(perSeed)
            let expected = RankStability.ExpectedSlope(g.Key)
            select new SlopeRow
            {
                Exponent = g.Key, Moment = moment.Name, ExpectedSlope = expected, N = ci.N, Slope = ci.Estimate,
                CiLow = ci.Low, CiHigh = ci.High,
                WithinTolerance = !double.IsNaN(ci.Low) && ci.Low >= expected - SlopeTolerance &&
                                  ci.High <= expected + SlopeTolerance,
            }];

    /// <summary>"0.123 [0.100, 0.146]" of one arm's metric in <paramref name="summary"/>.</summary>
    public static string Cell(IReadOnlyList<ArmSummaryRow> summary, DesignFamily family, string arm,
        DesignMetric metric)
    {
        var s = Summary(summary, family, arm, metric);
        return metric.Percent ? Comparisons.Format(s.Mean, s.CiLow, s.CiHigh, "0.0", 100) + "%"
            : Comparisons.Format(s.Mean, s.CiLow, s.CiHigh);
    }

    /// <summary>The summary row of one arm's metric.</summary>
    public static ArmSummaryRow Summary(IReadOnlyList<ArmSummaryRow> summary, DesignFamily family, string arm,
        DesignMetric metric) =>
        summary.Single(s => s.Target == family.Name && s.Method == arm && s.Metric == metric.Name);

    /// <summary>The summary text: every family's arms with intervals, the comparisons and the Theorem 2
    /// slopes.</summary>
    public static string SummaryText(string folder)
    {
        var rows = CsvFiles.Read<DesignRow>(Path.Combine(folder, DesignFiles.Runs));
        var summary = CsvFiles.Read<ArmSummaryRow>(Path.Combine(folder, DesignFiles.Summary));
        var tests = CsvFiles.Read<ComparisonRow>(Path.Combine(folder, DesignFiles.Comparisons));
        var slopes = CsvFiles.Read<SlopeRow>(Path.Combine(folder, DesignFiles.Slopes));
        var sweep = CsvFiles.Read<LrSweepRow>(Path.Combine(folder, DesignFiles.LrSweep));
        var text = new StringBuilder();
        text.AppendLine(DesignExperiment.Disclaimer);
        var floor = rows.Single(r => r.IsPretrained());
        text.AppendLine(Invariant($"Pre-trained model before fine-tuning: test CE {floor.TestCe:0.0000}, ") +
                        Invariant($"exact match {100 * floor.ExactMatch:0.0}%."));
        if (sweep.FirstOrDefault(s => s.Chosen) is { } chosen)
        {
            string grid = string.Join(", ", sweep.Select(s => s.Rate).Distinct().Select(v => Invariant($"{v}")));
            int sweepSeeds = sweep.Select(s => s.Seed).Distinct().Count();
            text.AppendLine(Invariant($"Learning rate: {chosen.Rate} for every arm (the reference arm's lowest mean ") +
                            Invariant($"validation CE over {sweepSeeds} seed(s), grid {grid})."));
        }
        foreach (var family in DesignFamily.All.Where(rows.Ran))
            FamilyText(text, rows, summary, family, floor);
        text.AppendLine().AppendLine(
            "Paired comparisons (worse-by-the-paper minus better-by-the-paper; positive agrees with the paper):");
        foreach (var t in tests)
            text.AppendLine($"  {t.Artefact}: {t.Comparison} = " +
                            $"{Comparisons.Format(t.Estimate, t.CiLow, t.CiHigh, "0.0000")} " +
                            $"({t.Interval}) {t.Verdict.Replace('_', ' ')}");
        if (slopes.Count > 0)
        {
            text.AppendLine().AppendLine("Theorem 2: log-log slope of the second moment against r1 r2 " +
                                         "(expected 1 - 2e; mean [95% t interval] over seeds):");
            foreach (var s in slopes)
                text.AppendLine(Invariant($"  e = {s.Exponent:0.####}, {s.Moment}: ") +
                                Invariant($"{Comparisons.Format(s.Slope, s.CiLow, s.CiHigh, "0.0000")}, ") +
                                Invariant($"expected {s.ExpectedSlope:0.####}, within ±{SlopeTolerance}: ") +
                                (s.WithinTolerance ? "yes" : "no"));
        }
        return text.ToString();
    }

    static void FamilyText(StringBuilder text, IReadOnlyList<DesignRow> rows, IReadOnlyList<ArmSummaryRow> summary,
        DesignFamily family, DesignRow floor)
    {
        int seeds = rows.Where(r => r.Of(family)).Select(r => r.Seed).Distinct().Count();
        text.AppendLine().AppendLine(
            $"[{family}] test CE | exact match | late gradient norm (mean [95% t interval] over {seeds} seeds)");
        foreach (var arm in ArmsOf(rows, family))
        {
            var first = FirstOf(rows, family, arm);
            text.AppendLine(
                Invariant($"  {arm,-10}{(first.Reference ? " (ref)" : "      ")} ranks {first.Ranks}, ") +
                Invariant($"alpha {first.Alpha}, s {first.Scale:G4}: ") +
                $"{Cell(summary, family, arm, DesignMetric.TestCe)} | " +
                $"{Cell(summary, family, arm, DesignMetric.ExactMatch)}" +
                $" | {Cell(summary, family, arm, DesignMetric.GradNormPlateau)}");
        }
        var zero = rows.Where(r => r.Of(family) && r.Arm == DesignFamily.BothZeroArm).ToList();
        if (zero.Count > 0)
            text.AppendLine(
                Invariant($"  both_zero: largest gradient norm of any step {zero.Max(r => r.GradNormMax):G3}; ") +
                Invariant($"test CE minus the pre-trained model's: max |diff| ") +
                Invariant($"{zero.Max(r => Math.Abs(r.TestCe - floor.TestCe)):G3}"));
    }
}
