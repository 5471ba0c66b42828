using CsvHelper;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Efficiency;

/// <summary>
/// Step time of one method on one case. Timing columns are medians over interleaved rounds; the ratio to LoRA is the
/// median of the per-round ratios (each round times every method once), with its 95% bootstrap interval over rounds.
/// The floor is the step's least time on this machine (<see cref="StepCost"/>) at the GEMM rate and bandwidth libtorch
/// reached in the same rounds; achieved_fraction = floor / median step. Decoder cases have no floor (blank).
/// </summary>
[CsvRecord]
public sealed partial record EfficiencyRow(
    [CsvColumn("case")] string Case, [CsvColumn("kind")] string Kind, [CsvColumn("in_features")] int InFeatures,
        [CsvColumn("out_features")] int OutFeatures,
    [CsvColumn("tokens")] int Tokens, [CsvColumn("method")] string Method,
        [CsvColumn("trainable_params")] long TrainableParams, [CsvColumn("rounds")] int Rounds,
    [CsvColumn("timing_step_ms")] double TimingStepMs, [CsvColumn("timing_step_ms_p25")] double TimingStepMsP25,
        [CsvColumn("timing_step_ms_p75")] double TimingStepMsP75,
    [CsvColumn("timing_forward_ms")] double TimingForwardMs, [CsvColumn("timing_backward_ms")] double TimingBackwardMs,
    [CsvColumn("timing_optimiser_ms")] double TimingOptimiserMs,
        [CsvColumn("timing_inference_forward_ms")] double TimingInferenceForwardMs,
    [CsvColumn("step_over_lora")] double StepOverLora, [CsvColumn("step_over_lora_ci_low")] double StepOverLoraLow,
        [CsvColumn("step_over_lora_ci_high")] double StepOverLoraHigh,
    [CsvColumn("step_over_base")] double? StepOverBase,
    [CsvColumn("inference_forward_over_lora")] double InferenceForwardOverLora,
    [CsvColumn("machine_gflops")] double MachineGflops, [CsvColumn("machine_gb_per_s")] double MachineGbPerSecond,
    [CsvColumn("floor_gflop")] double? FloorGflop, [CsvColumn("floor_mb")] double? FloorMegabytes,
    [CsvColumn("floor_ms")] double? FloorMs, [CsvColumn("achieved_fraction")] double? AchievedFraction);

/// <summary>
/// One paired ratio of step times on one case: the median over rounds of numerator / denominator timed in the same
/// round, its 95% percentile bootstrap interval over rounds, and the interval's half-width as a share of the ratio.
/// </summary>
[CsvRecord]
public sealed partial record PairedRatioRow([CsvColumn("case")] string Case,
    [CsvColumn("numerator")] string Numerator, [CsvColumn("denominator")] string Denominator,
    [CsvColumn("rounds")] int Rounds, [CsvColumn("ratio")] double Ratio, [CsvColumn("ci_low")] double Low,
    [CsvColumn("ci_high")] double High, [CsvColumn("half_width")] double HalfWidth);

/// <summary>Median time of one piece of the ABBA (Khatri-Rao) and LoRA forward on one layer case.</summary>
[CsvRecord]
public sealed partial record AnatomyRow([CsvColumn("case")] string Case, [CsvColumn("piece")] string Piece,
    [CsvColumn("timing_ms")] double TimingMs);

/// <summary>The files the efficiency experiment writes.</summary>
public static class EfficiencyFiles
{
    /// <summary>Step times per case and method.</summary>
    public const string StepTime = "step_time.csv";
    /// <summary>The pieces of ABBA's and LoRA's forward.</summary>
    public const string Anatomy = "abba_forward_anatomy.csv";
    /// <summary>Paired step-time ratios with intervals.</summary>
    public const string Ratios = "paired_ratios.csv";

    /// <summary>Every CSV a run writes.</summary>
    public static readonly IReadOnlyList<string> Written = [StepTime, Ratios, Anatomy];

    /// <summary>Figure base names.</summary>
    public const string RatioFigure = "step_time_vs_lora", PhasesFigure = "step_phases",
        AnatomyFigure = "abba_forward_anatomy", RooflineFigure = "roofline";
}
