using Abba.Core.Memory;
using Abba.Core.Models;
using Abba.Experiments.Pipeline;

namespace Abba.Experiments.Memory;

/// <summary>
/// What a memory run concludes from its float32 measurements, computed once: the measurements the analytic model
/// misses, the modelled full-scale peaks (null when it misses any) and every modelled peak's components.
/// </summary>
/// <param name="Failed">Measurements outside the tolerance.</param>
/// <param name="FullScale">Full-scale modelled peaks beside the paper's; null when the model misses a
/// measurement.</param>
/// <param name="Breakdown">Components of the full-scale and the reduced modelled peaks.</param>
public sealed record MemorySummary(IReadOnlyList<MemoryMeasuredRow> Failed, IReadOnlyList<MemoryModelledRow>? FullScale,
    IReadOnlyList<MemoryBreakdownRow> Breakdown)
{
    /// <summary><see cref="MemoryBreakdownRow.Scale"/> of the full-scale modelled peaks.</summary>
    public const string FullScaleBreakdown = "full_modelled";
    /// <summary><see cref="MemoryBreakdownRow.Scale"/> of the reduced models' modelled peaks.</summary>
    public const string ReducedBreakdown = "reduced_modelled";

    /// <summary>The summary of <paramref name="measured"/> under <paramref name="o"/>.</summary>
    public static MemorySummary From(IReadOnlyList<MemoryMeasuredRow> measured, MemoryOptions o,
        IReadOnlyDictionary<string, LlamaConfig> shapes)
    {
        var paper = PaperModels.Figure4();
        var settings = MemorySettings.PaperGpu(o.SequenceLength);
        var rows = new List<MemoryModelledRow>();
        var breakdown = new List<MemoryBreakdownRow>();
        foreach (string model in PaperModels.Names)
            foreach (var arm in CostArm.Training)
            {
                var estimate = TrainingMemoryModel.Estimate(shapes[model], arm.At(o.Rank).Config!, settings);
                double gb = estimate.PeakBytes / 1e9;
                string? paperMethod = arm.PaperName;
                double? paperGb = paper.FirstOrDefault(p => p.Model == model && p.Method == paperMethod)?.PeakMemoryGb;
                rows.Add(new MemoryModelledRow(model, arm.Name, estimate.TrainableParameters, gb, paperGb, gb / paperGb,
                    estimate.PeakPhase, "modelled (analytic); paper_gb is the paper's measurement"));
                breakdown.AddRange(estimate.Components.Select(c =>
                    new MemoryBreakdownRow(FullScaleBreakdown, model, arm.Name, c.Name, c.Bytes)));
            }
        breakdown.AddRange(
            from model in o.Models
            from arm in CostArm.Training
            from c in TrainingMemoryModel.Estimate(Reduced(shapes[model], o), arm.At(o.Rank).Config!,
                MemorySettings.TorchSharpFloat32(o.SequenceLength)).Components
            select new MemoryBreakdownRow(ReducedBreakdown, model, arm.Name, c.Name, c.Bytes));
        var failed = measured.Where(r => !r.WithinTolerance).ToArray();
        return new MemorySummary(failed, failed.Length == 0 ? rows : null, breakdown);
    }

    /// <summary>The reduced copy of <paramref name="full"/> that <paramref name="o"/> measures.</summary>
    public static LlamaConfig Reduced(LlamaConfig full, MemoryOptions o) => full.Reduced(o.WidthDivisor, o.Layers,
        o.Vocab);
}
