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
    /// Mean, standard deviation and 95% t interval over seeds of every metric of every (family, arm, rate choice);
    /// method = arm, target = family.
    /// </summary>
    public static List<ArmSummaryRow> Summarise(IReadOnlyList<DesignRow> rows) =>
        [.. from g in rows.GroupBy(r => (r.Family, r.Arm, r.RateChoice))
            from metric in DesignMetric.All
            let first = g.First()
            select Comparisons.Summarise(first.Arm, first.Family, first.RateChoice, first.Rate, first.Params,
                metric.Name, [.. g.Select(metric.Of)])];

    /// <summary>The headline rows: every arm at its own tuned rate (and the pre-trained model's).</summary>
    public static List<DesignRow> TunedRows(IReadOnlyList<DesignRow> rows) =>
        [.. rows.Where(r => r.IsPretrained() || r.RateChoice == DesignRow.Tuned)];

    /// <summary>The arms of <paramref name="family"/> in run order.</summary>
    public static List<string> ArmsOf(IReadOnlyList<DesignRow> rows, DesignFamily family) =>
        [.. rows.Where(r => r.Of(family)).Select(r => r.Arm).Distinct()];

    /// <summary>The reference arm of <paramref name="family"/>, or null when the family did not run (or has
    /// none).</summary>
    public static string? ReferenceOf(IReadOnlyList<DesignRow> rows, DesignFamily family) =>
        rows.FirstOrDefault(r => r.Of(family) && r.Reference)?.Arm;

    /// <summary>The first row of <paramref name="arm"/> of <paramref name="family"/>.</summary>
    public static DesignRow FirstOf(IReadOnlyList<DesignRow> rows, DesignFamily family, string arm) =>
        rows.First(r => r.Of(family) && r.Arm == arm);

    /// <summary>The pair ranks in a ranks column ("4/4"), r1, r2 (, ...).</summary>
    public static int[] PairRanks(string ranks) =>
        [.. ranks.Split('/').Select(r => int.Parse(r, System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>The pair ranks of a row, r1, r2 (, ...), read from its ranks column.</summary>
    public static int[] PairRanks(DesignRow row) => PairRanks(row.Ranks);

    /// <summary>r1 + r2 (+ ...) of a row: the total rank.</summary>
    public static int TotalRank(DesignRow row) => PairRanks(row).Sum();

    /// <summary>r1 of a row.</summary>
    public static int FirstRank(DesignRow row) => PairRanks(row)[0];

    /// <summary>The verdict word of a comparison with an arm that did not train at any rate.</summary>
    public const string NotTested = "not_tested";

    /// <summary>The pre-trained models' rows (before fine-tuning), by model.</summary>
    public static Dictionary<int, DesignRow> Floors(IReadOnlyList<DesignRow> rows) =>
        rows.Where(r => r.IsPretrained()).ToDictionary(r => r.Model);

    /// <summary>"0.782 / 1.204 / 1.029": the pre-trained models' test CE, model by model.</summary>
    public static string FloorText(IReadOnlyList<DesignRow> rows) =>
        string.Join(" / ", Floors(rows).OrderBy(f => f.Key).Select(f => Invariant($"{f.Value.TestCe:0.000}")));

    /// <summary>Per fine-tuning seed, the validation CE before fine-tuning of the model it fine-tunes.</summary>
    public static Dictionary<int, double> ValidationFloorBySeed(IReadOnlyList<DesignRow> rows)
    {
        var floors = Floors(rows);
        return rows.Where(r => !r.IsPretrained()).GroupBy(r => r.Seed)
            .ToDictionary(g => g.Key, g => floors[g.First().Model].ValidationCe);
    }

    /// <summary>The arms (family/arm) that did not train at any grid rate: on every sweep seed and rate, validation CE
    /// not below its pre-trained model's.</summary>
    public static HashSet<string> Untrainable(IReadOnlyList<DesignRow> rows, IReadOnlyList<LrSweepRow> sweep)
    {
        var floor = ValidationFloorBySeed(rows);
        return [.. sweep.GroupBy(s => s.Target).Where(g => g.All(s => !(s.ValidationCe < floor[s.Seed])))
            .Select(g => g.Key)];
    }

    /// <summary>
    /// <paramref name="metric"/>(worse) - metric(better) per seed at <paramref name="choice"/>'s rates, paired over the
    /// seeds where both runs trained (the seeds left out named), where the paper says <paramref name="better"/> is
    /// lower (sign +1); "not tested" when either arm did not train at any rate.
    /// </summary>
    static ComparisonRow Paired(string artefact, IReadOnlyList<DesignRow> rows, DesignFamily family, string worse,
        string better, DesignMetric metric, string choice, ISet<string> untrainable, double floor = 0)
    {
        Dictionary<int, DesignRow> Of(string arm) =>
            rows.Where(r => r.Of(family) && r.Arm == arm && r.RateChoice == choice).ToDictionary(r => r.Seed);
        var a = Of(worse);
        var b = Of(better);
        int[] all = [.. a.Keys.Intersect(b.Keys).Order()];
        int[] seeds = [.. all.Where(s => a[s].Trained && b[s].Trained)];
        string m = metric.Short;
        string left = all.Length == seeds.Length ? ""
            : Invariant($" [{all.Length - seeds.Length} of {all.Length} seeds left out: a run did not train]");
        var row = Comparisons.Row(artefact + (choice == DesignRow.Shared ? " (shared rate)" : ""),
            $"{m}({family}/{worse}) - {m}({family}/{better}){left}", metric.Name, +1,
            Intervals.PairedDifference([.. seeds.Select(s => metric.Of(a[s]))],
                [.. seeds.Select(s => metric.Of(b[s]))]), floor);
        bool notTested = untrainable.Contains($"{family}/{worse}") || untrainable.Contains($"{family}/{better}");
        return notTested ? row with { Verdict = NotTested } : row;
    }

    /// <summary>The alpha the paper's GSM8K column peaks at, among the alphas run.</summary>
    public static string PeakAlpha(IReadOnlyList<DesignRow> rows, IReadOnlyList<PaperDesignRow> paper,
        DesignFamily family)
    {
        var run = ArmsOf(rows, family);
        return paper.Where(p => p.Artefact == "Table 8" && p.Metric == "gsm8k" && run.Contains(p.Setting))
            .OrderByDescending(p => p.Value).First().Setting;
    }

    /// <summary>The artefact of the noise-floor comparisons.</summary>
    public const string NoiseFloorArtefact = "noise floor";

    /// <summary>The init row that is ours with the pairs relabelled (r1 = r2, the same draws): the same function in
    /// exact arithmetic, so its difference from ours measures the noise floor.</summary>
    public const string TwinArm = "row5";

    /// <summary>The artefact of the released-code alpha comparisons.</summary>
    public const string AlphaCodeArtefact = "Table 8 (code's s)";

    /// <summary>
    /// Every effect the claims test, with paired t intervals over the seeds where both runs trained, at each arm's
    /// tuned rate (and, for test CE, at the shared rate on the sweep seeds, as sensitivity rows), each judged against
    /// the noise floor (first: Table 3's row 5, ours with the pairs relabelled, against ours): each other Table 3 row
    /// against ours; each other scaling against the paper's at the reference ranks, and the rank-stability slopes;
    /// every alpha against the paper's peak, in both conventions; each unequal split against the equal one; each
    /// larger rank against the reference; chained pairs against 2 (test CE and late gradient norm).
    /// </summary>
    public static List<ComparisonRow> Compare(IReadOnlyList<DesignRow> rows, IReadOnlyList<PaperDesignRow> paper,
        string folder)
    {
        var sweep = CsvFiles.Read<LrSweepRow>(Path.Combine(folder, DesignFiles.LrSweep));
        var untrainable = Untrainable(rows, sweep);
        var result = new List<ComparisonRow>();
        var ce = DesignMetric.TestCe;
        var norm = DesignMetric.GradNormPlateau;
        var ours = ReferenceOf(rows, DesignFamily.Init);
        var floors = new Dictionary<DesignMetric, double>();
        foreach (var metric in new[] { ce, norm })
        {
            var twin = ours is null || !ArmsOf(rows, DesignFamily.Init).Contains(TwinArm) ? null
                : Paired(NoiseFloorArtefact, rows, DesignFamily.Init, TwinArm, ours, metric, DesignRow.Tuned,
                    untrainable);
            floors[metric] = Comparisons.Floor(twin);
            if (twin is not null) result.Add(twin with { Verdict = "floor" });
        }
        void Add(string artefact, DesignFamily family, IEnumerable<string> worse, string better, DesignMetric metric)
        {
            foreach (var choice in metric == ce ? [DesignRow.Tuned, DesignRow.Shared] : new[] { DesignRow.Tuned })
                result.AddRange(worse.Where(w => w != better && (choice == DesignRow.Tuned ||
                                                                 w != DesignFamily.BothZeroArm))
                    .Select(w => Paired(artefact, rows, family, w, better, metric, choice, untrainable,
                        floors[metric])));
        }
        if (ours is not null)
            Add("Table 3", DesignFamily.Init, DesignFamily.InitRows.Select(r => r.Name)
                .Where(n => n != DesignFamily.BothZeroArm && n != TwinArm), ours, ce);
        if (ReferenceOf(rows, DesignFamily.Scaling) is { } paperScaling)
        {
            int r0 = FirstRank(FirstOf(rows, DesignFamily.Scaling, paperScaling));
            var atReference = ArmsOf(rows, DesignFamily.Scaling)
                .Where(a => FirstRank(FirstOf(rows, DesignFamily.Scaling, a)) == r0).ToList();
            foreach (var metric in new[] { norm, ce })
                Add("Figure 5", DesignFamily.Scaling, atReference, paperScaling, metric);
            result.AddRange(DesignStability.Compare(rows, sweep));
        }
        foreach (var (family, artefact) in new[] { (DesignFamily.Alpha, "Table 8"),
                     (DesignFamily.AlphaCode, AlphaCodeArtefact) })
            if (rows.Ran(family))
                Add(artefact, family, ArmsOf(rows, family), PeakAlpha(rows, paper, family), ce);
        if (ReferenceOf(rows, DesignFamily.Split) is { } equal)
            Add("Table 5", DesignFamily.Split, ArmsOf(rows, DesignFamily.Split), equal, ce);
        if (ReferenceOf(rows, DesignFamily.Rank) is { } reference)
        {
            int total = TotalRank(FirstOf(rows, DesignFamily.Rank, reference));
            Add("Table 9", DesignFamily.Rank, ArmsOf(rows, DesignFamily.Rank)
                .Where(a => TotalRank(FirstOf(rows, DesignFamily.Rank, a)) > total), reference, ce);
        }
        if (ReferenceOf(rows, DesignFamily.Chained) is { } two)
            foreach (var (artefact, metric) in new[] { ("Table 7", ce), ("Figure 6", norm) })
                Add(artefact, DesignFamily.Chained, ArmsOf(rows, DesignFamily.Chained), two, metric);
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
        DesignMetric metric, string choice = DesignRow.Tuned)
    {
        var s = Summary(summary, family, arm, metric, choice);
        return metric.Percent ? Comparisons.Format(s.Mean, s.CiLow, s.CiHigh, "0.0", 100) + "%"
            : Comparisons.Format(s.Mean, s.CiLow, s.CiHigh);
    }

    /// <summary>The summary row of one arm's metric.</summary>
    public static ArmSummaryRow Summary(IReadOnlyList<ArmSummaryRow> summary, DesignFamily family, string arm,
        DesignMetric metric, string choice = DesignRow.Tuned) =>
        summary.Single(s => s.Target == family.Name && s.Method == arm && s.Metric == metric.Name &&
                            s.RateChoice == choice);

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
        var floors = Floors(rows);
        text.AppendLine($"{floors.Count} pre-trained model(s) before fine-tuning (the i-th seed fine-tunes model " +
                        $"i mod {floors.Count}): " + string.Join("; ", floors.OrderBy(f => f.Key).Select(f =>
                            Invariant($"model {f.Key}: test CE {f.Value.TestCe:0.0000}, ") +
                            Invariant($"exact match {100 * f.Value.ExactMatch:0.0}%"))) + ".");
        string grid = string.Join(", ", sweep.Select(s => s.Rate).Distinct().Order().Select(v => Invariant($"{v}")));
        int sweepSeeds = sweep.Select(s => s.Seed).Distinct().Count();
        var shared = rows.FirstOrDefault(r => r.RateChoice == DesignRow.Shared);
        text.AppendLine($"Learning rate: each arm's own, its lowest mean validation CE over {sweepSeeds} seed(s) on " +
                        $"the grid {grid} (\"edge\": the choice is at the grid's end, so it may lie outside)." +
                        (shared is null ? "" : Invariant($" Sensitivity rows: every arm at the reference arm's rate ") +
                            Invariant($"{shared.Rate} on the sweep seeds.")));
        var untrainable = Untrainable(rows, sweep);
        if (untrainable.Count > 0)
            text.AppendLine("Did not train at any grid rate (not tested): " + string.Join(", ", untrainable.Order()));
        double[] rates = [.. sweep.Select(s => s.Rate).Distinct()];
        foreach (var family in DesignFamily.All.Where(rows.Ran))
            FamilyText(text, rows, summary, family, floors, rates);
        text.AppendLine().AppendLine(
            "Paired comparisons (worse-by-the-paper minus better-by-the-paper; positive agrees with the paper):");
        foreach (var t in tests)
            text.AppendLine($"  {t.Artefact}: {t.Comparison} = " +
                            $"{Comparisons.Format(t.Estimate, t.CiLow, t.CiHigh, "0.0000")} " +
                            $"({t.Interval}) {t.Verdict.Replace('_', ' ')}");
        var stability = CsvFiles.Read<StabilityRow>(Path.Combine(folder, DesignFiles.Stability));
        if (stability.Count > 0)
        {
            text.AppendLine().AppendLine("Rank stability in training: log-log slope against r1 r2 (mean [95% t " +
                                         "interval] over seeds; each arm at its tuned rate; best rate on the sweep " +
                                         "seeds):");
            foreach (var s in stability)
                text.AppendLine(Invariant($"  e = {s.Exponent:0.####}, {s.Quantity} over r1 = {s.Ranks}: ") +
                                Invariant($"{Comparisons.Format(s.Slope, s.CiLow, s.CiHigh, "0.000")}") +
                                (double.IsNaN(s.Predicted) ? "" : Invariant($", derived {s.Predicted:0.###}")) +
                                (s.Excluded > 0 ? Invariant($" ({s.Excluded} seed(s) left out)") : ""));
        }
        if (slopes.Count > 0)
        {
            text.AppendLine().AppendLine("Theorem 2, a Monte Carlo check of the algebra (i.i.d. Gaussian factors, " +
                                         "not training): log-log slope of the second moment against r1 r2 " +
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
        DesignFamily family, Dictionary<int, DesignRow> floors, IReadOnlyList<double> grid)
    {
        var tuned = rows.Where(r => r.Of(family) && r.RateChoice == DesignRow.Tuned).ToList();
        int seeds = tuned.Select(r => r.Seed).Distinct().Count();
        text.AppendLine().AppendLine($"[{family}] each arm at its own rate: test CE | exact match | late gradient " +
                                     $"norm (mean [95% t interval] over {seeds} seeds) | median test CE | runs that " +
                                     "did not train");
        foreach (var arm in ArmsOf(rows, family))
        {
            var mine = tuned.Where(r => r.Arm == arm).ToList();
            var first = mine[0];
            string edge = grid.Count > 0 && RateSweep.AtEdge(first.Rate, grid) && first.Arm != DesignFamily.BothZeroArm
                ? " edge" : "";
            text.AppendLine(
                Invariant($"  {arm,-12}{(first.Reference ? " (ref)" : "      ")} ranks {first.Ranks}, ") +
                Invariant($"alpha {first.Alpha:G4}, s {first.Scale:G4}, lr {first.Rate}{edge}: ") +
                $"{Cell(summary, family, arm, DesignMetric.TestCe)} | " +
                $"{Cell(summary, family, arm, DesignMetric.ExactMatch)}" +
                $" | {Cell(summary, family, arm, DesignMetric.GradNormPlateau)}" +
                Invariant($" | {Median(mine.Select(r => r.TestCe)):0.000} | ") +
                Invariant($"{mine.Count(r => !r.Trained)}/{mine.Count}"));
        }
        var zero = tuned.Where(r => r.Arm == DesignFamily.BothZeroArm).ToList();
        if (zero.Count > 0)
            text.AppendLine(
                Invariant($"  both_zero: largest gradient norm of any step {zero.Max(r => r.GradNormMax):G3}; ") +
                Invariant($"test CE minus its pre-trained model's: max |diff| ") +
                Invariant($"{zero.Max(r => Math.Abs(r.TestCe - floors[r.Model].TestCe)):G3}"));
    }

    /// <summary>The median of <paramref name="values"/>.</summary>
    public static double Median(IEnumerable<double> values) => MathNet.Numerics.Statistics.Statistics.Median(values);
}
