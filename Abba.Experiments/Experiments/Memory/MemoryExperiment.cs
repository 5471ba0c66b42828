using System.CommandLine;
using Abba.Core.Memory;
using Abba.Core.Models;
using Abba.Experiments.Cli;
using Abba.Experiments.Report;
using CsvHelper;

namespace Abba.Experiments.Experiments;

/// <summary>Settings of the memory experiment, recorded in the manifest.</summary>
public sealed record MemoryOptions
{
    /// <summary>Paper models whose reduced copies are measured.</summary>
    public required string[] Models { get; init; }
    /// <summary>Decoder blocks of each reduced copy (widths and heads stay those of the real model).</summary>
    public required int Layers { get; init; }
    /// <summary>Vocabulary of each reduced copy.</summary>
    public required int Vocab { get; init; }
    /// <summary>Untimed training steps before the peak is reset.</summary>
    public required int WarmupSteps { get; init; }
    /// <summary>Training steps inside the measured window.</summary>
    public required int MeasuredSteps { get; init; }
    /// <summary>Tokens per step (batch 1), as the paper's Figure 4.</summary>
    public int SequenceLength { get; init; } = 256;
    /// <summary>LoRA/HiRA/DoRA rank; ABBA r1 = r2 = r/2.</summary>
    public int Rank { get; init; } = 32;
    /// <summary>Largest accepted |modelled / measured - 1| before full-scale numbers are shown.</summary>
    public double Tolerance { get; init; } = 0.15;
    /// <summary>Time limit of one child measurement.</summary>
    public int ChildTimeoutSeconds { get; init; } = 900;
    /// <summary>Full-scale modelled setting, in words.</summary>
    public string FullScaleSetting { get; init; } =
        "bf16 weights, trainable parameters, gradients and AdamW state; PyTorch semantics (only tensors saved for backward " +
        "survive); HF Llama-style block for every model; batch 1, 256 tokens; no CUDA context or allocator cache";

    /// <summary>CPU-friendly: two of the four shapes, one block, one measured step.</summary>
    public static MemoryOptions Quick => new() { Models = ["llama-3.2-1b", "mistral-7b"], Layers = 1, Vocab = 2048, WarmupSteps = 0, MeasuredSteps = 1 };

    /// <summary>All four shapes, two blocks, a warm-up step and two measured steps.</summary>
    public static MemoryOptions Paper => new() { Models = [.. PaperModels.Names], Layers = 2, Vocab = 8192, WarmupSteps = 1, MeasuredSteps = 2 };
}

/// <summary>One measured reduced model beside the analytic model's prediction.</summary>
[CsvRecord]
public sealed partial record MemoryMeasuredRow(
    [CsvColumn("model")] string Model, [CsvColumn("method")] string Method, [CsvColumn("layers")] int Layers, [CsvColumn("vocab")] int Vocab,
    [CsvColumn("seq_len")] int SeqLen, [CsvColumn("trainable_params")] long TrainableParams, [CsvColumn("modelled_trainable_params")] long ModelledTrainableParams,
    [CsvColumn("measured_bytes")] long MeasuredBytes, [CsvColumn("modelled_bytes")] long ModelledBytes,
    [CsvColumn("modelled_over_measured")] double ModelledOverMeasured, [CsvColumn("within_tolerance")] bool WithinTolerance,
    [CsvColumn("baseline_bytes")] long BaselineBytes, [CsvColumn("modelled_peak_phase")] string ModelledPeakPhase,
    [CsvColumn("timing_step_seconds")] double TimingStepSeconds, [CsvColumn("probe")] string Probe);

/// <summary>A full-scale model's modelled peak beside the paper's measured one.</summary>
[CsvRecord]
public sealed partial record MemoryModelledRow(
    [CsvColumn("model")] string Model, [CsvColumn("method")] string Method, [CsvColumn("trainable_params")] long TrainableParams,
    [CsvColumn("modelled_gb")] double ModelledGb, [CsvColumn("paper_gb")] double? PaperGb, [CsvColumn("modelled_over_paper")] double? ModelledOverPaper,
    [CsvColumn("peak_phase")] string PeakPhase, [CsvColumn("source")] string Source);

/// <summary>One component of a modelled peak.</summary>
[CsvRecord]
public sealed partial record MemoryBreakdownRow(
    [CsvColumn("scale")] string Scale, [CsvColumn("model")] string Model, [CsvColumn("method")] string Method,
    [CsvColumn("component")] string Component, [CsvColumn("bytes")] long Bytes);

