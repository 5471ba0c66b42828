using Abba.Experiments.Protocol;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static System.FormattableString;

namespace Abba.Experiments.Ablation;

/// <summary>The report claims and deviations of the ablation, judged from its CSVs by the protocol's interval rules.</summary>
public sealed partial class AblationExperiment : IClaimSource
{
    /// <inheritdoc />
    public IReadOnlyList<Claim> Claims(string folder) => Claims(folder, ProgramFiles.Folder);

    /// <summary>
    /// The claims judged from the CSVs in <paramref name="folder"/>, with the paper's values read from <c>reference/</c>
    /// under <paramref name="referenceBase"/>: for callers that do not run beside the program (a notebook can pass the
    /// source tree's <c>Abba.Experiments</c> folder). A profile other than paper is named in every criterion.
    /// </summary>
    /// <exception cref="FileNotFoundException">The experiment has not been run, or did not finish.</exception>
    public IReadOnlyList<Claim> Claims(string folder, string referenceBase)
    {
        var rows = CsvFiles.Read<AblationRow>(Path.Combine(folder, AblationFiles.Runs));
        var summary = Summarise(rows);
        if (PaperOrder.Concat(["all"]).Any(t => !Headline(rows).Any(r => r.Method == "abba" && r.Target == t)))
            throw new FileNotFoundException($"{folder}/ablation.csv lacks some ABBA arms: the run did not finish.");
        var tests = Compare(rows, PaperComponents(referenceBase));
        string profile = Manifest.ProfileOf(folder);
        string label = profile == "paper" ? "" : $" ({profile} profile)";
        var (_, p) = Correlation(rows, PaperComponents(referenceBase), "gsm8k");
        return [Ordering(tests, summary, p, label), Extremes(tests, summary, label), AllBeatsEach(tests, label), Baselines(tests, summary, label)];
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Deviations
    {
        get
        {
            AblationOptions q = AblationOptions.Quick, p = AblationOptions.Paper;
            string Shape(AblationOptions o) => Invariant($"{o.Model.Layers} blocks of width {o.Model.HiddenSize} ({o.Digits}-digit operands)");
            string Grids(AblationOptions o) => string.Join("; ", o.RateGrids.Select(kv => $"{kv.Key} {string.Join(", ", kv.Value.Select(v => Invariant($"{v}")))}"));
            return
            [
                Disclaimer + " The paper fine-tunes Mistral-7B on a 20K MetaMathQA subset and scores GSM8K and MATH.",
                $"Model: Llama-style decoder (RMSNorm, rotary positions, grouped-query attention, SwiGLU, HF module names) with {Shape(q)} in the quick profile and {Shape(p)} in the paper profile; character vocabulary of 14.",
                Invariant($"Pre-training sees {100 * p.PretrainMix:0.#}% subtraction among the addition problems ({100 * q.PretrainMix:0.#}% in the quick profile), so the pre-trained model starts above zero on the fine-tuning task (Mistral-7B starts well above zero on GSM8K); fine-tuning is short ({p.FinetuneSteps} steps) so that no arm reaches the ceiling."),
                Invariant($"Rank r = {q.Rank} (ABBA r1 = r2 = {q.Rank / 2}, alpha {q.AbbaAlpha}; LoRA alpha {q.LoraAlpha}) on layers {q.Model.ProjectionShapes().Values.Min(v => Math.Min(v.In, v.Out))}-{q.Model.ProjectionShapes().Values.Max(v => Math.Max(v.In, v.Out))} wide, against r = 32 (r1 = r2 = 16) on layers 1024-14336 wide in the paper, whose alpha for this figure is not stated."),
                Invariant($"Learning rate per (method, target), the lowest mean validation cross-entropy over the first {p.SweepSeeds} seeds from the grid {Grids(p)}; {(q.FinetuneSteps == p.FinetuneSteps ? $"{p.FinetuneSteps}" : $"{q.FinetuneSteps} (quick) or {p.FinetuneSteps} (paper)")} steps of batch {p.FinetuneBatchSize} for every arm; AdamW without weight decay, 2% warm-up then cosine. The paper uses lr 1e-3, effective batch 32, one epoch, and sweeps per model and task. The shared-rate rows (lr {p.SharedRate}, sweep seeds only) are a sensitivity check, not the headline."),
                "Seeds vary fine-tuning only (adapter init and batch order, paired across arms); the pre-trained model and the test set come from the first seed, as the paper's runs share one Mistral-7B, so the intervals cover fine-tuning variation, not pre-training variation.",
                "The primary metric is held-out answer-token cross-entropy (it does not saturate); exact match of a greedy fixed-length answer and per-digit accuracy are reported beside it. GSM8K scores final-number match after free generation; there is no MATH counterpart (the MATH ordering is still correlated for reference).",
            ];
        }
    }

    static string Estimate(ComparisonRow c) => Comparisons.Format(c.Estimate, c.CiLow, c.CiHigh);

    static Claim Ordering(IReadOnlyList<ComparisonRow> tests, IReadOnlyList<ArmSummaryRow> summary, double permutationP, string label)
    {
        var rho = tests.Single(t => t.Metric == "spearman_rho");
        string order = string.Join(" < ", PaperOrder.OrderByDescending(t => summary.Single(s => s.Method == "abba" && s.Target == t && s.RateChoice != "shared" && s.Metric == "test_ce").Mean).Select(Short));
        string stable = rho.CiLow == rho.CiHigh ? ": every resample gives the same ranking" : "";
        return new Claim("Figure 3", "Adapting single projections ranks k < q < v < o < up < gate < down (GSM8K)",
            "k 58.2, q 58.7, v 60.6, o 61.0, up 62.8, gate 64.0, down 64.7",
            Invariant($"rho = {Estimate(rho)} ({rho.Interval}{stable}; exact one-sided permutation p = {permutationP:0.000}); worst to best by test CE: {order}"),
            $"Spearman rho of ABBA's single-projection mean test CE (negated) with the paper's GSM8K accuracies; interval rules on the rho interval{label}",
            Comparisons.VerdictOf(rho), RuleSet.Interval);
    }

    static Claim Extremes(IReadOnlyList<ComparisonRow> tests, IReadOnlyList<ArmSummaryRow> summary, string label)
    {
        var d = tests.Single(t => t.Comparison.StartsWith("mean ce(q, k)", StringComparison.Ordinal));
        string Arm(string t) => $"{Short(t)} {Cell(summary, "abba", t, "test_ce")}";
        return new Claim("Figure 3", "Query/key contribute the least; gate/output/down the most", "q/k 58.2-58.7 vs gate/o/down 61.0-64.7 (GSM8K)",
            $"mean CE(q, k) - mean CE(gate, o, down) = {Estimate(d)} ({d.Interval}); CE q/k: {string.Join(", ", new[] { "q_proj", "k_proj" }.Select(Arm))}; gate/o/down: {string.Join(", ", new[] { "gate_proj", "o_proj", "down_proj" }.Select(Arm))}",
            $"per-seed difference of mean test CE, positive as the paper says; interval rules{label}", Comparisons.VerdictOf(d), RuleSet.Interval);
    }

    static Claim AllBeatsEach(IReadOnlyList<ComparisonRow> tests, string label)
    {
        var parts = tests.Where(t => t.Artefact == "Figure 3" && t.Comparison.EndsWith("ce(abba/all)", StringComparison.Ordinal)).ToArray();
        return new Claim("Figure 3", "Adapting all seven projections beats any single one", "all 66.3 vs best single (down) 64.7",
            Parts(parts, c => c.Comparison[3..c.Comparison.IndexOf(')', StringComparison.Ordinal)].Replace("abba/", "", StringComparison.Ordinal)),
            $"per projection, CE(single) - CE(all seven) per seed, positive as the paper says; multi-part{label}", Verdicts.Combine([.. parts.Select(Comparisons.VerdictOf)]), RuleSet.Interval);
    }

    static Claim Baselines(IReadOnlyList<ComparisonRow> tests, IReadOnlyList<ArmSummaryRow> summary, string label)
    {
        var parts = tests.Where(t => t.Artefact == "Table 2").ToArray();
        string Arm(string name, string m, string t) => $"{name} {Cell(summary, m, t, "test_ce")} ({Cell(summary, m, t, "exact_match")})";
        return new Claim("Table 2", "ABBA on all seven beats LoRA and HiRA at the same budget, and full fine-tuning", "ABBA 66.26, HiRA 63.15, LoRA 61.94, full FT 63.87 (GSM8K)",
            $"test CE (exact match): {Arm("ABBA", "abba", "all")}, {Arm("LoRA", "lora", "all")}, {Arm("HiRA", "hira", "all")}, {Arm("full FT", "full_ft", "model")}; paired " +
            Parts(parts, c => c.Comparison[3..c.Comparison.IndexOf('/', StringComparison.Ordinal)]),
            $"per baseline, CE(baseline) - CE(ABBA) per seed at each arm's tuned rate, positive as the paper says; multi-part{label}", Verdicts.Combine([.. parts.Select(Comparisons.VerdictOf)]), RuleSet.Interval);
    }

    /// <summary>"vs lora 0.01 [0.00, 0.02] reproduced; ..." for the parts of a multi-part claim.</summary>
    static string Parts(IEnumerable<ComparisonRow> parts, Func<ComparisonRow, string> name) =>
        string.Join("; ", parts.Select(c => $"{name(c)}: {Estimate(c)} {c.Verdict.Replace('_', ' ')}"));
}
