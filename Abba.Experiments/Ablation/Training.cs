using Abba.Core.Data;
using Abba.Core.Models;
using Abba.Experiments.Arithmetic;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Experiments.Ablation;

/// <summary>The pre-training's stored result: its curves and the pre-trained model's score on the fine-tuning
/// task.</summary>
public sealed record PretrainUnit(
    IReadOnlyList<PretrainLossRow> Losses, IReadOnlyList<PretrainAccuracyRow> Accuracy, AblationRow BeforeFineTuning);

/// <summary>The result of one fine-tuning run (a unit's payload): scores on the validation and test splits.</summary>
public sealed record RunResult(string Method, string Target, double Rate, int Seed, int Rank, long Params,
    ArithmeticScore Validation, ArithmeticScore Test, double FinalLoss, int Steps, double Seconds, string BatchDigest)
{
    /// <summary>The run in one log line.</summary>
    public string OneLine() =>
        FormattableString.Invariant($"{Method} on {Target} (lr {Rate}, seed {Seed}, {Params} params): ") +
        FormattableString.Invariant($"validation CE {Validation.CrossEntropy:0.0000}, ") +
        FormattableString.Invariant($"test CE {Test.CrossEntropy:0.0000}, ") +
        FormattableString.Invariant($"exact match {100 * Test.ExactMatch:0.0}%, {Seconds:0.0}s");
}

/// <summary>
/// Seed identities. The split, the pre-trained model and the fine-tuning batches are shared by every arm of a
/// replicate (paired seeds: arms differ per seed only in what they adapt and how); only an arm's adapter
/// initialisation names the arm.
/// </summary>
static class AblationSeeds
{
    public static long Split(int seed) => UnitSeeds.Of(seed, "ablation/split");
    public static long Pretrain(int seed) => UnitSeeds.Of(seed, "ablation/pretrain");
    public static long PretrainBatches(int seed) => UnitSeeds.Of(seed, "ablation/pretrain/batches");
    public static long FineTuneBatches(int seed) => UnitSeeds.Of(seed, "ablation/finetune/batches");
    public static long Adapters(Arm arm, int seed) =>
        UnitSeeds.Of(seed, $"ablation/finetune/method={arm.Method.Name}/target={arm.Target.Name}");

    /// <summary>A run's unit identity; its adapter seed leaves the rate out, so the arms of a sweep start from the
    /// same adapters.</summary>
    public static string RunIdentity(Arm arm, double rate, int seed) => FormattableString.Invariant(
        $"ablation/run/method={arm.Method.Name}/target={arm.Target.Name}/lr={rate:R}/seed={seed}");
}

/// <summary>
/// The computations behind the units of one run: pre-training (shared with the other arithmetic experiments through
/// <see cref="DecoderRuns"/>) and fine-tuning one arm. The pre-trained weights are computed once per process and
/// kept: in memory, then in the cache under cache/ (keyed by settings and seed).
/// </summary>
sealed class AblationTraining(AblationOptions o, int pretrainSeed)
{
    readonly ArithmeticTask task = new(o.Digits);
    readonly Lazy<ArithmeticSplit> split = new(() => new ArithmeticSplit(
        new ArithmeticTask(o.Digits), o.TestSize, seed: AblationSeeds.Split(pretrainSeed), o.ValidationSize));
    Dictionary<string, Tensor>? weights;
    (List<PretrainLossRow> Losses, List<PretrainAccuracyRow> Accuracy)? curves;

    DecoderSetup Setup => new(o.Model, o.Digits, o.TestSize, o.ValidationSize, o.PretrainBatchSize, o.PretrainSteps,
        o.PretrainLearningRate, o.PretrainMix);

    PretrainCache Cache(ExperimentContext ctx) => DecoderRuns.Cache(ctx.OutputDir, Setup, pretrainSeed, ctx.Device);

    /// <summary>The pre-training unit: its curves and the pre-trained model on the F test set (the floor every arm
    /// starts from).</summary>
    public PretrainUnit PretrainUnit(ExperimentContext ctx)
    {
        var (losses, accuracy) = Curves(ctx);
        using var model = DecoderRuns.Load(o.Model, Weights(ctx), ctx.Device);
        var score = task.Score(model, split.Value.Test(ArithmeticOperation.Subtract), ctx.Device);
        var floor = new AblationRow
        {
            Method = "pretrained", Target = "none", RateChoice = RateChoice.None, Seed = pretrainSeed,
            TestCe = score.CrossEntropy, DigitAccuracy = score.DigitAccuracy, ExactMatch = score.ExactMatch,
        };
        return new PretrainUnit(losses, accuracy, floor);
    }

    /// <summary>Fine-tunes <paramref name="arm"/> at <paramref name="rate"/> on the batches of
    /// <paramref name="seed"/> (the same batches for every arm of this seed).</summary>
    public RunResult FineTune(ExperimentContext ctx, Arm arm, double rate, int seed)
    {
        var run = DecoderRuns.FineTune(ctx, o.Model, task, split.Value, Weights(ctx), arm.Target.Projections,
            arm.Config(o), AblationSeeds.Adapters(arm, seed), AblationSeeds.FineTuneBatches(seed), o.FinetuneSteps,
            o.FinetuneBatchSize, rate);
        return new RunResult(arm.Method.Name, arm.Target.Name, rate, seed, arm.Rank(o), run.Params, run.Validation,
            run.Test,
            run.Losses.TakeLast(10).Average(), o.FinetuneSteps, run.Seconds, run.BatchDigest);
    }

    /// <summary>The pre-trained weights: in memory, in the file cache, or pre-trained now.</summary>
    Dictionary<string, Tensor> Weights(ExperimentContext ctx)
    {
        if (weights is not null) return weights;
        var cache = Cache(ctx);
        if (cache.TryLoad() is { } cached)
        {
            ctx.Log.Info($"pre-trained model loaded from {Path.GetRelativePath(ctx.OutputDir, cache.WeightsPath)} " +
                         "(delete it, or run with --fresh, to pre-train again)");
            return weights = cached;
        }
        var (state, losses, accuracy) = PretrainFromScratch(ctx);
        cache.Save(state);
        curves = (losses, accuracy);
        return weights = state;
    }

    /// <summary>The pre-training curves: pre-trains (and caches the weights) unless this process just did.</summary>
    (List<PretrainLossRow> Losses, List<PretrainAccuracyRow> Accuracy) Curves(ExperimentContext ctx)
    {
        if (curves is { } known) return known;
        var (state, losses, accuracy) = PretrainFromScratch(ctx);
        Cache(ctx).Save(state);
        weights ??= state;
        return (curves = (losses, accuracy)).Value;
    }

    (Dictionary<string, Tensor> State, List<PretrainLossRow> Losses, List<PretrainAccuracyRow> Accuracy)
        PretrainFromScratch(ExperimentContext ctx)
    {
        var (state, losses, accuracy) = DecoderRuns.Pretrain(ctx, Setup, task, split.Value,
            AblationSeeds.Pretrain(pretrainSeed), AblationSeeds.PretrainBatches(pretrainSeed));
        return (state, [.. losses.Select((l, i) => new PretrainLossRow { Step = i + 1, Loss = l })],
                [.. accuracy.Select(a =>
                    new PretrainAccuracyRow { Step = a.Step, Task = TaskName(a.Operation), Accuracy = a.Accuracy })]);
    }

    static string TaskName(ArithmeticOperation op) => op == ArithmeticOperation.Add ? "add" : "subtract";
}
