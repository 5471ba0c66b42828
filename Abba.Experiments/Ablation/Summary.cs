using Abba.Core.Statistics;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Protocol;
using static System.FormattableString;

namespace Abba.Experiments.Ablation;

/// <summary>Summaries, comparisons and the summary text of the ablation, all computed from its rows.</summary>
public static class AblationAnalysis
{
    /// <summary>Seeded bootstrap of the rank correlation: resamples over seeds.</summary>
    public const int BootstrapResamples = 2000;

    /// <summary>The comparison of the rank correlation with the paper's ordering, on test CE.</summary>
    public const string SpearmanComparison = "spearman(-ce of abba per projection, paper gsm8k)";

    /// <summary>The same on exact match.</summary>
    public const string SpearmanExactComparison = "spearman(exact match of abba per projection, paper gsm8k)";

    /// <summary>The null ordering: the projections ranked by ABBA's parameter count on each alone.</summary>
    public const string ParameterNull = "spearman(params per projection, paper gsm8k)";

    /// <summary>How far an ordering's rho lies above the parameter-count null's.</summary>
    public static string BeyondNull(string comparison) => $"{comparison} - {ParameterNull}";

    /// <summary>The comparison of the least-contributing projections with the most-contributing ones.</summary>
    public const string ExtremesComparison = "mean ce(q, k) - mean ce(gate, o, down)";

    /// <summary>The comparison whose interval is the noise floor of test CE: two arms that are one function.</summary>
    public static string NoiseFloorComparison => PairedComparison(Arm.NoiseTwin, Arm.AbbaAll);

    /// <summary>The same for the mean stable rank of the learned updates.</summary>
    public static string StableRankFloorComparison => StableRankComparison(Arm.NoiseTwin, Arm.AbbaAll);

    /// <summary>Whether the effective rank of what each arm learned tracks its test CE, across the arms on all
    /// seven.</summary>
    public const string RankTracksCe = "spearman(mean stable rank, -ce) over the arms on all seven";

    /// <summary>The projections the paper finds contribute the least (q, k) and the most (gate, o, down).</summary>
    public static readonly IReadOnlyList<Target> Least = [Target.Projection("q_proj"), Target.Projection("k_proj")],
        Most = [Target.Projection("gate_proj"), Target.Projection("o_proj"), Target.Projection("down_proj")];

    /// <summary>The paper's Fig. 3 values, shipped in <c>reference/</c> beside the executable.</summary>
    public static List<PaperComponentRow> PaperComponents(string baseDirectory) =>
        ReferenceData.Read<PaperComponentRow>(AblationFiles.PaperReference, baseDirectory);

    /// <summary>The paper's value of <paramref name="target"/> on <paramref name="benchmark"/>.</summary>
    public static double PaperValue(IReadOnlyList<PaperComponentRow> paper, string benchmark, Target target) =>
        paper.Single(p => p.Benchmark == benchmark && p.Target == target.Name).Accuracy;

    /// <summary>The headline rows (tuned rates, or --lr's fixed one) and the pretrained floors: what the claims
    /// judge.</summary>
    public static List<AblationRow> Headline(IEnumerable<AblationRow> rows) =>
        [.. rows.Where(r => r.RateChoice is RateChoice.Tuned or RateChoice.Fixed or RateChoice.None)];

    /// <summary>Mean, standard deviation and 95% t interval over seeds of every metric of every (method, target, rate
    /// choice).</summary>
    public static List<ArmSummaryRow> Summarise(IReadOnlyList<AblationRow> rows) =>
        [.. from g in rows.GroupBy(r => (r.Method, r.Target, r.RateChoice))
            from metric in AblationMetrics.All
            let first = g.First()
            select Comparisons.Summarise(first.Method, first.Target, first.RateChoice, first.Rate, first.Params,
                metric.Name, [.. g.Select(metric.Of)])];

    /// <summary>One metric per seed of one headline arm, keyed by seed.</summary>
    static Dictionary<int, double> PerSeed(IReadOnlyList<AblationRow> headline, Arm arm, Metric<AblationRow> metric) =>
        headline.Where(arm.Matches).ToDictionary(r => r.Seed, metric.Of);

