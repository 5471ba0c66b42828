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

    /// <summary>The comparison of the rank correlation with the paper's ordering.</summary>
    public const string SpearmanComparison = "spearman(-ce of abba per projection, paper gsm8k)";

    /// <summary>The comparison of the least-contributing projections with the most-contributing ones.</summary>
    public const string ExtremesComparison = "mean ce(q, k) - mean ce(gate, o, down)";

    /// <summary>The projections the paper finds contribute the least (q, k) and the most (gate, o, down).</summary>
    public static readonly IReadOnlyList<Target> Least = [Target.Projection("q_proj"), Target.Projection("k_proj")],
        Most = [Target.Projection("gate_proj"), Target.Projection("o_proj"), Target.Projection("down_proj")];

    /// <summary>The paper's Fig. 3 values, shipped in <c>reference/</c> beside the executable.</summary>
    public static List<PaperComponentRow> PaperComponents(string baseDirectory) =>
        ReferenceData.Read<PaperComponentRow>(AblationFiles.PaperReference, baseDirectory);

    /// <summary>The paper's value of <paramref name="target"/> on <paramref name="benchmark"/>.</summary>
    public static double PaperValue(IReadOnlyList<PaperComponentRow> paper, string benchmark, Target target) =>
        paper.Single(p => p.Benchmark == benchmark && p.Target == target.Name).Accuracy;

    /// <summary>The headline rows (tuned rates, or --lr's fixed one) and the pretrained floor: what the claims
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

    /// <summary>Test cross-entropy per seed of one headline arm, keyed by seed.</summary>
    static Dictionary<int, double> Ce(IReadOnlyList<AblationRow> headline, Arm arm) =>
        headline.Where(arm.Matches).ToDictionary(r => r.Seed, r => r.TestCe);

    /// <summary>
    /// Every effect the claims test, on the headline rows, with the primary metric (test cross-entropy, lower is
    /// better): the ordering's rank correlation (bootstrap over seeds), q/k against gate/o/down, all seven against each
    /// single projection, and ABBA against LoRA, HiRA and full fine-tuning (paired t intervals over seeds).
    /// </summary>
    public static List<ComparisonRow> Compare(IReadOnlyList<AblationRow> rows, IReadOnlyList<PaperComponentRow> paper)
    {
        var headline = Headline(rows);
        var singles = Target.PaperOrder.ToDictionary(t => t, t => Ce(headline, new Arm(AblationMethod.Abba, t)));
        int[] seeds =
            [.. singles.Values.Select(s => (IEnumerable<int>)s.Keys).Aggregate((a, b) => a.Intersect(b)).Order()];
        double[] reference = [.. Target.PaperOrder.Select(t => PaperValue(paper, "gsm8k", t))];
        var rho = Bootstrap.Percentile(seeds.Length, idx =>
            RankCorrelation.Spearman(
                [.. Target.PaperOrder.Select(t => -idx.Average(i => singles[t][seeds[i]]))], reference),
            BootstrapResamples, seed: 3);
        var result = new List<ComparisonRow>
        {
            Comparisons.Row("Figure 3", SpearmanComparison, "spearman_rho", +1, rho),
        };

        double[] Mean(IReadOnlyList<Target> targets) => [.. seeds.Select(s => targets.Average(t => singles[t][s]))];
        result.Add(Comparisons.Row("Figure 3", ExtremesComparison, AblationMetrics.TestCe.Name, +1,
            Intervals.PairedDifference(Mean(Least), Mean(Most))));
        result.AddRange(Target.PaperOrder.Select(t =>
            Paired("Figure 3", headline, new Arm(AblationMethod.Abba, t), Arm.AbbaAll)));
        result.AddRange(Arm.Baselines.Select(b => Paired("Table 2", headline, b, Arm.AbbaAll)));
        return result;
    }

    /// <summary>"ce(lora/all) - ce(abba/all)": the comparison of <paramref name="worse"/> with
    /// <paramref name="better"/>.</summary>
    public static string PairedComparison(Arm worse, Arm better) => $"ce({worse.Label}) - ce({better.Label})";

    /// <summary>ce(worse) - ce(better) per seed, where the paper says <paramref name="better"/> wins (paper sign
    /// +1).</summary>
    static ComparisonRow Paired(string artefact, IReadOnlyList<AblationRow> headline, Arm worse, Arm better)
    {
        var a = Ce(headline, worse);
        var b = Ce(headline, better);
        int[] seeds = [.. a.Keys.Intersect(b.Keys).Order()];
        return Comparisons.Row(artefact, PairedComparison(worse, better), AblationMetrics.TestCe.Name, +1,
            Intervals.PairedDifference([.. seeds.Select(s => a[s])], [.. seeds.Select(s => b[s])]));
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

    /// <summary>The summary text (also logged): the setting, the rates, every arm with its intervals, and the tested
    /// effects.</summary>
    public static string SummaryText(AblationOptions o, IReadOnlyList<AblationRow> rows,
        IReadOnlyList<ArmSummaryRow> summary, IReadOnlyList<LrSweepRow> sweep, IReadOnlyList<ComparisonRow> comparisons,
        IReadOnlyList<PretrainAccuracyRow> pretrain, IReadOnlyList<PaperComponentRow> paper)
    {
        int seeds = rows.Where(r => r.RateChoice != RateChoice.None).Select(r => r.Seed).Distinct().Count();
        double added = pretrain.Where(p => p.Task == "add").MaxBy(p => p.Step)!.Accuracy;
        string Floor(Metric<AblationRow> m) => Cell(summary, "pretrained", "none", m);
        string Short(string target) => target.Replace("_proj", "", StringComparison.Ordinal);
        var lines = new List<string>
        {
            AblationExperiment.Disclaimer,
            Invariant($"Task P (pre-training): {o.Digits}-digit addition, with {100 * o.PretrainMix:0.#}% of ") +
            Invariant($"problems from task F; task F (fine-tuning): {o.Digits}-digit subtraction (a >= b); ") +
            "numbers least-significant digit first.",
            Invariant($"Held out: {o.TestSize} F test problems (every reported metric) and ") +
            Invariant($"{o.ValidationSize} F validation ") +
            "problems (the learning-rate choice only); training never samples either.",
            Invariant($"Every arm: {o.FinetuneSteps} steps, batch {o.FinetuneBatchSize}; r = {o.Rank} ") +
            Invariant($"(ABBA r1 = r2 = {o.Rank / 2}, alpha {o.AbbaAlpha}; LoRA alpha {o.LoraAlpha}); ") +
            Invariant($"seeds: {seeds} (paired: same batches, ") +
            "test set and pre-trained model for every arm of a seed).",
            o.FixedRate is { } lr ? Invariant($"Learning rate: {lr} for every arm (--lr; no sweep).")
                : "Learning rate per (method, target), lowest mean validation CE over the sweep seeds: " +
                  string.Join(", ",
                    sweep.Where(s => s.Chosen).Select(s => (s.Method, s.Target, s.Rate)).Distinct()
                        .Select(s => Invariant($"{s.Method}/{Short(s.Target)} {s.Rate}"))),
            Invariant($"Before fine-tuning: F test CE {Floor(AblationMetrics.TestCe)}, exact match ") +
            Invariant($"{Floor(AblationMetrics.ExactMatch)} (P accuracy {100 * added:0.0}% after pre-training)."),
            "Per arm, mean [95% t interval] over seeds: test CE (primary), per-digit accuracy, exact match:",
        };
        foreach (var g in Headline(rows).Where(r => r.RateChoice != RateChoice.None).GroupBy(r => (r.Method, r.Target)))
        {
            string Arm(Metric<AblationRow> m) => Cell(summary, g.Key.Method, g.Key.Target, m);
            lines.Add(Invariant($"  {g.Key.Method} on {Short(g.Key.Target)} (lr {g.First().Rate}): ") +
                      $"CE {Arm(AblationMetrics.TestCe)}; digits {Arm(AblationMetrics.DigitAccuracy)}; " +
                      $"exact {Arm(AblationMetrics.ExactMatch)}");
        }
        lines.Add("Tested effects (estimate [interval], verdict by the interval rules):");
        lines.AddRange(comparisons.Select(c =>
            $"  {c.Artefact}: {c.Comparison} = {Comparisons.Format(c.Estimate, c.CiLow, c.CiHigh)} " +
            $"({c.Interval}): {c.Verdict}"));
        var (rho, p) = Correlation(rows, paper, "math");
        lines.Add(Invariant($"For reference, the same ordering against the paper's MATH bars: rho = {rho:0.000} ") +
                  Invariant($"(exact one-sided permutation p = {p:0.000})."));
        return string.Join('\n', lines) + "\n";
    }
}
