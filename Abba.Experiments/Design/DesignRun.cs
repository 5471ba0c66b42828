using Abba.Core.Adapters;
using Abba.Core.Analysis;
using Abba.Core.Data;
using Abba.Core.Models;
using Abba.Core.Randomness;
using Abba.Experiments.Arithmetic;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Protocol;
using Abba.Experiments.Units;
using static System.FormattableString;
using static TorchSharp.torch;

namespace Abba.Experiments.Design;

/// <summary>
/// A configured design run. Units: the pre-training of each model (the ablation's models: model m from seed first +
/// m; the i-th seed fine-tunes model i mod their count); every arm at every grid rate
/// on the sweep seeds (the arm whose gradients are zero by construction excepted); one final unit per (distinct arm,
/// seed), which picks the arm's own rate with the lowest mean validation cross-entropy and runs the arm at it (re-using
/// a sweep run where it is the same run); with the scaling family, one unit per seed of Theorem 2's Monte Carlo check.
/// The shared rate (the reference arm's) is read back from the sweep runs as a sensitivity row.
/// </summary>
public sealed class DesignRun : IPlannedRun
{
    readonly DesignOptions o;
    readonly List<Arm> arms;
    readonly Arm reference;
    readonly IReadOnlyList<UnitPlan> pretrain;
    readonly IReadOnlyList<UnitPlan> sweep, moments;
    readonly IReadOnlyList<(string Variant, int Seed, UnitPlan Unit)> finals;
    readonly Func<Arm, double, int, UnitPlan> runPlan;
    readonly Dictionary<int, Dictionary<string, Tensor>> weights = [];
    readonly Dictionary<int, int> modelOf;
    readonly int[] sweepSeeds;

    /// <summary>Plans the run of <paramref name="options"/> under <paramref name="settings"/>.</summary>
    public DesignRun(DesignOptions options, RunSettings settings)
    {
        o = options;
        Seeds = settings.SeedList(o.DefaultSeeds);
        arms = DesignFamily.ArmsOf(o);
        reference = DesignFamily.ReferenceArm(o);
        var seeds = Seeds;
        sweepSeeds = [.. seeds.Take(o.SweepSeeds)];
        var task = new ArithmeticTask(o.Digits);
        var setup = new DecoderSetup(o.Model, o.Digits, o.TestSize, o.ValidationSize, o.PretrainBatchSize,
            o.PretrainSteps, o.PretrainLearningRate, o.PretrainMix);
        var split = new Lazy<ArithmeticSplit>(() =>
            new ArithmeticSplit(task, o.TestSize, seed: DesignSeeds.Split(seeds[0]), o.ValidationSize));
        modelOf = seeds.Select((seed, i) => (seed, i)).ToDictionary(p => p.seed, p => p.i % o.PretrainModels);
        Dictionary<string, Tensor> Weights(ExperimentContext ctx, int model)
        {
            if (weights.TryGetValue(model, out var known)) return known;
            var cache = DecoderRuns.Cache(ctx.OutputDir, setup, seeds[0] + model, ctx.Device);
            if (cache.TryLoad() is { } cached) return weights[model] = cached;
            var (state, _, _) = DecoderRuns.Pretrain(ctx, setup, task, split.Value,
                DesignSeeds.Pretrain(seeds[0] + model), DesignSeeds.PretrainBatches(seeds[0] + model));
            cache.Save(state);
            return weights[model] = state;
        }
        pretrain = [.. Enumerable.Range(0, o.PretrainModels).Select(model => new UnitPlan(
            $"design/pretrain/model={model}/seed={seeds[0] + model}", o.PretrainSteps, ctx =>
        {
            using var decoder = DecoderRuns.Load(o.Model, Weights(ctx, model), ctx.Device);
            var data = split.Value;
            return new PretrainResult(model, seeds[0] + model,
                task.Score(decoder, data.Validation(ArithmeticOperation.Subtract), ctx.Device),
                task.Score(decoder, data.Test(ArithmeticOperation.Subtract), ctx.Device));
        }))];
        runPlan = (arm, rate, seed) => new(DesignSeeds.RunIdentity(arm, rate, modelOf[seed], seed), arm.Steps, ctx =>
        {
            int every = arm.Family == DesignFamily.Scaling ? Math.Max(1, arm.Steps / o.MomentCheckpoints) : 0;
            var run = DecoderRuns.FineTune(ctx, o.Model, task, split.Value, Weights(ctx, modelOf[seed]),
                LlamaConfig.ProjectionNames,
                arm.Config, DesignSeeds.Adapters(arm, seed), DesignSeeds.FineTuneBatches(seed), arm.Steps,
                o.FinetuneBatchSize, rate, momentEvery: every);
            return new RunResult(arm.Variant, rate, modelOf[seed], seed, run.Params, run.Validation, run.Test,
                run.Losses, run.GradientNorms, run.UpdateMoments, every, run.Seconds, run.BatchDigest);
        });
        var swept = arms.Append(reference).Where(a => a.Swept).DistinctBy(a => a.Variant).ToList();
        sweep = [.. from arm in swept from seed in sweepSeeds from rate in o.RateGrid select runPlan(arm, rate, seed)];
        UnitPlan Final(Arm arm, int seed) => new($"design/final/{arm.Variant}/model={modelOf[seed]}/seed={seed}",
            sweepSeeds.Contains(seed) && arm.Swept ? 1 : arm.Steps,
            ctx => ctx.Unit<RunResult>(runPlan(arm, TunedRate(ctx, arm), seed)));
        finals = [.. from seed in seeds
                     from arm in arms.DistinctBy(a => a.Variant)
                     select (arm.Variant, seed, Final(arm, seed))];
        moments = o.Families.Contains(DesignFamily.Scaling.Name)
            ? [.. seeds.Select(seed => new UnitPlan($"design/moments/seed={seed}", 1, _ => Moments(o, seed)))]
            : [];
    }

