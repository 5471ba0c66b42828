using CsvHelper;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Ablation;

/// <summary>One fine-tuning run (or the pre-trained model before fine-tuning) scored on the held-out F test
/// set.</summary>
[CsvRecord]
public partial record AblationRow
{
    /// <summary>abba, lora, hira, full_ft, or pretrained (no fine-tuning).</summary>
    [CsvColumn("method")] public string Method { get; init; } = "";
    /// <summary>Projection type adapted in every layer, all (the seven), model (every parameter) or none.</summary>
    [CsvColumn("target")] public string Target { get; init; } = "";
    /// <summary>tuned (the rate chosen on validation: the headline), fixed (--lr: every arm at one rate), shared (the
    /// sensitivity rows: the shared rate, sweep seeds only) or none.</summary>
    [CsvColumn("rate_choice")] public string RateChoice { get; init; } = "";
    /// <summary>Peak fine-tuning learning rate (0 for the pretrained row).</summary>
    [CsvColumn("rate")] public double Rate { get; init; }
    /// <summary>r (ABBA: r1 + r2); 0 for full fine-tuning.</summary>
    [CsvColumn("rank")] public int Rank { get; init; }
    /// <summary>Trainable parameters.</summary>
    [CsvColumn("params")] public long Params { get; init; }
    /// <summary>The pre-trained model fine-tuned (0, 1, ...: each pre-trained from its own seed).</summary>
    [CsvColumn("model")] public int Model { get; init; }
    /// <summary>Fine-tuning seed: the replicate, paired across arms (pre-training seed for the pretrained
    /// row).</summary>
    [CsvColumn("seed")] public int Seed { get; init; }
    /// <summary>Primary metric: teacher-forced answer-token cross-entropy on the held-out F test set (nats per
    /// token).</summary>
    [CsvColumn("test_ce")] public double TestCe { get; init; }
    /// <summary>Fraction of answer digits the greedy answer gets right.</summary>
    [CsvColumn("digit_accuracy")] public double DigitAccuracy { get; init; }
    /// <summary>Exact-match accuracy of greedy answers.</summary>
    [CsvColumn("exact_match")] public double ExactMatch { get; init; }
    /// <summary>Mean training loss of the last 10 steps (pretrained row: 0).</summary>
    [CsvColumn("final_loss")] public double FinalLoss { get; init; }
    /// <summary>Fine-tuning steps.</summary>
    [CsvColumn("steps")] public int Steps { get; init; }
    /// <summary>Wall time of the training loop (timing column: varies between runs).</summary>
    [CsvColumn("seconds")] public double Seconds { get; init; }
    /// <summary>SHA-256 (first 12 hex digits) of every problem the run trained on, in order: equal for all arms of a
    /// seed (paired data).</summary>
    [CsvColumn("batch_digest")] public string BatchDigest { get; init; } = "";
}

/// <summary>Training loss of one pre-training step.</summary>
[CsvRecord]
public partial record PretrainLossRow
{
    /// <summary>The pre-trained model.</summary>
    [CsvColumn("model")] public int Model { get; init; }
    /// <summary>Step, from 1.</summary>
    [CsvColumn("step")] public int Step { get; init; }
    /// <summary>Answer-token cross-entropy of the step's batch.</summary>
    [CsvColumn("loss")] public double Loss { get; init; }
}

/// <summary>Held-out accuracy of the model being pre-trained, at a checkpoint.</summary>
[CsvRecord]
public partial record PretrainAccuracyRow
{
    /// <summary>The pre-trained model.</summary>
    [CsvColumn("model")] public int Model { get; init; }
    /// <summary>Step, from 1.</summary>
    [CsvColumn("step")] public int Step { get; init; }
    /// <summary>add (task P) or subtract (task F).</summary>
    [CsvColumn("task")] public string Task { get; init; } = "";
    /// <summary>Exact-match accuracy on the held-out problems.</summary>
    [CsvColumn("accuracy")] public double Accuracy { get; init; }
}

/// <summary>One point of an arm's mean normalised spectrum: sigma_i / sigma_1 averaged over modules and
/// seeds.</summary>
[CsvRecord]
public partial record SpectrumCurveRow
{
    /// <summary>Method.</summary>
    [CsvColumn("method")] public string Method { get; init; } = "";
    /// <summary>What the arm adapts.</summary>
    [CsvColumn("target")] public string Target { get; init; } = "";
    /// <summary>i, from 1.</summary>
    [CsvColumn("index")] public int Index { get; init; }
    /// <summary>Mean of sigma_i / sigma_1 over the arm's modules and seeds.</summary>
    [CsvColumn("normalised_sigma")] public double NormalisedSigma { get; init; }
    /// <summary>Modules x seeds averaged.</summary>
    [CsvColumn("n")] public int N { get; init; }
}

/// <summary>One bar of the paper's Fig. 3 (reference/fig3_components.csv).</summary>
[CsvRecord]
public partial record PaperComponentRow
{
    /// <summary>mistral-7b.</summary>
    [CsvColumn("model")] public string Model { get; init; } = "";
    /// <summary>gsm8k or math.</summary>
    [CsvColumn("benchmark")] public string Benchmark { get; init; } = "";
    /// <summary>Projection type or all.</summary>
    [CsvColumn("target")] public string Target { get; init; } = "";
    /// <summary>Accuracy in percent.</summary>
    [CsvColumn("accuracy")] public double Accuracy { get; init; }
    /// <summary>digitised or verbatim.</summary>
    [CsvColumn("source")] public string Source { get; init; } = "";
}

/// <summary>The files the ablation writes and reads.</summary>
public static class AblationFiles
{
    /// <summary>One row per arm and seed, plus the pre-trained floor.</summary>
    public const string Runs = "ablation.csv";
    /// <summary>Per (method, target, rate choice, metric): mean and 95% interval over seeds.</summary>
    public const string Summary = "ablation_summary.csv";
    /// <summary>The learning-rate sweep on the validation split, with the chosen rates.</summary>
    public const string LrSweep = "lr_sweep.csv";
    /// <summary>Every tested effect: estimate, interval, verdict.</summary>
    public const string Comparisons = "ablation_comparisons.csv";
    /// <summary>Pre-training loss per step.</summary>
    public const string PretrainLoss = "pretrain_loss.csv";
    /// <summary>Held-out accuracy during pre-training.</summary>
    public const string PretrainAccuracy = "pretrain_accuracy.csv";
    /// <summary>The spectrum of every learned update of every tuned run.</summary>
    public const string Spectra = "ablation_spectra.csv";
    /// <summary>Each arm's mean normalised singular spectrum.</summary>
    public const string SpectrumCurves = "ablation_spectrum_curves.csv";
    /// <summary>The summary text, also logged.</summary>
    public const string SummaryText = "summary.txt";
    /// <summary>The paper's Fig. 3 bars, under reference/.</summary>
    public const string PaperReference = "fig3_components.csv";

    /// <summary>Every CSV a run writes.</summary>
    public static readonly IReadOnlyList<string> Written =
        [PretrainLoss, PretrainAccuracy, LrSweep, Runs, Summary, Comparisons, Spectra, SpectrumCurves];

    /// <summary>Figure base names.</summary>
    public const string ComponentsFigure = "ablation", PretrainingFigure = "pretraining",
        RankCurveFigure = "rank_curve", SpectraFigure = "spectra";
}
