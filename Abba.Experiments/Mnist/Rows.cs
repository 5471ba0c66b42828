using CsvHelper;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Mnist;

/// <summary>
/// One fine-tuning run (one seed, one method), scored after its last step: train_loss is the mean cross-entropy over
/// the
/// whole 8-9 training split, test_loss over the held-out 8-9 test images.
/// </summary>
[CsvRecord]
public sealed partial record MnistRunRow(
    [CsvColumn("seed")] int Seed, [CsvColumn("method")] string Method, [CsvColumn("rank")] int Rank,
        [CsvColumn("params")] long Params,
    [CsvColumn("learning_rate")] double LearningRate, [CsvColumn("train_loss")] double TrainLoss,
        [CsvColumn("test_loss")] double TestLoss,
    [CsvColumn("test_loss_0_7")] double TestLoss07, [CsvColumn("acc_8_9")] double Acc89,
    [CsvColumn("acc_0_7")] double Acc07, [CsvColumn("acc_all")] double AccAll, [CsvColumn("seconds")] double Seconds);

/// <summary>Per method: means, standard deviations and (losses) 95% t intervals over seeds, beside the paper's final
/// loss.</summary>
[CsvRecord]
public sealed partial record MnistSummaryRow(
    [CsvColumn("method")] string Method, [CsvColumn("rank")] int Rank, [CsvColumn("params")] long Params,
    [CsvColumn("learning_rate")] double LearningRate, [CsvColumn("seeds")] int Seeds,
    [CsvColumn("train_loss")] double TrainLoss, [CsvColumn("train_loss_std")] double TrainLossStd,
    [CsvColumn("train_loss_ci_low")] double TrainLossCiLow, [CsvColumn("train_loss_ci_high")] double TrainLossCiHigh,
    [CsvColumn("test_loss")] double TestLoss, [CsvColumn("test_loss_std")] double TestLossStd,
    [CsvColumn("test_loss_ci_low")] double TestLossCiLow, [CsvColumn("test_loss_ci_high")] double TestLossCiHigh,
    [CsvColumn("acc_8_9")] double Acc89, [CsvColumn("acc_8_9_std")] double Acc89Std,
    [CsvColumn("acc_0_7")] double Acc07, [CsvColumn("acc_0_7_std")] double Acc07Std,
    [CsvColumn("acc_all")] double AccAll, [CsvColumn("acc_all_std")] double AccAllStd,
    [CsvColumn("seconds")] double Seconds, [CsvColumn("paper_final_loss")] double? PaperFinalLoss);

/// <summary>Mini-batch training loss at one step.</summary>
[CsvRecord]
public sealed partial record MnistCurveRow([CsvColumn("seed")] int Seed, [CsvColumn("method")] string Method,
    [CsvColumn("step")] int Step, [CsvColumn("loss")] double Loss);

/// <summary>One learning rate tried for one method, scored on the validation split.</summary>
[CsvRecord]
public sealed partial record MnistSweepRow(
    [CsvColumn("method")] string Method, [CsvColumn("learning_rate")] double LearningRate, [CsvColumn("seed")] int Seed,
    [CsvColumn("val_loss")] double ValLoss, [CsvColumn("val_acc")] double ValAcc,
    [CsvColumn("steps_to_loss")] int StepsToLoss, [CsvColumn("chosen")] bool Chosen,
    [CsvColumn("chosen_for_speed")] bool ChosenForSpeed);

/// <summary>
/// One arm and seed fine-tuned at the rate chosen for speed (the sweep rate with the fewest mean steps to the loss
/// threshold on the sweep seeds): how many steps it took. A sensitivity of the speed claim, whose arms run at the rates
/// chosen for the final validation loss.
/// </summary>
[CsvRecord]
public sealed partial record MnistSpeedRow([CsvColumn("seed")] int Seed, [CsvColumn("method")] string Method,
    [CsvColumn("learning_rate")] double LearningRate, [CsvColumn("steps_to_loss")] int StepsToLoss,
    [CsvColumn("same_as_loss_rate")] bool SameAsLossRate);

/// <summary>
/// A checkpoint projected onto the landscape plane. loss: at the checkpoint's own weights; off_plane: distance to the
/// plane / distance to the start; distance_to_target: Euclidean distance to the first reference optimum in the full
/// parameter space.
/// </summary>
[CsvRecord]
public sealed partial record MnistTrajectoryRow(
    [CsvColumn("method")] string Method, [CsvColumn("checkpoint")] int Checkpoint, [CsvColumn("step")] int Step,
    [CsvColumn("x")] double X, [CsvColumn("y")] double Y, [CsvColumn("loss")] double Loss,
        [CsvColumn("off_plane")] double OffPlane,
    [CsvColumn("distance_to_target")] double DistanceToTarget);

/// <summary>
/// One reference optimum: full fine-tuning from the first seed's W0 with its own seed and batch order, stopped when the
/// full-batch training-loss gradient norm fell below the tolerance (converged) or at the step cap (not converged).
/// </summary>
[CsvRecord]
public sealed partial record MnistOptimumRow(
    [CsvColumn("optimum")] int Optimum, [CsvColumn("steps")] int Steps, [CsvColumn("max_steps")] int MaxSteps,
    [CsvColumn("converged")] bool Converged, [CsvColumn("gradient_norm")] double GradientNorm,
        [CsvColumn("tolerance")] double Tolerance,
    [CsvColumn("train_loss")] double TrainLoss, [CsvColumn("test_loss")] double TestLoss);

