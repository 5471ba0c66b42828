using System.CommandLine;
using Abba.Core.Adapters;
using Abba.Core.Efficiency;
using Abba.Core.Memory;
using Abba.Core.Randomness;
using TorchSharp;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static TorchSharp.torch;

namespace Abba.Experiments.Efficiency;

/// <summary>
/// The step-time cost of each method (paper Table 10 says ABBA trains 2-3% slower than LoRA): forward, backward and
/// AdamW on single adapted layers at LLM shapes and on a reduced decoder, all methods interleaved in one run, as
/// ratios to LoRA (same parameter count) and to the frozen base layer alone.
/// </summary>
public sealed partial class EfficiencyExperiment : ILegacyExperiment, IClaimSource
{
    readonly Option<string[]> cases = new("--cases") { Description = "single-layer cases as INxOUT, comma-separated (default: 2048x2048,4096x4096,4096x14336)", AllowMultipleArgumentsPerToken = true };
    readonly Option<int?> repeats = new("--repeats") { Description = "timed rounds per single-layer case (default: the profile's)" };
    readonly Option<bool> noDecoder = new("--no-decoder") { Description = "skip the reduced-decoder case" };
    EfficiencyOptions? options;

    /// <summary>Seed identities: one per case, shared by its methods (the same base weights and inputs for each).</summary>
    static class Units
    {
        public static long Layer(LayerShape shape, int seed) => UnitSeeds.Of(seed, $"efficiency/layer/case={shape}");
        public static long Decoder(string model, int seed) => UnitSeeds.Of(seed, $"efficiency/decoder/model={model}");
        public static long Anatomy(LayerShape shape, int seed) => UnitSeeds.Of(seed, $"efficiency/anatomy/case={shape}");
    }

    /// <inheritdoc />
    public string Name => "efficiency";
    /// <inheritdoc />
    public string Description => "training-step time per method on single LLM-shaped layers and a reduced decoder, as ratios to LoRA";
    /// <inheritdoc />
    public string PaperArtefact => "Table 10";
    /// <inheritdoc />
    public IReadOnlyList<Option> Options => [cases, repeats, noDecoder];
    /// <inheritdoc />
    public object Configuration => options ?? (object)"not configured";
    /// <inheritdoc />
    public IReadOnlyList<string> CsvNames => EfficiencyFiles.Written;
    /// <inheritdoc />
    public IReadOnlyDictionary<string, SettingProvenance> Provenance => EfficiencyOptions.Provenance;
    /// <inheritdoc />
    public IReadOnlyList<string> FigureNames => [EfficiencyFiles.RatioFigure, EfficiencyFiles.PhasesFigure, EfficiencyFiles.AnatomyFigure];

    /// <inheritdoc />
    public IReadOnlyList<string> Configure(OptionValues values, RunSettings settings)
    {
        var o = settings.Preset(EfficiencyOptions.Tiny, EfficiencyOptions.Quick, EfficiencyOptions.Paper);
        o = o with { Repeats = values.Get(repeats) ?? o.Repeats, DecoderModel = values.Get(noDecoder) ? "" : o.DecoderModel };
        var problems = new List<string>();
        if (values.Get(cases) is { Length: > 0 } given)
        {
            var parsed = ListOption.Items(given)!.Select(c => (Text: c, Shape: LayerShape.TryParse(c))).ToArray();
            problems.AddRange(parsed.Where(p => p.Shape is null).Select(p => $"--cases: '{p.Text}' is not INxOUT with positive sizes, e.g. 4096x4096"));
            o = o with { Layers = [.. parsed.Where(p => p.Shape is not null).Select(p => p.Shape!)] };
        }
        if (o.Repeats < 1) problems.Add($"--repeats must be at least 1 (got {o.Repeats})");
        options = o;
        return problems;
    }

    /// <inheritdoc />
    public void Run(ExperimentContext ctx)
    {
        var o = options ?? throw new InvalidOperationException("Configure first");
        ctx.Seeds(1);
        var cases = PlanUnits(ctx.Settings).Select(ctx.Unit<CaseTimings>).ToArray();
        var rows = cases.SelectMany(c => c.Steps).ToList();
        ctx.WriteCsv(EfficiencyFiles.StepTime, rows);
        ctx.WriteCsv(EfficiencyFiles.Anatomy, cases.SelectMany(c => c.Anatomy));
        foreach (var r in rows.Where(r => r.Method is "abba_kr" or "abba_kr_plain" or "abba_dense" or "hira"))
            ctx.Log.Info($"{r.Case,-22} {r.Method,-13} step {r.TimingStepMs,9:0.0} ms = {r.StepOverLora:0.00}x LoRA; inference forward {r.InferenceForwardOverLora:0.00}x LoRA");
        ctx.Record(Plot(ctx.OutputDir));
    }

    /// <summary>One timing case's rows: every method's step times (interleaved in one unit) and, for a layer, the forward anatomy.</summary>
    public sealed record CaseTimings(IReadOnlyList<EfficiencyRow> Steps, IReadOnlyList<AnatomyRow> Anatomy);

    /// <inheritdoc />
    /// <remarks>
    /// One unit per case with all methods interleaved inside it: ratios to LoRA are only fair between methods timed in
    /// the same rounds on the same machine, so a case is never split across shards. Cost ~ in x out features.
    /// </remarks>
    public IReadOnlyList<UnitPlan> PlanUnits(RunSettings settings)
    {
        var o = options ?? throw new InvalidOperationException("Configure first");
        int seed = settings.SeedList(1)[0];
        var plans = o.Layers.Select(shape => new UnitPlan($"efficiency/layer/case={shape}/seed={seed}", (double)shape.In * shape.Out,
            ctx => new CaseTimings([.. TimeLayer(ctx, o, shape, seed)], [.. Anatomy(ctx, o, shape, seed)]))).ToList();
        if (o.DecoderModel.Length > 0)
            plans.Add(new UnitPlan($"efficiency/decoder/model={o.DecoderModel}/seed={seed}", 4.0 * o.DecoderLayers * 2048 * 2048,
                ctx => new CaseTimings([.. TimeDecoder(ctx, o, seed)], [])));
        return plans;
    }

