using Abba.Core.Analysis;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Protocol;

namespace Abba.Experiments.Mnist;

/// <summary>A fine-tuning arm's stored result: its row, its per-step losses and the singular spectrum of each update
/// it learned (fc1, fc2).</summary>
public sealed record ArmUnit(MnistRunRow Row, float[] Losses, IReadOnlyDictionary<string, UpdateSpectrum> Spectra);

/// <summary>The landscape's stored result: projected checkpoints, the plane, the loss grid, the reference optima, each
/// arm's closeness to them and the closeness effects.</summary>
public sealed record LandscapeUnit(IReadOnlyList<MnistTrajectoryRow> Trajectories, MnistPlaneRow Plane,
    IReadOnlyList<MnistLandscapeRow> Grid, IReadOnlyList<MnistOptimumRow> Optima,
    IReadOnlyList<MnistClosenessRow> Closeness, IReadOnlyList<ComparisonRow> Effects);

/// <summary>One seed's closeness unit: each of its arms against its own optimum.</summary>
/// <param name="Rows">One row per arm.</param>
public sealed record SeedClosenessUnit(IReadOnlyList<MnistSeedClosenessRow> Rows);

/// <summary>
/// The mnist run's units, typed by kind. A unit that needs another asks for it: stored results are loaded, missing
/// ones computed (deterministically) and stored, so shards that need the same prerequisite compute identical copies.
/// Costs are in fine-tuning steps.
/// </summary>
/// <param name="Pretrain">One pre-training per seed, in seed order.</param>
/// <param name="Sweep">One sweep run per (seed, arm, rate) of the first SweepSeeds seeds.</param>
/// <param name="Arms">One fine-tuning arm per (seed, arm).</param>
/// <param name="Landscape">The reference optima and the landscape of the first seed.</param>
/// <param name="Closeness">Per seed, its own optimum and its arms against it.</param>
/// <param name="Speed">Per (seed, arm), the run at the rate chosen for speed.</param>
public sealed record MnistPlan(IReadOnlyList<UnitPlan> Pretrain, IReadOnlyList<UnitPlan> Sweep,
    IReadOnlyList<UnitPlan> Arms, UnitPlan Landscape, IReadOnlyList<UnitPlan> Closeness, IReadOnlyList<UnitPlan> Speed)
{
    /// <summary>The units of <paramref name="o"/> over <paramref name="seeds"/>, sharing one <see cref="MnistWork"/>
    /// (the loaded data, pre-trained weights and kept checkpoints of this process).</summary>
    public static MnistPlan Of(MnistOptions o, IReadOnlyList<int> seeds)
    {
        int first = seeds[0];
        var work = new MnistWork(o, first);
        var arms = MnistArm.All(o);
        double pretrainSteps = o.PretrainEpochs * 48_000.0 / o.PretrainBatchSize * 2;
        UnitPlan[] pretrain = [.. seeds.Select(s => new UnitPlan($"mnist/pretrain/seed={s}", pretrainSteps,
            ctx => work.PretrainRow(ctx, s)))];
        UnitPlan[] sweep =
        [
            .. from seed in seeds.Take(o.SweepSeeds) from arm in arms from rate in o.SweepLearningRates
               select new UnitPlan($"mnist/sweep/method={arm.Method}/lr={rate:R}/seed={seed}", o.Steps,
                   ctx => work.SweepRun(ctx, arm, rate, seed)),
        ];
        Dictionary<string, double> Rates(ExperimentContext ctx) => Chosen(sweep.Select(ctx.Unit<MnistSweepRow>));
        UnitPlan[] fineTune =
        [
            .. from seed in seeds from arm in arms
               select new UnitPlan($"mnist/finetune/method={arm.Method}/seed={seed}", o.Steps,
                   ctx => work.Arm(ctx, arm, Rates(ctx)[arm.Method], seed, keepCheckpoints: seed == first)),
        ];
        var landscape = new UnitPlan($"mnist/landscape/seed={first}",
            o.Optima * o.OptimumMaxSteps / 4.0 + 2.0 * o.GridSize * o.GridSize,
            ctx => work.Landscape(ctx, arms, Rates(ctx)));
        UnitPlan[] closeness =
        [
            .. seeds.Select(seed => new UnitPlan($"mnist/closeness/seed={seed}",
                o.OptimumMaxSteps / 4.0 + arms.Count * o.Steps,
                ctx => work.SeedCloseness(ctx, arms, Rates(ctx), seed))),
        ];
        Dictionary<string, double> SpeedRates(ExperimentContext ctx) =>
            ChosenForSpeed(sweep.Select(ctx.Unit<MnistSweepRow>));
        UnitPlan[] speed =
        [
            .. from seed in seeds from arm in arms
               let atLossRate = fineTune.Single(u => u.Identity == $"mnist/finetune/method={arm.Method}/seed={seed}")
               select new UnitPlan($"mnist/speed/method={arm.Method}/seed={seed}", o.Steps,
                   ctx => work.SpeedRun(ctx, arm, SpeedRates(ctx)[arm.Method], Rates(ctx)[arm.Method], seed,
                       () => ctx.Unit<ArmUnit>(atLossRate))),
        ];
        return new MnistPlan(pretrain, sweep, fineTune, landscape, closeness, speed);
    }

    /// <summary>Per method, the sweep rate with the fewest mean steps to the loss threshold (ties: the lower mean
    /// validation loss, then the lower rate).</summary>
    public static Dictionary<string, double> ChosenForSpeed(IEnumerable<MnistSweepRow> sweep) =>
        sweep.GroupBy(r => r.Method).ToDictionary(g => g.Key, g => g.GroupBy(r => r.LearningRate)
            .OrderBy(r => r.Average(x => x.StepsToLoss)).ThenBy(r => r.Average(x => x.ValLoss)).ThenBy(r => r.Key)
            .First().Key);

    /// <summary>Per method, the rate with the lowest mean validation loss over the sweep seeds (ties: the smaller
    /// rate).</summary>
    public static Dictionary<string, double> Chosen(IEnumerable<MnistSweepRow> sweep) =>
        sweep.GroupBy(r => r.Method).ToDictionary(g => g.Key, g => g.GroupBy(r => r.LearningRate)
            .OrderBy(r => r.Average(x => x.ValLoss)).ThenBy(r => r.Key).First().Key);
}