    /// <summary>Whether every ABBA single-projection arm ran (not under --rank-curve-only).</summary>
    public static bool HasComponents(IReadOnlyList<AblationRow> headline) =>
        Target.PaperOrder.All(t => headline.Any(new Arm(AblationMethod.Abba, t).Matches));

    /// <summary>The noise floor of a paired comparison's rows: the largest effect size inside the 95% interval of
    /// the difference between the two identical arms (0 when the twin did not run).</summary>
    public static double Floor(IReadOnlyList<ComparisonRow> comparisons, string floorComparison) =>
        Comparisons.Floor(comparisons.FirstOrDefault(c => c.Comparison == floorComparison));

    /// <summary>
    /// Every effect the claims test, on the headline rows. First the noise floors (the identical twins), then, with
    /// test cross-entropy (lower is better) judged against the CE floor: the ordering's rank correlations on CE and
    /// exact match and their excess over the parameter-count null (bootstrap over seeds), q/k against gate/o/down,
    /// all seven against each single projection, ABBA against LoRA, HiRA and full fine-tuning, the released code's
    /// setting against LoRA r and 2r, LoRA's rank curve (each doubling), and the learned updates' stable rank (ABBA
    /// against LoRA, judged against the stable-rank floor) and whether it tracks CE across arms.
    /// </summary>
    public static List<ComparisonRow> Compare(IReadOnlyList<AblationRow> rows, IReadOnlyList<SpectrumRow> spectra,
        IReadOnlyList<PaperComponentRow> paper)
    {
        var headline = Headline(rows);
        var result = new List<ComparisonRow>();
        bool twin = headline.Any(Arm.NoiseTwin.Matches);
        if (twin)
        {
            result.Add(Paired("noise floor", headline, Arm.NoiseTwin, Arm.AbbaAll, 0));
            result.Add(StableRankRow("noise floor", spectra, Arm.NoiseTwin, Arm.AbbaAll, 0));
        }
        double ce = Floor(result, NoiseFloorComparison), rank = Floor(result, StableRankFloorComparison);
        if (HasComponents(headline)) result.AddRange(Components(headline, paper, ce));
        if (headline.Any(Arm.AbbaAll.Matches))
        {
            result.AddRange(Arm.Baselines.Select(b => Paired("Table 2", headline, b, Arm.AbbaAll, ce)));
            result.AddRange(Arm.ReleasedAgainst(rows).Select(b => Paired("Table 2", headline, b, Arm.Released, ce)));
            result.Add(StableRankRow("Table 2", spectra, Arm.AbbaAll, new Arm(AblationMethod.Lora, Target.All), rank));
            result.Add(Tracking(headline, spectra));
        }
        var curve = Arm.RankCurveIn(rows);
        result.AddRange(curve.Zip(curve.Skip(1), (low, high) => Paired("rank curve", headline, low, high, ce)));
        return result;
    }

    /// <summary>Figure 3's effects: the orderings (and their excess over the null), the extremes, all against
    /// each.</summary>
    static List<ComparisonRow> Components(
        IReadOnlyList<AblationRow> headline, IReadOnlyList<PaperComponentRow> paper, double floor)
    {
        var result = new List<ComparisonRow>();
        var singles = Target.PaperOrder.ToDictionary(t => t, t => new Arm(AblationMethod.Abba, t));
        int[] seeds = CommonSeeds(headline, singles.Values);
        double[] reference = [.. Target.PaperOrder.Select(t => PaperValue(paper, "gsm8k", t))];
        double nullRho = RankCorrelation.Spearman(ParameterCounts(headline), reference);
        foreach (var (name, metric) in new[]
                 {
                     (SpearmanComparison, AblationMetrics.TestCe),
                     (SpearmanExactComparison, AblationMetrics.ExactMatch),
                 })
        {
            var values = singles.ToDictionary(kv => kv.Key, kv => PerSeed(headline, kv.Value, metric));
            double sign = metric.LowerIsBetter ? -1 : 1;
            double Rho(int[] idx) => RankCorrelation.Spearman(
                [.. Target.PaperOrder.Select(t => sign * idx.Average(i => values[t][seeds[i]]))], reference);
            var rho = Bootstrap.Percentile(seeds.Length, Rho, BootstrapResamples, seed: 3);
            result.Add(Comparisons.Row("Figure 3", name, "spearman_rho", +1, rho));
            result.Add(Comparisons.Row("Figure 3", BeyondNull(name), "spearman_rho", +1,
                rho with { Estimate = rho.Estimate - nullRho, Low = rho.Low - nullRho, High = rho.High - nullRho }));
        }
        var ce = singles.ToDictionary(kv => kv.Key, kv => PerSeed(headline, kv.Value, AblationMetrics.TestCe));
        double[] Mean(IReadOnlyList<Target> targets) => [.. seeds.Select(s => targets.Average(t => ce[t][s]))];
        result.Add(Comparisons.Row("Figure 3", ExtremesComparison, AblationMetrics.TestCe.Name, +1,
            Intervals.PairedDifference(Mean(Least), Mean(Most)), floor));
        result.AddRange(Target.PaperOrder.Select(t => Paired("Figure 3", headline, singles[t], Arm.AbbaAll, floor)));
        return result;
    }

