using System.Text;
using Abba.Core.Analysis;
using Abba.Core.Statistics;
using Abba.Experiments.Protocol;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static System.FormattableString;

namespace Abba.Experiments.Design;

/// <summary>Summaries, comparisons, Theorem 2 slopes and the summary text of the design experiment, all from its CSVs.</summary>
public sealed partial class DesignExperiment
{
    /// <summary>The metrics summarised per arm: the primary one first.</summary>
    public static readonly IReadOnlyList<string> Metrics = ["test_ce", "digit_accuracy", "exact_match", "grad_norm_plateau"];

    /// <summary>How far a fitted Theorem 2 slope's interval may reach from the derived slope (the issue's ±0.05).</summary>
    public const double SlopeTolerance = 0.05;

    /// <summary>The paper's values, shipped in <c>reference/</c> beside the executable.</summary>
    public static List<PaperDesignRow> PaperValues(string baseDirectory) => ReferenceData.Read<PaperDesignRow>(DesignFiles.PaperReference, baseDirectory);

    /// <summary>The value of <paramref name="metric"/> in <paramref name="row"/>.</summary>
    public static double Value(DesignRow row, string metric) => metric switch
    {
        "test_ce" => row.TestCe,
        "digit_accuracy" => row.DigitAccuracy,
        "exact_match" => row.ExactMatch,
        "grad_norm_plateau" => row.GradNormPlateau,
        _ => throw new ArgumentException($"unknown metric '{metric}'", nameof(metric)),
    };

    /// <summary>Mean, standard deviation and 95% t interval over seeds of every metric of every (family, arm); method = arm, target = family.</summary>
    public static List<ArmSummaryRow> Summarise(IReadOnlyList<DesignRow> rows) =>
        [.. from g in rows.GroupBy(r => (r.Family, r.Arm))
            from metric in Metrics
            let first = g.First()
            select Comparisons.Summarise(first.Arm, first.Family, first.Family == "pretrained" ? "none" : "reference_tuned", first.Rate, first.Params, metric, [.. g.Select(r => Value(r, metric))])];

    /// <summary>The arms of <paramref name="family"/> in run order.</summary>
    public static List<string> ArmsOf(IReadOnlyList<DesignRow> rows, string family) => [.. rows.Where(r => r.Family == family).Select(r => r.Arm).Distinct()];

    /// <summary>The reference arm of <paramref name="family"/>, or null when the family did not run.</summary>
    public static string? ReferenceOf(IReadOnlyList<DesignRow> rows, string family) => rows.FirstOrDefault(r => r.Family == family && r.Reference)?.Arm;

    static Dictionary<int, double> PerSeed(IReadOnlyList<DesignRow> rows, string family, string arm, string metric) =>
        rows.Where(r => r.Family == family && r.Arm == arm).ToDictionary(r => r.Seed, r => Value(r, metric));

    /// <summary><paramref name="metric"/>(worse) - metric(better) per seed, paired, where the paper says <paramref name="better"/> is lower (sign +1).</summary>
    static ComparisonRow Paired(string artefact, IReadOnlyList<DesignRow> rows, string family, string worse, string better, string metric)
    {
        var a = PerSeed(rows, family, worse, metric);
        var b = PerSeed(rows, family, better, metric);
        int[] seeds = [.. a.Keys.Intersect(b.Keys).Order()];
        string short_ = metric == "test_ce" ? "ce" : "grad norm";
        return Comparisons.Row(artefact, $"{short_}({family}/{worse}) - {short_}({family}/{better})", metric, +1,
            Intervals.PairedDifference([.. seeds.Select(s => a[s])], [.. seeds.Select(s => b[s])]));
    }

    /// <summary>The alpha the paper's GSM8K column peaks at, among the alphas run.</summary>
    public static string PeakAlpha(IReadOnlyList<DesignRow> rows, IReadOnlyList<PaperDesignRow> paper)
    {
        var run = ArmsOf(rows, "alpha");
        return paper.Where(p => p.Artefact == "Table 8" && p.Metric == "gsm8k" && run.Contains(p.Setting)).OrderByDescending(p => p.Value).First().Setting;
    }

