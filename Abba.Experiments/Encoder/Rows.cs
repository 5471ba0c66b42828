using CsvHelper;
using Abba.Experiments.Units;

namespace Abba.Experiments.Encoder;

/// <summary>The files the encoder experiment writes.</summary>
public static class EncoderFiles
{
    /// <summary>One row per final run.</summary>
    public const string Runs = "encoder_runs.csv";
    /// <summary>One row per learning-rate sweep run.</summary>
    public const string LrSweep = "encoder_lr_sweep.csv";
    /// <summary>Mean and interval over seeds per arm and metric.</summary>
    public const string Summary = "encoder_summary.csv";
    /// <summary>Every tested effect with its interval and verdict.</summary>
    public const string Comparisons = "encoder_comparisons.csv";
    /// <summary>One row per arm: peak memory of its training, measured in a fresh process, and its speed.</summary>
    public const string Memory = "encoder_memory.csv";
    /// <summary>The singular spectrum of every learned update of every final run.</summary>
    public const string Spectra = "encoder_spectra.csv";
    /// <summary>The summary text.</summary>
    public const string SummaryText = "encoder_summary.txt";
    /// <summary>Methods at the shared budget, with intervals.</summary>
    public const string MethodsFigure = "encoder_methods";
    /// <summary>ABBA on each projection kind alone and on all.</summary>
    public const string ProjectionsFigure = "encoder_projections";
    /// <summary>The LoRA rank curve.</summary>
    public const string RankCurveFigure = "encoder_rank_curve";

    /// <summary>The CSVs, in the order they are written.</summary>
    public static readonly IReadOnlyList<string> Written = [LrSweep, Runs, Spectra, Summary, Comparisons, Memory];
}

/// <summary>How an arm's learning rate was set.</summary>
public static class EncoderRateChoice
{
    /// <summary>The rate chosen on the validation split: the headline.</summary>
    public const string Tuned = "tuned";
    /// <summary>--lr: every arm at one rate.</summary>
    public const string Fixed = "fixed";
    /// <summary>The method's grid holds one rate (the quick profile): not tuned.</summary>
    public const string Single = "single";
}

/// <summary>One final fine-tuning run scored on the test prefix.</summary>
[CsvRecord]
public partial record EncoderRow
{
    /// <summary>The arm (e.g. abba_all, lora, lora_quarter, abba_query).</summary>
    [CsvColumn("arm")] public string Arm { get; init; } = "";
    /// <summary>lora, hira, dora, abba, full_ft or head_only.</summary>
    [CsvColumn("method")] public string Method { get; init; } = "";
    /// <summary>A projection kind, all (the six), model (every parameter) or none (the head alone).</summary>
    [CsvColumn("target")] public string Target { get; init; } = "";
    /// <summary>tuned (chosen on validation), single (the method's one rate, not tuned) or fixed (--lr).</summary>
    [CsvColumn("rate_choice")] public string RateChoice { get; init; } = "";
    /// <summary>Peak learning rate.</summary>
    [CsvColumn("rate")] public double Rate { get; init; }
    /// <summary>LoRA-equivalent rank (ABBA: r1 + r2); 0 for full fine-tuning and the head alone.</summary>
    [CsvColumn("rank")] public int Rank { get; init; }
    /// <summary>Trainable parameters, the classifier head included.</summary>
    [CsvColumn("params")] public long Params { get; init; }
    /// <summary>Replicate seed (paired across arms).</summary>
    [CsvColumn("seed")] public int Seed { get; init; }
    /// <summary>Primary metric: mean cross-entropy of the true supersense on the test prefix (nats).</summary>
    [CsvColumn("test_ce")] public double TestCe { get; init; }
    /// <summary>Test accuracy.</summary>
    [CsvColumn("test_accuracy")] public double TestAccuracy { get; init; }
    /// <summary>Test macro-F1 over supersenses.</summary>
    [CsvColumn("test_macro_f1")] public double TestMacroF1 { get; init; }
    /// <summary>Validation cross-entropy (what chose the rate).</summary>
    [CsvColumn("validation_ce")] public double ValidationCe { get; init; }
    /// <summary>Mean training loss of the last 10 steps.</summary>
    [CsvColumn("final_loss")] public double FinalLoss { get; init; }
    /// <summary>Training steps.</summary>
    [CsvColumn("steps")] public int Steps { get; init; }
    /// <summary>Wall time of the training loop (timing column: varies between runs).</summary>
    [CsvColumn("seconds")] public double Seconds { get; init; }
    /// <summary>Real training tokens per second (timing column).</summary>
    [CsvColumn("timing_tokens_per_second")] public double TokensPerSecond { get; init; }
    /// <summary>Fraction of training token slots that are padding.</summary>
    [CsvColumn("padded_share")] public double PaddedShare { get; init; }
    /// <summary>SHA-256 (12 hex digits) of the training example order: equal for all arms of a seed.</summary>
    [CsvColumn("batch_digest")] public string BatchDigest { get; init; } = "";
}

