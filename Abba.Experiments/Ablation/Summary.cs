using Abba.Core.Statistics;
using Abba.Experiments.Protocol;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static System.FormattableString;

namespace Abba.Experiments.Ablation;

/// <summary>Summaries, comparisons and the summary text of the ablation, all from its CSVs.</summary>
public sealed partial class AblationExperiment
{
    /// <summary>The seven projection types in the paper's Fig. 3 order (ascending GSM8K accuracy).</summary>
    public static readonly IReadOnlyList<string> PaperOrder = ["k_proj", "q_proj", "v_proj", "o_proj", "up_proj", "gate_proj", "down_proj"];

    /// <summary>The metrics every run reports: the primary one first.</summary>
    public static readonly IReadOnlyList<string> Metrics = ["test_ce", "digit_accuracy", "exact_match"];

    /// <summary>Seeded bootstrap of the rank correlation: resamples over seeds.</summary>
    public const int BootstrapResamples = 2000;

    /// <summary>The paper's Fig. 3 values, shipped in <c>reference/</c> beside the executable.</summary>
    public static List<PaperComponentRow> PaperComponents(string baseDirectory) =>
        ReferenceData.Read<PaperComponentRow>(AblationFiles.PaperReference, baseDirectory);

    /// <summary>The value of <paramref name="metric"/> in <paramref name="row"/>.</summary>
    public static double Value(AblationRow row, string metric) => metric switch
    {
        "test_ce" => row.TestCe,
        "digit_accuracy" => row.DigitAccuracy,
        "exact_match" => row.ExactMatch,
        _ => throw new ArgumentException($"unknown metric '{metric}'", nameof(metric)),
    };

    /// <summary>The headline rows (tuned rates, or --lr's fixed one) and the pretrained floor: what the claims judge.</summary>
    public static List<AblationRow> Headline(IEnumerable<AblationRow> rows) => [.. rows.Where(r => r.RateChoice is "tuned" or "fixed" or "none")];

    /// <summary>Mean, standard deviation and 95% t interval over seeds of every metric of every (method, target, rate choice).</summary>
    public static List<ArmSummaryRow> Summarise(IReadOnlyList<AblationRow> rows) =>
        [.. from g in rows.GroupBy(r => (r.Method, r.Target, r.RateChoice))
            from metric in Metrics
            let first = g.First()
            select Comparisons.Summarise(first.Method, first.Target, first.RateChoice, first.Rate, first.Params, metric, [.. g.Select(r => Value(r, metric))])];

    /// <summary>Test cross-entropy per seed of one headline arm, keyed by seed.</summary>
    static Dictionary<int, double> Ce(IReadOnlyList<AblationRow> headline, string method, string target) =>
        headline.Where(r => r.Method == method && r.Target == target).ToDictionary(r => r.Seed, r => r.TestCe);

    /// <summary>
    /// Every effect the claims test, on the headline rows, with the primary metric (test cross-entropy, lower is better):
    /// the ordering's rank correlation (bootstrap over seeds), q/k against gate/o/down, all seven against each single
    /// projection, and ABBA against LoRA, HiRA and full fine-tuning (paired t intervals over seeds).
    /// </summary>
    public static List<ComparisonRow> Compare(IReadOnlyList<AblationRow> rows, IReadOnlyList<PaperComponentRow> paper)
    {
        var headline = Headline(rows);
        var singles = PaperOrder.Select(t => Ce(headline, "abba", t)).ToArray();
        int[] seeds = [.. singles.Select(s => (IEnumerable<int>)s.Keys).Aggregate((a, b) => a.Intersect(b)).Order()];
        double[] reference = [.. PaperOrder.Select(t => paper.Single(p => p.Benchmark == "gsm8k" && p.Target == t).Accuracy)];
        var rho = Bootstrap.Percentile(seeds.Length, idx =>
            RankCorrelation.Spearman([.. singles.Select(s => -idx.Average(i => s[seeds[i]]))], reference), BootstrapResamples, seed: 3);
        var result = new List<ComparisonRow> { Comparisons.Row("Figure 3", "spearman(-ce of abba per projection, paper gsm8k)", "spearman_rho", +1, rho) };

        double[] Mean(params string[] targets) => [.. seeds.Select(s => targets.Average(t => singles[Array.IndexOf([.. PaperOrder], t)][s]))];
        result.Add(Comparisons.Row("Figure 3", "mean ce(q, k) - mean ce(gate, o, down)", "test_ce", +1,
            Intervals.PairedDifference(Mean("q_proj", "k_proj"), Mean("gate_proj", "o_proj", "down_proj"))));
        result.AddRange(PaperOrder.Select(t => Paired("Figure 3", headline, ("abba", t), ("abba", "all"))));
        result.AddRange(new[] { ("lora", "all"), ("hira", "all"), ("full_ft", "model") }.Select(o => Paired("Table 2", headline, o, ("abba", "all"))));
        return result;
    }

    /// <summary>ce(worse) - ce(better) per seed, where the paper says <paramref name="better"/> wins (paper sign +1).</summary>
    static ComparisonRow Paired(string artefact, IReadOnlyList<AblationRow> headline, (string Method, string Target) worse, (string Method, string Target) better)
    {
        var a = Ce(headline, worse.Method, worse.Target);
        var b = Ce(headline, better.Method, better.Target);
        int[] seeds = [.. a.Keys.Intersect(b.Keys).Order()];
        return Comparisons.Row(artefact, $"ce({worse.Method}/{Short(worse.Target)}) - ce({better.Method}/{Short(better.Target)})", "test_ce", +1,
            Intervals.PairedDifference([.. seeds.Select(s => a[s])], [.. seeds.Select(s => b[s])]));
    }

