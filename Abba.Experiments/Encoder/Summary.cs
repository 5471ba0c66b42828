using Abba.Core.Statistics;
using Abba.Experiments.Protocol;
using static System.FormattableString;

namespace Abba.Experiments.Encoder;

/// <summary>The metrics every arm reports; test cross-entropy decides.</summary>
public static class EncoderMetrics
{
    /// <summary>Test cross-entropy (primary: it does not saturate).</summary>
    public static readonly Metric<EncoderRow> TestCe = new("test_ce", "test CE", true, r => r.TestCe);
    /// <summary>Test accuracy.</summary>
    public static readonly Metric<EncoderRow> Accuracy = new("test_accuracy", "accuracy", false, r => r.TestAccuracy);
    /// <summary>Test macro-F1.</summary>
    public static readonly Metric<EncoderRow> MacroF1 = new("test_macro_f1", "macro-F1", false, r => r.TestMacroF1);
    /// <summary>All three, in report order.</summary>
    public static readonly IReadOnlyList<Metric<EncoderRow>> All = [TestCe, Accuracy, MacroF1];
}

/// <summary>Summaries, comparisons and the summary text, all computed from the rows.</summary>
public static class EncoderAnalysis
{
    /// <summary>The projection kinds the paper finds contribute least (q, k) and most (o, gate/up, down), as this
    /// encoder names them.</summary>
    public static readonly IReadOnlyList<string> Least = ["abba_query", "abba_key"],
        Most = ["abba_attn_out", "abba_ffn_in", "abba_ffn_out"];

    /// <summary>The comparison of the least-contributing kinds with the most-contributing ones.</summary>
    public const string ExtremesComparison = "mean ce(query, key) - mean ce(attn_out, ffn_in, ffn_out)";

    /// <summary>"ce(worse) - ce(better)".</summary>
    public static string Paired(string worse, string better) => $"ce({worse}) - ce({better})";

    /// <summary>Mean, standard deviation and 95% t interval over seeds of every metric of every arm.</summary>
    public static List<EncoderSummaryRow> Summarise(IReadOnlyList<EncoderRow> rows) =>
        [.. from g in rows.GroupBy(r => r.Arm)
            from metric in EncoderMetrics.All
            let first = g.First()
            let values = g.Select(metric.Of).ToArray()
            let ci = Intervals.StudentTMean(values)
            select new EncoderSummaryRow
            {
                Arm = g.Key, Method = first.Method, Target = first.Target, Rank = first.Rank, Rate = first.Rate,
                Params = first.Params, Metric = metric.Name, N = ci.N, Mean = ci.Estimate,
                Std = Describe.SampleStd(values), CiLow = ci.Low, CiHigh = ci.High,
            }];

    /// <summary>Test CE per seed of <paramref name="arm"/>.</summary>
    static Dictionary<int, double> Ce(IReadOnlyList<EncoderRow> rows, string arm) =>
        rows.Where(r => r.Arm == arm).ToDictionary(r => r.Seed, r => r.TestCe);

    static bool Has(IReadOnlyList<EncoderRow> rows, string arm) => rows.Any(r => r.Arm == arm);

    /// <summary>The comparison of the learned updates' mean stable rank, ABBA on all kinds minus LoRA.</summary>
    public static string StableRankComparison => $"stable_rank({EncoderArm.AbbaAllLabel}) - stable_rank(lora)";

    /// <summary>
    /// ABBA's learned updates against LoRA's (both on every kind, at the same budget): the per-seed mean stable rank
    /// over the adapted modules, paired by seed (paper sign +1: ABBA's is higher). None when either did not run.
    /// </summary>
    public static List<ComparisonRow> StableRank(IReadOnlyList<SpectrumRow> spectra)
    {
        Dictionary<int, double> Of(string arm) => spectra.Where(r => r.Method == arm).GroupBy(r => r.Seed)
            .ToDictionary(g => g.Key, g => g.Average(r => r.StableRank));
        var abba = Of(EncoderArm.AbbaAllLabel);
        var lora = Of("lora");
        int[] seeds = [.. abba.Keys.Intersect(lora.Keys).Order()];
        if (seeds.Length == 0) return [];
        return [Comparisons.Row("spectrum", StableRankComparison, "stable_rank", +1,
            Intervals.PairedDifference([.. seeds.Select(s => abba[s])], [.. seeds.Select(s => lora[s])]))];
    }

