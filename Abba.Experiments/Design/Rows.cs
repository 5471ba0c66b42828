using CsvHelper;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Design;

/// <summary>One fine-tuning run of one arm of one family (or the pre-trained model before fine-tuning), scored on
/// the held-out test set.</summary>
[CsvRecord]
public partial record DesignRow
{
    /// <summary>init, scaling, alpha, split, rank, chained; pretrained for the model before fine-tuning.</summary>
    [CsvColumn("family")] public string Family { get; init; } = "";
    /// <summary>The arm's name within its family (ours, row1 ... row5, both_zero; e=0.25; alpha=24; r1=2; r=16;
    /// pairs=4).</summary>
    [CsvColumn("arm")] public string Arm { get; init; } = "";
    /// <summary>Whether this arm is the reference (the paper's choice at the reference budget): the same runs in
    /// every family.</summary>
    [CsvColumn("reference")] public bool Reference { get; init; }
    /// <summary>Every adapter setting of the arm in one string: the arm's identity (equal strings are the same
    /// runs).</summary>
    [CsvColumn("variant")] public string Variant { get; init; } = "";
    /// <summary>Rank of each pair, r1/r2 (/r3/r4 for chained).</summary>
    [CsvColumn("ranks")] public string Ranks { get; init; } = "";
    /// <summary>alpha.</summary>
    [CsvColumn("alpha")] public double Alpha { get; init; }
    /// <summary>The scale s the adapter uses.</summary>
    [CsvColumn("scale")] public double Scale { get; init; }
    /// <summary>e of s = alpha^2 (r1 r2)^-e for the scaling family's arms; NaN otherwise.</summary>
    [CsvColumn("exponent")] public double Exponent { get; init; } = double.NaN;
    /// <summary>Fine-tuning steps.</summary>
    [CsvColumn("steps")] public int Steps { get; init; }
    /// <summary>tuned (the arm's own rate, the headline) or shared (the reference arm's rate, on the sweep seeds: a
    /// sensitivity row).</summary>
    [CsvColumn("rate_choice")] public string RateChoice { get; init; } = "";
    /// <summary>Peak fine-tuning learning rate.</summary>
    [CsvColumn("rate")] public double Rate { get; init; }
    /// <summary>Trainable parameters.</summary>
    [CsvColumn("params")] public long Params { get; init; }
    /// <summary>The pre-trained model fine-tuned (0-based).</summary>
    [CsvColumn("model")] public int Model { get; init; }
    /// <summary>Fine-tuning seed (the pre-trained model's own seed on its row).</summary>
    [CsvColumn("seed")] public int Seed { get; init; }
    /// <summary>Answer-token cross-entropy on the validation split (what chose the rate).</summary>
    [CsvColumn("validation_ce")] public double ValidationCe { get; init; }
    /// <summary>Primary metric: answer-token cross-entropy on the held-out test set (nats per token).</summary>
    [CsvColumn("test_ce")] public double TestCe { get; init; }
    /// <summary>Fraction of answer digits right (greedy).</summary>
    [CsvColumn("digit_accuracy")] public double DigitAccuracy { get; init; }
    /// <summary>Exact match of greedy answers.</summary>
    [CsvColumn("exact_match")] public double ExactMatch { get; init; }
    /// <summary>Whether the run trained: its test CE ends below the pre-trained model's. Comparisons use only trained
    /// runs.</summary>
    [CsvColumn("trained")] public bool Trained { get; init; }
    /// <summary>Mean training loss of the last 10 steps.</summary>
    [CsvColumn("final_loss")] public double FinalLoss { get; init; }
    /// <summary>Mean pre-clip gradient norm over the second half of the steps (the plateau of Figs. 5-6).</summary>
    [CsvColumn("grad_norm_plateau")] public double GradNormPlateau { get; init; }
    /// <summary>Largest pre-clip gradient norm of any step.</summary>
    [CsvColumn("grad_norm_max")] public double GradNormMax { get; init; }
    /// <summary>Scaling family: the mean squared entry of the learned update dW at the end of training (NaN
    /// otherwise).</summary>
    [CsvColumn("update_moment")] public double UpdateMoment { get; init; } = double.NaN;
    /// <summary>Wall time of the training loop (timing column: varies between runs).</summary>
    [CsvColumn("seconds")] public double Seconds { get; init; }
    /// <summary>SHA-256 (12 hex digits) of every problem trained on: equal for all arms of a seed.</summary>
    [CsvColumn("batch_digest")] public string BatchDigest { get; init; } = "";

    /// <summary>The rate choice of the headline rows.</summary>
    public const string Tuned = "tuned";
    /// <summary>The rate choice of the sensitivity rows.</summary>
    public const string Shared = "shared";
}

