using Abba.Core.Adapters;
using Abba.Core.Efficiency;
using Abba.Core.Memory;
using Abba.Core.Randomness;
using TorchSharp;
using Abba.Experiments.Memory;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static TorchSharp.torch;

namespace Abba.Experiments.Efficiency;

/// <summary>
/// A planned efficiency run: one unit per case with all methods interleaved inside it. Ratios to LoRA are only fair
/// between methods timed in the same rounds on the same machine, so a case is never split across shards; a unit's
/// cost is about in x out features. Each case has one seed identity, shared by its methods (the same base weights
/// and inputs for each).
/// </summary>
public sealed class EfficiencyRun : IPlannedRun
{
    readonly EfficiencyOptions o;

    /// <summary>Plans the cases of <paramref name="options"/> under <paramref name="settings"/>.</summary>
    public EfficiencyRun(EfficiencyOptions options, RunSettings settings)
    {
        o = options;
        Seeds = settings.SeedList(1);
        int seed = Seeds[0];
        var plans = o.Layers.Select(shape => new UnitPlan($"efficiency/layer/case={shape}/seed={seed}",
            (double)shape.In * shape.Out,
            ctx => TimeLayer(ctx, o, shape, seed) with { Anatomy = [.. Anatomy(ctx, o, shape, seed)] })).ToList();
        if (o.DecoderModel.Length > 0)
            plans.Add(new UnitPlan($"efficiency/decoder/model={o.DecoderModel}/seed={seed}", 4.0 * o.DecoderLayers *
                2048 * 2048,
                ctx => TimeDecoder(ctx, o, seed)));
        Units = plans;
    }

    /// <inheritdoc />
    public object Options => o;
    /// <inheritdoc />
    public IReadOnlyList<int> Seeds { get; }
    /// <inheritdoc />
    public IReadOnlyList<UnitPlan> Units { get; }

    /// <inheritdoc />
    public void Run(ExperimentContext ctx)
    {
        var cases = Units.Select(ctx.Unit<CaseTimings>).ToArray();
        var analysed = cases.Select(CaseAnalysis.Analyse).ToArray();
        var rows = analysed.SelectMany(c => c.Steps).ToList();
        ctx.WriteCsv(EfficiencyFiles.StepTime, rows);
        ctx.WriteCsv(EfficiencyFiles.Ratios, analysed.SelectMany(c => c.Ratios));
        ctx.WriteCsv(EfficiencyFiles.Anatomy, cases.SelectMany(c => c.Anatomy));
        foreach (var r in rows.Where(r => CostArm.Of(r.Method).LoggedBesideLora))
            ctx.Log.Info($"{r.Case,-22} {r.Method,-13} step {r.TimingStepMs,9:0.0} ms = {r.StepOverLora:0.000}x LoRA " +
                         $"[{r.StepOverLoraLow:0.000}, {r.StepOverLoraHigh:0.000}]; " +
                         (r.AchievedFraction is { } f ? $"{f:0.00} of its floor {r.FloorMs:0.0} ms; " : "") +
                         $"inference forward {r.InferenceForwardOverLora:0.00}x LoRA");
        ctx.Record(EfficiencyFigures.Save(ctx.OutputDir));
    }

    static CaseTimings TimeLayer(ExperimentContext ctx, EfficiencyOptions o, LayerShape shape, int seed)
    {
        string[] names = [.. CostArm.WithBase.Select(a => a.Name)];
        string unit = $"efficiency/layer/case={shape}";
        var benches = names.Select(n => new LayerStepBenchmark(CostMethod.ByName(n, o.Rank), shape.In, shape.Out,
            o.Tokens, ctx.Device, UnitSeeds.Of(seed, unit))).ToArray();
        var timed = new TimedCase(shape.ToString(), EfficiencyClaims.LayerKind, shape.In, shape.Out, o.Tokens, o.Rank);
        return Time(ctx, o, timed, $"timing {shape} layer, {names.Length} methods interleaved", names, benches,
            b => b.TrainableParameters, o.Repeats, UnitSeeds.Of(seed, unit + "/probe"));
    }

