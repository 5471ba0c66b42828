using System.CommandLine;
using Abba.Core.Efficiency;
using Abba.Core.Memory;
using Abba.Core.Models;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Memory;

/// <summary>
/// Paper Figure 4: peak training memory per method. Measures real steps of reduced copies of the paper's models (one
/// fresh process per point), checks the analytic model against every measurement, and only when all agree shows the
/// model's full-scale numbers, labelled modelled, beside the paper's measured ones.
/// </summary>
public sealed partial class MemoryExperiment : ILegacyExperiment, IClaimSource
{
    readonly Option<string[]> models = new("--models") { Description = $"models to measure, comma-separated ({string.Join(", ", PaperModels.Names)}; default: the profile's)", AllowMultipleArgumentsPerToken = true };
    readonly Option<int?> layers = new("--layers") { Description = "blocks per reduced model (default: the profile's)" };
    readonly Option<int?> vocab = new("--vocab") { Description = "vocabulary of the reduced models (default: the profile's)" };
    MemoryOptions? options;

    /// <summary>Seed identity: one per model, shared by its methods (the same weights and tokens for each).</summary>
    static class Units
    {
        public static long Measurement(string model, int seed) => UnitSeeds.Of(seed, $"memory/measure/model={model}");
    }

    /// <inheritdoc />
    public string Name => "memory";
    /// <inheritdoc />
    public string Description => "peak training memory per method: reduced models measured, the analytic model checked, full scale modelled";
    /// <inheritdoc />
    public string PaperArtefact => "Figure 4";
    /// <inheritdoc />
    public IReadOnlyList<Option> Options => [models, layers, vocab];
    /// <inheritdoc />
    public object Configuration => options ?? (object)"not configured";
    /// <inheritdoc />
    public IReadOnlyList<string> CsvNames => MemoryFiles.Written;
    /// <inheritdoc />
    public IReadOnlyDictionary<string, SettingProvenance> Provenance => MemoryOptions.Provenance;
    /// <inheritdoc />
    public IReadOnlyList<string> FigureNames => [MemoryFiles.MeasuredFigure, MemoryFiles.BreakdownFigure];

    /// <inheritdoc />
    public IReadOnlyList<string> Configure(OptionValues values, RunSettings settings)
    {
        var o = settings.Preset(MemoryOptions.Tiny, MemoryOptions.Quick, MemoryOptions.Paper);
        var chosen = values.Get(models) is { Length: > 0 } m ? ListOption.Items(m)! : o.Models;
        o = o with { Models = chosen, Layers = values.Get(layers) ?? o.Layers, Vocab = values.Get(vocab) ?? o.Vocab };
        var problems = new List<string>();
        foreach (string unknown in o.Models.Where(n => !PaperModels.Names.Contains(n)))
            problems.Add($"--models: unknown model '{unknown}'; expected {string.Join(", ", PaperModels.Names)}");
        if (o.Layers < 1) problems.Add($"--layers must be at least 1 (got {o.Layers})");
        if (o.Vocab < 16) problems.Add($"--vocab must be at least 16 (got {o.Vocab})");
        options = o;
        return problems;
    }

    /// <inheritdoc />
    public void Run(ExperimentContext ctx)
    {
        var o = options ?? throw new InvalidOperationException("Configure first");
        var shapes = PaperModels.Shapes();
        var measured = MeasureReduced(ctx, o, shapes);
        ctx.WriteCsv(MemoryFiles.Measured, measured);
        var failed = measured.Where(r => !r.WithinTolerance).ToArray();
        foreach (var r in measured)
            ctx.Log.Info($"{r.Model} x{r.Layers} {r.Method,-10} measured {r.MeasuredBytes / 1e6,8:0.0} MB  modelled {r.ModelledBytes / 1e6,8:0.0} MB  ratio {r.ModelledOverMeasured:0.000}");

        var bf16 = MeasureBFloat16(ctx, o, shapes);
        ctx.WriteCsv(MemoryFiles.BFloat16, bf16);
        foreach (var r in bf16)
            ctx.Log.Info($"{r.Model} x{r.Layers} {r.Method,-13} bf16 measured {r.MeasuredBytes / 1e6,8:0.0} MB  modelled {r.ModelledBytes / 1e6,8:0.0} MB " +
                         $"(ratio {r.ModelledOverMeasured:0.000}); PyTorch retention would keep {r.ModelledSavedForBackwardBytes / 1e6:0.0} MB");

        var (full, breakdown) = ModelFullScale(shapes, o);
        ctx.WriteCsv(MemoryFiles.Breakdown, [.. breakdown, .. ReducedBreakdown(shapes, o)]);
        if (failed.Length == 0)
        {
            ctx.WriteCsv(MemoryFiles.FullScale, full);
            ctx.Log.Info($"the analytic model is within {o.Tolerance:P0} of all {measured.Count} measured peaks: full-scale numbers written (modelled)");
        }
        else
            ctx.Log.Warn($"the analytic model misses {failed.Length} measured peak(s) by more than {o.Tolerance:P0} " +
                         $"({string.Join(", ", failed.Select(r => $"{r.Model}/{r.Method} {r.ModelledOverMeasured:0.00}"))}): full-scale numbers withheld");
        ctx.Record(Plot(ctx.OutputDir));
    }

