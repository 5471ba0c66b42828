using Abba.Experiments.Output;
using static System.FormattableString;

namespace Abba.Experiments.Experiments.Ablation;

/// <summary>The report claims and deviations of the ablation, judged from its CSVs.</summary>
public sealed partial class AblationExperiment : IClaimSource
{
    /// <inheritdoc />
    public IReadOnlyList<Claim> Claims(string folder) => Claims(folder, AppContext.BaseDirectory);

    /// <summary>
    /// The claims judged from the CSVs in <paramref name="folder"/>, with the paper's values read from <c>reference/</c>
    /// under <paramref name="referenceBase"/>: for callers that do not run beside the program (a notebook can pass the
    /// source tree's <c>Abba.Experiments</c> folder).
    /// </summary>
    /// <exception cref="FileNotFoundException">The experiment has not been run, or did not finish.</exception>
    public IReadOnlyList<Claim> Claims(string folder, string referenceBase)
    {
        var summary = Summarise(CsvFiles.Read<AblationRow>(Path.Combine(folder, AblationFiles.Runs)));
        var paper = PaperComponents(referenceBase);
        if (PaperOrder.Concat(["all"]).Any(t => !summary.Any(s => s.Method == "abba" && s.Target == t)))
            throw new FileNotFoundException($"{folder}/ablation.csv lacks some ABBA arms: the run did not finish.");
        return [Ordering(summary, paper), Extremes(summary), AllBeatsEach(summary), Baselines(summary)];
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Deviations
    {
        get
        {
            AblationOptions q = AblationOptions.Quick, p = AblationOptions.Paper;
            string Shape(AblationOptions o) => Invariant($"{o.Model.Layers} blocks of width {o.Model.HiddenSize} ({o.Digits}-digit operands)");
            return
            [
                Disclaimer + " The paper fine-tunes Mistral-7B on a 20K MetaMathQA subset and scores GSM8K and MATH.",
                $"Model: Llama-style decoder (RMSNorm, rotary positions, grouped-query attention, SwiGLU, HF module names) with {Shape(q)} in the quick profile and {Shape(p)} in the paper profile; character vocabulary of 14.",
                Invariant($"Rank r = {q.Rank} (ABBA r1 = r2 = {q.Rank / 2}, alpha {q.AbbaAlpha}; LoRA alpha {q.LoraAlpha}) on layers {q.Model.ProjectionShapes().Values.Min(v => Math.Min(v.In, v.Out))}-{q.Model.ProjectionShapes().Values.Max(v => Math.Max(v.In, v.Out))} wide, against r = 32 (r1 = r2 = 16) on layers 1024-14336 wide in the paper, whose alpha for this figure is not stated."),
                Invariant($"One learning rate ({q.LearningRate}) and step count for every arm, full fine-tuning included ({q.FinetuneSteps} steps quick, {p.FinetuneSteps} paper; batch {q.FinetuneBatchSize} problems); AdamW without weight decay, 2% warm-up then cosine. The paper uses lr 1e-3, effective batch 32, one epoch, and sweeps per model and task."),
                "Seeds vary fine-tuning only (adapter init and batch order); the pre-trained model and the test set come from the first seed, as the paper's runs share one Mistral-7B.",
                "Accuracy is exact match of a greedy fixed-length answer, not GSM8K's final-number match after free generation; there is no MATH counterpart (the MATH ordering is still correlated for reference).",
            ];
        }
    }

    static Claim Ordering(IReadOnlyList<AblationSummaryRow> summary, IReadOnlyList<PaperComponentRow> paper)
    {
        var (rho, p) = Correlation(summary, paper, "gsm8k");
        var verdict = rho > 0 && p < 0.05 ? Verdict.Reproduced : rho > 0 ? Verdict.Partly : Verdict.NotReproduced;
        string measured = Invariant($"rho = {rho:0.00} (p = {p:0.000}); ") +
                          string.Join(" < ", PaperOrder.Select(t => summary.Single(s => s.Method == "abba" && s.Target == t)).OrderBy(s => s.MeanAccuracy).Select(s => Short(s.Target)));
        return new Claim("Figure 3", "Adapting single projections ranks k < q < v < o < up < gate < down (GSM8K)",
            "k 58.2, q 58.7, v 60.6, o 61.0, up 62.8, gate 64.0, down 64.7", measured,
            "Spearman rho of ABBA's single-projection accuracies with the paper's: reproduced if rho > 0 with exact one-sided p < 0.05, partly if rho > 0", verdict);
    }

    static Claim Extremes(IReadOnlyList<AblationSummaryRow> summary)
    {
        double Acc(string t) => summary.Single(s => s.Method == "abba" && s.Target == t).MeanAccuracy;
        string[] least = ["q_proj", "k_proj"], most = ["gate_proj", "o_proj", "down_proj"];
        var verdict = least.Max(Acc) < most.Min(Acc) ? Verdict.Reproduced : least.Average(Acc) < most.Average(Acc) ? Verdict.Partly : Verdict.NotReproduced;
        string measured = Invariant($"q/k: {string.Join(", ", least.Select(t => Invariant($"{Short(t)} {100 * Acc(t):0.0}%")))}; gate/o/down: {string.Join(", ", most.Select(t => Invariant($"{Short(t)} {100 * Acc(t):0.0}%")))}");
        return new Claim("Figure 3", "Query/key contribute the least; gate/output/down the most", "q/k 58.2-58.7 vs gate/o/down 61.0-64.7 (GSM8K)", measured,
            "every q/k accuracy below every gate/o/down accuracy (partly: lower on average)", verdict);
    }

    static Claim AllBeatsEach(IReadOnlyList<AblationSummaryRow> summary)
    {
        var all = summary.Single(s => s.Method == "abba" && s.Target == "all");
        var best = PaperOrder.Select(t => summary.Single(s => s.Method == "abba" && s.Target == t)).MaxBy(s => s.MeanAccuracy)!;
        return new Claim("Figure 3", "Adapting all seven projections beats any single one", "all 66.3 vs best single (down) 64.7",
            Invariant($"all {Percent(all)} vs best single ({Short(best.Target)}) {Percent(best)}"), "ABBA on all seven above the best single projection",
            all.MeanAccuracy > best.MeanAccuracy ? Verdict.Reproduced : Verdict.NotReproduced);
    }

    static Claim Baselines(IReadOnlyList<AblationSummaryRow> summary)
    {
        AblationSummaryRow Get(string method, string target) => summary.Single(s => s.Method == method && s.Target == target);
        var abba = Get("abba", "all");
        var others = new[] { Get("lora", "all"), Get("hira", "all"), Get("full_ft", "model") };
        var verdict = others.All(o => abba.MeanAccuracy > o.MeanAccuracy) ? Verdict.Reproduced
            : others.Any(o => abba.MeanAccuracy >= o.MeanAccuracy) ? Verdict.Partly : Verdict.NotReproduced;
        return new Claim("Table 2", "ABBA on all seven beats LoRA and HiRA at the same budget, and full fine-tuning", "ABBA 66.26, HiRA 63.15, LoRA 61.94, full FT 63.87 (GSM8K)",
            Invariant($"ABBA {Percent(abba)}, HiRA {Percent(others[1])}, LoRA {Percent(others[0])}, full FT {Percent(others[2])}"),
            "ABBA's mean above all three (partly: at or above at least one)", verdict);
    }
}