    static CaseTimings TimeDecoder(ExperimentContext ctx, EfficiencyOptions o, int seed)
    {
        var shape = PaperModels.Shapes()[o.DecoderModel] with { Layers = o.DecoderLayers, VocabSize = o.DecoderVocab };
        var names = CostArm.Training.Select(a => a.Name).ToArray();
        string unit = $"efficiency/decoder/model={o.DecoderModel}";
        var benches = names.Select(n => new DecoderStepBenchmark(shape,
            CostMethod.ByName(n, o.Rank).Config!, o.Tokens, ctx.Device, UnitSeeds.Of(seed, unit))).ToArray();
        var timed = new TimedCase($"{o.DecoderModel} x{o.DecoderLayers} decoder", EfficiencyClaims.DecoderKind,
            shape.HiddenSize, shape.VocabSize, o.Tokens, o.Rank);
        return Time(ctx, o, timed, $"timing reduced {o.DecoderModel} decoder, {names.Length} methods interleaved",
            names, benches, b => b.TrainableParameters, o.DecoderRepeats, UnitSeeds.Of(seed, unit + "/probe"));
    }

    /// <summary>
    /// Times <paramref name="benches"/> and the machine probe interleaved (the probe takes a turn in every round), then
    /// disposes them all and analyses the rounds.
    /// </summary>
    /// <summary>The methods timed first, next to each other: LoRA, ABBA's two Khatri-Rao forwards, the frozen
    /// base.</summary>
    static readonly string[] TimedFirst =
        [CostArm.Lora.Name, CostArm.AbbaLean.Name, CostArm.AbbaPlain.Name, CostArm.Base.Name];

    static CaseTimings Time<T>(ExperimentContext ctx, EfficiencyOptions o, TimedCase timed, string what,
        string[] names, T[] benches, Func<T, long> trainable, int rounds, long probeSeed) where T : IStepBenchmark
    {
        var probe = new MachineProbe(o.ProbeGemmSize, o.ProbeCopyMegabytes, ctx.Device, probeSeed);
        // Timing order: the pairs the claims read run back to back (a rotation keeps neighbours neighbours), so a
        // shared machine's slow spells hit both sides of a ratio alike; rows keep the methods' order.
        int[] order = [.. Enumerable.Range(0, names.Length)
            .OrderBy(i => Array.IndexOf(TimedFirst, names[i]) is var k and >= 0 ? k : TimedFirst.Length + i)];
        IStepBenchmark[] all = [.. order.Select(i => (IStepBenchmark)benches[i]), probe];
        try
        {
            using var progress = ctx.Progress.Start(what, o.Warmup + rounds);
            var measured = InterleavedTiming.Run(all, o.Warmup, rounds, () => progress.Advance(), ctx.Cancel);
            var methods = names.Select((name, i) =>
            {
                var (steps, forwards) = measured[Array.IndexOf(order, i)];
                return new MethodRounds(name, trainable(benches[i]), steps, forwards);
            }).ToArray();
            return new CaseTimings(timed, methods, probe.Rounds(measured[^1].Steps, measured[^1].Forwards), []);
        }
        finally { foreach (var b in all) b.Dispose(); }
    }

    static IEnumerable<AnatomyRow> Anatomy(ExperimentContext ctx, EfficiencyOptions o, LayerShape shape, int seed)
    {
        ctx.ThrowIfCancelled();
        long unit = UnitSeeds.Of(seed, $"efficiency/anatomy/case={shape}");
        using var generator = UnitSeed.NewGenerator(unit);
        using var abba = (AbbaLinear)Injector.Create(Linear(shape, generator, ctx.Device),
            CostArm.AbbaLean.At(o.Rank).Config!, unit);
        using var lora = (LoraLinear)Injector.Create(Linear(shape, generator, ctx.Device),
            CostArm.Lora.At(o.Rank).Config!, unit);
        CostMethod.Randomise(abba);
        CostMethod.Randomise(lora);
        using var x = randn([o.Tokens, shape.In], generator: generator).to(ctx.Device);
        var medians = KhatriRaoAnatomy.Measure(abba, lora, x, o.Repeats);
        return KhatriRaoAnatomy.Pieces.Select((p, i) => new AnatomyRow(shape.ToString(), p, 1e3 *
            medians[i])).ToArray();
    }

    /// <summary>A bias-free linear layer of <paramref name="shape"/> whose weights come from <paramref
    /// name="generator"/>.</summary>
    static TorchSharp.Modules.Linear Linear(LayerShape shape, Generator generator, Device device)
    {
        var linear = nn.Linear(shape.In, shape.Out, hasBias: false);
        using (no_grad()) linear.weight!.normal_(0, 1 / Math.Sqrt(shape.In), generator);
        return linear.to(device);
    }
}
