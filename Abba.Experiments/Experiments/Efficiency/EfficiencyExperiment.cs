using System.CommandLine;
using Abba.Core.Adapters;
using Abba.Core.Efficiency;
using Abba.Core.Memory;
using Abba.Experiments.Report;
using CsvHelper;
using static TorchSharp.torch;

namespace Abba.Experiments.Experiments;

/// <summary>An adapted layer shape: in features to out features.</summary>
/// <param name="In">n.</param>
/// <param name="Out">m.</param>
public sealed record LayerShape(int In, int Out)
{
    /// <summary>"in x out", the case name in CSVs.</summary>
    public override string ToString() => $"{In}x{Out}";

    /// <summary>Parses "INxOUT"; null when malformed or not positive.</summary>
    public static LayerShape? TryParse(string text) =>
        text.Split('x') is [var a, var b] && int.TryParse(a, out int n) && int.TryParse(b, out int m) && n > 0 && m > 0 ? new(n, m) : null;
}

/// <summary>Settings of the efficiency experiment, recorded in the manifest.</summary>
public sealed record EfficiencyOptions
{
    /// <summary>Single adapted layers (Llama-3.2-1B's q_proj, Mistral-7B's q_proj and gate_proj).</summary>
    public LayerShape[] Layers { get; init; } = [new(2048, 2048), new(4096, 4096), new(4096, 14336)];
    /// <summary>Tokens per step (batch 1 x 256, as the paper's memory runs).</summary>
    public int Tokens { get; init; } = 256;
    /// <summary>LoRA/HiRA/DoRA rank; ABBA r1 = r2 = r/2.</summary>
    public int Rank { get; init; } = 32;
    /// <summary>Untimed rounds before the timed ones.</summary>
    public required int Warmup { get; init; }
    /// <summary>Timed rounds per single-layer case.</summary>
    public required int Repeats { get; init; }
    /// <summary>Paper model whose reduced copy is timed as a whole decoder ("" skips it).</summary>
    public string DecoderModel { get; init; } = "llama-3.2-1b";
    /// <summary>Blocks of the reduced decoder.</summary>
    public int DecoderLayers { get; init; } = 1;
    /// <summary>Vocabulary of the reduced decoder.</summary>
    public int DecoderVocab { get; init; } = 2048;
    /// <summary>Timed rounds of the decoder case.</summary>
    public required int DecoderRepeats { get; init; }

    /// <summary>CPU-friendly: one warm-up round and 3 timed rounds per case.</summary>
    public static EfficiencyOptions Quick => new() { Warmup = 1, Repeats = 3, DecoderRepeats = 3 };

    /// <summary>15 rounds per layer, 7 for a two-block decoder.</summary>
    public static EfficiencyOptions Paper => new() { Warmup = 2, Repeats = 15, DecoderRepeats = 7, DecoderLayers = 2 };
}

/// <summary>Step time of one method on one case; every timing column is a median over interleaved rounds.</summary>
[CsvRecord]
public sealed partial record EfficiencyRow(
    [CsvColumn("case")] string Case, [CsvColumn("kind")] string Kind, [CsvColumn("in_features")] int InFeatures, [CsvColumn("out_features")] int OutFeatures,
    [CsvColumn("tokens")] int Tokens, [CsvColumn("method")] string Method, [CsvColumn("trainable_params")] long TrainableParams, [CsvColumn("rounds")] int Rounds,
    [CsvColumn("timing_step_ms")] double TimingStepMs, [CsvColumn("timing_step_ms_p25")] double TimingStepMsP25, [CsvColumn("timing_step_ms_p75")] double TimingStepMsP75,
    [CsvColumn("timing_forward_ms")] double TimingForwardMs, [CsvColumn("timing_backward_ms")] double TimingBackwardMs,
    [CsvColumn("timing_optimiser_ms")] double TimingOptimiserMs, [CsvColumn("timing_inference_forward_ms")] double TimingInferenceForwardMs,
    [CsvColumn("step_over_lora")] double StepOverLora, [CsvColumn("step_over_base")] double? StepOverBase,
    [CsvColumn("inference_forward_over_lora")] double InferenceForwardOverLora);

/// <summary>Median time of one piece of the ABBA (Khatri-Rao) and LoRA forward on one layer case.</summary>
[CsvRecord]
public sealed partial record AnatomyRow([CsvColumn("case")] string Case, [CsvColumn("piece")] string Piece, [CsvColumn("timing_ms")] double TimingMs);

