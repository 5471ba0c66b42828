using Abba.Core.Adapters;
using Abba.Core.Training;
using Abba.Experiments.Protocol;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static TorchSharp.torch;

namespace Abba.Experiments.Mnist;

/// <summary>
/// The mnist run as units: a pre-training per seed, one sweep run per (seed, method, rate) on the first SweepSeeds seeds, one fine-tuning arm per
/// (seed, method), and the landscape. Arms need their seed's pre-training and the whole sweep (for their rate); the
/// landscape needs the first seed's arms' checkpoints. A unit that needs another asks for it: stored results are
/// loaded, missing ones computed (deterministically) and stored, so shards that need the same prerequisite compute
/// identical copies. Pre-trained weights come from the file cache (<see cref="PretrainCache"/>), or are pre-trained
/// again; checkpoints are kept in memory by the process that trained the arm, or retrained by the landscape's unit.
/// </summary>
public sealed partial class MnistExperiment
{
    /// <summary>A fine-tuning arm's stored result: its row and its per-step losses.</summary>
    public sealed record ArmUnit(MnistRunRow Row, float[] Losses);

    /// <summary>The landscape's stored result: projected checkpoints, the plane, the loss grid, the reference optima, each arm's closeness to them and the closeness effects.</summary>
    public sealed record LandscapeUnit(IReadOnlyList<MnistTrajectoryRow> Trajectories, MnistPlaneRow Plane, IReadOnlyList<MnistLandscapeRow> Grid,
        IReadOnlyList<MnistOptimumRow> Optima, IReadOnlyList<MnistClosenessRow> Closeness, IReadOnlyList<ComparisonRow> Effects);

    sealed record RunPlan(IReadOnlyDictionary<int, UnitPlan> Pretrain, IReadOnlyList<UnitPlan> Sweep, IReadOnlyList<UnitPlan> Arms, UnitPlan Landscape);

    TransferData? transfer;
    readonly Dictionary<int, Dictionary<string, Tensor>> weights = [];
    readonly Dictionary<string, IReadOnlyList<(int Step, Tensor Parameters)>> checkpoints = [];

    /// <inheritdoc />
    public IReadOnlyList<UnitPlan> PlanUnits(RunSettings settings)
    {
        var plan = Plan(settings);
        return [.. plan.Pretrain.Values, .. plan.Sweep, .. plan.Arms, plan.Landscape];
    }

    /// <summary>Costs in fine-tuning steps.</summary>
    RunPlan Plan(RunSettings settings)
    {
        var o = options ?? throw new InvalidOperationException("Configure the experiment before running it.");
        var seeds = settings.SeedList(o.Seeds);
        int first = seeds[0];
        double pretrainSteps = o.PretrainEpochs * 48_000.0 / o.PretrainBatchSize * 2;
        var pretrain = seeds.ToDictionary(s => s, s => new UnitPlan($"mnist/pretrain/seed={s}", pretrainSteps, ctx => PretrainRow(ctx, o, s)));
        var sweep = (from seed in seeds.Take(o.SweepSeeds) from method in Methods(o) from rate in o.SweepLearningRates
                     select new UnitPlan($"mnist/sweep/method={method.Method}/lr={rate:R}/seed={seed}", o.Steps, ctx => SweepRun(ctx, o, method, rate, seed))).ToArray();
        var arms = (from seed in seeds from method in Methods(o)
                    select new UnitPlan($"mnist/finetune/method={method.Method}/seed={seed}", o.Steps, ctx => Arm(ctx, o, method, seed, seed == first))).ToArray();
        var landscape = new UnitPlan($"mnist/landscape/seed={first}", o.Optima * o.OptimumMaxSteps / 4.0 + 2.0 * o.GridSize * o.GridSize, ctx => Landscape(ctx, o, first));
        return new RunPlan(pretrain, sweep, arms, landscape);
    }

    TransferData Data(ExperimentContext ctx, MnistOptions o) => transfer ??= TransferData.Load(o, Units.Split(ctx.Settings.SeedList(o.Seeds)[0]));

    MnistPretrainRow PretrainRow(ExperimentContext ctx, MnistOptions o, int seed)
    {
        var split = Data(ctx, o);
        return Pretrained(o, split, seed, Weights(ctx, o, seed));
    }

