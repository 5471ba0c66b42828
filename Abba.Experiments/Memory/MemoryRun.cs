using Abba.Core.Memory;
using Abba.Core.Models;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Memory;

/// <summary>
/// A planned memory run: one unit per measurement (model, method, dtype), each a fresh child process; the analytic
/// model's reduced and full-scale numbers are computed from the options alone.
/// </summary>
public sealed class MemoryRun : IPlannedRun
{
    readonly MemoryOptions o;
    readonly IReadOnlyDictionary<string, LlamaConfig> shapes = PaperModels.Shapes();

    /// <summary>Plans the measurements of <paramref name="options"/> under <paramref name="settings"/>.</summary>
    public MemoryRun(MemoryOptions options, RunSettings settings)
    {
        o = options;
        Seeds = settings.SeedList(1);
        Float32 = [.. from model in o.Models from arm in CostArm.Training
            select new UnitPlan($"memory/measure/model={model}/method={arm}", 1, ctx => MeasureFloat32(ctx, model,
                arm))];
        BFloat16 = [.. from model in o.BFloat16Models from method in o.BFloat16Methods
            select new UnitPlan($"memory/measure-bf16/model={model}/method={method}", 1,
                ctx => MeasureBFloat16(ctx, model, CostArm.Of(method)))];
    }

    /// <inheritdoc />
    public object Options => o;
    /// <inheritdoc />
    public IReadOnlyList<int> Seeds { get; }
    /// <inheritdoc />
    public IReadOnlyList<UnitPlan> Units => [.. Float32, .. BFloat16];

    IReadOnlyList<UnitPlan> Float32 { get; }
    IReadOnlyList<UnitPlan> BFloat16 { get; }

    /// <inheritdoc />
    public void Run(ExperimentContext ctx)
    {
        var measured = ctx.UnitsOf<MemoryMeasuredRow>("measuring reduced models, one process each", Float32);
        ctx.WriteCsv(MemoryFiles.Measured, measured);
        foreach (var r in measured)
            ctx.Log.Info($"{r.Model} x{r.Layers} {r.Method,-10} measured {r.MeasuredBytes / 1e6,8:0.0} MB  " +
                         $"modelled {r.ModelledBytes / 1e6,8:0.0} MB  ratio {r.ModelledOverMeasured:0.000}");
        var bf16 = ctx.UnitsOf<MemoryBFloat16Row>(
            "measuring reduced models in bfloat16, one process each", BFloat16);
        ctx.WriteCsv(MemoryFiles.BFloat16, bf16);
        foreach (var r in bf16)
            ctx.Log.Info($"{r.Model} x{r.Layers} {r.Method,-13} bf16 measured {r.MeasuredBytes / 1e6,8:0.0} MB  " +
                         $"modelled {r.ModelledBytes / 1e6,8:0.0} MB (ratio {r.ModelledOverMeasured:0.000}); " +
                         $"PyTorch retention would keep {r.ModelledSavedForBackwardBytes / 1e6:0.0} MB");
        var summary = MemorySummary.From(measured, o, shapes);
        ctx.WriteCsv(MemoryFiles.Breakdown, summary.Breakdown);
        if (summary.FullScale is { } full)
        {
            ctx.WriteCsv(MemoryFiles.FullScale, full);
            ctx.Log.Info($"the analytic model is within {o.Tolerance:P0} of all {measured.Count} measured peaks: " +
                         "full-scale numbers written (modelled)");
        }
        else
            ctx.Log.Warn($"the analytic model misses {summary.Failed.Count} measured peak(s) by more than " +
                $"{o.Tolerance:P0} " +
                         $"({string.Join(", ", summary.Failed.Select(Missed))}): " +
                         "full-scale numbers withheld");
        ctx.Record(MemoryFigures.Save(ctx.OutputDir));
    }