    /// <summary>The alphas the peak is compared with: the smallest run, and every one from 48 up (the paper's curve falls at 48-64).</summary>
    public static List<string> AlphaEndpoints(IReadOnlyList<DesignRow> rows, string peak)
    {
        var alphas = rows.Where(r => r.Family == "alpha").Select(r => (r.Arm, r.Alpha)).Distinct().OrderBy(a => a.Alpha).ToList();
        return [.. alphas.Where((a, i) => a.Arm != peak && (i == 0 || a.Alpha >= 48)).Select(a => a.Arm)];
    }

    /// <summary>
    /// Every effect the claims test, with paired t intervals over seeds: each Table 3 row against ours; each other scaling
    /// against the paper's (late gradient norm and test CE); every alpha against the paper's peak; each unequal split against
    /// the equal one; each larger rank against the reference; 4 pairs against 2 (test CE and late gradient norm).
    /// </summary>
    public static List<ComparisonRow> Compare(IReadOnlyList<DesignRow> rows, IReadOnlyList<PaperDesignRow> paper)
    {
        var result = new List<ComparisonRow>();
        if (ReferenceOf(rows, "init") is { } ours)
            result.AddRange(InitRows.Where(r => r.Name is not ("ours" or "both_zero")).Select(r => Paired("Table 3", rows, "init", r.Name, ours, "test_ce")));
        if (ReferenceOf(rows, "scaling") is { } paperScaling)
            foreach (var metric in new[] { "grad_norm_plateau", "test_ce" })
                result.AddRange(ArmsOf(rows, "scaling").Where(a => a != paperScaling).Select(a => Paired("Figure 5", rows, "scaling", a, paperScaling, metric)));
        if (ReferenceOf(rows, "alpha") is not null)
        {
            string peak = PeakAlpha(rows, paper);
            result.AddRange(ArmsOf(rows, "alpha").Where(a => a != peak).Select(a => Paired("Table 8", rows, "alpha", a, peak, "test_ce")));
        }
        if (ReferenceOf(rows, "split") is { } equal)
            result.AddRange(ArmsOf(rows, "split").Where(a => a != equal).Select(a => Paired("Table 5", rows, "split", a, equal, "test_ce")));
        if (ReferenceOf(rows, "rank") is { } reference)
        {
            double r0 = RankOf(reference);
            result.AddRange(ArmsOf(rows, "rank").Where(a => RankOf(a) > r0).Select(a => Paired("Table 9", rows, "rank", a, reference, "test_ce")));
        }
        if (ReferenceOf(rows, "chained") is { } two)
            foreach (var (artefact, metric) in new[] { ("Table 7", "test_ce"), ("Figure 6", "grad_norm_plateau") })
                result.AddRange(ArmsOf(rows, "chained").Where(a => a != two).Select(a => Paired(artefact, rows, "chained", a, two, metric)));
        return result;
    }