    /// <summary>ABBA's trainable parameters on each single projection, in the paper's order.</summary>
    public static double[] ParameterCounts(IReadOnlyList<AblationRow> headline) =>
        [.. Target.PaperOrder.Select(t => (double)headline.First(new Arm(AblationMethod.Abba, t).Matches).Params)];

    /// <summary>The parameter-count null's rho with the paper's GSM8K ordering.</summary>
    public static double NullRho(IReadOnlyList<AblationRow> rows, IReadOnlyList<PaperComponentRow> paper) =>
        RankCorrelation.Spearman(ParameterCounts(Headline(rows)),
            [.. Target.PaperOrder.Select(t => PaperValue(paper, "gsm8k", t))]);

    /// <summary>
    /// The share of bootstrap resamples over seeds (the same resampling as the rho intervals) whose ranking of the
    /// seven single projections by <paramref name="metric"/> equals the ranking of all seeds.
    /// </summary>
    public static double RankingKept(IReadOnlyList<AblationRow> rows, Metric<AblationRow> metric)
    {
        var headline = Headline(rows);
        var singles = Target.PaperOrder.Select(t => new Arm(AblationMethod.Abba, t)).ToArray();
        int[] seeds = CommonSeeds(headline, singles);
        var values = singles.Select(a => PerSeed(headline, a, metric)).ToArray();
        int[] Ranking(int[] idx) =>
            [.. Enumerable.Range(0, singles.Length).OrderBy(k => idx.Average(i => values[k][seeds[i]]))];
        int[] all = Ranking([.. Enumerable.Range(0, seeds.Length)]);
        return Bootstrap.Share(seeds.Length, idx => Ranking(idx).SequenceEqual(all), BootstrapResamples, seed: 3);
    }

    static int[] CommonSeeds(IReadOnlyList<AblationRow> headline, IEnumerable<Arm> arms) =>
        [.. arms.Select(a => headline.Where(a.Matches).Select(r => r.Seed))
            .Aggregate((a, b) => a.Intersect(b)).Order()];

    /// <summary>"ce(lora/all) - ce(abba/all)": the comparison of <paramref name="worse"/> with
    /// <paramref name="better"/>.</summary>
    public static string PairedComparison(Arm worse, Arm better) => $"ce({worse.Label}) - ce({better.Label})";

    /// <summary>"stable_rank(abba/all) - stable_rank(lora/all)".</summary>
    public static string StableRankComparison(Arm higher, Arm lower) =>
        $"stable_rank({higher.Label}) - stable_rank({lower.Label})";

    /// <summary>ce(worse) - ce(better) per seed, where the paper says <paramref name="better"/> wins (paper sign
    /// +1).</summary>
    static ComparisonRow Paired(string artefact, IReadOnlyList<AblationRow> headline, Arm worse, Arm better,
        double floor)
    {
        var a = PerSeed(headline, worse, AblationMetrics.TestCe);
        var b = PerSeed(headline, better, AblationMetrics.TestCe);
        int[] seeds = [.. a.Keys.Intersect(b.Keys).Order()];
        return Comparisons.Row(artefact, PairedComparison(worse, better), AblationMetrics.TestCe.Name, +1,
            Intervals.PairedDifference([.. seeds.Select(s => a[s])], [.. seeds.Select(s => b[s])]), floor);
    }