    /// <summary>
    /// Every effect the claims test, paired over seeds on test cross-entropy (lower is better): each baseline against
    /// ABBA on all kinds (Table 2), each single kind against all (Figure 3), q/k against o/FFN, and the LoRA rank
    /// curve's steps (whether capacity matters). Effects whose arms were not run are left out.
    /// </summary>
    public static List<ComparisonRow> Compare(IReadOnlyList<EncoderRow> rows, IReadOnlyList<EncoderArm> arms)
    {
        var result = new List<ComparisonRow>();
        ComparisonRow Row(string artefact, string worse, string better)
        {
            var a = Ce(rows, worse);
            var b = Ce(rows, better);
            int[] seeds = [.. a.Keys.Intersect(b.Keys).Order()];
            return Comparisons.Row(artefact, Paired(worse, better), EncoderMetrics.TestCe.Name, +1,
                Intervals.PairedDifference([.. seeds.Select(s => a[s])], [.. seeds.Select(s => b[s])]));
        }
        string abba = EncoderArm.AbbaAllLabel;
        if (!Has(rows, abba)) return result;
        result.AddRange(arms.Where(a => a.Roles.HasFlag(ArmRole.Baseline)).Select(a => Row("Table 2", a.Label, abba)));
        var singles = arms.Where(a => a.Roles.HasFlag(ArmRole.SingleProjection)).ToArray();
        result.AddRange(singles.Select(a => Row("Figure 3", a.Label, abba)));
        if (Least.Concat(Most).All(l => Has(rows, l)))
        {
            int[] seeds = [.. Least.Concat(Most).Select(l => (IEnumerable<int>)Ce(rows, l).Keys)
                .Aggregate((x, y) => x.Intersect(y)).Order()];
            double[] Mean(IReadOnlyList<string> labels) =>
                [.. seeds.Select(s => labels.Average(l => Ce(rows, l)[s]))];
            result.Add(Comparisons.Row("Figure 3", ExtremesComparison, EncoderMetrics.TestCe.Name, +1,
                Intervals.PairedDifference(Mean(Least), Mean(Most))));
        }
        var curve = arms.Where(a => a.Roles.HasFlag(ArmRole.RankCurve)).OrderBy(a => a.Rank).ToArray();
        for (int i = 0; i + 1 < curve.Length; i++) result.Add(Row("Table 2", curve[i].Label, curve[i + 1].Label));
        if (curve.Length > 2) result.Add(Row("Table 2", curve[0].Label, curve[^1].Label));
        return result;
    }

    /// <summary>"0.123 [0.100, 0.146]" of one arm's metric; percentages for accuracy and F1.</summary>
    public static string Cell(IReadOnlyList<EncoderSummaryRow> summary, string arm, Metric<EncoderRow> metric)
    {
        var s = summary.Single(s => s.Arm == arm && s.Metric == metric.Name);
        return metric.LowerIsBetter ? Comparisons.Format(s.Mean, s.CiLow, s.CiHigh)
            : Comparisons.Format(s.Mean, s.CiLow, s.CiHigh, "0.0'%'", 100);
    }

    /// <summary>The summary text (also logged): setting, rates, every arm with its intervals, every tested
    /// effect.</summary>
    public static string SummaryText(EncoderOptions o, IReadOnlyList<EncoderArm> arms, IReadOnlyList<EncoderRow> rows,
        IReadOnlyList<EncoderSummaryRow> summary, IReadOnlyList<ComparisonRow> comparisons,
        IReadOnlyList<EncoderMemoryRow> memory, int classes)
    {
        int seeds = rows.Select(r => r.Seed).Distinct().Count();
        var lines = new List<string>
        {
            EncoderExperiment.Disclaimer,
            Invariant($"Task: tag a WordNet 3.0 noun or verb gloss with its supersense ({classes} classes); ") +
            Invariant($"{o.TestSize} test and {o.ValidationSize} validation glosses (fixed prefixes of the shipped ") +
            Invariant($"splits), at most {o.MaxTokens} WordPiece tokens."),
            Invariant($"Every arm: {o.Steps} steps of batch {o.BatchSize} (AdamW, 2% warm-up, cosine), a fresh ") +
            Invariant($"classifier head on mean-pooled states; r = {o.Rank} (ABBA r1 = r2 = {o.Rank / 2}, alpha ") +
            Invariant($"{o.AbbaAlpha}; LoRA/DoRA s = {o.LoraScale}); {seeds} paired seed(s)."),
            o.FixedRate is { } lr ? Invariant($"Learning rate: {lr} for every arm (--lr; no sweep).")
                : "Learning rate per arm: the lowest validation CE on the first seed over the method's grid " +
                  "(a grid of one rate is not tuned: rate_choice single).",
            "Per arm, mean [95% t interval] over seeds: test CE (primary), accuracy, macro-F1; rate; step cost; " +
            "training peak memory above the process's baseline (one process per arm, one fixed batch) and, within " +
            "it, what training adds to the built model:",
        };
        foreach (var arm in arms.Where(a => Has(rows, a.Label)))
        {
            var runs = rows.Where(r => r.Arm == arm.Label).ToArray();
            string C(Metric<EncoderRow> m) => Cell(summary, arm.Label, m);
            lines.Add(Invariant($"  {arm.Label} ({runs[0].Params} params, lr {runs[0].Rate}): ") +
                      $"CE {C(EncoderMetrics.TestCe)}; " +
                      $"accuracy {C(EncoderMetrics.Accuracy)}; macro-F1 {C(EncoderMetrics.MacroF1)}; " +
                      Invariant($"{runs.Average(r => r.Seconds) / o.Steps:0.000} s/step, ") +
                      Invariant($"{runs.Average(r => r.TokensPerSecond):0} tokens/s") +
                      (memory.FirstOrDefault(m => m.Arm == arm.Label) is { } m
                          ? Invariant($"; peak {m.PeakBytes / 1e6:0} MB ({m.TrainingBytes / 1e6:0} MB training)")
                          : ""));
        }
        lines.Add("Tested effects (estimate [interval], verdict by the interval rules):");
        lines.AddRange(comparisons.Select(c =>
            $"  {c.Artefact}: {c.Comparison} = {Comparisons.Format(c.Estimate, c.CiLow, c.CiHigh)} " +
            $"({c.Interval}): {c.Verdict}"));
        return string.Join('\n', lines) + "\n";
    }
}
