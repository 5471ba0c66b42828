using Abba.Experiments.Pipeline;

namespace Abba.Experiments.Report;

/// <summary>How far this harness covers one of the paper's artefacts.</summary>
public enum CoverageStatus
{
    /// <summary>An experiment reproduces it (on what, says <see cref="PaperArtefact.Basis"/>).</summary>
    Covered,
    /// <summary>Not reproduced yet; an experiment for it is planned.</summary>
    Planned,
    /// <summary>Not reproduced, and cannot be here (the reason says why).</summary>
    NotCovered,
}

/// <summary>One table or figure of the paper and what this harness does with it.</summary>
/// <param name="Name">"Table 2", "Figure 1 (right)".</param>
/// <param name="Content">What the paper shows there.</param>
/// <param name="Status">Covered, planned or not covered.</param>
/// <param name="Experiment">The experiment that covers it (null when none does).</param>
/// <param name="Basis">What the numbers here are and on what (covered), or why it is not reproduced.</param>
public sealed record PaperArtefact(string Name, string Content, CoverageStatus Status, string? Experiment, string Basis);

/// <summary>
/// Every table and figure of the paper with results (arXiv 2505.14238 v4), and which experiment of this harness covers
/// it. REPORT.md renders it as its coverage and "Not covered" sections; the README's opening names the covered ones.
/// </summary>
public static class Coverage
{
    const string RealModels = "needs the real LLM weights and datasets, which cannot be fetched on these machines, and GPU-scale fine-tuning";
    const string Synthetic = "synthetic: measured on the ablation experiment's small decoder and arithmetic stand-in task, not on Mistral-7B or GSM8K";

    /// <summary>The paper's artefacts in paper order: figures, then tables.</summary>
    public static IReadOnlyList<PaperArtefact> Artefacts { get; } =
    [
        new("Figure 1 (right)", "toy MNIST fine-tuning: loss landscape, trajectories, final losses", CoverageStatus.Covered, "mnist",
            "measured here: the paper's setting is all inferred or chosen (it states only a 2-layer MLP, digits 0-7 then 8-9)"),
        new("Figure 2", "matrix reconstruction error of LoRA and ABBA on four matrix types", CoverageStatus.Covered, "reconstruction",
            "measured here on generators inferred from the paper's LoRA curves (see [docs/reconstruction-generators.md](../../docs/reconstruction-generators.md))"),
        new("Figure 3", "which projections to adapt (Mistral-7B, MetaMathQA -> GSM8K / MATH)", CoverageStatus.Covered, "ablation",
            "synthetic: measured on a small decoder and an arithmetic stand-in task, not on Mistral-7B or GSM8K"),
        new("Figure 4", "peak training memory of ABBA, LoRA, DoRA, HiRA and full FT on four LLMs", CoverageStatus.Covered, "memory",
            "measured on reduced models (CPU, float32); full-scale numbers are modelled (analytic), not measured"),
        new("Figure 5", "gradient norms under four scalings of s (Mistral-7B)", CoverageStatus.Covered, "design",
            Synthetic + "; Theorem 2's moments are measured directly on one ABBA layer"),
        new("Figure 6", "gradient norms of chained ABBA, 4 pairs vs 2 (Mistral-7B)", CoverageStatus.Covered, "design", Synthetic),
        new("Table 1", "commonsense reasoning, Llama-3.2 1B/3B, 8 benchmarks, 9 methods", CoverageStatus.NotCovered, null, RealModels),
        new("Table 2", "arithmetic reasoning, Mistral-7B / Gemma-2 9B, GSM8K / MATH, 9 methods", CoverageStatus.Covered, "ablation",
            "synthetic, partly: ABBA vs LoRA, HiRA and full FT on all seven projections of the arithmetic stand-in; the real models, " +
            "benchmarks and other methods are not run: " + RealModels),
        new("Table 3", "initialisation ablation (Mistral-7B)", CoverageStatus.Covered, "design", Synthetic),
        new("Table 4", "alpha sweep, Llama-3.2 3B commonsense", CoverageStatus.NotCovered, null, RealModels),
        new("Table 5", "r1 / r2 split at r1 + r2 = 32 (Mistral-7B)", CoverageStatus.Covered, "design", Synthetic + ", at r1 + r2 = 8 with the same ratios"),
        new("Table 6", "arithmetic with a 40K MetaMathQA subset", CoverageStatus.NotCovered, null, RealModels),
        new("Table 7", "chained ABBA, 4 pairs vs 2 (Mistral-7B)", CoverageStatus.Covered, "design", Synthetic),
        new("Table 8", "alpha sweep (Mistral-7B)", CoverageStatus.Covered, "design", Synthetic),
        new("Table 9", "total rank r (Mistral-7B)", CoverageStatus.Covered, "design", Synthetic),
        new("Table 10", "training wall time, LoRA vs ABBA, four settings", CoverageStatus.Covered, "efficiency",
            "measured here: training-step time on a CPU (single LLM-shaped layers and a reduced decoder), not whole GPU fine-tuning runs"),
        new("Table 11", "coding, Llama-3.2 1B on CodeFeedback, HumanEval", CoverageStatus.NotCovered, null, RealModels),
        new("Table 12", "high-rank baselines (KronA, Flora, MoRA), Llama-3.1 8B, HumanEval", CoverageStatus.NotCovered, null,
            RealModels + "; KronA, Flora and MoRA are not implemented"),
    ];

    /// <summary>The covered artefacts of <paramref name="experiment"/>.</summary>
    public static IEnumerable<PaperArtefact> Of(string experiment) => Artefacts.Where(a => a.Experiment == experiment);

    /// <summary>Whether <paramref name="experiment"/> judges its claims on a synthetic stand-in rather than the paper's task.</summary>
    public static bool IsSynthetic(string experiment) => Of(experiment).Any(a => a.Basis.StartsWith("synthetic", StringComparison.Ordinal));

    /// <summary>Whether <paramref name="claim"/> is judged only from the analytic memory model.</summary>
    public static bool IsModelled(Claim claim) =>
        claim.Modelled || claim.MeasuredValue.StartsWith("modelled", StringComparison.Ordinal);
}
