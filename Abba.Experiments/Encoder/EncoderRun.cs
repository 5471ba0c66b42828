using Abba.Experiments.Pipeline;
using Abba.Experiments.Protocol;

namespace Abba.Experiments.Encoder;

/// <summary>
/// A configured encoder comparison: the learning-rate sweep (sweep seeds x arms x grid) and the final runs
/// (seeds x arms), then the CSVs, the summary and the figures built from their rows.
/// </summary>
public sealed class EncoderRun : IPlannedRun
{
    readonly EncoderOptions o;
    readonly IReadOnlyList<EncoderArm> arms;

    /// <summary>Plans the run of <paramref name="options"/> under <paramref name="settings"/>.</summary>
    /// <remarks>
    /// One unit per (seed, arm, rate) sweep run on the sweep seeds, one per (seed, arm) final run. A final run asks for
    /// its arm's sweep runs (stored, or computed by whichever shard lacks them), picks the rate with the lowest mean
    /// validation cross-entropy, and runs it, or re-uses the sweep run at that rate on a sweep seed.
    /// </remarks>
    public EncoderRun(EncoderOptions options, RunSettings settings)
    {
        o = options;
        arms = EncoderArm.All(o);
        Seeds = settings.SeedList(o.DefaultSeeds);
        var sweepSeeds = Seeds.Take(o.SweepSeeds).ToArray();
        UnitPlan RunPlan(EncoderArm arm, double rate, int seed) => new(EncoderSeeds.RunIdentity(arm, rate, seed),
            o.Steps, ctx => EncoderFineTuning.FineTune(ctx, o, arm, rate, seed));
        Sweep = o.FixedRate is not null ? [] :
            [.. from seed in sweepSeeds from arm in arms from rate in o.RateGrids[arm.Method]
                select RunPlan(arm, rate, seed)];
        Finals =
        [
            .. from seed in Seeds
               from arm in arms
               select new UnitPlan($"encoder/final/arm={arm.Label}/seed={seed}",
                   o.FixedRate is null && sweepSeeds.Contains(seed) ? 1 : o.Steps, ctx =>
                   {
                       double rate = o.FixedRate ?? Chosen(arm, [.. from s in sweepSeeds
                           from r in o.RateGrids[arm.Method]
                           select ctx.Unit<EncoderRunResult>(RunPlan(arm, r, s))]);
                       return ctx.Unit<EncoderRunResult>(RunPlan(arm, rate, seed));
                   }),
        ];
        Memory =
        [
            .. arms.Select(arm => new UnitPlan($"encoder/memory/arm={arm.Label}", MemoryCost,
                ctx => EncoderMemory.Measure(o, arm, TorchSharp.torch.get_num_threads(), ctx.Device))),
        ];
        Units = [.. Sweep, .. Finals, .. Memory];
    }

    /// <inheritdoc />
    public object Options => o;

    /// <inheritdoc />
    public IReadOnlyList<int> Seeds { get; }

    /// <inheritdoc />
    public IReadOnlyList<UnitPlan> Units { get; }

    IReadOnlyList<UnitPlan> Sweep { get; }
    IReadOnlyList<UnitPlan> Finals { get; }
    IReadOnlyList<UnitPlan> Memory { get; }

    /// <summary>A memory measurement's cost in training steps: a process start, the model's load and a few
    /// steps.</summary>
    const double MemoryCost = 10;

