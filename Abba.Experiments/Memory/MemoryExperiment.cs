using System.CommandLine;
using Abba.Experiments.Pipeline;

namespace Abba.Experiments.Memory;

/// <summary>
/// Paper Figure 4: peak training memory per method. Measures real steps of reduced copies of the paper's models (one
/// fresh process per point), checks the analytic model against every measurement, and only when all agree shows the
/// model's full-scale numbers, labelled modelled, beside the paper's measured ones.
/// </summary>
public sealed class MemoryExperiment : IExperiment
{
    readonly Option<string[]> models = new("--models")
    {
        Description = $"models to measure, comma-separated ({string.Join(", ", PaperModels.Names)}; default: the " +
            $"profile's)",
        AllowMultipleArgumentsPerToken = true,
    };
    readonly Option<int?> layers = new("--layers") { Description = "blocks per reduced model (default: the profile's)"
        };
    readonly Option<int?> vocab = new("--vocab") { Description =
        "vocabulary of the reduced models (default: the profile's)" };

    /// <inheritdoc />
    public ExperimentInfo Info { get; } = new("memory",
        "peak training memory per method: reduced models measured, the analytic model checked, full scale modelled",
        "Figure 4", MemoryFiles.Written,
        [new(MemoryFiles.MeasuredFigure, "Figure 4"), new(MemoryFiles.BreakdownFigure, "Figure 4")]);

    /// <inheritdoc />
    public IReadOnlyList<Option> Options => [models, layers, vocab];

    /// <inheritdoc />
    public IReadOnlyDictionary<string, SettingProvenance> Provenance => MemoryOptions.Provenance;

    /// <inheritdoc />
    public IReadOnlyList<string> Deviations => MemoryClaims.Deviations;

    /// <inheritdoc />
    public Configured Configure(OptionValues values, RunSettings settings)
    {
        var o = settings.Preset(MemoryOptions.Tiny, MemoryOptions.Quick, MemoryOptions.Paper);
        var chosen = values.Get(models) is { Length: > 0 } m ? ListOption.Items(m)! : o.Models;
        o = o with { Models = chosen, Layers = values.Get(layers) ?? o.Layers, Vocab = values.Get(vocab) ?? o.Vocab };
        var problems = new List<string>();
        foreach (string unknown in o.Models.Where(n => !PaperModels.Names.Contains(n)))
            problems.Add($"--models: unknown model '{unknown}'; expected {string.Join(", ", PaperModels.Names)}");
        if (o.Layers < 1) problems.Add($"--layers must be at least 1 (got {o.Layers})");
        if (o.Vocab < 16) problems.Add($"--vocab must be at least 16 (got {o.Vocab})");
        return Configured.From(problems, () => new MemoryRun(o, settings));
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Plot(string folder) => MemoryFigures.Save(folder);

    /// <inheritdoc />
    public IReadOnlyList<Claim> Claims(string folder) => MemoryClaims.Judge(folder);
}
