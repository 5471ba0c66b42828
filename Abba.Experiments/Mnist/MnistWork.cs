using System.Diagnostics;
using Abba.Core.Analysis;
using Abba.Core.Training;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static TorchSharp.torch;

namespace Abba.Experiments.Mnist;

/// <summary>One fine-tuning arm's row, its per-step losses, and (when kept) its checkpoints.</summary>
public sealed record ArmResult(MnistRunRow Row, float[] Losses,
    IReadOnlyList<(int Step, Tensor Parameters)>? Checkpoints, IReadOnlyDictionary<string, UpdateSpectrum> Spectra);

/// <summary>
/// What the units of one planned run compute. It remembers, within this process only, what is expensive and
/// deterministic: the loaded splits, each seed's pre-trained weights (also in the file cache,
/// <see cref="PretrainCache"/>), and the first seed's checkpoints kept by the process that trained the arm (the
/// landscape's unit retrains an arm whose checkpoints it lacks). None of it changes a result.
/// </summary>
public sealed class MnistWork(MnistOptions o, int firstSeed)
{
    TransferData? transfer;
    readonly Dictionary<int, Dictionary<string, Tensor>> weights = [];
    readonly Dictionary<string, IReadOnlyList<(int Step, Tensor Parameters)>> checkpoints = [];

    TransferData Data => transfer ??= TransferData.Load(o, MnistSeeds.Split(firstSeed));

    /// <summary>Pre-training of <paramref name="seed"/>, scored on the 0-7 test images.</summary>
    public MnistPretrainRow PretrainRow(ExperimentContext ctx, int seed)
    {
        var split = Data;
        using var model = MlpTransfer.NewModel(o.Hidden);
        MlpTransfer.LoadWeights(model, Weights(ctx, seed));
        return new MnistPretrainRow(seed, Classifier.Accuracy(model, split.Test07.Images, split.Test07.Labels),
            Classifier.MeanLoss(model, split.Test07.Images, split.Test07.Labels));
    }

    /// <summary>Pre-trained weights of <paramref name="seed"/>: in memory, in the cache, or pre-trained now (and
    /// cached).</summary>
    Dictionary<string, Tensor> Weights(ExperimentContext ctx, int seed)
    {
        if (weights.TryGetValue(seed, out var known)) return known;
        var settings = new PretrainSettings(o.Hidden, o.PretrainEpochs, o.PretrainBatchSize, o.PretrainLearningRate);
        var cache = new PretrainCache(ctx.OutputDir, new { settings, seed, seeding = "unit-seeds" }, seed);
        if (cache.TryLoad() is { } cached)
        {
            ctx.Log.Info($"seed {seed}: re-using pre-trained weights from {cache.WeightsPath}");
            return weights[seed] = cached;
        }
        var split = Data;
        int total = (int)(o.PretrainEpochs * split.Pretrain.Count / o.PretrainBatchSize);
        using var task = ctx.Progress.Start($"pre-training on 0-7 (seed {seed})", total);
        using var model = MlpTransfer.Pretrain(split.Pretrain, settings, MnistSeeds.Pretrain(seed),
            _ => task.Advance());
        double accuracy = Classifier.Accuracy(model, split.Test07.Images, split.Test07.Labels);
        if (accuracy < o.PretrainMinimumAccuracy)
            throw new InvalidOperationException($"pre-training reached {accuracy:P2} test accuracy on 0-7, below the " +
                $"required {o.PretrainMinimumAccuracy:P0}; raise the pre-training epochs.");
        var made = MlpTransfer.CopyWeights(model);
        cache.Save(made, new Dictionary<string, string> { ["test_acc_0_7"] = $"{accuracy:R}" });
        ctx.Log.Info($"seed {seed}: pre-trained to {accuracy:P2} on 0-7 test; cached at {cache.WeightsPath}");
        return weights[seed] = made;
    }

    /// <summary>One sweep run: <paramref name="arm"/> at <paramref name="rate"/>, scored on the validation
    /// split.</summary>
    public MnistSweepRow SweepRun(ExperimentContext ctx, MnistArm arm, double rate, int seed)
    {
        var split = Data;
        using var run = MlpTransfer.FineTune(Weights(ctx, seed), o.Hidden, arm.Config, split.FineTune,
            new FineTuneSettings(o.Steps, o.BatchSize, rate),
            MnistSeeds.SweepBatches(seed), MnistSeeds.SweepAdapters(arm.Method, seed));
        double loss = Classifier.MeanLoss(run.Model, split.Validation.Images, split.Validation.Labels);
        return new MnistSweepRow(arm.Method, rate, seed, double.IsFinite(loss) ? loss : double.PositiveInfinity,
            Classifier.Accuracy(run.Model, split.Validation.Images, split.Validation.Labels),
            MnistEffects.StepsTo([.. run.StepLosses.Select(l => (double)l)]), Chosen: false, ChosenForSpeed: false);
    }

    /// <summary>One fine-tuning arm at its swept <paramref name="rate"/>; the first seed's keep their
    /// checkpoints for the landscape.</summary>
    public ArmUnit Arm(ExperimentContext ctx, MnistArm arm, double rate, int seed, bool keepCheckpoints)
    {
        var run = FineTuneArm(o, Data, Weights(ctx, seed), arm, rate, seed, keepCheckpoints);
        if (run.Checkpoints is { } c) checkpoints[arm.Method] = c;
        return new ArmUnit(run.Row, run.Losses, run.Spectra);
    }