    /// <inheritdoc />
    public object Options => o;
    /// <inheritdoc />
    public IReadOnlyList<int> Seeds { get; }
    /// <inheritdoc />
    public IReadOnlyList<UnitPlan> Units => [.. pretrain, .. sweep, .. finals.Select(f => f.Unit), .. moments];

    /// <summary>The sweep runs of <paramref name="arm"/>, one per (sweep seed, grid rate).</summary>
    IEnumerable<RunResult> SweepOf(ExperimentContext ctx, Arm arm) =>
        from seed in sweepSeeds from rate in o.RateGrid select ctx.Unit<RunResult>(runPlan(arm, rate, seed));

    /// <summary>The reference arm's chosen rate: every arm's rate in the shared-rate sensitivity rows, and the rate of
    /// the arm that is not swept.</summary>
    double SharedRate(ExperimentContext ctx) =>
        RateSweep.Choose(SweepOf(ctx, reference).Select(r => SweepRow(reference, r))).Values.Single();

    /// <summary>The arm's own rate: its lowest mean validation CE over the sweep seeds.</summary>
    double TunedRate(ExperimentContext ctx, Arm arm) => arm.Swept
        ? RateSweep.Choose(SweepOf(ctx, arm).Select(r => SweepRow(arm, r))).Values.Single()
        : SharedRate(ctx);

