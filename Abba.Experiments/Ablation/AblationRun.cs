using Abba.Core.Data;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Protocol;
using Abba.Experiments.Units;

namespace Abba.Experiments.Ablation;

/// <summary>
/// A configured ablation: the pre-training, the learning-rate sweep (sweep seeds x arms x grid) and the final runs
/// (seeds x arms), then the CSVs, the summary and the figures built from their rows.
/// </summary>
public sealed class AblationRun : IPlannedRun
{
    readonly AblationOptions o;

    /// <summary>Plans the run of <paramref name="options"/> under <paramref name="settings"/>.</summary>
    /// <remarks>
    /// The pre-training (first seed); one unit per (seed, method, target, rate) sweep run on the sweep seeds; one unit
    /// per (seed, arm) final run. A final run asks for its arm's sweep runs (stored, or computed by whichever shard
    /// lacks them), picks the rate with the lowest mean validation cross-entropy, and runs it, or re-uses the sweep run
    /// at that rate for a sweep seed. Every run needs the pre-trained weights: from memory, the file cache, or
    /// pre-trained again.
    /// </remarks>
    public AblationRun(AblationOptions options, RunSettings settings)
    {
        o = options;
        Seeds = settings.SeedList(o.DefaultSeeds);
        var sweepSeeds = Seeds.Take(o.SweepSeeds).ToArray();
        var training = new AblationTraining(o, Seeds[0]);
        Pretrain = new UnitPlan($"ablation/pretrain/seed={Seeds[0]}", o.PretrainSteps, training.PretrainUnit);
        UnitPlan RunPlan(Arm arm, double rate, int seed) => new(AblationSeeds.RunIdentity(arm, rate, seed),
            o.FinetuneSteps, ctx => training.FineTune(ctx, arm, rate, seed));
        var arms = Arm.Of(o);
        Sweep = o.FixedRate is not null ? [] :
            [.. from seed in sweepSeeds from arm in arms from rate in o.RateGrids[arm.Method.Name]
                select RunPlan(arm, rate, seed)];
        Finals =
        [
            .. from seed in Seeds
               from arm in arms
               select new UnitPlan($"ablation/final/method={arm.Method.Name}/target={arm.Target.Name}/seed={seed}",
                   o.FixedRate is null && sweepSeeds.Contains(seed) ? 1 : o.FinetuneSteps, ctx =>
                   {
                       double rate = o.FixedRate ?? RateSweep.Choose(
                           from s in sweepSeeds
                           from r in o.RateGrids[arm.Method.Name]
                           select SweepRow(ctx.Unit<RunResult>(RunPlan(arm, r, s))))
                           [(arm.Method.Name, arm.Target.Name)];
                       return ctx.Unit<RunResult>(RunPlan(arm, rate, seed));
                   }),
        ];
        Units = [Pretrain, .. Sweep, .. Finals];
    }

    /// <inheritdoc />
    public object Options => o;

    /// <inheritdoc />
    public IReadOnlyList<int> Seeds { get; }

    /// <inheritdoc />
    public IReadOnlyList<UnitPlan> Units { get; }

    UnitPlan Pretrain { get; }
    IReadOnlyList<UnitPlan> Sweep { get; }
    IReadOnlyList<UnitPlan> Finals { get; }

    /// <inheritdoc />
    public void Run(ExperimentContext ctx)
    {
        ctx.Log.Info(AblationExperiment.Disclaimer);
        var pretraining = ctx.Unit<PretrainUnit>(Pretrain);
        ctx.WriteCsv(AblationFiles.PretrainLoss, pretraining.Losses);
        ctx.WriteCsv(AblationFiles.PretrainAccuracy, pretraining.Accuracy);
        var sweep = ctx.UnitsOf<RunResult>("learning-rate sweep", Sweep, r => r.OneLine());
        var sweepRows = RateSweep.MarkChosen([.. sweep.Select(SweepRow)]);
        ctx.WriteCsv(AblationFiles.LrSweep, sweepRows);
        var finals = ctx.UnitsOf<RunResult>("fine-tuning arms", Finals, r => r.OneLine());
        var headline = o.FixedRate is null ? RateChoice.Tuned : RateChoice.Fixed;
        List<AblationRow> rows = [pretraining.BeforeFineTuning, .. finals.Select(r => Row(r, headline)),
                                  .. sweep.Where(r => r.Rate == o.SharedRate).Select(r => Row(r, RateChoice.Shared))];
        ctx.WriteCsv(AblationFiles.Runs, rows);
        var paper = AblationAnalysis.PaperComponents(ProgramFiles.Folder);
        var summary = AblationAnalysis.Summarise(rows);
        var comparisons = AblationAnalysis.Compare(rows, paper);
        ctx.WriteCsv(AblationFiles.Summary, summary);
        ctx.WriteCsv(AblationFiles.Comparisons, comparisons);
        string text = AblationAnalysis.SummaryText(
            o, rows, summary, sweepRows, comparisons, pretraining.Accuracy, paper);
        ctx.WriteSummary(AblationFiles.SummaryText, text);
        ctx.Record(AblationFigures.Plot(ctx.OutputDir, ProgramFiles.Folder));
    }

    static LrSweepRow SweepRow(RunResult r) => new()
    {
        Method = r.Method, Target = r.Target, Rate = r.Rate, Seed = r.Seed,
        ValidationCe = r.Validation.CrossEntropy, ValidationExactMatch = r.Validation.ExactMatch,
    };

    static AblationRow Row(RunResult r, string rateChoice) => new()
    {
        Method = r.Method, Target = r.Target, RateChoice = rateChoice, Rate = r.Rate, Rank = r.Rank, Params = r.Params,
        Seed = r.Seed, TestCe = r.Test.CrossEntropy, DigitAccuracy = r.Test.DigitAccuracy,
        ExactMatch = r.Test.ExactMatch,
        FinalLoss = r.FinalLoss, Steps = r.Steps, Seconds = r.Seconds, BatchDigest = r.BatchDigest,
    };
}