    /// <inheritdoc />
    public void Run(ExperimentContext ctx)
    {
        ctx.Log.Info(EncoderExperiment.Disclaimer);
        var sweep = ctx.UnitsOf<EncoderRunResult>("learning-rate sweep", Sweep, r => r.OneLine());
        ctx.WriteCsv(EncoderFiles.LrSweep, SweepRows(sweep));
        var finals = ctx.UnitsOf<EncoderRunResult>("fine-tuning arms", Finals, r => r.OneLine());
        var byLabel = arms.ToDictionary(a => a.Label);
        List<EncoderRow> rows = [.. finals.Select(r => Row(byLabel[r.Arm], r))];
        ctx.WriteCsv(EncoderFiles.Runs, rows);
        List<SpectrumRow> spectra = [.. finals.SelectMany(r => SpectrumRows.Of(r.Arm, byLabel[r.Arm].Target, 0, r.Seed,
            r.Spectra ?? new Dictionary<string, Core.Analysis.UpdateSpectrum>()))];
        ctx.WriteCsv(EncoderFiles.Spectra, spectra);
        var summary = EncoderAnalysis.Summarise(rows);
        List<ComparisonRow> comparisons =
            [.. EncoderAnalysis.Compare(rows, arms), .. EncoderAnalysis.StableRank(spectra)];
        ctx.WriteCsv(EncoderFiles.Summary, summary);
        ctx.WriteCsv(EncoderFiles.Comparisons, comparisons);
        var memory = ctx.UnitsOf<EncoderMemoryResult>("peak memory, one process per arm", Memory,
            m => $"{m.Arm}: peak {m.PeakBytes / 1e6:0} MB above the baseline");
        List<EncoderMemoryRow> memoryRows = [.. memory.Select(m => MemoryRow(byLabel[m.Arm], m, rows))];
        ctx.WriteCsv(EncoderFiles.Memory, memoryRows);
        int classes = EncodedSplits.Of(o.MaxTokens).Classes.Count;
        ctx.WriteSummary(EncoderFiles.SummaryText,
            EncoderAnalysis.SummaryText(o, arms, rows, summary, comparisons, memoryRows, classes));
        ctx.Record(EncoderFigures.Plot(ctx.OutputDir));
    }

    /// <summary>The rate of <paramref name="arm"/> with the lowest mean validation CE over
    /// <paramref name="runs"/>.</summary>
    static double Chosen(EncoderArm arm, IEnumerable<EncoderRunResult> runs) =>
        RateSweep.Choose(runs.Select(r => AsSweep(arm, r)))[(arm.Label, arm.Target)];

    static LrSweepRow AsSweep(EncoderArm arm, EncoderRunResult r) => new()
    {
        Method = arm.Label, Target = arm.Target, Rate = r.Rate, Seed = r.Seed,
        ValidationCe = r.Validation.CrossEntropy,
    };

    List<EncoderSweepRow> SweepRows(IReadOnlyList<EncoderRunResult> sweep)
    {
        var byLabel = arms.ToDictionary(a => a.Label);
        var chosen = RateSweep.Choose(sweep.Select(r => AsSweep(byLabel[r.Arm], r)));
        return [.. sweep.Select(r =>
        {
            var arm = byLabel[r.Arm];
            double pick = chosen[(arm.Label, arm.Target)];
            return new EncoderSweepRow
            {
                Arm = r.Arm, Rate = r.Rate, Seed = r.Seed, ValidationCe = r.Validation.CrossEntropy,
                ValidationAccuracy = r.Validation.Accuracy, Chosen = pick == r.Rate,
                AtEdge = RateSweep.AtEdge(pick, o.RateGrids[arm.Method]) && o.RateGrids[arm.Method].Count > 1,
            };
        })];
    }

    EncoderRow Row(EncoderArm arm, EncoderRunResult r) => new()
    {
        Arm = arm.Label, Method = arm.Method, Target = arm.Target,
        RateChoice = o.FixedRate is not null ? EncoderRateChoice.Fixed
            : o.RateGrids[arm.Method].Count > 1 ? EncoderRateChoice.Tuned : EncoderRateChoice.Single,
        Rate = r.Rate,
        Rank = arm.Rank, Params = r.Params, Seed = r.Seed, TestCe = r.Test.CrossEntropy,
        TestAccuracy = r.Test.Accuracy, TestMacroF1 = r.Test.MacroF1, ValidationCe = r.Validation.CrossEntropy,
        FinalLoss = r.FinalLoss, Steps = r.Steps, Seconds = r.Seconds, TokensPerSecond = r.TokensPerSecond,
        PaddedShare = r.PaddedShare, BatchDigest = r.BatchDigest,
    };

    static EncoderMemoryRow MemoryRow(EncoderArm arm, EncoderMemoryResult m, IReadOnlyList<EncoderRow> rows) => new()
    {
        Arm = arm.Label, Method = arm.Method, Target = arm.Target, Params = m.Params, BatchSize = m.BatchSize,
        SequenceLength = m.SequenceLength, Steps = m.Steps, BaselineBytes = m.BaselineBytes, ModelBytes = m.ModelBytes,
        PeakBytes = m.PeakBytes, TrainingBytes = m.PeakBytes - m.ModelBytes,
        TokensPerSecond = rows.Where(r => r.Arm == arm.Label).Select(r => r.TokensPerSecond).DefaultIfEmpty().Average(),
        Probe = m.Probe,
    };
}