    /// <inheritdoc />
    public void Run(ExperimentContext ctx)
    {
        ctx.Log.Info(DesignExperiment.Disclaimer);
        var floors = pretrain.Select(ctx.Unit<PretrainResult>).ToDictionary(f => f.Model);
        ctx.UnitsOf<RunResult>("learning-rate sweeps (every arm)", sweep, OneLine);
        var sweepRows = arms.Where(a => a.Swept).SelectMany(a => SweepOf(ctx, a).Select(r => SweepRow(a, r)))
            .ToList();
        ctx.WriteCsv(DesignFiles.LrSweep, RateSweep.MarkChosen(sweepRows));
        var finished = ctx.UnitsOf<RunResult>("fine-tuning arms at their own rates", [.. finals.Select(f => f.Unit)],
            OneLine);
        var results = finals.Zip(finished).ToDictionary(p => (p.First.Variant, p.First.Seed), p => p.Second);
        double shared = SharedRate(ctx);
        List<DesignRow> rows =
        [
            .. floors.Values.Select(f => new DesignRow
            {
                Family = DesignFamily.PretrainedName, Arm = "none", Variant = "none", RateChoice = "none",
                Model = f.Model, Seed = f.Seed, ValidationCe = f.Validation.CrossEntropy, TestCe = f.Test.CrossEntropy,
                DigitAccuracy = f.Test.DigitAccuracy, ExactMatch = f.Test.ExactMatch, Trained = false,
            }),
            .. from arm in arms from seed in Seeds
               let r = results[(arm.Variant, seed)]
               select Row(arm, DesignRow.Tuned, r, floors[r.Model]),
            .. from arm in arms where arm.Swept from seed in sweepSeeds
               let r = ctx.Unit<RunResult>(runPlan(arm, shared, seed))
               select Row(arm, DesignRow.Shared, r, floors[r.Model]),
        ];
        ctx.WriteCsv(DesignFiles.Runs, rows);
        ctx.WriteCsv(DesignFiles.GradNorms, GradNorms(results));
        ctx.WriteCsv(DesignFiles.UpdateMoments, UpdateMoments(results));
        var momentRows = moments.SelectMany(ctx.Unit<List<MomentRow>>).ToList();
        ctx.WriteCsv(DesignFiles.Moments, momentRows);
        ctx.WriteCsv(DesignFiles.Slopes, DesignSummary.Slopes(momentRows));
        ctx.WriteCsv(DesignFiles.Summary, DesignSummary.Summarise(rows));
        var paper = DesignSummary.PaperValues(ProgramFiles.Folder);
        ctx.WriteCsv(DesignFiles.Stability, DesignStability.Fit(rows, sweepRows));
        ctx.WriteCsv(DesignFiles.Comparisons, DesignSummary.Compare(rows, paper, ctx.OutputDir));
        string text = DesignSummary.SummaryText(ctx.OutputDir);
        ctx.WriteSummary(DesignFiles.SummaryText, text);
        ctx.Record(DesignFigures.Plot(ctx.OutputDir, ProgramFiles.Folder));
    }

    IEnumerable<GradNormRow> GradNorms(Dictionary<(string Variant, int Seed), RunResult> results) =>
        from arm in arms where arm.Family.WritesGradNorms
        from seed in Seeds
        let r = results[(arm.Variant, seed)]
        from step in Enumerable.Range(0, r.GradientNorms.Length)
        select new GradNormRow
        {
            Family = arm.Family.Name, Arm = arm.Name, Seed = seed, Step = step + 1,
            GradNorm = r.GradientNorms[step], Loss = r.Losses[step],
        };

    IEnumerable<UpdateMomentRow> UpdateMoments(Dictionary<(string Variant, int Seed), RunResult> results) =>
        from arm in arms where arm.Family == DesignFamily.Scaling
        from seed in Seeds
        let r = results[(arm.Variant, seed)]
        from k in Enumerable.Range(0, r.UpdateMoments.Length)
        select new UpdateMomentRow
        {
            Arm = arm.Name, Exponent = arm.Exponent, R1 = DesignSummary.PairRanks(arm.Ranks)[0],
            Scale = arm.Scale, Seed = seed, Step = (k + 1) * r.MomentEvery, Moment = r.UpdateMoments[k],
        };

    /// <summary>A pre-trained model's scores before fine-tuning (a unit's payload).</summary>
    public sealed record PretrainResult(int Model, int Seed, ArithmeticScore Validation, ArithmeticScore Test);

    /// <summary>The result of one fine-tuning run (a unit's payload).</summary>
    public sealed record RunResult(string Variant, double Rate, int Model, int Seed, long Params,
        ArithmeticScore Validation, ArithmeticScore Test, double[] Losses, double[] GradientNorms,
        double[] UpdateMoments, int MomentEvery, double Seconds, string BatchDigest);

