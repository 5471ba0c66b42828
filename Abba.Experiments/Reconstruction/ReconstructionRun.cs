using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Abba.Core.Reconstruction;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Reconstruction;

/// <summary>A configured reconstruction run: fits and settling fits as units, then rows, summary and figure.</summary>
public sealed class ReconstructionRun(ReconstructionOptions o, RunSettings settings) : IPlannedRun
{
    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <inheritdoc />
    public object Options => o;

    /// <inheritdoc />
    /// <remarks>
    /// Settling the losing points alone, or only some starts, only removes settling units (each unit's identity names
    /// its reason and start), so these two are left out of the settings every unit's hash covers: a run that settles
    /// less reuses the units of one that settles more, and the reverse.
    /// </remarks>
    public object UnitSettings { get; } = WithoutFallbacks(o);

    /// <inheritdoc />
    public IReadOnlyList<int> Seeds { get; } = settings.SeedList(o.Seeds);

    /// <inheritdoc />
    public IReadOnlyList<UnitPlan> Units => [.. Planned.Fits, .. Planned.Settles];

    PlannedUnits Planned => planned ??= ReconstructionPlan.Units(o, Seeds, new TargetCache());
    PlannedUnits? planned;   // built once, on first use

    /// <inheritdoc />
    public void Run(ExperimentContext ctx)
    {
        var fits = new Dictionary<string, FitRecord>();
        var settles = new Dictionary<string, SettleRecord>();
        using (var progress = ctx.Progress.Start("reconstruction fits", Units.Count))
        {
            // each stored at once: an interrupted run resumes after its last unit
            foreach (var plan in Planned.Fits)
            {
                fits[plan.Identity] = ctx.Unit<FitRecord>(plan);
                progress.Advance();
            }
            foreach (var plan in Planned.Settles)
            {
                settles[plan.Identity] = ctx.Unit<SettleRecord>(plan);
                progress.Advance();
            }
        }
        var (rows, settleRows) = ReconstructionRows.Build(o, Seeds, fits, settles, ReconstructionRows.PaperValues());
        ctx.WriteCsv(ReconstructionFiles.Csv, rows);
        ctx.WriteCsv(ReconstructionFiles.Settle, settleRows);
        string summary = ReconstructionSummary.Build(rows, settleRows, o.N);
        ctx.WriteSummary(ReconstructionFiles.Summary, summary);
        ctx.Record(ReconstructionFigure.Save(ctx.OutputDir, rows));
    }

    /// <summary>The options as JSON without the two settling fallbacks, which only remove units.</summary>
    static JsonObject WithoutFallbacks(ReconstructionOptions o)
    {
        var json = JsonSerializer.SerializeToNode(o, Json)!.AsObject();
        json.Remove(JsonNamingPolicy.SnakeCaseLower.ConvertName(nameof(ReconstructionOptions.SettleLosingOnly)));
        json.Remove(JsonNamingPolicy.SnakeCaseLower.ConvertName(nameof(ReconstructionOptions.SettleStartsOnly)));
        return json;
    }
}
