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
/// A configured design run. Units: the pre-training (first seed; the ablation's model); the reference arm at every
/// grid rate on the sweep seeds; one final unit per (distinct arm, seed), which picks the rate with the lowest mean
/// validation cross-entropy of the reference arm and runs the arm at it (re-using a sweep run where it is the same
/// run); with the scaling family, one unit per seed measuring Theorem 2's moments.
/// </summary>
public sealed class DesignRun : IPlannedRun
{
    readonly DesignOptions o;
    readonly List<Arm> arms;
    readonly UnitPlan pretrain;
    readonly IReadOnlyList<UnitPlan> sweep, moments;
    readonly IReadOnlyList<(string Variant, int Seed, UnitPlan Unit)> finals;
    readonly WeightsCache weights = new();
    readonly string sweepMethod;

    /// <summary>Plans the run of <paramref name="options"/> under <paramref name="settings"/>.</summary>
    public DesignRun(DesignOptions options, RunSettings settings)
    {
        o = options;
        Seeds = settings.SeedList(o.DefaultSeeds);
        arms = DesignFamily.ArmsOf(o);
        var seeds = Seeds;
        var sweepSeeds = seeds.Take(o.SweepSeeds).ToArray();
        var task = new ArithmeticTask(o.Digits);
        var setup = new DecoderSetup(o.Model, o.Digits, o.TestSize, o.ValidationSize, o.PretrainBatchSize,
            o.PretrainSteps, o.PretrainLearningRate, o.PretrainMix);
        var split = new Lazy<ArithmeticSplit>(() =>
            new ArithmeticSplit(task, o.TestSize, seed: DesignSeeds.Split(seeds[0]), o.ValidationSize));
        Dictionary<string, Tensor> Weights(ExperimentContext ctx) => weights.Get(() =>
        {
            var cache = DecoderRuns.Cache(ctx.OutputDir, setup, seeds[0], ctx.Device);
            if (cache.TryLoad() is { } cached) return cached;
            var (state, _, _) = DecoderRuns.Pretrain(ctx, setup, task, split.Value,
                DesignSeeds.Pretrain(seeds[0]), DesignSeeds.PretrainBatches(seeds[0]));
            cache.Save(state);
            return state;
        });
        pretrain = new UnitPlan($"design/pretrain/seed={seeds[0]}", o.PretrainSteps, ctx =>
        {
            using var model = DecoderRuns.Load(o.Model, Weights(ctx), ctx.Device);
            var score = task.Score(model, split.Value.Test(ArithmeticOperation.Subtract), ctx.Device);
            return new DesignRow
            {
                Family = DesignFamily.PretrainedName, Arm = "none", Variant = "none", Seed = seeds[0],
                TestCe = score.CrossEntropy, DigitAccuracy = score.DigitAccuracy, ExactMatch = score.ExactMatch,
            };
        });
        UnitPlan RunPlan(Arm arm, double rate, int seed) => new(DesignSeeds.RunIdentity(arm, rate, seed),
            o.FinetuneSteps, ctx =>
        {
            var run = DecoderRuns.FineTune(ctx, o.Model, task, split.Value, Weights(ctx), LlamaConfig.ProjectionNames,
                arm.Config, DesignSeeds.Adapters(arm, seed), DesignSeeds.FineTuneBatches(seed), o.FinetuneSteps,
                o.FinetuneBatchSize, rate);
            return new RunResult(arm.Variant, rate, seed, run.Params, run.Validation, run.Test, run.Losses,
                run.GradientNorms, run.Seconds, run.BatchDigest);
        });
        var reference = arms.First(a => a.Reference);
        sweepMethod = reference.Config.Method;
        sweep = [.. from seed in sweepSeeds from rate in o.RateGrid select RunPlan(reference, rate, seed)];
        double ChosenRate(ExperimentContext ctx) => RateSweep.Choose(
            from s in sweepSeeds from r in o.RateGrid select SweepRow(ctx.Unit<RunResult>(RunPlan(reference, r, s))))
            [(sweepMethod, SweepTarget)];
        UnitPlan Final(Arm arm, int seed) => new($"design/final/{arm.Variant}/seed={seed}",
            sweepSeeds.Contains(seed) && arm == reference ? 1 : o.FinetuneSteps,
            ctx => ctx.Unit<RunResult>(RunPlan(arm, ChosenRate(ctx), seed)));
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
    public IReadOnlyList<UnitPlan> Units => [pretrain, .. sweep, .. finals.Select(f => f.Unit), .. moments];

    /// <inheritdoc />
    public void Run(ExperimentContext ctx)
    {
        ctx.Log.Info(DesignExperiment.Disclaimer);
        var floor = ctx.Unit<DesignRow>(pretrain);
        var swept = ctx.UnitsOf<RunResult>("learning-rate sweep (reference arm)", sweep, OneLine);
        ctx.WriteCsv(DesignFiles.LrSweep, RateSweep.MarkChosen([.. swept.Select(SweepRow)]));
        var finished = ctx.UnitsOf<RunResult>("fine-tuning arms", [.. finals.Select(f => f.Unit)], OneLine);
        var results = finals.Zip(finished).ToDictionary(p => (p.First.Variant, p.First.Seed), p => p.Second);
        List<DesignRow> rows =
            [floor, .. from arm in arms from seed in Seeds select Row(arm, results[(arm.Variant, seed)])];
        ctx.WriteCsv(DesignFiles.Runs, rows);
        ctx.WriteCsv(DesignFiles.GradNorms, GradNorms(results));
        var momentRows = moments.SelectMany(ctx.Unit<List<MomentRow>>).ToList();
        ctx.WriteCsv(DesignFiles.Moments, momentRows);
        ctx.WriteCsv(DesignFiles.Slopes, DesignSummary.Slopes(momentRows));
        ctx.WriteCsv(DesignFiles.Summary, DesignSummary.Summarise(rows));
        var paper = DesignSummary.PaperValues(ProgramFiles.Folder);
        ctx.WriteCsv(DesignFiles.Comparisons, DesignSummary.Compare(rows, paper));
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

    /// <summary>The result of one fine-tuning run (a unit's payload).</summary>
    public sealed record RunResult(string Variant, double Rate, int Seed, long Params, ArithmeticScore Validation,
        ArithmeticScore Test, double[] Losses, double[] GradientNorms, double Seconds, string BatchDigest);

    /// <summary>Holds the pre-trained weights once loaded or trained, for every unit of this run.</summary>
    sealed class WeightsCache
    {
        Dictionary<string, Tensor>? weights;

        public Dictionary<string, Tensor> Get(Func<Dictionary<string, Tensor>> make) => weights ??= make();
    }

    /// <summary>Theorem 2's moments at every (scaling, r1 = r2) for one seed, each from its own generator.</summary>
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

    /// <summary>The target column of the sweep CSV: one sweep, of the reference arm (method: its adapter's).</summary>
    const string SweepTarget = "reference";

    LrSweepRow SweepRow(RunResult r) => new()
    {
        Method = sweepMethod, Target = SweepTarget, Rate = r.Rate, Seed = r.Seed,
        ValidationCe = r.Validation.CrossEntropy, ValidationExactMatch = r.Validation.ExactMatch,
    };

    static DesignRow Row(Arm arm, RunResult r)
    {
        int half = r.GradientNorms.Length / 2;
        return new DesignRow
        {
            Family = arm.Family.Name, Arm = arm.Name, Reference = arm.Reference, Variant = arm.Variant,
            Ranks = arm.Ranks, Alpha = arm.Alpha, Scale = arm.Scale, Rate = r.Rate, Params = r.Params, Seed = r.Seed,
            TestCe = r.Test.CrossEntropy, DigitAccuracy = r.Test.DigitAccuracy, ExactMatch = r.Test.ExactMatch,
            FinalLoss = r.Losses.TakeLast(10).Average(), GradNormPlateau = r.GradientNorms.Skip(half).Average(),
            GradNormMax = r.GradientNorms.Max(), Seconds = r.Seconds, BatchDigest = r.BatchDigest,
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
/// Seed identities. The split and the pre-trained model are the ablation experiment's (same identities, same
/// settings: the same model); the fine-tuning batches are shared by every arm of a seed; the adapters' random draws
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
    public static string RunIdentity(Arm arm, double rate, int seed) =>
        Invariant($"design/run/{arm.Variant}/lr={rate:R}/seed={seed}");
}