    List<MemoryMeasuredRow> MeasureReduced(ExperimentContext ctx, MemoryOptions o, IReadOnlyDictionary<string, LlamaConfig> shapes) =>
        MeasureAll<MemoryMeasuredRow>(ctx, Float32Plans(o, shapes), "measuring reduced models, one process each");

    List<MemoryBFloat16Row> MeasureBFloat16(ExperimentContext ctx, MemoryOptions o, IReadOnlyDictionary<string, LlamaConfig> shapes) =>
        MeasureAll<MemoryBFloat16Row>(ctx, BFloat16Plans(o, shapes), "measuring reduced models in bfloat16, one process each");

    static List<T> MeasureAll<T>(ExperimentContext ctx, IReadOnlyList<UnitPlan> plans, string what)
    {
        using var progress = ctx.Progress.Start(what, plans.Count);
        return [.. plans.Select(plan =>
        {
            var row = ctx.Unit<T>(plan);
            progress.Advance();
            return row;
        })];
    }

    /// <inheritdoc />
    /// <remarks>One unit per measurement (model, method, dtype): one child process each.</remarks>
    public IReadOnlyList<UnitPlan> PlanUnits(RunSettings settings)
    {
        var o = options ?? throw new InvalidOperationException("Configure first");
        var shapes = PaperModels.Shapes();
        return [.. Float32Plans(o, shapes), .. BFloat16Plans(o, shapes)];
    }

    static IReadOnlyList<UnitPlan> Float32Plans(MemoryOptions o, IReadOnlyDictionary<string, LlamaConfig> shapes) =>
        [.. from model in o.Models from method in CostMethod.TrainingMethodNames
            select new UnitPlan($"memory/measure/model={model}/method={method}", 1, ctx => MeasureFloat32(ctx, o, Reduced(shapes[model], o), model, method))];

    static IReadOnlyList<UnitPlan> BFloat16Plans(MemoryOptions o, IReadOnlyDictionary<string, LlamaConfig> shapes) =>
        [.. from model in o.BFloat16Models from method in o.BFloat16Methods
            select new UnitPlan($"memory/measure-bf16/model={model}/method={method}", 1, ctx => MeasureBFloat16(ctx, o, Reduced(shapes[model], o), model, method))];

    /// <summary>One float32 measurement beside the analytic model under TorchSharp's float32 semantics.</summary>
    static MemoryMeasuredRow MeasureFloat32(ExperimentContext ctx, MemoryOptions o, LlamaConfig shape, string model, string method)
    {
        var result = Measure(ctx, o, model, shape, method, "float32");
        var estimate = TrainingMemoryModel.Estimate(shape, CostMethod.ByName(method, o.Rank).Config!, MemorySettings.TorchSharpFloat32(o.SequenceLength));
        double ratio = (double)estimate.PeakBytes / result.StepBytes;
        return new MemoryMeasuredRow(model, method, shape.Layers, shape.VocabSize, o.SequenceLength, result.TrainableParameters,
            estimate.TrainableParameters, result.StepBytes, estimate.PeakBytes, ratio, Math.Abs(ratio - 1) <= o.Tolerance,
            result.BaselineBytes, estimate.PeakPhase, result.StepSeconds.Max(), result.Probe);
    }