    /// <summary>Theorem 2's moments at every (scaling, r1 = r2) for one seed, each from its own generator: a Monte
    /// Carlo check of the algebra (i.i.d. Gaussian factors), not of training.</summary>
    static List<MomentRow> Moments(DesignOptions o, int seed) =>
        [.. from e in o.ScalingExponents
            from r in o.MomentRanks
            let config = new AbbaConfig(r, r, Alpha: 1, AbbaScaling.RankPower, AllowRankAboveFull: true,
                RankExponent: e)
            let generator = UnitSeed.NewGenerator(DesignSeeds.Moments(e, r, seed))
            let draws = Enumerable.Range(0, o.MomentDraws)
                .Select(_ => RankStability.Measure(config, o.MomentWidth, o.MomentWidth, o.MomentTokens, generator))
                .ToArray()
            let expected = RankStability.Expected(config, o.MomentWidth, o.MomentWidth)
            select new MomentRow
            {
                Exponent = e, R1 = r, R2 = r, Seed = seed,
                OutputMoment = draws.Average(d => d.Output), GradientMoment = draws.Average(d => d.InputGradient),
                ExpectedOutput = expected.Output, ExpectedGradient = expected.InputGradient,
            }];

    static LrSweepRow SweepRow(Arm arm, RunResult r) => new()
    {
        Method = arm.Config.Method, Target = $"{arm.Family}/{arm.Name}", Rate = r.Rate, Seed = r.Seed,
        ValidationCe = r.Validation.CrossEntropy, ValidationExactMatch = r.Validation.ExactMatch,
    };

    static DesignRow Row(Arm arm, string choice, RunResult r, PretrainResult floor)
    {
        int half = r.GradientNorms.Length / 2;
        return new DesignRow
        {
            Family = arm.Family.Name, Arm = arm.Name, Reference = arm.Reference, Variant = arm.Variant,
            Ranks = arm.Ranks, Alpha = arm.Alpha, Scale = arm.Scale, Exponent = arm.Exponent, Steps = arm.Steps,
            RateChoice = choice, Rate = r.Rate, Params = r.Params, Model = r.Model, Seed = r.Seed,
            ValidationCe = r.Validation.CrossEntropy, TestCe = r.Test.CrossEntropy,
            DigitAccuracy = r.Test.DigitAccuracy, ExactMatch = r.Test.ExactMatch,
            Trained = r.Test.CrossEntropy < floor.Test.CrossEntropy,
            FinalLoss = r.Losses.TakeLast(10).Average(), GradNormPlateau = r.GradientNorms.Skip(half).Average(),
            GradNormMax = r.GradientNorms.Max(),
            UpdateMoment = r.UpdateMoments.Length > 0 ? r.UpdateMoments[^1] : double.NaN,
            Seconds = r.Seconds, BatchDigest = r.BatchDigest,
        };
    }

    static string OneLine(RunResult r)
    {
        double late = r.GradientNorms.Skip(r.GradientNorms.Length / 2).Average();
        return Invariant($"{r.Variant} (lr {r.Rate}, seed {r.Seed}, {r.Params} params): ") +
               Invariant($"validation CE {r.Validation.CrossEntropy:0.0000}, test CE {r.Test.CrossEntropy:0.0000}, ") +
               Invariant($"exact match {100 * r.Test.ExactMatch:0.0}%, late grad norm {late:0.000}, {r.Seconds:0.0}s");
    }
}

/// <summary>
/// Seed identities. The split and the pre-trained models are the ablation experiment's (same identities, same
/// settings: the same models); the fine-tuning batches are shared by every arm of a seed; the adapters' random draws
/// name only the pair ranks, so arms that differ in alpha, scaling or init start from the same draws.
/// </summary>
static class DesignSeeds
{
    public static long Split(int seed) => UnitSeeds.Of(seed, "ablation/split");
    public static long Pretrain(int seed) => UnitSeeds.Of(seed, "ablation/pretrain");
    public static long PretrainBatches(int seed) => UnitSeeds.Of(seed, "ablation/pretrain/batches");
    public static long FineTuneBatches(int seed) => UnitSeeds.Of(seed, "design/finetune/batches");
    public static long Adapters(Arm arm, int seed) => UnitSeeds.Of(seed, $"design/finetune/adapters/ranks={arm.Ranks}");
    public static long Moments(double exponent, int rank, int seed) =>
        UnitSeeds.Of(seed, Invariant($"design/moments/e={exponent:R}/r={rank}"));
    public static string RunIdentity(Arm arm, double rate, int model, int seed) =>
        Invariant($"design/run/{arm.Variant}/lr={rate:R}/model={model}/seed={seed}");
}