    static string Missed(MemoryMeasuredRow r) => $"{r.Model}/{r.Method} {r.ModelledOverMeasured:0.00}";

    /// <summary>One float32 measurement beside the analytic model under TorchSharp's float32 semantics.</summary>
    MemoryMeasuredRow MeasureFloat32(ExperimentContext ctx, string model, CostArm arm)
    {
        var shape = MemorySummary.Reduced(shapes[model], o);
        var result = Measure(ctx, model, shape, arm, "float32");
        var estimate = TrainingMemoryModel.Estimate(shape, arm.At(o.Rank).Config!,
            MemorySettings.TorchSharpFloat32(o.SequenceLength));
        double ratio = (double)estimate.PeakBytes / result.StepBytes;
        return new MemoryMeasuredRow(Model: model, Method: arm.Name, Layers: shape.Layers, Vocab: shape.VocabSize,
            SeqLen: o.SequenceLength, TrainableParams: result.TrainableParameters,
            ModelledTrainableParams: estimate.TrainableParameters, MeasuredBytes: result.StepBytes,
            ModelledBytes: estimate.PeakBytes, ModelledOverMeasured: ratio, WithinTolerance: Math.Abs(ratio - 1) <=
                o.Tolerance,
            BaselineBytes: result.BaselineBytes, ModelledPeakPhase: estimate.PeakPhase,
            TimingStepSeconds: result.StepSeconds.Max(), Probe: result.Probe);
    }

    /// <summary>The bf16 check: TorchSharp-bf16 modelled vs measured, and the PyTorch-retention model of the same
    /// shape.</summary>
    MemoryBFloat16Row MeasureBFloat16(ExperimentContext ctx, string model, CostArm arm)
    {
        const string checks = "bf16 sizes of weights, adapters, gradients, AdamW state and activations under " +
                              "TorchSharp retention (every forward intermediate kept); PyTorch's saved-for-backward " +
                              "retention of the full-scale model is modelled only";
        var shape = MemorySummary.Reduced(shapes[model], o);
        var result = Measure(ctx, model, shape, arm, "bfloat16");
        var config = arm.At(o.Rank).Config!;
        long modelled = TrainingMemoryModel.Estimate(shape, config,
            MemorySettings.TorchSharpBFloat16(o.SequenceLength)).PeakBytes;
        long pytorch = TrainingMemoryModel.Estimate(shape, config, MemorySettings.PaperGpu(o.SequenceLength)).PeakBytes;
        double ratio = (double)modelled / result.StepBytes;
        return new MemoryBFloat16Row(Model: model, Method: arm.Name, Layers: shape.Layers, Vocab: shape.VocabSize,
            SeqLen: o.SequenceLength, Dtype: "bfloat16", MeasuredBytes: result.StepBytes, ModelledBytes: modelled,
            ModelledOverMeasured: ratio, WithinTolerance: Math.Abs(ratio - 1) <= o.Tolerance,
            ModelledSavedForBackwardBytes: pytorch, SavedForBackwardOverMeasured: (double)pytorch / result.StepBytes,
            Checks: checks);
    }

    /// <summary>Measures <paramref name="arm"/> on <paramref name="shape"/> in a fresh child process; the seed is one
    /// per model, shared by its methods (the same weights and tokens for each).</summary>
    MeasureResult Measure(ExperimentContext ctx, string model, LlamaConfig shape, CostArm arm, string dtype)
    {
        ctx.ThrowIfCancelled();
        long seed = UnitSeeds.Of(Seeds[0], $"memory/measure/model={model}");
        var request = new MeasureRequest(model, shape, arm.Name, o.Rank, o.SequenceLength, o.WarmupSteps,
            o.MeasuredSteps,
            seed, ctx.Settings.Threads, ctx.Device.type.ToString().ToLowerInvariant(), dtype);
        return ChildMeasurement.Run(request, TimeSpan.FromSeconds(o.ChildTimeoutSeconds));
    }
}
