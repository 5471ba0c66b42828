using System.CommandLine;
using Abba.Experiments.Pipeline;

namespace Abba.Experiments.Efficiency;

/// <summary>
/// The step-time cost of each method (paper Table 10 says ABBA trains 2-3% slower than LoRA): forward, backward and
/// AdamW on single adapted layers at LLM shapes and on a reduced decoder, all methods interleaved in one run, as
/// ratios to LoRA (same parameter count) and to the frozen base layer alone.
/// </summary>
public sealed class EfficiencyExperiment : IExperiment
{
    readonly Option<string[]> cases = new("--cases")
    {
        Description = "single-layer cases as INxOUT, comma-separated (default: 2048x2048,4096x4096,4096x14336)",
        AllowMultipleArgumentsPerToken = true,
    };
    readonly Option<int?> repeats = new("--repeats") { Description =
        "timed rounds per single-layer case (default: the profile's)" };
    readonly Option<bool> noDecoder = new("--no-decoder") { Description = "skip the reduced-decoder case" };

    /// <inheritdoc />
    public ExperimentInfo Info { get; } = new("efficiency",
        "training-step time per method on single LLM-shaped layers and a reduced decoder, as paired ratios to LoRA " +
            "and against each step's roofline floor",
        "Table 10", EfficiencyFiles.Written,
        [new(EfficiencyFiles.RatioFigure, "Table 10"), new(EfficiencyFiles.PhasesFigure, "Table 10"),
         new(EfficiencyFiles.RooflineFigure, "Table 10"), new(EfficiencyFiles.AnatomyFigure, "Table 10")])
    {
        UsesFolders = ["Memory"],
    };

    /// <inheritdoc />
    public IReadOnlyList<Option> Options => [cases, repeats, noDecoder];

    /// <inheritdoc />
    public IReadOnlyDictionary<string, SettingProvenance> Provenance => EfficiencyOptions.Provenance;

    /// <inheritdoc />
    public IReadOnlyList<string> Deviations => EfficiencyClaims.Deviations;

    /// <inheritdoc />
    public Configured Configure(OptionValues values, RunSettings settings)
    {
        var o = settings.Preset(EfficiencyOptions.Tiny, EfficiencyOptions.Quick, EfficiencyOptions.Paper);
        o = o with { Repeats = values.Get(repeats) ?? o.Repeats, DecoderModel = values.Get(noDecoder) ? "" :
            o.DecoderModel };
        var problems = new List<string>();
        if (values.Get(cases) is { Length: > 0 } given)
        {
            var parsed = ListOption.Items(given)!.Select(c => (Text: c, Shape: LayerShape.TryParse(c))).ToArray();
            problems.AddRange(parsed.Where(p => p.Shape is null)
                .Select(p => $"--cases: '{p.Text}' is not INxOUT with positive sizes, e.g. 4096x4096"));
            o = o with { Layers = [.. parsed.Where(p => p.Shape is not null).Select(p => p.Shape!)] };
        }
        if (o.Repeats < 1) problems.Add($"--repeats must be at least 1 (got {o.Repeats})");
        return Configured.From(problems, () => new EfficiencyRun(o, settings));
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Plot(string folder) => EfficiencyFigures.Save(folder);

    /// <inheritdoc />
    public IReadOnlyList<Claim> Claims(string folder) => EfficiencyClaims.Judge(folder);
}
