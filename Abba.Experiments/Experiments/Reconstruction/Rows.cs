using CsvHelper;

namespace Abba.Experiments.Experiments.Reconstruction;

/// <summary>One reconstruction of one target. Empty budget/r1/r2 for LoRA and HiRA; empty paper_value where the paper has none.</summary>
[CsvRecord]
public sealed partial record ReconstructionRow(
    [CsvColumn("matrix_type")] string MatrixType, [CsvColumn("n")] int N, [CsvColumn("method")] string Method,
    [CsvColumn("budget")] string Budget, [CsvColumn("rank")] int Rank, [CsvColumn("r1")] int? R1, [CsvColumn("r2")] int? R2,
    [CsvColumn("params")] long Params, [CsvColumn("seed")] int Seed, [CsvColumn("rel_sq_error")] double RelSqError,
    [CsvColumn("rank_bound_error")] double RankBoundError, [CsvColumn("paper_value")] double? PaperValue,
    [CsvColumn("steps")] int Steps, [CsvColumn("fit_seconds")] double FitSeconds);

/// <summary>A digitised point of the paper's Figure 2 (reference/fig2_reconstruction.csv).</summary>
[CsvRecord]
public sealed partial record PaperReconstructionRow(
    [CsvColumn("matrix_type")] string MatrixType, [CsvColumn("rank")] int Rank, [CsvColumn("method")] string Method,
    [CsvColumn("r1")] int R1, [CsvColumn("r2")] int R2, [CsvColumn("rel_sq_error")] double RelSqError, [CsvColumn("source")] string Source);

/// <summary>The files the reconstruction experiment writes and reads.</summary>
public static class ReconstructionFiles
{
    /// <summary>The results table.</summary>
    public const string Csv = "reconstruction.csv";
    /// <summary>The printed summary, saved.</summary>
    public const string Summary = "reconstruction_summary.md";
    /// <summary>The figure's base name.</summary>
    public const string Figure = "reconstruction";
    /// <summary>The paper's digitised Figure 2, under reference/.</summary>
    public const string PaperReference = "fig2_reconstruction.csv";
}