    /// <summary>The landscape of the first seed, from the kept checkpoints (or retrained arms).</summary>
    public LandscapeUnit Landscape(ExperimentContext ctx, IReadOnlyList<MnistArm> arms,
        IReadOnlyDictionary<string, double> rates)
    {
        var split = Data;
        var start = Weights(ctx, firstSeed);
        var trajectories = arms.ToDictionary(a => a.Method, a => checkpoints.TryGetValue(a.Method, out var kept) ? kept
            : FineTuneArm(o, split, start, a, rates[a.Method], firstSeed, keepCheckpoints: true).Checkpoints!);
        try { return LandscapeAnalysis.Compute(ctx, o, split, start, arms, trajectories, firstSeed); }
        finally
        {
            foreach (var t in trajectories.Values.SelectMany(c => c)) t.Parameters.Dispose();
            checkpoints.Clear();
        }
    }

    /// <summary>
    /// <paramref name="arm"/> on <paramref name="seed"/> at the rate chosen for speed; when that is the rate chosen for
    /// the loss, the arm unit's own curve (<paramref name="atLossRate"/>) is that run and nothing is trained again.
    /// </summary>
    public MnistSpeedRow SpeedRun(ExperimentContext ctx, MnistArm arm, double rate, double lossRate, int seed,
        Func<ArmUnit> atLossRate)
    {
        if (rate == lossRate)
            return new MnistSpeedRow(seed, arm.Method, rate,
                MnistEffects.StepsTo([.. atLossRate().Losses.Select(l => (double)l)]), SameAsLossRate: true);
        var run = FineTuneArm(o, Data, Weights(ctx, seed), arm, rate, seed, keepCheckpoints: false);
        return new MnistSpeedRow(seed, arm.Method, rate, MnistEffects.StepsTo([.. run.Losses.Select(l => (double)l)]),
            SameAsLossRate: false);
    }

    /// <summary>
    /// Seed <paramref name="seed"/>'s arms against that seed's own optimum: the optimum is trained from the seed's own
    /// pre-trained W0 (as the landscape's first optimum is from the first seed's), and each arm is fine-tuned again at
    /// its tuned rate with the seed's own batches and adapters, which gives the arm unit's model.
    /// </summary>
    public SeedClosenessUnit SeedCloseness(ExperimentContext ctx, IReadOnlyList<MnistArm> arms,
        IReadOnlyDictionary<string, double> rates, int seed)
    {
        var split = Data;
        var start = Weights(ctx, seed);
        using var task = ctx.Progress.Start($"seed {seed}: its own optimum and its arms", o.OptimumMaxSteps);
        var settings = new OptimumSettings(o.OptimumMaxSteps, o.OptimumBatchSize, o.OptimumLearningRate,
            o.OptimumGradientTolerance, o.OptimumCheckEvery);
        using var optimum = Optimum.Train(start, o.Hidden, split.FineTune, settings, MnistSeeds.Optimum(seed, 1),
            _ => task.Advance());
        var rows = new List<MnistSeedClosenessRow>();
        foreach (var arm in arms)
        {
            var kept = FineTuneArm(o, split, start, arm, rates[arm.Method], seed, keepCheckpoints: true).Checkpoints!;
            try
            {
                var (kl, agreement, distance) = LandscapeAnalysis.Against(o, split, optimum.Parameters,
                    kept[^1].Parameters);
                rows.Add(new MnistSeedClosenessRow(seed, arm.Method, kl.Average(), agreement, distance,
                    optimum.Steps, optimum.Converged, optimum.GradientNorm));
            }
            finally { foreach (var c in kept) c.Parameters.Dispose(); }
        }
        return new SeedClosenessUnit(rows);
    }

    /// <summary>Fine-tunes <paramref name="arm"/> from <paramref name="weights"/> for replicate
    /// <paramref name="seed"/> and scores it.</summary>
    public static ArmResult FineTuneArm(MnistOptions o, TransferData split, IReadOnlyDictionary<string, Tensor> weights,
        MnistArm arm, double rate, int seed, bool keepCheckpoints, IProgressTask? task = null)
    {
        var clock = Stopwatch.StartNew();
        var settings = new FineTuneSettings(o.Steps, o.BatchSize, rate, keepCheckpoints ? o.Checkpoints : 0);
        var run = MlpTransfer.FineTune(weights, o.Hidden, arm.Config, split.FineTune, settings,
            MnistSeeds.FineTuneBatches(seed), MnistSeeds.FineTuneAdapters(arm.Method, seed), _ => task?.Advance());
        using (run.Model)
        {
            var m = run.Model;
            var row = new MnistRunRow(Seed: seed, Method: arm.Method, Rank: arm.Config.BudgetRank,
                Params: run.TrainableParameters, LearningRate: rate,
                TrainLoss: Classifier.MeanLoss(m, split.FineTune.Images, split.FineTune.Labels),
                TestLoss: Classifier.MeanLoss(m, split.Test89.Images, split.Test89.Labels),
                TestLoss07: Classifier.MeanLoss(m, split.Test07.Images, split.Test07.Labels),
                Acc89: Classifier.Accuracy(m, split.Test89.Images, split.Test89.Labels),
                Acc07: Classifier.Accuracy(m, split.Test07.Images, split.Test07.Labels),
                AccAll: Classifier.Accuracy(m, split.TestAll.Images, split.TestAll.Labels),
                Seconds: clock.Elapsed.TotalSeconds);
            // the energy share is that of LoRA's rank at the run's budget, r, for every method
            var spectra = UpdateSpectrum.OfLearnedUpdates(m, weights, MlpTransfer.Targets, o.Rank);
            return new ArmResult(row, run.StepLosses, keepCheckpoints ? run.Checkpoints : null, spectra);
        }
    }
}
