using CsvHelper;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Memory;

/// <summary>One measured reduced model beside the analytic model's prediction.</summary>
[CsvRecord]
public sealed partial record MemoryMeasuredRow(
    [CsvColumn("model")] string Model, [CsvColumn("method")] string Method, [CsvColumn("layers")] int Layers,
        [CsvColumn("vocab")] int Vocab,
    [CsvColumn("seq_len")] int SeqLen, [CsvColumn("trainable_params")] long TrainableParams,
        [CsvColumn("modelled_trainable_params")] long ModelledTrainableParams,
    [CsvColumn("measured_bytes")] long MeasuredBytes, [CsvColumn("modelled_bytes")] long ModelledBytes,
    [CsvColumn("modelled_over_measured")] double ModelledOverMeasured,
        [CsvColumn("within_tolerance")] bool WithinTolerance,
    [CsvColumn("baseline_bytes")] long BaselineBytes, [CsvColumn("modelled_peak_phase")] string ModelledPeakPhase,
    [CsvColumn("timing_step_seconds")] double TimingStepSeconds, [CsvColumn("probe")] string Probe);

/// <summary>
/// One reduced model measured in bfloat16 on the CPU beside two modelled peaks: under TorchSharp's semantics (what ran:
/// the check of the full-scale model's bf16 byte sizes) and under PyTorch's saved-for-backward retention (the
/// full-scale
/// branch, which no CPU run of this repository can measure; shown for the size of the gap).
/// </summary>
[CsvRecord]
public sealed partial record MemoryBFloat16Row(
    [CsvColumn("model")] string Model, [CsvColumn("method")] string Method, [CsvColumn("layers")] int Layers,
        [CsvColumn("vocab")] int Vocab,
    [CsvColumn("seq_len")] int SeqLen, [CsvColumn("dtype")] string Dtype,
        [CsvColumn("measured_bytes")] long MeasuredBytes,
    [CsvColumn("modelled_bytes")] long ModelledBytes, [CsvColumn("modelled_over_measured")] double ModelledOverMeasured,
    [CsvColumn("within_tolerance")] bool WithinTolerance,
        [CsvColumn("modelled_saved_for_backward_bytes")] long ModelledSavedForBackwardBytes,
    [CsvColumn("saved_for_backward_over_measured")] double SavedForBackwardOverMeasured,
        [CsvColumn("checks")] string Checks);

/// <summary>A full-scale model's modelled peak beside the paper's measured one.</summary>
[CsvRecord]
public sealed partial record MemoryModelledRow(
    [CsvColumn("model")] string Model, [CsvColumn("method")] string Method,
        [CsvColumn("trainable_params")] long TrainableParams,
    [CsvColumn("modelled_gb")] double ModelledGb, [CsvColumn("paper_gb")] double? PaperGb,
        [CsvColumn("modelled_over_paper")] double? ModelledOverPaper,
    [CsvColumn("peak_phase")] string PeakPhase, [CsvColumn("source")] string Source);

/// <summary>One component of a modelled peak.</summary>
[CsvRecord]
public sealed partial record MemoryBreakdownRow(
    [CsvColumn("scale")] string Scale, [CsvColumn("model")] string Model, [CsvColumn("method")] string Method,
    [CsvColumn("component")] string Component, [CsvColumn("bytes")] long Bytes);

/// <summary>The files the memory experiment writes.</summary>
public static class MemoryFiles
{
    /// <summary>Measured reduced models beside the analytic model.</summary>
    public const string Measured = "measured_reduced.csv";
    /// <summary>Reduced models measured in bfloat16 beside the analytic model.</summary>
    public const string BFloat16 = "measured_bf16.csv";
    /// <summary>Components of every modelled peak.</summary>
    public const string Breakdown = "breakdown.csv";
    /// <summary>Full-scale modelled peaks: written only when the analytic model matches every measurement.</summary>
    public const string FullScale = "modelled_full_scale.csv";

    /// <summary>The CSVs every run writes (<see cref="FullScale"/> only when the model holds).</summary>
    public static readonly IReadOnlyList<string> Written = [Measured, BFloat16, Breakdown];

    /// <summary>Figure base names (<see cref="Figure4"/> only with <see cref="FullScale"/>).</summary>
    public const string MeasuredFigure = "measured_vs_modelled", BreakdownFigure = "breakdown_full_scale",
        Figure4 = "fig4_modelled";
}
