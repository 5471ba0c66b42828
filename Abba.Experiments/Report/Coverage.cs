using Abba.Experiments.Pipeline;

namespace Abba.Experiments.Report;

/// <summary>How far this harness covers one of the paper's artefacts.</summary>
public enum CoverageStatus
{
    /// <summary>An experiment reproduces it (on what, says <see cref="PaperArtefact.Basis"/>).</summary>
    Covered,
    /// <summary>Not reproduced, and cannot be here (the reason says why).</summary>
    NotCovered,
}

/// <summary>One table or figure of the paper and what this harness does with it.</summary>
/// <param name="Name">"Table 2", "Figure 1 (right)".</param>
/// <param name="Content">What the paper shows there.</param>
/// <param name="Status">Covered or not covered.</param>
/// <param name="Experiment">The experiment that covers it (null when none does).</param>
/// <param name="Basis">What the numbers here are and on what (covered), or why it is not reproduced.</param>
public sealed record PaperArtefact(string Name, string Content, CoverageStatus Status, string? Experiment, string Basis)
{
    /// <summary>Judged on a synthetic stand-in task, not on the paper's models and data.</summary>
    public bool Synthetic { get; init; }
}

/// <summary>
/// Every table and figure of the paper with results (arXiv 2505.14238 v4), and which experiment of this harness covers
/// it. REPORT.md renders it as its coverage and "Not covered" sections; the README's opening names the covered ones.
/// </summary>
public static class Coverage
{
    const string RealModels = "needs the real LLM weights and datasets, which cannot be fetched on these machines, " +
                              "and GPU-scale fine-tuning";
    const string OnDecoder =
        "synthetic: measured on the ablation experiment's small decoder and arithmetic stand-in task, " +
        "not on Mistral-7B or GSM8K";

    const string RealEncoder =
        "measured on a real pretrained transformer and real labelled text (all-MiniLM-L6-v2 fine-tuned on WordNet " +
        "supersenses), not on the paper's Mistral-7B or GSM8K";

    /// <summary>The paper's artefacts in paper order: figures, then tables.</summary>
    public static IReadOnlyList<PaperArtefact> Artefacts { get; } =
    [
        Measured("Figure 1 (right)", "toy MNIST fine-tuning: loss landscape, trajectories, final losses", "mnist",
            "measured here: the paper's setting is all inferred or chosen (it states only a 2-layer MLP, digits 0-7 " +
            "then 8-9)"),
        Measured("Figure 2", "matrix reconstruction error of LoRA and ABBA on four matrix types", "reconstruction",
            "measured here on generators inferred from the paper's LoRA curves (see " +
            "[docs/reconstruction-generators.md](../../docs/reconstruction-generators.md))"),
        StandIn("Figure 3", "which projections to adapt (Mistral-7B, MetaMathQA -> GSM8K / MATH)", "ablation",
            "synthetic: measured on a small decoder and an arithmetic stand-in task, not on Mistral-7B or GSM8K"),
        Measured("Figure 3 (real model)", "which projections to adapt, asked of a real pretrained encoder", "encoder",
            RealEncoder),
        Measured("Figure 4", "peak training memory of ABBA, LoRA, DoRA, HiRA and full FT on four LLMs", "memory",
            "measured on reduced models (CPU, float32); full-scale numbers are modelled (analytic), not measured"),
        StandIn("Figure 5", "gradient norms under four scalings of s (Mistral-7B)", "design",
            OnDecoder + "; each scaling at several r1 = r2 for rank stability in training, and Theorem 2's algebra " +
            "checked by Monte Carlo on one ABBA layer"),
        StandIn("Figure 6", "gradient norms of chained ABBA, 4 pairs vs 2 (Mistral-7B)", "design", OnDecoder),
        NotCovered("Table 1", "commonsense reasoning, Llama-3.2 1B/3B, 8 benchmarks, 9 methods", RealModels),
        StandIn("Table 2", "arithmetic reasoning, Mistral-7B / Gemma-2 9B, GSM8K / MATH, 9 methods", "ablation",
            "synthetic, partly: ABBA vs LoRA, HiRA and full FT on all seven projections of the arithmetic " +
            "stand-in, with LoRA's rank curve, the released code's budget, a noise floor and the learned updates' " +
            "spectra; the real models, benchmarks and other methods are not run: " + RealModels),
        Measured("Table 2 (real model)", "ABBA vs LoRA, HiRA, DoRA and full FT at one budget, on a real pretrained " +
            "encoder", "encoder", RealEncoder),
        StandIn("Table 3", "initialisation ablation (Mistral-7B)", "design", OnDecoder),
        NotCovered("Table 4", "alpha sweep, Llama-3.2 3B commonsense", RealModels),
        StandIn("Table 5", "r1 / r2 split at r1 + r2 = 32 (Mistral-7B)", "design",
            OnDecoder + ", at r1 + r2 = 8 with the same ratios"),
        NotCovered("Table 6", "arithmetic with a 40K MetaMathQA subset", RealModels),
        StandIn("Table 7", "chained ABBA, 4 pairs vs 2 (Mistral-7B)", "design", OnDecoder),
        StandIn("Table 8", "alpha sweep (Mistral-7B)", "design", OnDecoder),
        StandIn("Table 9", "total rank r (Mistral-7B)", "design", OnDecoder),
        Measured("Table 10", "training wall time, LoRA vs ABBA, four settings", "efficiency",
            "measured here: training-step time on a CPU (single LLM-shaped layers and a reduced decoder), " +
            "not whole GPU fine-tuning runs"),
        NotCovered("Table 11", "coding, Llama-3.2 1B on CodeFeedback, HumanEval", RealModels),
        NotCovered("Table 12", "high-rank baselines (KronA, Flora, MoRA), Llama-3.1 8B, HumanEval",
            RealModels + "; KronA, Flora and MoRA are not implemented"),
    ];

    /// <summary>The covered artefacts of <paramref name="experiment"/>.</summary>
    public static IEnumerable<PaperArtefact> Of(string experiment) => Artefacts.Where(a => a.Experiment == experiment);

    /// <summary>Whether <paramref name="experiment"/> judges its claims on a synthetic stand-in rather than the paper's
    /// task.</summary>
    public static bool IsSynthetic(string experiment) => Of(experiment).Any(a => a.Synthetic);

    static PaperArtefact Measured(string name, string content, string experiment, string basis) =>
        new(name, content, CoverageStatus.Covered, experiment, basis);

    static PaperArtefact StandIn(string name, string content, string experiment, string basis) =>
        new(name, content, CoverageStatus.Covered, experiment, basis) { Synthetic = true };

    static PaperArtefact NotCovered(string name, string content, string why) =>
        new(name, content, CoverageStatus.NotCovered, null, why);
}
