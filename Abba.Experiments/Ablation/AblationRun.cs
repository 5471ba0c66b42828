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
        var model = Seeds.Select((seed, i) => (seed, i)).ToDictionary(x => x.seed, x => o.ModelOf(x.i));
        var sweepSeeds = Seeds.Take(o.SweepSeeds).ToArray();
        var training = new AblationTraining(o, Seeds[0]);
        Pretrain = [.. Enumerable.Range(0, Math.Min(o.PretrainModels, Seeds.Count)).Select(m => new UnitPlan(
            $"ablation/pretrain/seed={Seeds[0] + m}", o.PretrainSteps, ctx => training.PretrainUnit(ctx, m)))];
        UnitPlan RunPlan(Arm arm, double rate, int seed) => new(
            AblationSeeds.RunIdentity(arm, rate, model[seed], seed), o.FinetuneSteps,
            ctx => training.FineTune(ctx, arm, rate, model[seed], seed));
        var arms = Arm.Of(o);
        // the noise twin runs at ABBA-on-all's chosen rate: its sweep is ABBA's
        Arm SweptAs(Arm arm) => arm.Method.OwnSweep ? arm : Arm.AbbaAll;
        Sweep = o.FixedRate is not null ? [] :
            [.. from seed in sweepSeeds from arm in arms.Where(a => a.Method.OwnSweep)
                from rate in o.RateGrids[arm.Method.Family] select RunPlan(arm, rate, seed)];
        Finals =
        [
            .. from seed in Seeds
               from arm in arms
               select new UnitPlan(
                   AblationSeeds.FinalIdentity(arm, model[seed], seed),
                   o.FixedRate is null && sweepSeeds.Contains(seed) && arm.Method.OwnSweep ? 1 : o.FinetuneSteps, ctx =>
                   {
                       var swept = SweptAs(arm);
                       double rate = o.FixedRate ?? RateSweep.Choose(
                           from s in sweepSeeds
                           from r in o.RateGrids[swept.Method.Family]
                           select SweepRow(ctx.Unit<RunResult>(RunPlan(swept, r, s))))
                           [(swept.Method.Name, swept.Target.Name)];
                       return ctx.Unit<RunResult>(RunPlan(arm, rate, seed));
                   }),
        ];
        Units = [.. Pretrain, .. Sweep, .. Finals];
    }

    /// <inheritdoc />
    public object Options => o;

    /// <inheritdoc />
    public IReadOnlyList<int> Seeds { get; }

    /// <inheritdoc />
    public IReadOnlyList<UnitPlan> Units { get; }

    IReadOnlyList<UnitPlan> Pretrain { get; }
    IReadOnlyList<UnitPlan> Sweep { get; }
    IReadOnlyList<UnitPlan> Finals { get; }

    /// <inheritdoc />
    public void Run(ExperimentContext ctx)
    {
        ctx.Log.Info(AblationExperiment.Disclaimer);
        var pretraining = ctx.UnitsOf<PretrainUnit>("pre-training", Pretrain, p =>
            $"model {p.BeforeFineTuning.Model}: F test CE {p.BeforeFineTuning.TestCe:0.0000}");
        ctx.WriteCsv(AblationFiles.PretrainLoss, pretraining.SelectMany(p => p.Losses));
        ctx.WriteCsv(AblationFiles.PretrainAccuracy, pretraining.SelectMany(p => p.Accuracy));
        var sweep = ctx.UnitsOf<RunResult>("learning-rate sweep", Sweep, r => r.OneLine());
        var sweepRows = RateSweep.MarkChosen([.. sweep.Select(SweepRow)]);
        ctx.WriteCsv(AblationFiles.LrSweep, sweepRows);
        var finals = ctx.UnitsOf<RunResult>("fine-tuning arms", Finals, r => r.OneLine());
        var headline = o.FixedRate is null ? RateChoice.Tuned : RateChoice.Fixed;
        List<AblationRow> rows = [.. pretraining.Select(p => p.BeforeFineTuning),
                                  .. finals.Select(r => Row(r, headline)),
                                  .. sweep.Where(r => r.Rate == o.SharedRate).Select(r => Row(r, RateChoice.Shared))];
        ctx.WriteCsv(AblationFiles.Runs, rows);
        var spectra = AblationSpectra.Rows(finals);
        ctx.WriteCsv(AblationFiles.Spectra, spectra);
        ctx.WriteCsv(AblationFiles.SpectrumCurves, AblationSpectra.Curves(finals));
        var paper = AblationAnalysis.PaperComponents(ProgramFiles.Folder);
        var summary = AblationAnalysis.Summarise(rows);
        var comparisons = AblationAnalysis.Compare(rows, spectra, paper);
        ctx.WriteCsv(AblationFiles.Summary, summary);
        ctx.WriteCsv(AblationFiles.Comparisons, comparisons);
        string text = AblationText.Summary(o, rows, summary, sweepRows, comparisons, pretraining, paper);
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
        Model = r.Model, Seed = r.Seed, TestCe = r.Test.CrossEntropy, DigitAccuracy = r.Test.DigitAccuracy,
        ExactMatch = r.Test.ExactMatch,
        FinalLoss = r.FinalLoss, Steps = r.Steps, Seconds = r.Seconds, BatchDigest = r.BatchDigest,
    };
}