/// <summary>The scaling family: the learned update's second moment at one checkpoint of one run (Theorem 2 in
/// training).</summary>
[CsvRecord]
public partial record UpdateMomentRow
{
    /// <summary>The arm.</summary>
    [CsvColumn("arm")] public string Arm { get; init; } = "";
    /// <summary>e in s = alpha^2 (r1 r2)^-e.</summary>
    [CsvColumn("exponent")] public double Exponent { get; init; }
    /// <summary>r1 (= r2).</summary>
    [CsvColumn("r1")] public int R1 { get; init; }
    /// <summary>s.</summary>
    [CsvColumn("scale")] public double Scale { get; init; }
    /// <summary>Seed.</summary>
    [CsvColumn("seed")] public int Seed { get; init; }
    /// <summary>Steps done.</summary>
    [CsvColumn("step")] public int Step { get; init; }
    /// <summary>Mean over the seven projections of the mean squared entry of dW (the output second moment per input
    /// dimension for isotropic unit-variance inputs).</summary>
    [CsvColumn("moment")] public double Moment { get; init; }
}

/// <summary>Rank stability in training: the log-log slope of one quantity against r1 r2 under one scaling, fitted per
/// seed, with its interval over seeds.</summary>
[CsvRecord]
public partial record StabilityRow
{
    /// <summary>e in s = alpha^2 (r1 r2)^-e.</summary>
    [CsvColumn("exponent")] public double Exponent { get; init; }
    /// <summary>best_rate (validation-CE optimum over the grid, sweep seeds), grad_norm_plateau or update_moment
    /// (at each arm's tuned rate, every seed).</summary>
    [CsvColumn("quantity")] public string Quantity { get; init; } = "";
    /// <summary>The r1 = r2 values the fits span.</summary>
    [CsvColumn("ranks")] public string Ranks { get; init; } = "";
    /// <summary>Seeds with a fit (every rank trained).</summary>
    [CsvColumn("n")] public int N { get; init; }
    /// <summary>Seeds left out because a run at some rank did not train.</summary>
    [CsvColumn("excluded")] public int Excluded { get; init; }
    /// <summary>Mean of the per-seed least-squares slopes of log quantity on log(r1 r2).</summary>
    [CsvColumn("slope")] public double Slope { get; init; }
    /// <summary>95% t interval, lower bound.</summary>
    [CsvColumn("ci_low")] public double CiLow { get; init; }
    /// <summary>95% t interval, upper bound.</summary>
    [CsvColumn("ci_high")] public double CiHigh { get; init; }
    /// <summary>Per seed, comma-separated.</summary>
    [CsvColumn("per_seed")] public string PerSeed { get; init; } = "";
    /// <summary>Theorem 2's slope for this quantity where it gives one (best rate -(1/2 - e); update moment 1 - 2e
    /// with the factors' own growth ignored); NaN where it gives none.</summary>
    [CsvColumn("predicted")] public double Predicted { get; init; } = double.NaN;
}

/// <summary>One step's gradient norm and loss of one run (at its tuned rate) of the scaling and chained families
/// (Figs. 5-6).</summary>
[CsvRecord]
public partial record GradNormRow
{
    /// <summary>scaling or chained.</summary>
    [CsvColumn("family")] public string Family { get; init; } = "";
    /// <summary>The arm.</summary>
    [CsvColumn("arm")] public string Arm { get; init; } = "";
    /// <summary>Seed.</summary>
    [CsvColumn("seed")] public int Seed { get; init; }
    /// <summary>Step, from 1.</summary>
    [CsvColumn("step")] public int Step { get; init; }
    /// <summary>Global L2 norm of the adapter gradients before clipping.</summary>
    [CsvColumn("grad_norm")] public double GradNorm { get; init; }
    /// <summary>Training loss of the step.</summary>
    [CsvColumn("loss")] public double Loss { get; init; }
}

/// <summary>Theorem 2 check: the second moments of one draw set at one (scaling, rank, seed), beside the closed
/// form.</summary>
[CsvRecord]
public partial record MomentRow
{
    /// <summary>e in s = alpha^2 (r1 r2)^-e.</summary>
    [CsvColumn("exponent")] public double Exponent { get; init; }
    /// <summary>r1 (= r2).</summary>
    [CsvColumn("r1")] public int R1 { get; init; }
    /// <summary>r2.</summary>
    [CsvColumn("r2")] public int R2 { get; init; }
    /// <summary>Seed.</summary>
    [CsvColumn("seed")] public int Seed { get; init; }
    /// <summary>Mean over draws of the mean squared adapter output.</summary>
    [CsvColumn("output_moment")] public double OutputMoment { get; init; }
    /// <summary>Mean over draws of the mean squared input gradient.</summary>
    [CsvColumn("gradient_moment")] public double GradientMoment { get; init; }
    /// <summary>s^2 n r1 r2 (unit variances).</summary>
    [CsvColumn("expected_output")] public double ExpectedOutput { get; init; }
    /// <summary>s^2 m r1 r2 (unit variances).</summary>
    [CsvColumn("expected_gradient")] public double ExpectedGradient { get; init; }
}

