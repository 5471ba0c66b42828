using Abba.Core.Analysis;
using Abba.Core.Data;
using Abba.Core.Models;
using Abba.Experiments.Arithmetic;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Experiments.Ablation;

/// <summary>One pre-training's stored result: its curves and the pre-trained model's score on the fine-tuning
/// task.</summary>
public sealed record PretrainUnit(
    IReadOnlyList<PretrainLossRow> Losses, IReadOnlyList<PretrainAccuracyRow> Accuracy, AblationRow BeforeFineTuning);

/// <summary>The result of one fine-tuning run (a unit's payload): scores on the validation and test splits, and the
/// spectrum of every learned update.</summary>
public sealed record RunResult(string Method, string Target, double Rate, int Model, int Seed, int Rank, long Params,
    ArithmeticScore Validation, ArithmeticScore Test, double FinalLoss, int Steps, double Seconds, string BatchDigest,
    IReadOnlyDictionary<string, UpdateSpectrum> Spectra)
{
    /// <summary>The run in one log line.</summary>
    public string OneLine() =>
        FormattableString.Invariant($"{Method} on {Target} (lr {Rate}, seed {Seed}, {Params} params): ") +
        FormattableString.Invariant($"validation CE {Validation.CrossEntropy:0.0000}, ") +
        FormattableString.Invariant($"test CE {Test.CrossEntropy:0.0000}, ") +
        FormattableString.Invariant($"exact match {100 * Test.ExactMatch:0.0}%, {Seconds:0.0}s");
}

/// <summary>
/// Seed identities. The split is one for the whole run; the pre-trained model (one of several, each from its own
/// seed) and the fine-tuning batches are shared by every arm of a replicate (paired seeds: arms differ per seed only
/// in what they adapt and how); only an arm's adapter initialisation names the arm.
/// </summary>
static class AblationSeeds
{
    public static long Split(int seed) => UnitSeeds.Of(seed, "ablation/split");
    public static long Pretrain(int seed) => UnitSeeds.Of(seed, "ablation/pretrain");
    public static long PretrainBatches(int seed) => UnitSeeds.Of(seed, "ablation/pretrain/batches");
    public static long FineTuneBatches(int seed) => UnitSeeds.Of(seed, "ablation/finetune/batches");
    public static long Adapters(Arm arm, int seed) =>
        UnitSeeds.Of(seed, $"ablation/finetune/method={arm.Method.SeedName}/target={arm.Target.Name}");

    /// <summary>A run's unit identity; its adapter seed leaves the rate out, so the arms of a sweep start from the
    /// same adapters.</summary>
    public static string RunIdentity(Arm arm, double rate, int model, int seed) => FormattableString.Invariant(
        $"ablation/run/method={arm.Method.Name}/target={arm.Target.Name}/lr={rate:R}/model={model}/seed={seed}") +
        Copied(arm);

    /// <summary>A final run's unit identity: the arm at its chosen rate.</summary>
    public static string FinalIdentity(Arm arm, int model, int seed) =>
        $"ablation/final/method={arm.Method.Name}/target={arm.Target.Name}/model={model}/seed={seed}" + Copied(arm);

    // an arm that takes another method's initialisation says so in its identities
    static string Copied(Arm arm) => arm.Method.Copies is { } copied ? $"/adapters={copied}" : "";
}

/// <summary>
/// The computations behind the units of one run: pre-training each model (shared with the other arithmetic
/// experiments through <see cref="DecoderRuns"/>) and fine-tuning one arm. Model m is pre-trained from seed
/// <c>firstSeed + m</c>; the split comes from <c>firstSeed</c> for every model. Pre-trained weights are computed once
/// per process and kept: in memory, then in the cache under cache/ (keyed by settings and seed).
/// </summary>
sealed class AblationTraining(AblationOptions o, int firstSeed)
{
    readonly ArithmeticTask task = new(o.Digits);
    readonly Lazy<ArithmeticSplit> split = new(() => new ArithmeticSplit(
        new ArithmeticTask(o.Digits), o.TestSize, seed: AblationSeeds.Split(firstSeed), o.ValidationSize));
    readonly Dictionary<int, Dictionary<string, Tensor>> weights = [];
    readonly Dictionary<int, (List<PretrainLossRow> Losses, List<PretrainAccuracyRow> Accuracy)> curves = [];

    DecoderSetup Setup => new(o.Model, o.Digits, o.TestSize, o.ValidationSize, o.PretrainBatchSize, o.PretrainSteps,
        o.PretrainLearningRate, o.PretrainMix);