/// <summary>One run of the learning-rate sweep, scored on the validation split.</summary>
[CsvRecord]
public partial record EncoderSweepRow
{
    /// <summary>The arm.</summary>
    [CsvColumn("arm")] public string Arm { get; init; } = "";
    /// <summary>Peak learning rate.</summary>
    [CsvColumn("rate")] public double Rate { get; init; }
    /// <summary>Seed.</summary>
    [CsvColumn("seed")] public int Seed { get; init; }
    /// <summary>Validation cross-entropy (what the choice minimises).</summary>
    [CsvColumn("validation_ce")] public double ValidationCe { get; init; }
    /// <summary>Validation accuracy (shown, not used for the choice).</summary>
    [CsvColumn("validation_accuracy")] public double ValidationAccuracy { get; init; }
    /// <summary>Whether this rate is the arm's choice.</summary>
    [CsvColumn("chosen")] public bool Chosen { get; init; }
    /// <summary>Whether the chosen rate is at an edge of the grid (the optimum may lie outside it).</summary>
    [CsvColumn("at_edge")] public bool AtEdge { get; init; }
}

/// <summary>Mean and 95% t interval over seeds of one metric of one arm.</summary>
[CsvRecord]
public partial record EncoderSummaryRow
{
    /// <summary>The arm.</summary>
    [CsvColumn("arm")] public string Arm { get; init; } = "";
    /// <summary>Its method.</summary>
    [CsvColumn("method")] public string Method { get; init; } = "";
    /// <summary>Its target.</summary>
    [CsvColumn("target")] public string Target { get; init; } = "";
    /// <summary>Its rank.</summary>
    [CsvColumn("rank")] public int Rank { get; init; }
    /// <summary>Its rate.</summary>
    [CsvColumn("rate")] public double Rate { get; init; }
    /// <summary>Trainable parameters.</summary>
    [CsvColumn("params")] public long Params { get; init; }
    /// <summary>test_ce, test_accuracy or test_macro_f1.</summary>
    [CsvColumn("metric")] public string Metric { get; init; } = "";
    /// <summary>Seeds.</summary>
    [CsvColumn("n")] public int N { get; init; }
    /// <summary>Mean over seeds.</summary>
    [CsvColumn("mean")] public double Mean { get; init; }
    /// <summary>Sample standard deviation.</summary>
    [CsvColumn("std")] public double Std { get; init; }
    /// <summary>Lower bound of the 95% t interval.</summary>
    [CsvColumn("ci_low")] public double CiLow { get; init; }
    /// <summary>Upper bound.</summary>
    [CsvColumn("ci_high")] public double CiHigh { get; init; }
}

/// <summary>One arm's training memory (measured in its own process on one fixed batch) and speed (from its
/// runs).</summary>
[CsvRecord]
public partial record EncoderMemoryRow
{
    /// <summary>The arm.</summary>
    [CsvColumn("arm")] public string Arm { get; init; } = "";
    /// <summary>Its method.</summary>
    [CsvColumn("method")] public string Method { get; init; } = "";
    /// <summary>Its target.</summary>
    [CsvColumn("target")] public string Target { get; init; } = "";
    /// <summary>Trainable parameters, the head included.</summary>
    [CsvColumn("params")] public long Params { get; init; }
    /// <summary>Glosses in the measured batch (the first training glosses).</summary>
    [CsvColumn("batch_size")] public int BatchSize { get; init; }
    /// <summary>The measured batch's padded length in tokens.</summary>
    [CsvColumn("seq_len")] public int SequenceLength { get; init; }
    /// <summary>Training steps in the measured window.</summary>
    [CsvColumn("steps")] public int Steps { get; init; }
    /// <summary>Memory in use before the model was built (measured).</summary>
    [CsvColumn("baseline_bytes")] public long BaselineBytes { get; init; }
    /// <summary>What building the classifier (weights, head, adapters) added (measured).</summary>
    [CsvColumn("model_bytes")] public long ModelBytes { get; init; }
    /// <summary>Peak during training above the baseline (measured).</summary>
    [CsvColumn("peak_bytes")] public long PeakBytes { get; init; }
    /// <summary>Peak above the built model: gradients, AdamW's moments and saved activations (measured).</summary>
    [CsvColumn("training_bytes")] public long TrainingBytes { get; init; }
    /// <summary>Mean real training tokens per second over the arm's final runs (timing column).</summary>
    [CsvColumn("timing_tokens_per_second")] public double TokensPerSecond { get; init; }
    /// <summary>What measured the memory.</summary>
    [CsvColumn("probe")] public string Probe { get; init; } = "";
}
