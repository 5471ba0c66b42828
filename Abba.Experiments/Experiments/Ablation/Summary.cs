using Abba.Core.Statistics;
using Abba.Experiments.Output;
using static System.FormattableString;

namespace Abba.Experiments.Experiments.Ablation;

/// <summary>Summary statistics and the summary text of the ablation, all from its CSVs.</summary>
public sealed partial class AblationExperiment
{
    /// <summary>The seven projection types in the paper's Fig. 3 order (ascending GSM8K accuracy).</summary>
    public static readonly IReadOnlyList<string> PaperOrder = ["k_proj", "q_proj", "v_proj", "o_proj", "up_proj", "gate_proj", "down_proj"];

    /// <summary>The paper's Fig. 3 values, shipped in <c>reference/</c> beside the executable.</summary>
    public static List<PaperComponentRow> PaperComponents(string baseDirectory) =>
        ReferenceData.Read<PaperComponentRow>(AblationFiles.PaperReference, baseDirectory);

    /// <summary>Mean, standard deviation and count over seeds for each (method, target), in row order.</summary>
    public static List<AblationSummaryRow> Summarise(IReadOnlyList<AblationRow> rows) =>
        rows.GroupBy(r => (r.Method, r.Target)).Select(g =>
        {
            var acc = g.Select(r => r.Accuracy).ToArray();
            var (mean, std) = Describe.MeanStd(acc);
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

    static string Percent(AblationSummaryRow s) => s.Seeds > 1 ? Invariant($"{100 * s.MeanAccuracy:0.0} ± {100 * s.StdAccuracy:0.0}%") : Invariant($"{100 * s.MeanAccuracy:0.0}%");

    static string Short(string target) => target.Replace("_proj", "", StringComparison.Ordinal);

    /// <summary>The summary text (also logged): what was run, the floor and ceiling, ABBA per component and the rank correlations.</summary>
    string SummaryText(string folder)
    {
        var summary = Summarise(CsvFiles.Read<AblationRow>(Path.Combine(folder, AblationFiles.Runs)));
        var pretrain = CsvFiles.Read<PretrainAccuracyRow>(Path.Combine(folder, AblationFiles.PretrainAccuracy));
        var paper = PaperComponents(AppContext.BaseDirectory);
        var o = options;
        AblationSummaryRow Get(string method, string target) => summary.Single(s => s.Method == method && s.Target == target);
        var singles = PaperOrder.Select(t => Get("abba", t)).ToArray();
        var (rhoGsm, pGsm) = Correlation(summary, paper, "gsm8k");
        var (rhoMath, pMath) = Correlation(summary, paper, "math");
        return string.Join('\n',
            Disclaimer,
            Invariant($"Task P (pre-training): {o.Digits}-digit addition; task F (fine-tuning): {o.Digits}-digit subtraction (a >= b); numbers written least-significant digit first; exact match on {o.TestSize} held-out F problems never seen in training."),
            Invariant($"Every arm: {o.FinetuneSteps} steps, batch {o.FinetuneBatchSize}, lr {o.LearningRate}; r = {o.Rank} (ABBA r1 = r2 = {o.Rank / 2}, alpha {o.AbbaAlpha}, s = alpha^2/sqrt(r1 r2); LoRA alpha {o.LoraAlpha}); seeds: {singles[0].Seeds}."),
            Invariant($"Before fine-tuning: F accuracy {Percent(Get("pretrained", "none"))} (P accuracy {100 * pretrain.Where(p => p.Task == "add").MaxBy(p => p.Step)!.Accuracy:0.0}% after pre-training)."),
            "ABBA on one projection type (paper order): " + string.Join(", ", singles.Select(s => $"{Short(s.Target)} {Percent(s)}")),
            "Measured ordering, low to high: " + string.Join(" < ", singles.OrderBy(s => s.MeanAccuracy).Select(s => Short(s.Target))),
            "Paper ordering (Mistral-7B, GSM8K), low to high: " + string.Join(" < ", PaperOrder.Select(Short)),
            Invariant($"Spearman rank correlation with the paper's ordering: GSM8K rho = {rhoGsm:0.000} (exact one-sided permutation p = {pGsm:0.000}, n = 7); MATH rho = {rhoMath:0.000} (p = {pMath:0.000})."),
            Invariant($"All seven: ABBA {Percent(Get("abba", "all"))}, LoRA {Percent(Get("lora", "all"))}, HiRA {Percent(Get("hira", "all"))}; full fine-tuning (every parameter) {Percent(Get("full_ft", "model"))}."),
            "") ;
    }
}
