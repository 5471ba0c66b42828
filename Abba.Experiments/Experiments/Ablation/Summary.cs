using System.Globalization;
using Abba.Core.Statistics;
using Abba.Experiments.Output;
using Abba.Experiments.Report;
using CsvHelper;

namespace Abba.Experiments.Experiments;

/// <summary>Mean and spread over seeds of one method on one target.</summary>
[CsvRecord]
public partial record AblationSummaryRow
{
    /// <summary>abba, lora, hira, full_ft or pretrained.</summary>
    [CsvColumn("method")] public string Method { get; init; } = "";
    /// <summary>Projection type, all, model or none.</summary>
    [CsvColumn("target")] public string Target { get; init; } = "";
    /// <summary>r (ABBA: r1 + r2).</summary>
    [CsvColumn("rank")] public int Rank { get; init; }
    /// <summary>Trainable parameters.</summary>
    [CsvColumn("params")] public long Params { get; init; }
    /// <summary>Number of seeds averaged.</summary>
    [CsvColumn("seeds")] public int Seeds { get; init; }
    /// <summary>Mean held-out F accuracy.</summary>
    [CsvColumn("mean_accuracy")] public double MeanAccuracy { get; init; }
    /// <summary>Sample standard deviation of the accuracy over seeds (0 for one seed).</summary>
    [CsvColumn("std_accuracy")] public double StdAccuracy { get; init; }
    /// <summary>Mean final training loss.</summary>
    [CsvColumn("mean_final_loss")] public double MeanFinalLoss { get; init; }
}

/// <summary>One bar of the paper's Fig. 3 (reference/fig3_components.csv).</summary>
[CsvRecord]
public partial record PaperComponentRow
{
    /// <summary>mistral-7b.</summary>
    [CsvColumn("model")] public string Model { get; init; } = "";
    /// <summary>gsm8k or math.</summary>
    [CsvColumn("benchmark")] public string Benchmark { get; init; } = "";
    /// <summary>Projection type or all.</summary>
    [CsvColumn("target")] public string Target { get; init; } = "";
    /// <summary>Accuracy in percent.</summary>
    [CsvColumn("accuracy")] public double Accuracy { get; init; }
    /// <summary>digitised or verbatim.</summary>
    [CsvColumn("source")] public string Source { get; init; } = "";
}

/// <summary>Summary statistics, the summary text and the report claims of the ablation, all from its CSVs.</summary>
public sealed partial class AblationExperiment : IClaimSource
{
    /// <summary>The seven projection types in the paper's Fig. 3 order (ascending GSM8K accuracy).</summary>
    public static readonly IReadOnlyList<string> PaperOrder = ["k_proj", "q_proj", "v_proj", "o_proj", "up_proj", "gate_proj", "down_proj"];

    /// <summary>The paper's Fig. 3 values, shipped in <c>reference/</c> beside the executable.</summary>
    public static List<PaperComponentRow> PaperComponents(string baseDirectory) =>
        CsvFiles.Read<PaperComponentRow>(Path.Combine(baseDirectory, "reference", "fig3_components.csv"));

    /// <summary>Mean, standard deviation and count over seeds for each (method, target), in row order.</summary>
    public static List<AblationSummaryRow> Summarise(IReadOnlyList<AblationRow> rows) =>
        rows.GroupBy(r => (r.Method, r.Target)).Select(g =>
        {
            var acc = g.Select(r => r.Accuracy).ToArray();
            double mean = acc.Average();
            double std = acc.Length > 1 ? Math.Sqrt(acc.Sum(a => (a - mean) * (a - mean)) / (acc.Length - 1)) : 0;
            var first = g.First();
            return new AblationSummaryRow
            {
                Method = first.Method, Target = first.Target, Rank = first.Rank, Params = first.Params, Seeds = acc.Length,
                MeanAccuracy = mean, StdAccuracy = std, MeanFinalLoss = g.Average(r => r.FinalLoss),
            };
        }).ToList();