    /// <summary>Spearman rho (and exact one-sided p) of ABBA's seven single-projection mean negative test cross-entropies against the paper's values on <paramref name="benchmark"/>.</summary>
    public static (double Rho, double P) Correlation(IReadOnlyList<AblationRow> rows, IReadOnlyList<PaperComponentRow> paper, string benchmark)
    {
        var headline = Headline(rows);
        double[] measured = [.. PaperOrder.Select(t => -headline.Where(r => r.Method == "abba" && r.Target == t).Average(r => r.TestCe))];
        double[] reference = [.. PaperOrder.Select(t => paper.Single(p => p.Benchmark == benchmark && p.Target == t).Accuracy)];
        return (RankCorrelation.Spearman(measured, reference), RankCorrelation.PermutationPValue(measured, reference));
    }

    static string Short(string target) => target.Replace("_proj", "", StringComparison.Ordinal);

    /// <summary>"0.123 [0.100, 0.146]" of one arm's metric in <paramref name="summary"/>; percentages for the accuracies.</summary>
    static string Cell(IReadOnlyList<ArmSummaryRow> summary, string method, string target, string metric, string choice = "")
    {
        var s = summary.First(s => s.Method == method && s.Target == target && s.Metric == metric && (choice == "" ? s.RateChoice != "shared" : s.RateChoice == choice));
        return metric == "test_ce" ? Comparisons.Format(s.Mean, s.CiLow, s.CiHigh) : Comparisons.Format(s.Mean, s.CiLow, s.CiHigh, "0.0'%'", 100);
    }

    /// <summary>The summary text (also logged): the setting, the rates, every arm with its intervals, and the tested effects.</summary>
    string SummaryText(string folder)
    {
        var rows = CsvFiles.Read<AblationRow>(Path.Combine(folder, AblationFiles.Runs));
        var sweep = CsvFiles.Read<LrSweepRow>(Path.Combine(folder, AblationFiles.LrSweep));
        var comparisons = CsvFiles.Read<ComparisonRow>(Path.Combine(folder, AblationFiles.Comparisons));
        var pretrain = CsvFiles.Read<PretrainAccuracyRow>(Path.Combine(folder, AblationFiles.PretrainAccuracy));
        var summary = Summarise(rows);
        var o = options;
        var lines = new List<string>
        {
            Disclaimer,
            Invariant($"Task P (pre-training): {o.Digits}-digit addition, with {100 * o.PretrainMix:0.#}% of problems from task F; task F (fine-tuning): {o.Digits}-digit subtraction (a >= b); numbers least-significant digit first."),
            Invariant($"Held out: {o.TestSize} F test problems (every reported metric) and {o.ValidationSize} F validation problems (the learning-rate choice only); training never samples either."),
            Invariant($"Every arm: {o.FinetuneSteps} steps, batch {o.FinetuneBatchSize}; r = {o.Rank} (ABBA r1 = r2 = {o.Rank / 2}, alpha {o.AbbaAlpha}; LoRA alpha {o.LoraAlpha}); seeds: {rows.Where(r => r.RateChoice != "none").Select(r => r.Seed).Distinct().Count()} (paired: same batches, test set and pre-trained model for every arm of a seed)."),
            o.FixedRate is { } lr ? Invariant($"Learning rate: {lr} for every arm (--lr; no sweep).")
                : "Learning rate per (method, target), lowest mean validation CE over the sweep seeds: " + string.Join(", ",
                    sweep.Where(s => s.Chosen).Select(s => (s.Method, s.Target, s.Rate)).Distinct().Select(s => Invariant($"{s.Method}/{Short(s.Target)} {s.Rate}"))),
            Invariant($"Before fine-tuning: F test CE {Cell(summary, "pretrained", "none", "test_ce")}, exact match {Cell(summary, "pretrained", "none", "exact_match")} (P accuracy {100 * pretrain.Where(p => p.Task == "add").MaxBy(p => p.Step)!.Accuracy:0.0}% after pre-training)."),
            "Per arm, mean [95% t interval] over seeds: test CE (primary), per-digit accuracy, exact match:",
        };
        foreach (var g in Headline(rows).Where(r => r.RateChoice != "none").GroupBy(r => (r.Method, r.Target)))
            lines.Add(Invariant($"  {g.Key.Method} on {Short(g.Key.Target)} (lr {g.First().Rate}): CE {Cell(summary, g.Key.Method, g.Key.Target, "test_ce")}; digits {Cell(summary, g.Key.Method, g.Key.Target, "digit_accuracy")}; exact {Cell(summary, g.Key.Method, g.Key.Target, "exact_match")}"));
        lines.Add("Tested effects (estimate [interval], verdict by the interval rules):");
        lines.AddRange(comparisons.Select(c => $"  {c.Artefact}: {c.Comparison} = {Comparisons.Format(c.Estimate, c.CiLow, c.CiHigh)} ({c.Interval}): {c.Verdict}"));
        var (rho, p) = Correlation(rows, PaperComponents(ProgramFiles.Folder), "math");
        lines.Add(Invariant($"For reference, the same ordering against the paper's MATH bars: rho = {rho:0.000} (exact one-sided permutation p = {p:0.000})."));
        return string.Join('\n', lines) + "\n";
    }
}