/// <summary>
/// The step-time cost of each method (paper Table 10 says ABBA trains 2-3% slower than LoRA): forward, backward and
/// AdamW on single adapted layers at LLM shapes and on a reduced decoder, all methods interleaved in one run, as
/// ratios to LoRA (same parameter count) and to the frozen base layer alone.
/// </summary>
public sealed partial class EfficiencyExperiment : IExperiment, IClaimSource
{
    readonly Option<string[]> cases = new("--cases") { Description = "single-layer cases as INxOUT, comma-separated (default: 2048x2048,4096x4096,4096x14336)", AllowMultipleArgumentsPerToken = true };
    readonly Option<int?> repeats = new("--repeats") { Description = "timed rounds per single-layer case (default: the profile's)" };
    readonly Option<bool> noDecoder = new("--no-decoder") { Description = "skip the reduced-decoder case" };
    EfficiencyOptions? options;

    /// <summary>Settings to use instead of the profile's (tests use a tiny preset).</summary>
    public EfficiencyOptions? Preset { get; init; }

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
    public IReadOnlyList<string> Configure(OptionValues values, RunSettings settings)
    {
        var o = Preset ?? (settings.Profile == Profile.Paper ? EfficiencyOptions.Paper : EfficiencyOptions.Quick);
        o = o with { Repeats = values.Get(repeats) ?? o.Repeats, DecoderModel = values.Get(noDecoder) ? "" : o.DecoderModel };
        var problems = new List<string>();
        if (values.Get(cases) is { Length: > 0 } given)
        {
            var parsed = given.SelectMany(c => c.Split(',', StringSplitOptions.RemoveEmptyEntries)).Select(c => (Text: c, Shape: LayerShape.TryParse(c))).ToArray();
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
        int seed = ctx.Seeds(1)[0];
        ExperimentContext.SeedAll(seed);
        var rows = new List<EfficiencyRow>();
        var anatomy = new List<AnatomyRow>();
        foreach (var shape in o.Layers)
        {
            rows.AddRange(TimeLayer(ctx, o, shape, seed));
            anatomy.AddRange(Anatomy(ctx, o, shape, seed));
        }
        if (o.DecoderModel.Length > 0) rows.AddRange(TimeDecoder(ctx, o, seed));
        ctx.WriteCsv("step_time.csv", rows);
        ctx.WriteCsv("abba_forward_anatomy.csv", anatomy);
        foreach (var r in rows.Where(r => r.Method is "abba_kr" or "abba_dense" or "hira"))
            ctx.Log.Info($"{r.Case,-22} {r.Method,-10} step {r.TimingStepMs,9:0.0} ms = {r.StepOverLora:0.00}x LoRA; inference forward {r.InferenceForwardOverLora:0.00}x LoRA");
        ctx.Record(Plot(ctx.OutputDir));
    }

    static IEnumerable<EfficiencyRow> TimeLayer(ExperimentContext ctx, EfficiencyOptions o, LayerShape shape, int seed)
    {
        string[] names = ["base", .. CostMethod.TrainingMethodNames];
        var benches = names.Select(n => new LayerStepBenchmark(CostMethod.ByName(n, o.Rank), shape.In, shape.Out, o.Tokens, ctx.Device, seed)).ToArray();
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
        var benches = names.Select(n => new DecoderStepBenchmark(shape, CostMethod.ByName(n, o.Rank).Config!, o.Tokens, ctx.Device, seed)).ToArray();
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
        manual_seed(seed);
        using var abba = (AbbaLinear)Injector.Create(nn.Linear(shape.In, shape.Out, hasBias: false, device: ctx.Device), CostMethod.ByName("abba_kr", o.Rank).Config!);
        using var lora = (LoraLinear)Injector.Create(nn.Linear(shape.In, shape.Out, hasBias: false, device: ctx.Device), CostMethod.ByName("lora", o.Rank).Config!);
        CostMethod.Randomise(abba);
        CostMethod.Randomise(lora);
        using var x = randn(o.Tokens, shape.In, device: ctx.Device);
        var medians = KhatriRaoAnatomy.Measure(abba, lora, x, o.Repeats);
        return KhatriRaoAnatomy.Pieces.Select((p, i) => new AnatomyRow(shape.ToString(), p, 1e3 * medians[i])).ToArray();
    }
}
