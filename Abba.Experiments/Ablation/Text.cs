using Abba.Experiments.Protocol;
using static System.FormattableString;

namespace Abba.Experiments.Ablation;

/// <summary>The ablation's summary text (also logged), computed from its rows.</summary>
public static class AblationText
{
    /// <summary>The setting, the rates, every arm with its intervals, the noise floors and the tested
    /// effects.</summary>
    public static string Summary(AblationOptions o, IReadOnlyList<AblationRow> rows,
        IReadOnlyList<ArmSummaryRow> summary, IReadOnlyList<LrSweepRow> sweep, IReadOnlyList<ComparisonRow> comparisons,
        IReadOnlyList<PretrainUnit> pretraining, IReadOnlyList<PaperComponentRow> paper)
    {
        var replicates = rows.Where(r => r.RateChoice != RateChoice.None).Select(r => (r.Model, r.Seed)).Distinct()
            .ToArray();
        int models = replicates.Select(r => r.Model).Distinct().Count();
        string Floor(Metric<AblationRow> m) => AblationAnalysis.Cell(summary, "pretrained", "none", m);
        string Short(string target) => target.Replace("_proj", "", StringComparison.Ordinal);
        string added = string.Join(", ", pretraining.Select(p => Invariant(
            $"{100 * p.Accuracy.Where(a => a.Task == "add").MaxBy(a => a.Step)!.Accuracy:0.0}%")));
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
            Invariant($"{replicates.Length} replicates over {models} independently pre-trained model(s) (paired: ") +
            "same pre-trained model, batches and test set for every arm of a replicate).",
            o.FixedRate is { } lr ? Invariant($"Learning rate: {lr} for every arm (--lr; no sweep).")
                : "Learning rate per (method, target), lowest mean validation CE over the sweep seeds " +
                  "(the noise twin at ABBA's): " +
                  string.Join(", ",
                    sweep.Where(s => s.Chosen).Select(s => (s.Method, s.Target, s.Rate)).Distinct()
                        .Select(s => Invariant($"{s.Method}/{Short(s.Target)} {s.Rate}"))),
            Invariant($"Before fine-tuning (mean over the pre-trained models): F test CE ") +
            Invariant($"{Floor(AblationMetrics.TestCe)}, exact match {Floor(AblationMetrics.ExactMatch)} ") +
            $"(P accuracy after pre-training: {added}).",
            "Per arm, mean [95% t interval] over replicates: test CE (primary), per-digit accuracy, exact match:",
        };
        foreach (var g in AblationAnalysis.Headline(rows).Where(r => r.RateChoice != RateChoice.None)
                     .GroupBy(r => (r.Method, r.Target)))
        {
            string Arm(Metric<AblationRow> m) => AblationAnalysis.Cell(summary, g.Key.Method, g.Key.Target, m);
            lines.Add(Invariant($"  {g.Key.Method} on {Short(g.Key.Target)} (lr {g.First().Rate}, ") +
                      Invariant($"{g.First().Params} params): ") +
                      $"CE {Arm(AblationMetrics.TestCe)}; digits {Arm(AblationMetrics.DigitAccuracy)}; " +
                      $"exact {Arm(AblationMetrics.ExactMatch)}");
        }
        double ce = AblationAnalysis.Floor(comparisons, AblationAnalysis.NoiseFloorComparison);
        double rank = AblationAnalysis.Floor(comparisons, AblationAnalysis.StableRankFloorComparison);
        lines.Add(ce > 0
            ? Invariant($"Noise floor (two arms that are one function, differing in summation order only): ") +
              Invariant($"test CE {ce:0.0000}, mean stable rank {rank:0.000}; an effect of that size or less is ") +
              "inconclusive by rule."
            : "No noise floor measured (the noise twin did not run).");
        lines.Add("Tested effects (estimate [interval], verdict by the interval rules, within the noise floor " +
                  "inconclusive):");
        lines.AddRange(comparisons.Select(c =>
            $"  {c.Artefact}: {c.Comparison} = {Comparisons.Format(c.Estimate, c.CiLow, c.CiHigh)} " +
            $"({c.Interval}): {c.Verdict}"));
        if (AblationAnalysis.HasComponents(AblationAnalysis.Headline(rows)))
        {
            var (rho, p) = AblationAnalysis.Correlation(rows, paper, "math");
            double keptCe = AblationAnalysis.RankingKept(rows, AblationMetrics.TestCe);
            double keptExact = AblationAnalysis.RankingKept(rows, AblationMetrics.ExactMatch);
            lines.Add(Invariant($"Ranking of the seven kept in {100 * keptCe:0.0}% of bootstrap resamples by CE, ") +
                      Invariant($"{100 * keptExact:0.0}% by exact match; the parameter-count null has rho = ") +
                      Invariant($"{AblationAnalysis.NullRho(rows, paper):0.000} with GSM8K."));
            lines.Add(Invariant($"For reference, the CE ordering against the paper's MATH bars: rho = {rho:0.000} ") +
                      Invariant($"(exact one-sided permutation p = {p:0.000})."));
        }
        return string.Join('\n', lines) + "\n";
    }
}
