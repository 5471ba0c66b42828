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

/// <summary>One timing case's rows: every method's step times (interleaved in one unit) and, for a layer, the forward
/// anatomy.</summary>
/// <param name="Steps">Every method's step-time row.</param>
/// <param name="Anatomy">The pieces of ABBA's and LoRA's forward (layers only).</param>
public sealed record CaseTimings(IReadOnlyList<EfficiencyRow> Steps, IReadOnlyList<AnatomyRow> Anatomy);

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
            ctx => new CaseTimings([.. TimeLayer(ctx, o, shape, seed)], [.. Anatomy(ctx, o, shape, seed)]))).ToList();
        if (o.DecoderModel.Length > 0)
            plans.Add(new UnitPlan($"efficiency/decoder/model={o.DecoderModel}/seed={seed}", 4.0 * o.DecoderLayers *
                2048 * 2048,
                ctx => new CaseTimings([.. TimeDecoder(ctx, o, seed)], [])));
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
        var rows = cases.SelectMany(c => c.Steps).ToList();
        ctx.WriteCsv(EfficiencyFiles.StepTime, rows);
        ctx.WriteCsv(EfficiencyFiles.Anatomy, cases.SelectMany(c => c.Anatomy));
        foreach (var r in rows.Where(r => CostArm.Of(r.Method).LoggedBesideLora))
            ctx.Log.Info($"{r.Case,-22} {r.Method,-13} step {r.TimingStepMs,9:0.0} ms = {r.StepOverLora:0.00}x LoRA; " +
                         $"inference forward {r.InferenceForwardOverLora:0.00}x LoRA");
        ctx.Record(EfficiencyFigures.Save(ctx.OutputDir));
    }

    static IEnumerable<EfficiencyRow> TimeLayer(ExperimentContext ctx, EfficiencyOptions o, LayerShape shape, int seed)
    {
        string[] names = [.. CostArm.WithBase.Select(a => a.Name)];
        var benches = names.Select(n => new LayerStepBenchmark(CostMethod.ByName(n, o.Rank), shape.In, shape.Out,
            o.Tokens, ctx.Device, UnitSeeds.Of(seed, $"efficiency/layer/case={shape}"))).ToArray();
        try
        {
            var results = Time(ctx, $"timing {shape} layer, {names.Length} methods interleaved", benches, o.Warmup,
                o.Repeats);
            return Rows(shape.ToString(), EfficiencyClaims.LayerKind, shape.In, shape.Out, o.Tokens, names,
                benches.Select(b => b.TrainableParameters).ToArray(), results);
        }
        finally { foreach (var b in benches) b.Dispose(); }
    }

    static IEnumerable<EfficiencyRow> TimeDecoder(ExperimentContext ctx, EfficiencyOptions o, int seed)
    {
        var shape = PaperModels.Shapes()[o.DecoderModel] with { Layers = o.DecoderLayers, VocabSize = o.DecoderVocab };
        var names = CostArm.Training.Select(a => a.Name).ToArray();
        var benches = names.Select(n => new DecoderStepBenchmark(shape, CostMethod.ByName(n, o.Rank).Config!,
            o.Tokens, ctx.Device, UnitSeeds.Of(seed, $"efficiency/decoder/model={o.DecoderModel}"))).ToArray();
        try
        {
            var results = Time(ctx, $"timing reduced {o.DecoderModel} decoder, {names.Length} methods interleaved",
                benches, o.Warmup, o.DecoderRepeats);
            string name = $"{o.DecoderModel} x{o.DecoderLayers} decoder";
            return Rows(name, EfficiencyClaims.DecoderKind, shape.HiddenSize, shape.VocabSize, o.Tokens, names,
                benches.Select(b => b.TrainableParameters).ToArray(), results);
        }
        finally { foreach (var b in benches) b.Dispose(); }
    }

    static (PhaseTimes[] Steps, double[] Forwards)[] Time(ExperimentContext ctx, string what,
        IReadOnlyList<IStepBenchmark> benches, int warmup, int rounds)
    {
        using var progress = ctx.Progress.Start(what, warmup + rounds);
        return InterleavedTiming.Run(benches, warmup, rounds, () => progress.Advance(), ctx.Cancel);
    }

    static List<EfficiencyRow> Rows(string name, string kind, int inFeatures, int outFeatures, int tokens, string[]
        methods, long[] trainable,
        (PhaseTimes[] Steps, double[] Forwards)[] results)
    {
        double Ms(IEnumerable<double> seconds, double q = 0.5) => 1e3 * InterleavedTiming.Quantile(seconds, q);
        double StepOf(string m) => Ms(results[Array.IndexOf(methods, m)].Steps.Select(s => s.Total));
        double lora = StepOf(CostArm.Lora.Name), loraForward = Ms(results[Array.IndexOf(methods,
            CostArm.Lora.Name)].Forwards);
        double? baseStep = methods.Contains(CostArm.Base.Name) ? StepOf(CostArm.Base.Name) : null;
        return methods.Select((m, i) =>
        {
            var (steps, forwards) = results[i];
            double step = Ms(steps.Select(s => s.Total)), inference = Ms(forwards);
            return new EfficiencyRow(name, kind, inFeatures, outFeatures, tokens, m, trainable[i], steps.Length, step,
                Ms(steps.Select(s => s.Total), 0.25), Ms(steps.Select(s => s.Total), 0.75), Ms(steps.Select(s =>
                    s.Forward)),
                Ms(steps.Select(s => s.Backward)), Ms(steps.Select(s => s.Optimiser)), inference, step / lora, step /
                    baseStep, inference / loraForward);
        }).ToList();
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