    /// <summary>r of a rank arm's name ("r=16").</summary>
    static int RankOf(string arm) => int.Parse(arm[2..], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Theorem 2: per (scaling, moment), the least-squares slope of log moment on log(r1 r2) fitted per seed, then the mean
    /// slope with a 95% t interval over seeds, beside the derived slope 1 - 2e (<see cref="RankStability"/>).
    /// </summary>
    public static List<SlopeRow> Slopes(IReadOnlyList<MomentRow> moments) =>
        [.. from g in moments.GroupBy(m => m.Exponent)
            from moment in new[] { "output", "input_gradient" }
            let perSeed = g.GroupBy(m => m.Seed).Select(s => RankStability.LogLogFit(
                [.. s.Select(m => (double)m.R1 * m.R2)], [.. s.Select(m => moment == "output" ? m.OutputMoment : m.GradientMoment)]).Slope).ToArray()
            let ci = Intervals.StudentTMean(perSeed)
            let expected = RankStability.ExpectedSlope(g.Key)
            select new SlopeRow
            {
                Exponent = g.Key, Moment = moment, ExpectedSlope = expected, N = ci.N, Slope = ci.Estimate, CiLow = ci.Low, CiHigh = ci.High,
                WithinTolerance = !double.IsNaN(ci.Low) && ci.Low >= expected - SlopeTolerance && ci.High <= expected + SlopeTolerance,
            }];

    /// <summary>"0.123 [0.100, 0.146]" of one arm's metric in <paramref name="summary"/>.</summary>
    static string Cell(IReadOnlyList<ArmSummaryRow> summary, string family, string arm, string metric)
    {
        var s = summary.Single(s => s.Target == family && s.Method == arm && s.Metric == metric);
        return metric == "exact_match" ? Comparisons.Format(s.Mean, s.CiLow, s.CiHigh, "0.0", 100) + "%" : Comparisons.Format(s.Mean, s.CiLow, s.CiHigh);
    }

    /// <summary>The summary text: every family's arms with intervals, the comparisons and the Theorem 2 slopes.</summary>
    public static string SummaryText(string folder)
    {
        var rows = CsvFiles.Read<DesignRow>(Path.Combine(folder, DesignFiles.Runs));
        var summary = CsvFiles.Read<ArmSummaryRow>(Path.Combine(folder, DesignFiles.Summary));
        var tests = CsvFiles.Read<ComparisonRow>(Path.Combine(folder, DesignFiles.Comparisons));
        var slopes = CsvFiles.Read<SlopeRow>(Path.Combine(folder, DesignFiles.Slopes));
        var sweep = CsvFiles.Read<LrSweepRow>(Path.Combine(folder, DesignFiles.LrSweep));
        var text = new StringBuilder();
        text.AppendLine(Disclaimer);
        var floor = rows.Single(r => r.Family == "pretrained");
        text.AppendLine(Invariant($"Pre-trained model before fine-tuning: test CE {floor.TestCe:0.0000}, exact match {100 * floor.ExactMatch:0.0}%."));
        if (sweep.FirstOrDefault(s => s.Chosen) is { } chosen)
            text.AppendLine(Invariant($"Learning rate: {chosen.Rate} for every arm (the reference arm's lowest mean validation CE over {sweep.Select(s => s.Seed).Distinct().Count()} seed(s), grid {string.Join(", ", sweep.Select(s => s.Rate).Distinct().Select(v => Invariant($"{v}")))})."));
        foreach (var family in DesignOptions.AllFamilies.Where(f => rows.Any(r => r.Family == f)))
        {
            text.AppendLine().AppendLine($"[{family}] test CE | exact match | late gradient norm (mean [95% t interval] over {rows.Where(r => r.Family == family).Select(r => r.Seed).Distinct().Count()} seeds)");
            foreach (var arm in ArmsOf(rows, family))
            {
                var first = rows.First(r => r.Family == family && r.Arm == arm);
                text.AppendLine(Invariant($"  {arm,-10}{(first.Reference ? " (ref)" : "      ")} ranks {first.Ranks}, alpha {first.Alpha}, s {first.Scale:G4}: ") +
                                $"{Cell(summary, family, arm, "test_ce")} | {Cell(summary, family, arm, "exact_match")} | {Cell(summary, family, arm, "grad_norm_plateau")}");
            }
            if (family == "init")
            {
                var zero = rows.Where(r => r.Family == "init" && r.Arm == "both_zero").ToList();
                text.AppendLine(Invariant($"  both_zero: largest gradient norm of any step {zero.Max(r => r.GradNormMax):G3}; test CE minus the pre-trained model's: max |diff| {zero.Max(r => Math.Abs(r.TestCe - floor.TestCe)):G3}"));
            }
        }
        text.AppendLine().AppendLine("Paired comparisons (worse-by-the-paper minus better-by-the-paper; positive agrees with the paper):");
        foreach (var t in tests)
            text.AppendLine($"  {t.Artefact}: {t.Comparison} = {Comparisons.Format(t.Estimate, t.CiLow, t.CiHigh, "0.0000")} ({t.Interval}) {t.Verdict.Replace('_', ' ')}");
        if (slopes.Count > 0)
        {
            text.AppendLine().AppendLine("Theorem 2: log-log slope of the second moment against r1 r2 (expected 1 - 2e; mean [95% t interval] over seeds):");
            foreach (var s in slopes)
                text.AppendLine(Invariant($"  e = {s.Exponent:0.####}, {s.Moment}: {Comparisons.Format(s.Slope, s.CiLow, s.CiHigh, "0.0000")}, expected {s.ExpectedSlope:0.####}, within ±{SlopeTolerance}: {(s.WithinTolerance ? "yes" : "no")}"));
        }
        return text.ToString();
    }
}
