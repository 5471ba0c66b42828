using Abba.Experiments.Pipeline;
using Abba.Experiments.Protocol;

namespace Abba.Experiments.Mnist;

/// <summary>
/// A planned mnist run: a pre-training per seed, one sweep run per (seed, arm, rate) on the first SweepSeeds seeds,
/// one fine-tuning arm per (seed, arm), and the landscape of the first seed. Arms need their seed's pre-training and
/// the whole sweep (for their rate); the landscape needs the first seed's arms' checkpoints.
/// </summary>
public sealed class MnistRun : IPlannedRun
{
    readonly MnistOptions o;
    readonly MnistPlan plan;

    /// <summary>Plans the run of <paramref name="options"/> over <paramref name="seeds"/>.</summary>
    public MnistRun(MnistOptions options, IReadOnlyList<int> seeds)
    {
        o = options;
        Seeds = seeds;
        plan = MnistPlan.Of(options, seeds);
        Units = [.. plan.Pretrain, .. plan.Sweep, .. plan.Arms, plan.Landscape, .. plan.Closeness, .. plan.Speed];
    }

    /// <inheritdoc />
    public object Options => o;
    /// <inheritdoc />
    public object UnitSettings => o with { DataFolder = "" };   // where MNIST lies does not change a result
    /// <inheritdoc />
    public IReadOnlyList<int> Seeds { get; }
    /// <inheritdoc />
    public IReadOnlyList<UnitPlan> Units { get; }

    /// <inheritdoc />
    public void Run(ExperimentContext ctx)
    {
        ctx.Log.Info($"data: pre-train on digits 0-7; fine-tune on 8-9 ({o.ValidationFraction:P0} held out for the " +
            "sweep); test on 8-9, 0-7 and all");
        ctx.WriteCsv(MnistFiles.Pretrain, plan.Pretrain.Select(ctx.Unit<MnistPretrainRow>));
        var sweep = plan.Sweep.Select(ctx.Unit<MnistSweepRow>).ToList();
        var chosen = MnistPlan.Chosen(sweep);
        MnistLog.Sweep(ctx, o, sweep, chosen);
        var forSpeed = MnistPlan.ChosenForSpeed(sweep);
        ctx.WriteCsv(MnistFiles.Sweep, sweep.Select(r => r with { Chosen = chosen[r.Method] == r.LearningRate,
            ChosenForSpeed = forSpeed[r.Method] == r.LearningRate }));
        var arms = MnistLog.Arms(ctx, plan.Arms);
        var runs = arms.Select(a => a.Row).ToList();
        var curves = arms.SelectMany(a => a.Losses.Select((l, i) => new MnistCurveRow(a.Row.Seed, a.Row.Method, i + 1,
            l)))
            .ToList();
        ctx.WriteCsv(MnistFiles.Runs, runs);
        ctx.WriteCsv(MnistFiles.Curves, curves);
        List<SpectrumRow> spectra =
            [.. arms.SelectMany(a => SpectrumRows.Of(a.Row.Method, "fc1,fc2", a.Row.Seed, a.Row.Seed, a.Spectra))];
        ctx.WriteCsv(MnistFiles.Spectra, spectra);
        MnistLog.Spectra(ctx, spectra);
        ctx.WriteCsv(MnistFiles.Summary, MnistSummary.Of(runs,
            ReferenceData.Read<PaperLossRow>(MnistFiles.PaperReference)));
        var landscape = ctx.Unit<LandscapeUnit>(plan.Landscape);
        ctx.WriteCsv(MnistFiles.Trajectories, landscape.Trajectories);
        ctx.WriteCsv(MnistFiles.Plane, [landscape.Plane]);
        ctx.WriteCsv(MnistFiles.Landscape, landscape.Grid);
        ctx.WriteCsv(MnistFiles.Optima, landscape.Optima);
        ctx.WriteCsv(MnistFiles.Closeness, landscape.Closeness);
        var seedCloseness = plan.Closeness.SelectMany(u => ctx.Unit<SeedClosenessUnit>(u).Rows).ToList();
        ctx.WriteCsv(MnistFiles.SeedCloseness, seedCloseness);
        var speed = plan.Speed.Select(ctx.Unit<MnistSpeedRow>).ToList();
        ctx.WriteCsv(MnistFiles.Speed, speed);
        var methods = MnistArm.All(o);
        ctx.WriteCsv(MnistFiles.Comparisons,
            [.. MnistEffects.Loss(runs, methods), .. MnistEffects.Speed(curves, methods), .. landscape.Effects,
             .. MnistEffects.Closeness(seedCloseness, methods), .. MnistEffects.SpeedAtSpeedRates(speed, methods)]);
        MnistLog.Landscape(ctx, landscape);
        ctx.Record(MnistFigures.Plot(ctx.OutputDir));
    }
}