    /// <summary>Mean stable rank of <paramref name="higher"/>'s updates minus <paramref name="lower"/>'s, paired by
    /// seed (paper sign +1: the first learns higher-rank updates).</summary>
    static ComparisonRow StableRankRow(
        string artefact, IReadOnlyList<SpectrumRow> spectra, Arm higher, Arm lower, double floor)
    {
        var a = AblationSpectra.MeanStableRank(spectra, higher);
        var b = AblationSpectra.MeanStableRank(spectra, lower);
        int[] seeds = [.. a.Keys.Intersect(b.Keys).Order()];
        return Comparisons.Row(artefact, StableRankComparison(higher, lower), "stable_rank", +1,
            Intervals.PairedDifference([.. seeds.Select(s => a[s])], [.. seeds.Select(s => b[s])]), floor);
    }

    /// <summary>Spearman rho over the arms on all seven (and full FT) of mean stable rank against -mean CE, with a
    /// bootstrap over seeds.</summary>
    static ComparisonRow Tracking(IReadOnlyList<AblationRow> headline, IReadOnlyList<SpectrumRow> spectra)
    {
        var arms = Arm.WholeModelIn(headline);
        var ce = arms.Select(a => PerSeed(headline, a, AblationMetrics.TestCe)).ToArray();
        var rank = arms.Select(a => AblationSpectra.MeanStableRank(spectra, a)).ToArray();
        int[] seeds = CommonSeeds(headline, arms);
        double Rho(int[] idx) => RankCorrelation.Spearman(
            [.. rank.Select(r => idx.Average(i => r[seeds[i]]))], [.. ce.Select(c => -idx.Average(i => c[seeds[i]]))]);
        return Comparisons.Row("Table 2", RankTracksCe, "spearman_rho", +1,
            Bootstrap.Percentile(seeds.Length, Rho, BootstrapResamples, seed: 3));
    }

    /// <summary>Spearman rho (and exact one-sided p) of ABBA's seven single-projection mean negative test
    /// cross-entropies against the paper's values on <paramref name="benchmark"/>.</summary>
    public static (double Rho, double P) Correlation(
        IReadOnlyList<AblationRow> rows, IReadOnlyList<PaperComponentRow> paper, string benchmark)
    {
        var headline = Headline(rows);
        double[] measured = [.. Target.PaperOrder.Select(t =>
            -headline.Where(new Arm(AblationMethod.Abba, t).Matches).Average(r => r.TestCe))];
        double[] reference = [.. Target.PaperOrder.Select(t => PaperValue(paper, benchmark, t))];
        return (RankCorrelation.Spearman(measured, reference), RankCorrelation.PermutationPValue(measured, reference));
    }

    /// <summary>The summary row of one arm's metric: the headline, or <paramref name="choice"/> when given.</summary>
    public static ArmSummaryRow Of(IReadOnlyList<ArmSummaryRow> summary, string method, string target,
        Metric<AblationRow> metric, string? choice = null) =>
        summary.First(s => s.Method == method && s.Target == target && s.Metric == metric.Name
                           && (choice is null ? s.RateChoice != RateChoice.Shared : s.RateChoice == choice));

    /// <summary>"0.123 [0.100, 0.146]" of one arm's metric in <paramref name="summary"/>; percentages for the
    /// accuracies.</summary>
    public static string Cell(
        IReadOnlyList<ArmSummaryRow> summary, string method, string target, Metric<AblationRow> metric)
    {
        var s = Of(summary, method, target, metric);
        return metric.LowerIsBetter ? Comparisons.Format(s.Mean, s.CiLow, s.CiHigh)
            : Comparisons.Format(s.Mean, s.CiLow, s.CiHigh, "0.0'%'", 100);
    }

    /// <inheritdoc cref="Cell(IReadOnlyList{ArmSummaryRow}, string, string, Metric{AblationRow})"/>
    public static string Cell(IReadOnlyList<ArmSummaryRow> summary, Arm arm, Metric<AblationRow> metric) =>
        Cell(summary, arm.Method.Name, arm.Target.Name, metric);
}