/// <summary>What the run says as it goes: the chosen rates, each arm, the optima and the plane.</summary>
static class MnistLog
{
    /// <summary>Each method's chosen rate and its mean validation loss.</summary>
    public static void Sweep(ExperimentContext ctx, MnistOptions o, IReadOnlyList<MnistSweepRow> sweep,
        IReadOnlyDictionary<string, double> chosen)
    {
        int seeds = sweep.Select(r => r.Seed).Distinct().Count();
        foreach (var (method, rate) in chosen)
        {
            string edge = RateSweep.AtEdge(rate, o.SweepLearningRates) ? " [at the edge of the grid]" : "";
            double mean = sweep.Where(r => r.Method == method && r.LearningRate == rate).Average(r => r.ValLoss);
            ctx.Log.Info($"sweep: {method} -> lr {rate:g3} (mean validation loss {mean:0.0000} over {seeds} " +
                $"seed(s)){edge}");
        }
    }

    /// <summary>Every fine-tuning arm's result, logged as it comes.</summary>
    public static IReadOnlyList<ArmUnit> Arms(ExperimentContext ctx, IReadOnlyList<UnitPlan> arms) =>
        ctx.UnitsOf<ArmUnit>("fine-tuning arms", arms, unit => OneLine(unit.Row));

    static string OneLine(MnistRunRow r) =>
        $"seed {r.Seed} {r.Method,-7} lr {r.LearningRate:g3}: train loss {r.TrainLoss:0.0000}, " +
        $"test loss {r.TestLoss:0.0000}, acc 8-9 {r.Acc89:P1}, 0-7 {r.Acc07:P1}, all {r.AccAll:P1} " +
        $"({r.Seconds:0.0}s)";

    /// <summary>Each method's learned updates in one line: mean stable rank and singular values above 1% over its
    /// modules and seeds.</summary>
    public static void Spectra(ExperimentContext ctx, IReadOnlyList<SpectrumRow> rows)
    {
        foreach (var g in rows.GroupBy(r => r.Method))
            ctx.Log.Info($"{g.Key,-7} learned updates: stable rank {g.Average(r => r.StableRank):0.00}, " +
                         $"{g.Average(r => r.AboveOnePercent):0.0} singular values above 1% of the largest, " +
                         $"top-{g.First().BudgetRank} energy {g.Average(r => r.TopEnergy):0.000} " +
                         $"(mean over {g.Count()} modules x seeds)");
    }

    /// <summary>Each optimum's convergence and the plane's explained shares.</summary>
    public static void Landscape(ExperimentContext ctx, LandscapeUnit landscape)
    {
        foreach (var m in landscape.Optima)
            ctx.Log.Info($"optimum {m.Optimum}: {(m.Converged ? "converged" : "NOT converged")} after {m.Steps} " +
                $"steps, " +
                $"|grad| {m.GradientNorm:g3}, train loss {m.TrainLoss:0.00000}, test loss {m.TestLoss:0.0000}");
        ctx.Log.Info($"landscape plane: x (towards optimum 1) {landscape.Plane.ExplainedX:P1}, " +
            $"y {landscape.Plane.ExplainedY:P1} of the squared displacement");
    }
}