    static IEnumerable<EfficiencyRow> TimeLayer(ExperimentContext ctx, EfficiencyOptions o, LayerShape shape, int seed)
    {
        string[] names = ["base", .. CostMethod.TrainingMethodNames];
        var benches = names.Select(n => new LayerStepBenchmark(CostMethod.ByName(n, o.Rank), shape.In, shape.Out, o.Tokens, ctx.Device, Units.Layer(shape, seed))).ToArray();
        try
        {
            var results = Time(ctx, $"timing {shape} layer, {names.Length} methods interleaved", benches, o.Warmup, o.Repeats);
            return Rows(shape.ToString(), "layer", shape.In, shape.Out, o.Tokens, names, benches.Select(b => b.TrainableParameters).ToArray(), results);
        }
        finally { foreach (var b in benches) b.Dispose(); }
    }

    static IEnumerable<EfficiencyRow> TimeDecoder(ExperimentContext ctx, EfficiencyOptions o, int seed)
    {
        var shape = PaperModels.Shapes()[o.DecoderModel] with { Layers = o.DecoderLayers, VocabSize = o.DecoderVocab };
        var names = CostMethod.TrainingMethodNames;
        var benches = names.Select(n => new DecoderStepBenchmark(shape, CostMethod.ByName(n, o.Rank).Config!, o.Tokens, ctx.Device, Units.Decoder(o.DecoderModel, seed))).ToArray();
        try
        {
            var results = Time(ctx, $"timing reduced {o.DecoderModel} decoder, {names.Count} methods interleaved", benches, o.Warmup, o.DecoderRepeats);
            string name = $"{o.DecoderModel} x{o.DecoderLayers} decoder";
            return Rows(name, "decoder", shape.HiddenSize, shape.VocabSize, o.Tokens, [.. names], benches.Select(b => b.TrainableParameters).ToArray(), results);
        }
        finally { foreach (var b in benches) b.Dispose(); }
    }

    static (PhaseTimes[] Steps, double[] Forwards)[] Time(ExperimentContext ctx, string what, IReadOnlyList<IStepBenchmark> benches, int warmup, int rounds)
    {
        using var progress = ctx.Progress.Start(what, warmup + rounds);
        return InterleavedTiming.Run(benches, warmup, rounds, () => progress.Advance(), ctx.Cancel);
    }

    static List<EfficiencyRow> Rows(string name, string kind, int inFeatures, int outFeatures, int tokens, string[] methods, long[] trainable,
        (PhaseTimes[] Steps, double[] Forwards)[] results)
    {
        double Ms(IEnumerable<double> seconds, double q = 0.5) => 1e3 * InterleavedTiming.Quantile(seconds, q);
        double StepOf(string m) => Ms(results[Array.IndexOf(methods, m)].Steps.Select(s => s.Total));
        double lora = StepOf("lora"), loraForward = Ms(results[Array.IndexOf(methods, "lora")].Forwards);
        double? baseStep = methods.Contains("base") ? StepOf("base") : null;
        return methods.Select((m, i) =>
        {
            var (steps, forwards) = results[i];
            double step = Ms(steps.Select(s => s.Total)), inference = Ms(forwards);
            return new EfficiencyRow(name, kind, inFeatures, outFeatures, tokens, m, trainable[i], steps.Length, step,
                Ms(steps.Select(s => s.Total), 0.25), Ms(steps.Select(s => s.Total), 0.75), Ms(steps.Select(s => s.Forward)),
                Ms(steps.Select(s => s.Backward)), Ms(steps.Select(s => s.Optimiser)), inference, step / lora, step / baseStep, inference / loraForward);
        }).ToList();
    }

    static IEnumerable<AnatomyRow> Anatomy(ExperimentContext ctx, EfficiencyOptions o, LayerShape shape, int seed)
    {
        ctx.ThrowIfCancelled();
        long unit = Units.Anatomy(shape, seed);
        using var generator = UnitSeed.NewGenerator(unit);
        using var abba = (AbbaLinear)Injector.Create(Linear(shape, generator, ctx.Device), CostMethod.ByName("abba_kr", o.Rank).Config!, unit);
        using var lora = (LoraLinear)Injector.Create(Linear(shape, generator, ctx.Device), CostMethod.ByName("lora", o.Rank).Config!, unit);
        CostMethod.Randomise(abba);
        CostMethod.Randomise(lora);
        using var x = randn([o.Tokens, shape.In], generator: generator).to(ctx.Device);
        var medians = KhatriRaoAnatomy.Measure(abba, lora, x, o.Repeats);
        return KhatriRaoAnatomy.Pieces.Select((p, i) => new AnatomyRow(shape.ToString(), p, 1e3 * medians[i])).ToArray();
    }

    /// <summary>A bias-free linear layer of <paramref name="shape"/> whose weights come from <paramref name="generator"/>.</summary>
    static TorchSharp.Modules.Linear Linear(LayerShape shape, Generator generator, Device device)
    {
        var linear = nn.Linear(shape.In, shape.Out, hasBias: false);
        using (no_grad()) linear.weight!.normal_(0, 1 / Math.Sqrt(shape.In), generator);
        return linear.to(device);
    }
}