    int PretrainSeed(int model) => firstSeed + model;

    PretrainCache Cache(ExperimentContext ctx, int model) =>
        DecoderRuns.Cache(ctx.OutputDir, Setup, PretrainSeed(model), ctx.Device);

    /// <summary>The pre-training unit of <paramref name="model"/>: its curves and the pre-trained model on the F test
    /// set (the floor every arm on it starts from).</summary>
    public PretrainUnit PretrainUnit(ExperimentContext ctx, int model)
    {
        var (losses, accuracy) = Curves(ctx, model);
        using var decoder = DecoderRuns.Load(o.Model, Weights(ctx, model), ctx.Device);
        var score = task.Score(decoder, split.Value.Test(ArithmeticOperation.Subtract), ctx.Device);
        var floor = new AblationRow
        {
            Method = "pretrained", Target = "none", RateChoice = RateChoice.None, Model = model,
            Seed = PretrainSeed(model), TestCe = score.CrossEntropy, DigitAccuracy = score.DigitAccuracy,
            ExactMatch = score.ExactMatch,
        };
        return new PretrainUnit(losses, accuracy, floor);
    }

    /// <summary>Fine-tunes <paramref name="arm"/> at <paramref name="rate"/> on pre-trained <paramref name="model"/>
    /// with the batches of <paramref name="seed"/> (the same batches for every arm of this seed).</summary>
    public RunResult FineTune(ExperimentContext ctx, Arm arm, double rate, int model, int seed)
    {
        var run = DecoderRuns.FineTune(ctx, o.Model, task, split.Value, Weights(ctx, model), arm.Target.Projections,
            arm.Config(o), AblationSeeds.Adapters(arm, seed), AblationSeeds.FineTuneBatches(seed), o.FinetuneSteps,
            o.FinetuneBatchSize, rate, spectrumRank: o.Rank);
        return new RunResult(arm.Method.Name, arm.Target.Name, rate, model, seed, arm.Rank(o), run.Params,
            run.Validation, run.Test, run.Losses.TakeLast(10).Average(), o.FinetuneSteps, run.Seconds,
            run.BatchDigest, run.Spectra);
    }

    /// <summary>The pre-trained weights of <paramref name="model"/>: in memory, in the file cache, or pre-trained
    /// now.</summary>
    Dictionary<string, Tensor> Weights(ExperimentContext ctx, int model)
    {
        if (weights.TryGetValue(model, out var known)) return known;
        var cache = Cache(ctx, model);
        if (cache.TryLoad() is { } cached)
        {
            ctx.Log.Info($"pre-trained model {model} loaded from " +
                         $"{Path.GetRelativePath(ctx.OutputDir, cache.WeightsPath)} " +
                         "(delete it, or run with --fresh, to pre-train again)");
            return weights[model] = cached;
        }
        var (state, losses, accuracy) = PretrainFromScratch(ctx, model);
        cache.Save(state);
        curves[model] = (losses, accuracy);
        return weights[model] = state;
    }

    /// <summary>The pre-training curves of <paramref name="model"/>: pre-trains (and caches the weights) unless this
    /// process just did.</summary>
    (List<PretrainLossRow> Losses, List<PretrainAccuracyRow> Accuracy) Curves(ExperimentContext ctx, int model)
    {
        if (curves.TryGetValue(model, out var known)) return known;
        var (state, losses, accuracy) = PretrainFromScratch(ctx, model);
        Cache(ctx, model).Save(state);
        weights.TryAdd(model, state);
        return curves[model] = (losses, accuracy);
    }

    (Dictionary<string, Tensor> State, List<PretrainLossRow> Losses, List<PretrainAccuracyRow> Accuracy)
        PretrainFromScratch(ExperimentContext ctx, int model)
    {
        int seed = PretrainSeed(model);
        var (state, losses, accuracy) = DecoderRuns.Pretrain(ctx, Setup, task, split.Value,
            AblationSeeds.Pretrain(seed), AblationSeeds.PretrainBatches(seed));
        return (state, [.. losses.Select((l, i) => new PretrainLossRow { Model = model, Step = i + 1, Loss = l })],
                [.. accuracy.Select(a => new PretrainAccuracyRow
                {
                    Model = model, Step = a.Step, Task = TaskName(a.Operation), Accuracy = a.Accuracy,
                })]);
    }

    static string TaskName(ArithmeticOperation op) => op == ArithmeticOperation.Add ? "add" : "subtract";
}
