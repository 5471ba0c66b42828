using CsvHelper;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Reconstruction;

/// <summary>
/// One reconstruction of one target. Empty budget/r1/r2 for LoRA and HiRA; empty paper_value where the paper has none.
/// rel_sq_error, steps and hit_cap are the paper-protocol fit's. The best_* columns are filled on the equal-budget
/// r1 = r2 = r/2 points only: the lowest error of the protocol fit and its settling fits (settle says why the point was
/// settled: loses = not below LoRA rank r on this seed, capped = stopped at the step cap; empty = not settled, best =
/// protocol),
/// which start won (protocol, svd_ones, random_k, warm), its ranks (warm is r - 1 / 1), its steps and whether it still
/// hit its cap.
/// </summary>
[CsvRecord]
public sealed partial record ReconstructionRow(
    [CsvColumn("matrix_type")] string MatrixType, [CsvColumn("n")] int N, [CsvColumn("method")] string Method,
    [CsvColumn("budget")] string Budget, [CsvColumn("rank")] int Rank, [CsvColumn("r1")] int? R1,
    [CsvColumn("r2")] int? R2,
    [CsvColumn("params")] long Params, [CsvColumn("seed")] int Seed, [CsvColumn("rel_sq_error")] double RelSqError,
    [CsvColumn("rank_bound_error")] double RankBoundError, [CsvColumn("paper_value")] double? PaperValue,
    [CsvColumn("steps")] int Steps, [CsvColumn("hit_cap")] bool HitCap, [CsvColumn("settle")] string Settle,
    [CsvColumn("best_rel_sq_error")] double? BestRelSqError, [CsvColumn("best_start")] string BestStart,
    [CsvColumn("best_r1")] int? BestR1, [CsvColumn("best_r2")] int? BestR2, [CsvColumn("best_steps")] int? BestSteps,
    [CsvColumn("best_hit_cap")] bool? BestHitCap, [CsvColumn("fit_seconds")] double FitSeconds)
{
    /// <summary>
    /// The error the verdicts rest on: the best found where the point was settled, else the protocol fit's.
    /// </summary>
    public double Best => BestRelSqError ?? RelSqError;

    /// <summary>The method, typed.</summary>
    public FitMethod Kind => FitMethods.Parse(Method);
}

/// <summary>
/// One settling fit of an equal-budget point (reconstruction_settle.csv): its start, ranks, step cap, error and steps,
/// beside the point's protocol fit and LoRA rank r on the same target.
/// </summary>
[CsvRecord]
public sealed partial record ReconstructionSettleRow(
    [CsvColumn("matrix_type")] string MatrixType, [CsvColumn("n")] int N, [CsvColumn("rank")] int Rank,
    [CsvColumn("seed")] int Seed,
    [CsvColumn("reason")] string Reason, [CsvColumn("start")] string Start, [CsvColumn("r1")] int R1,
    [CsvColumn("r2")] int R2,
    [CsvColumn("max_steps")] int MaxSteps, [CsvColumn("rel_sq_error")] double RelSqError,
    [CsvColumn("protocol_rel_sq_error")] double ProtocolRelSqError,
    [CsvColumn("lora_rel_sq_error")] double LoraRelSqError, [CsvColumn("steps")] int Steps,
    [CsvColumn("hit_cap")] bool HitCap,
    [CsvColumn("fit_seconds")] double FitSeconds);

/// <summary>A digitised point of the paper's Figure 2 (reference/fig2_reconstruction.csv).</summary>
[CsvRecord]
public sealed partial record PaperReconstructionRow(
    [CsvColumn("matrix_type")] string MatrixType, [CsvColumn("rank")] int Rank, [CsvColumn("method")] string Method,
    [CsvColumn("r1")] int R1, [CsvColumn("r2")] int R2, [CsvColumn("rel_sq_error")] double RelSqError,
    [CsvColumn("source")] string Source);

/// <summary>The files the reconstruction experiment writes and reads.</summary>
public static class ReconstructionFiles
{
    /// <summary>The results table.</summary>
    public const string Csv = "reconstruction.csv";
    /// <summary>The settling fits, one row per fit run.</summary>
    public const string Settle = "reconstruction_settle.csv";
    /// <summary>The printed summary, saved.</summary>
    public const string Summary = "reconstruction_summary.md";
    /// <summary>The figure's base name.</summary>
    public const string Figure = "reconstruction";
    /// <summary>The paper's digitised Figure 2, under reference/.</summary>
    public const string PaperReference = "fig2_reconstruction.csv";
}