/// <summary>
/// Paper Figure 4: peak training memory per method. Measures real steps of reduced copies of the paper's models (one
/// fresh process per point), checks the analytic model against every measurement, and only when all agree shows the
/// model's full-scale numbers, labelled modelled, beside the paper's measured ones.
/// </summary>
public sealed partial class MemoryExperiment : IExperiment, IClaimSource
{
    readonly Option<string[]> models = new("--models") { Description = $"models to measure, comma-separated ({string.Join(", ", PaperModels.Names)}; default: the profile's)", AllowMultipleArgumentsPerToken = true };
    readonly Option<int?> layers = new("--layers") { Description = "blocks per reduced model (default: the profile's)" };
    readonly Option<int?> vocab = new("--vocab") { Description = "vocabulary of the reduced models (default: the profile's)" };
    MemoryOptions? options;

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
    public IReadOnlyList<string> Configure(OptionValues values, RunSettings settings)
    {
        var o = settings.Profile == Profile.Paper ? MemoryOptions.Paper : MemoryOptions.Quick;
        var chosen = values.Get(models) is { Length: > 0 } m ? m.SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToArray() : o.Models;
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
        ctx.WriteCsv("measured_reduced.csv", measured);
        var failed = measured.Where(r => !r.WithinTolerance).ToArray();
        foreach (var r in measured)
            ctx.Log.Info($"{r.Model} x{r.Layers} {r.Method,-10} measured {r.MeasuredBytes / 1e6,8:0.0} MB  modelled {r.ModelledBytes / 1e6,8:0.0} MB  ratio {r.ModelledOverMeasured:0.000}");

        var (full, breakdown) = ModelFullScale(shapes, o);
        ctx.WriteCsv("breakdown.csv", [.. breakdown, .. ReducedBreakdown(shapes, o)]);
        if (failed.Length == 0)
        {
            ctx.WriteCsv("modelled_full_scale.csv", full);
            ctx.Log.Info($"the analytic model is within {o.Tolerance:P0} of all {measured.Count} measured peaks: full-scale numbers written (modelled)");
        }
        else
            ctx.Log.Warn($"the analytic model misses {failed.Length} measured peak(s) by more than {o.Tolerance:P0} " +
                         $"({string.Join(", ", failed.Select(r => $"{r.Model}/{r.Method} {r.ModelledOverMeasured:0.00}"))}): full-scale numbers withheld");
        ctx.Record(Plot(ctx.OutputDir));
    }

    List<MemoryMeasuredRow> MeasureReduced(ExperimentContext ctx, MemoryOptions o, IReadOnlyDictionary<string, LlamaConfig> shapes)
    {
        var rows = new List<MemoryMeasuredRow>();
        var settings = MemorySettings.TorchSharpFloat32(o.SequenceLength);
        using var progress = ctx.Progress.Start("measuring reduced models, one process each", o.Models.Length * CostMethod.TrainingMethodNames.Count);
        foreach (string model in o.Models)
            foreach (string method in CostMethod.TrainingMethodNames)
            {
                ctx.ThrowIfCancelled();
                var shape = Reduced(shapes[model], o);
                var request = new MeasureRequest(model, shape, method, o.Rank, o.SequenceLength, o.WarmupSteps, o.MeasuredSteps,
                    ctx.Settings.Seed, ctx.Settings.Threads, ctx.Device.type.ToString().ToLowerInvariant());
                var result = ChildMeasurement.Run(request, TimeSpan.FromSeconds(o.ChildTimeoutSeconds));
                var estimate = TrainingMemoryModel.Estimate(shape, CostMethod.ByName(method, o.Rank).Config!, settings);
                double ratio = (double)estimate.PeakBytes / result.StepBytes;
                rows.Add(new MemoryMeasuredRow(model, method, shape.Layers, shape.VocabSize, o.SequenceLength, result.TrainableParameters,
                    estimate.TrainableParameters, result.StepBytes, estimate.PeakBytes, ratio, Math.Abs(ratio - 1) <= o.Tolerance,
                    result.BaselineBytes, estimate.PeakPhase, result.StepSeconds.Max(), result.Probe));
                progress.Advance();
            }
        return rows;
    }

    static LlamaConfig Reduced(LlamaConfig full, MemoryOptions o) => full with { Layers = o.Layers, VocabSize = o.Vocab };

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