    /// <summary>Pre-trained weights of <paramref name="seed"/>: in memory, in the cache, or pre-trained now (and cached).</summary>
    Dictionary<string, Tensor> Weights(ExperimentContext ctx, MnistOptions o, int seed)
    {
        if (weights.TryGetValue(seed, out var known)) return known;
        var settings = new PretrainSettings(o.Hidden, o.PretrainEpochs, o.PretrainBatchSize, o.PretrainLearningRate);
        var cache = new PretrainCache(ctx.OutputDir, new { settings, seed, seeding = "unit-seeds" }, seed);
        if (cache.TryLoad() is { } cached)
        {
            ctx.Log.Info($"seed {seed}: re-using pre-trained weights from {cache.WeightsPath}");
            return weights[seed] = cached;
        }
        var split = Data(ctx, o);
        int total = (int)(o.PretrainEpochs * split.Pretrain.Count / o.PretrainBatchSize);
        using var task = ctx.Progress.Start($"pre-training on 0-7 (seed {seed})", total);
        using var model = MlpTransfer.Pretrain(split.Pretrain, settings, Units.Pretrain(seed), _ => task.Advance());
        double accuracy = Classifier.Accuracy(model, split.Test07.Images, split.Test07.Labels);
        if (accuracy < o.PretrainMinimumAccuracy)
            throw new InvalidOperationException($"pre-training reached {accuracy:P2} test accuracy on 0-7, below the required {o.PretrainMinimumAccuracy:P0}; raise the pre-training epochs.");
        var made = MlpTransfer.CopyWeights(model);
        cache.Save(made, new Dictionary<string, string> { ["test_acc_0_7"] = $"{accuracy:R}" });
        ctx.Log.Info($"seed {seed}: pre-trained to {accuracy:P2} on 0-7 test; cached at {cache.WeightsPath}");
        return weights[seed] = made;
    }

    static MnistPretrainRow Pretrained(MnistOptions o, TransferData split, int seed, IReadOnlyDictionary<string, Tensor> weights)
    {
        using var model = MlpTransfer.NewModel(o.Hidden);
        MlpTransfer.LoadWeights(model, weights);
        return new MnistPretrainRow(seed, Classifier.Accuracy(model, split.Test07.Images, split.Test07.Labels),
            Classifier.MeanLoss(model, split.Test07.Images, split.Test07.Labels));
    }

    MnistSweepRow SweepRun(ExperimentContext ctx, MnistOptions o, AdapterConfig method, double rate, int seed)
    {
        var split = Data(ctx, o);
        using var run = MlpTransfer.FineTune(Weights(ctx, o, seed), o.Hidden, method, split.FineTune, new FineTuneSettings(o.Steps, o.BatchSize, rate),
            Units.SweepBatches(seed), Units.SweepAdapters(method.Method, seed));
        double loss = Classifier.MeanLoss(run.Model, split.Validation.Images, split.Validation.Labels);
        return new MnistSweepRow(method.Method, rate, seed, double.IsFinite(loss) ? loss : double.PositiveInfinity,
            Classifier.Accuracy(run.Model, split.Validation.Images, split.Validation.Labels), Chosen: false);
    }

    /// <summary>Each method's swept learning rate (the sweep's units, loaded or computed).</summary>
    Dictionary<string, double> Rates(ExperimentContext ctx) =>
        Chosen(Plan(ctx.Settings).Sweep.Select(ctx.Unit<MnistSweepRow>));

    ArmUnit Arm(ExperimentContext ctx, MnistOptions o, AdapterConfig method, int seed, bool first)
    {
        var rate = Rates(ctx)[method.Method];
        var run = FineTuneArm(o, Data(ctx, o), Weights(ctx, o, seed), method, rate, seed, keepCheckpoints: first);
        if (run.Checkpoints is { } c) checkpoints[method.Method] = c;
        return new ArmUnit(run.Row, run.Losses);
    }

    LandscapeUnit Landscape(ExperimentContext ctx, MnistOptions o, int seed)
    {
        var split = Data(ctx, o);
        var start = Weights(ctx, o, seed);
        var rates = Rates(ctx);
        var trajectories = Methods(o).ToDictionary(m => m.Method, m => checkpoints.TryGetValue(m.Method, out var kept) ? kept
            : FineTuneArm(o, split, start, m, rates[m.Method], seed, keepCheckpoints: true).Checkpoints!);
        try { return ComputeLandscape(ctx, o, split, start, trajectories, seed); }
        finally
        {
            foreach (var t in trajectories.Values.SelectMany(c => c)) t.Parameters.Dispose();
            checkpoints.Clear();
        }
    }
}