/// <summary>Theorem 2 check: the fitted log-log slope of one moment against r1 r2 under one scaling, with its
/// interval over seeds.</summary>
[CsvRecord]
public partial record SlopeRow
{
    /// <summary>e in s = alpha^2 (r1 r2)^-e.</summary>
    [CsvColumn("exponent")] public double Exponent { get; init; }
    /// <summary>output or input_gradient.</summary>
    [CsvColumn("moment")] public string Moment { get; init; } = "";
    /// <summary>1 - 2e, derived (see RankStability).</summary>
    [CsvColumn("expected_slope")] public double ExpectedSlope { get; init; }
    /// <summary>Seeds (one fit each).</summary>
    [CsvColumn("n")] public int N { get; init; }
    /// <summary>Mean of the per-seed least-squares slopes of log moment on log(r1 r2).</summary>
    [CsvColumn("slope")] public double Slope { get; init; }
    /// <summary>95% t interval, lower bound.</summary>
    [CsvColumn("ci_low")] public double CiLow { get; init; }
    /// <summary>95% t interval, upper bound.</summary>
    [CsvColumn("ci_high")] public double CiHigh { get; init; }
    /// <summary>Whether the whole interval lies within the tolerance of the expected slope.</summary>
    [CsvColumn("within_tolerance")] public bool WithinTolerance { get; init; }
}

/// <summary>One value of the paper (reference/design_ablations.csv).</summary>
[CsvRecord]
public partial record PaperDesignRow
{
    /// <summary>Table 3, Table 5, Table 7, Table 8, Table 9, Figure 5, Figure 6.</summary>
    [CsvColumn("artefact")] public string Artefact { get; init; } = "";
    /// <summary>The row, named as the harness's arm (ours, row1, alpha=24, r1=4, r=16, pairs=4, e=0.25).</summary>
    [CsvColumn("setting")] public string Setting { get; init; } = "";
    /// <summary>What the paper's row says in its own words.</summary>
    [CsvColumn("label")] public string Label { get; init; } = "";
    /// <summary>gsm8k, math (accuracy %), or grad_norm_plateau.</summary>
    [CsvColumn("metric")] public string Metric { get; init; } = "";
    /// <summary>The value.</summary>
    [CsvColumn("value")] public double Value { get; init; }
    /// <summary>verbatim or digitised.</summary>
    [CsvColumn("source")] public string Source { get; init; } = "";
}

/// <summary>The files the design experiment writes and reads.</summary>
public static class DesignFiles
{
    /// <summary>One row per (family, arm, seed), plus the pre-trained floor.</summary>
    public const string Runs = "design.csv";
    /// <summary>Per (family, arm, metric): mean and 95% interval over seeds.</summary>
    public const string Summary = "design_summary.csv";
    /// <summary>Every tested effect: estimate, interval, verdict.</summary>
    public const string Comparisons = "design_comparisons.csv";
    /// <summary>The reference arm's learning-rate sweep on the validation split.</summary>
    public const string LrSweep = "design_lr_sweep.csv";
    /// <summary>Per-step gradient norms of the scaling and chained families.</summary>
    public const string GradNorms = "design_grad_norms.csv";
    /// <summary>Theorem 2: second moments per (scaling, rank, seed).</summary>
    public const string Moments = "design_moments.csv";
    /// <summary>Theorem 2: fitted slopes with intervals.</summary>
    public const string Slopes = "design_slopes.csv";
    /// <summary>Theorem 2 in training: the update's second moment through every scaling run.</summary>
    public const string UpdateMoments = "design_update_moments.csv";
    /// <summary>Rank stability in training: slopes against r1 r2 per scaling.</summary>
    public const string Stability = "design_stability.csv";
    /// <summary>The summary text, also logged.</summary>
    public const string SummaryText = "summary.txt";
    /// <summary>The paper's values, under reference/.</summary>
    public const string PaperReference = "design_ablations.csv";

    /// <summary>Every CSV a run writes (families not run leave theirs header-only).</summary>
    public static readonly IReadOnlyList<string> Written =
        [LrSweep, Runs, Summary, Comparisons, GradNorms, Moments, Slopes, UpdateMoments, Stability];

    /// <summary>Figure base names, one per family (Theorem 2 beside scaling).</summary>
    public const string InitFigure = "design_init", ScalingFigure = "design_scaling", TheoremFigure = "design_theorem2",
        AlphaFigure = "design_alpha", SplitFigure = "design_split", RankFigure = "design_rank",
        ChainedFigure = "design_chained", StabilityFigure = "design_stability", AlphaCodeFigure = "design_alpha_code";

    /// <summary>Every figure, each with the paper artefact it shows.</summary>
    public static readonly IReadOnlyList<FigureInfo> Figures =
    [
        new(InitFigure, "Table 3"), new(ScalingFigure, "Figure 5"), new(TheoremFigure, "Theorem 2"),
        new(AlphaFigure, "Table 8"), new(AlphaCodeFigure, "Table 8"), new(SplitFigure, "Table 5"),
        new(RankFigure, "Table 9"),
        new(ChainedFigure, "Table 7, Figure 6"), new(StabilityFigure, "Figure 5, Theorem 2"),
    ];
}