    /// <summary>Spearman rho (and exact one-sided p) of ABBA's seven single-projection means against the paper's values on <paramref name="benchmark"/>.</summary>
    public static (double Rho, double P) Correlation(IReadOnlyList<AblationSummaryRow> summary, IReadOnlyList<PaperComponentRow> paper, string benchmark)
    {
        double[] measured = [.. PaperOrder.Select(t => summary.Single(s => s.Method == "abba" && s.Target == t).MeanAccuracy)];
        double[] reference = [.. PaperOrder.Select(t => paper.Single(p => p.Benchmark == benchmark && p.Target == t).Accuracy)];
        return (RankCorrelation.Spearman(measured, reference), RankCorrelation.PermutationPValue(measured, reference));
    }

    static string Format(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    static string Percent(AblationSummaryRow s) => s.Seeds > 1 ? Format($"{100 * s.MeanAccuracy:0.0} ± {100 * s.StdAccuracy:0.0}%") : Format($"{100 * s.MeanAccuracy:0.0}%");

    static string Short(string target) => target.Replace("_proj", "", StringComparison.Ordinal);

    /// <summary>The summary text (also logged): what was run, the floor and ceiling, ABBA per component and the rank correlations.</summary>
    string SummaryText(string folder)
    {
        var summary = Summarise(CsvFiles.Read<AblationRow>(Path.Combine(folder, "ablation.csv")));
        var pretrain = CsvFiles.Read<PretrainAccuracyRow>(Path.Combine(folder, "pretrain_accuracy.csv"));
        var paper = PaperComponents(AppContext.BaseDirectory);
        var o = options;
        AblationSummaryRow Get(string method, string target) => summary.Single(s => s.Method == method && s.Target == target);
        var singles = PaperOrder.Select(t => Get("abba", t)).ToArray();
        var (rhoGsm, pGsm) = Correlation(summary, paper, "gsm8k");
        var (rhoMath, pMath) = Correlation(summary, paper, "math");
        return string.Join('\n',
            Disclaimer,
            Format($"Task P (pre-training): {o.Digits}-digit addition; task F (fine-tuning): {o.Digits}-digit subtraction (a >= b); numbers written least-significant digit first; exact match on {o.TestSize} held-out F problems never seen in training."),
            Format($"Every arm: {o.FinetuneSteps} steps, batch {o.FinetuneBatchSize}, lr {o.LearningRate}; r = {o.Rank} (ABBA r1 = r2 = {o.Rank / 2}, alpha {o.AbbaAlpha}, s = alpha^2/sqrt(r1 r2); LoRA alpha {o.LoraAlpha}); seeds: {singles[0].Seeds}."),
            Format($"Before fine-tuning: F accuracy {Percent(Get("pretrained", "none"))} (P accuracy {100 * pretrain.Where(p => p.Task == "add").MaxBy(p => p.Step)!.Accuracy:0.0}% after pre-training)."),
            "ABBA on one projection type (paper order): " + string.Join(", ", singles.Select(s => $"{Short(s.Target)} {Percent(s)}")),
            "Measured ordering, low to high: " + string.Join(" < ", singles.OrderBy(s => s.MeanAccuracy).Select(s => Short(s.Target))),
            "Paper ordering (Mistral-7B, GSM8K), low to high: " + string.Join(" < ", PaperOrder.Select(Short)),
            Format($"Spearman rank correlation with the paper's ordering: GSM8K rho = {rhoGsm:0.000} (exact one-sided permutation p = {pGsm:0.000}, n = 7); MATH rho = {rhoMath:0.000} (p = {pMath:0.000})."),
            Format($"All seven: ABBA {Percent(Get("abba", "all"))}, LoRA {Percent(Get("lora", "all"))}, HiRA {Percent(Get("hira", "all"))}; full fine-tuning (every parameter) {Percent(Get("full_ft", "model"))}."),
            "") ;
    }

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
        var summary = Summarise(CsvFiles.Read<AblationRow>(Path.Combine(folder, "ablation.csv")));
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
            string Shape(AblationOptions o) => Format($"{o.Model.Layers} blocks of width {o.Model.HiddenSize} ({o.Digits}-digit operands)");
            return
            [
                Disclaimer + " The paper fine-tunes Mistral-7B on a 20K MetaMathQA subset and scores GSM8K and MATH.",
                $"Model: Llama-style decoder (RMSNorm, rotary positions, grouped-query attention, SwiGLU, HF module names) with {Shape(q)} in the quick profile and {Shape(p)} in the paper profile; character vocabulary of 14.",
                Format($"Rank r = {q.Rank} (ABBA r1 = r2 = {q.Rank / 2}, alpha {q.AbbaAlpha}; LoRA alpha {q.LoraAlpha}) on layers {q.Model.ProjectionShapes().Values.Min(v => Math.Min(v.In, v.Out))}-{q.Model.ProjectionShapes().Values.Max(v => Math.Max(v.In, v.Out))} wide, against r = 32 (r1 = r2 = 16) on layers 1024-14336 wide in the paper, whose alpha for this figure is not stated."),
                Format($"One learning rate ({q.LearningRate}) and step count for every arm, full fine-tuning included ({q.FinetuneSteps} steps quick, {p.FinetuneSteps} paper; batch {q.FinetuneBatchSize} problems); AdamW without weight decay, 2% warm-up then cosine. The paper uses lr 1e-3, effective batch 32, one epoch, and sweeps per model and task."),
                "Seeds vary fine-tuning only (adapter init and batch order); the pre-trained model and the test set come from the first seed, as the paper's runs share one Mistral-7B.",
                "Accuracy is exact match of a greedy fixed-length answer, not GSM8K's final-number match after free generation; there is no MATH counterpart (the MATH ordering is still correlated for reference).",
            ];
        }
    }

    static Claim Ordering(IReadOnlyList<AblationSummaryRow> summary, IReadOnlyList<PaperComponentRow> paper)
    {
        var (rho, p) = Correlation(summary, paper, "gsm8k");
        var verdict = rho > 0 && p < 0.05 ? Verdict.Reproduced : rho > 0 ? Verdict.Partly : Verdict.NotReproduced;
        string measured = Format($"rho = {rho:0.00} (p = {p:0.000}); ") +
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
        string measured = Format($"q/k: {string.Join(", ", least.Select(t => Format($"{Short(t)} {100 * Acc(t):0.0}%")))}; gate/o/down: {string.Join(", ", most.Select(t => Format($"{Short(t)} {100 * Acc(t):0.0}%")))}");
        return new Claim("Figure 3", "Query/key contribute the least; gate/output/down the most", "q/k 58.2-58.7 vs gate/o/down 61.0-64.7 (GSM8K)", measured,
            "every q/k accuracy below every gate/o/down accuracy (partly: lower on average)", verdict);
    }

    static Claim AllBeatsEach(IReadOnlyList<AblationSummaryRow> summary)
    {
        var all = summary.Single(s => s.Method == "abba" && s.Target == "all");
        var best = PaperOrder.Select(t => summary.Single(s => s.Method == "abba" && s.Target == t)).MaxBy(s => s.MeanAccuracy)!;
        return new Claim("Figure 3", "Adapting all seven projections beats any single one", "all 66.3 vs best single (down) 64.7",
            Format($"all {Percent(all)} vs best single ({Short(best.Target)}) {Percent(best)}"), "ABBA on all seven above the best single projection",
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
            Format($"ABBA {Percent(abba)}, HiRA {Percent(others[1])}, LoRA {Percent(others[0])}, full FT {Percent(others[2])}"),
            "ABBA's mean above all three (partly: at or above at least one)", verdict);
    }
}
