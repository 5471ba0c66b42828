using CsvHelper;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Efficiency;

/// <summary>Step time of one method on one case; every timing column is a median over interleaved rounds.</summary>
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
    [CsvColumn("step_over_lora")] double StepOverLora, [CsvColumn("step_over_base")] double? StepOverBase,
    [CsvColumn("inference_forward_over_lora")] double InferenceForwardOverLora);

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

    /// <summary>Every CSV a run writes.</summary>
    public static readonly IReadOnlyList<string> Written = [StepTime, Anatomy];

    /// <summary>Figure base names.</summary>
    public const string RatioFigure = "step_time_vs_lora", PhasesFigure = "step_phases",
        AnatomyFigure = "abba_forward_anatomy";
}