    /// <summary>The bf16 check: TorchSharp-bf16 modelled vs measured, and the PyTorch-retention model of the same shape.</summary>
    static MemoryBFloat16Row MeasureBFloat16(ExperimentContext ctx, MemoryOptions o, LlamaConfig shape, string model, string method)
    {
        const string checks = "bf16 sizes of weights, adapters, gradients, AdamW state and activations under TorchSharp retention " +
                              "(every forward intermediate kept); PyTorch's saved-for-backward retention of the full-scale model is modelled only";
        var result = Measure(ctx, o, model, shape, method, "bfloat16");
        var config = CostMethod.ByName(method, o.Rank).Config!;
        long modelled = TrainingMemoryModel.Estimate(shape, config, MemorySettings.TorchSharpBFloat16(o.SequenceLength)).PeakBytes;
        long pytorch = TrainingMemoryModel.Estimate(shape, config, MemorySettings.PaperGpu(o.SequenceLength)).PeakBytes;
        double ratio = (double)modelled / result.StepBytes;
        return new MemoryBFloat16Row(model, method, shape.Layers, shape.VocabSize, o.SequenceLength, "bfloat16", result.StepBytes, modelled, ratio,
            Math.Abs(ratio - 1) <= o.Tolerance, pytorch, (double)pytorch / result.StepBytes, checks);
    }

    /// <summary>Measures <paramref name="method"/> on <paramref name="shape"/> in a fresh child process.</summary>
    static MeasureResult Measure(ExperimentContext ctx, MemoryOptions o, string model, LlamaConfig shape, string method, string dtype)
    {
        ctx.ThrowIfCancelled();
        var request = new MeasureRequest(model, shape, method, o.Rank, o.SequenceLength, o.WarmupSteps, o.MeasuredSteps,
            Units.Measurement(model, ctx.Settings.Seed), ctx.Settings.Threads, ctx.Device.type.ToString().ToLowerInvariant(), dtype);
        return ChildMeasurement.Run(request, TimeSpan.FromSeconds(o.ChildTimeoutSeconds));
    }

    static LlamaConfig Reduced(LlamaConfig full, MemoryOptions o) => full.Reduced(o.WidthDivisor, o.Layers, o.Vocab);

    static (List<MemoryModelledRow> Rows, List<MemoryBreakdownRow> Breakdown) ModelFullScale(IReadOnlyDictionary<string, LlamaConfig> shapes, MemoryOptions o)
    {
        var paper = PaperModels.Figure4();
        var settings = MemorySettings.PaperGpu(o.SequenceLength);
        var rows = new List<MemoryModelledRow>();
        var breakdown = new List<MemoryBreakdownRow>();
        foreach (string model in PaperModels.Names)
            foreach (string method in CostMethod.TrainingMethodNames)
            {
                var estimate = TrainingMemoryModel.Estimate(shapes[model], CostMethod.ByName(method, o.Rank).Config!, settings);
                double gb = estimate.PeakBytes / 1e9;
                double? paperGb = paper.FirstOrDefault(p => p.Model == model && p.Method == PaperModels.PaperMethod(method))?.PeakMemoryGb;
                rows.Add(new MemoryModelledRow(model, method, estimate.TrainableParameters, gb, paperGb, gb / paperGb, estimate.PeakPhase,
                    "modelled (analytic); paper_gb is the paper's measurement"));
                breakdown.AddRange(estimate.Components.Select(c => new MemoryBreakdownRow("full_modelled", model, method, c.Name, c.Bytes)));
            }
        return (rows, breakdown);
    }

    static IEnumerable<MemoryBreakdownRow> ReducedBreakdown(IReadOnlyDictionary<string, LlamaConfig> shapes, MemoryOptions o) =>
        from model in o.Models
        from method in CostMethod.TrainingMethodNames
        from c in TrainingMemoryModel.Estimate(Reduced(shapes[model], o), CostMethod.ByName(method, o.Rank).Config!,
            MemorySettings.TorchSharpFloat32(o.SequenceLength)).Components
        select new MemoryBreakdownRow("reduced_modelled", model, method, c.Name, c.Bytes);
}