/// <summary>
/// How close one arm's final weights (first seed) are to one reference optimum. Primary: kl, the mean over the 8-9 test
/// images of KL(optimum || arm) of the predicted class distributions (nats), with a 95% t interval over images;
/// agreement:
/// share of test images with the same predicted class; weight_distance: Euclidean distance of the flattened effective
/// parameters. kl_rank and distance_rank order the arms (1 = closest).
/// </summary>
[CsvRecord]
public sealed partial record MnistClosenessRow(
    [CsvColumn("optimum")] int Optimum, [CsvColumn("method")] string Method, [CsvColumn("kl")] double Kl,
    [CsvColumn("kl_ci_low")] double KlCiLow, [CsvColumn("kl_ci_high")] double KlCiHigh,
        [CsvColumn("agreement")] double Agreement,
    [CsvColumn("weight_distance")] double WeightDistance, [CsvColumn("kl_rank")] int KlRank,
        [CsvColumn("distance_rank")] int DistanceRank);

/// <summary>
/// One seed's arm against that seed's own reference optimum: full fine-tuning from the seed's own pre-trained W0 (its
/// own seed and batch order, the fixed optimum rate, stopped on the full-batch gradient). KL(optimum || arm) is the
/// mean over the 8-9 test images; agreement is the share of test images where the two predict the same class.
/// </summary>
[CsvRecord]
public sealed partial record MnistSeedClosenessRow([CsvColumn("seed")] int Seed, [CsvColumn("method")] string Method,
    [CsvColumn("kl")] double Kl, [CsvColumn("agreement")] double Agreement,
    [CsvColumn("weight_distance")] double WeightDistance, [CsvColumn("optimum_steps")] int OptimumSteps,
    [CsvColumn("optimum_converged")] bool OptimumConverged,
    [CsvColumn("optimum_gradient_norm")] double OptimumGradientNorm);

/// <summary>Loss at one point of the landscape grid.</summary>
[CsvRecord]
public sealed partial record MnistLandscapeRow([CsvColumn("x")] double X, [CsvColumn("y")] double Y,
    [CsvColumn("loss")] double Loss);

/// <summary>The landscape plane: share of the checkpoints' squared displacement from W0 along each axis.</summary>
[CsvRecord]
public sealed partial record MnistPlaneRow([CsvColumn("explained_x")] double ExplainedX,
    [CsvColumn("explained_y")] double ExplainedY, [CsvColumn("points")] int Points);

/// <summary>Pre-training result per seed.</summary>
[CsvRecord]
public sealed partial record MnistPretrainRow([CsvColumn("seed")] int Seed,
    [CsvColumn("test_acc_0_7")] double TestAcc07, [CsvColumn("test_loss_0_7")] double TestLoss07);

/// <summary>A row of the paper's reference table (reference/fig1_mnist.csv).</summary>
[CsvRecord]
public sealed partial record PaperLossRow([CsvColumn("method")] string Method,
    [CsvColumn("final_loss")] double FinalLoss, [CsvColumn("source")] string Source);

/// <summary>The files the mnist experiment writes and reads.</summary>
public static class MnistFiles
{
    /// <summary>Pre-training result per seed.</summary>
    public const string Pretrain = "mnist_pretrain.csv";
    /// <summary>The learning-rate sweep.</summary>
    public const string Sweep = "mnist_lr_sweep.csv";
    /// <summary>One row per (seed, method) run.</summary>
    public const string Runs = "mnist_runs.csv";
    /// <summary>Mini-batch loss per step.</summary>
    public const string Curves = "mnist_curves.csv";
    /// <summary>The singular spectrum of every learned update (fc1, fc2) of every run; model = seed (each seed
    /// pre-trains its own model).</summary>
    public const string Spectra = "mnist_spectra.csv";
    /// <summary>Per method, over seeds.</summary>
    public const string Summary = "mnist_summary.csv";
    /// <summary>Checkpoints projected onto the landscape plane.</summary>
    public const string Trajectories = "mnist_trajectories.csv";
    /// <summary>The landscape plane's explained shares.</summary>
    public const string Plane = "mnist_plane.csv";
    /// <summary>Loss over the landscape grid.</summary>
    public const string Landscape = "mnist_landscape.csv";
    /// <summary>The reference optima and their convergence.</summary>
    public const string Optima = "mnist_optima.csv";
    /// <summary>Each arm's function-space and weight-space closeness to each optimum.</summary>
    public const string Closeness = "mnist_closeness.csv";
    /// <summary>Each arm and seed at the rate chosen for speed.</summary>
    public const string Speed = "mnist_speed_rates.csv";
    /// <summary>Each seed's arms against that seed's own optimum.</summary>
    public const string SeedCloseness = "mnist_closeness_seeds.csv";
    /// <summary>Paired differences ABBA - each other method, with intervals and verdicts.</summary>
    public const string Comparisons = "mnist_comparisons.csv";
    /// <summary>The paper's final losses, under reference/.</summary>
    public const string PaperReference = "fig1_mnist.csv";

    /// <summary>Every CSV a run writes, in the order it writes them.</summary>
    public static readonly IReadOnlyList<string> Written = [Pretrain, Sweep, Runs, Curves, Spectra, Summary,
        Trajectories, Plane, Landscape, Optima, Closeness, SeedCloseness, Speed, Comparisons];

    /// <summary>Figure base names.</summary>
    public const string LossFigure = "mnist_loss_curves", LandscapeFigure = "mnist_landscape",
        AccuracyFigure = "mnist_accuracy";
}
