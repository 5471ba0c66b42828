using System.CommandLine;
using Abba.Core.Models;
using Abba.Core.Pretrained;
using Abba.Experiments.Pipeline;

namespace Abba.Experiments.Encoder;

/// <summary>
/// Table 2's method comparison and Figure 3's question on a real pretrained transformer: all-MiniLM-L6-v2 (BERT, 6
/// layers, hidden 384, restored from NuGet) fine-tuned to tag WordNet 3.0 glosses with their supersense. ABBA against
/// LoRA, HiRA and DoRA at the same budget, full fine-tuning, the frozen encoder's head alone, a LoRA rank curve, and
/// ABBA on each of the six projection kinds alone, under the comparison protocol: each arm at its own learning rate,
/// chosen on a validation split; paired seeds; test cross-entropy deciding; 95% intervals; the interval rules.
/// </summary>
public sealed class EncoderExperiment : IExperiment
{
    /// <summary>Stated in the log, summary, figures and claims: what this experiment is not.</summary>
    public const string Disclaimer =
        "REAL MODEL, NOT THE PAPER'S MODEL OR TASK: all-MiniLM-L6-v2 (22.7M parameters) fine-tuned to tag WordNet " +
        "glosses with their supersense, instead of Mistral-7B on MetaMathQA -> GSM8K.";

    readonly Option<string?> armList = new("--arms")
    {
        Description = "arms to run, comma-separated (default: the profile's; e.g. head_only,full_ft,abba_all," +
                      "lora,hira,dora,lora_quarter,lora_quadruple,abba_query,...)",
    };
    readonly Option<int?> rank = new("--rank")
    {
        Description = "LoRA, HiRA and DoRA rank r; ABBA r1 = r2 = r/2 (default: the profile's)",
    };
    readonly Option<int?> steps = new("--steps")
    {
        Description = "training steps of every arm (default: the profile's)",
    };
    readonly Option<double?> learningRate = new("--lr")
    {
        Description = "one learning rate for every arm, no sweep (default: a rate per arm, chosen on validation)",
    };

    /// <inheritdoc />
    public ExperimentInfo Info { get; } = new("encoder",
        "ABBA vs LoRA, HiRA, DoRA and full fine-tuning on a real pretrained transformer (all-MiniLM-L6-v2, " +
        "WordNet supersenses)",
        "Table 2 (real model)", EncoderFiles.Written,
        [
            new FigureInfo(EncoderFiles.MethodsFigure, "Table 2"),
            new FigureInfo(EncoderFiles.ProjectionsFigure, "Figure 3"),
            new FigureInfo(EncoderFiles.RankCurveFigure, "Table 2"),
        ]) { UsesFolders = ["Memory"] };

    /// <inheritdoc />
    public IReadOnlyList<Option> Options => [armList, rank, steps, learningRate];

    /// <inheritdoc />
    public IReadOnlyDictionary<string, SettingProvenance> Provenance => EncoderOptions.Provenance;

    /// <inheritdoc />
    public IReadOnlyList<string> Deviations => EncoderClaims.Deviations;

    /// <inheritdoc />
    public Configured Configure(OptionValues values, RunSettings settings)
    {
        var o = settings.Preset(EncoderOptions.Tiny, EncoderOptions.Quick, EncoderOptions.Paper);
        var errors = new List<string>();
        o = o with
        {
            Rank = values.Get(rank) ?? o.Rank, Steps = values.Get(steps) ?? o.Steps,
            FixedRate = values.Get(learningRate) ?? o.FixedRate,
        };
        if (o.Rank < 2 || o.Rank % 2 != 0 || 4 * o.Rank > 384)
            errors.Add($"--rank must be even and between 2 and 96, so that the rank curve's 4r fits the encoder's " +
                       $"width 384 (got {o.Rank})");
        if (ListOption.Names(values.Get(armList), "--arms", EncoderArm.Labels, errors) is { } named)
            o = o with { Arms = named };
        if (o.Steps < 1) errors.Add($"--steps must be at least 1 (got {o.Steps})");
        if (o.FixedRate is { } lr && !(lr > 0 && lr < 1)) errors.Add($"--lr must be in (0, 1) (got {lr})");
        if (!File.Exists(EncodedSplits.DataPath))
            errors.Add($"the supersense data file is missing: {EncodedSplits.DataPath} (rebuild it with " +
                       "`abba data supersense`)");
        try
        {
            MiniLm.AssemblyPath();
        }
        catch (PretrainedModelException e)
        {
            errors.Add(e.Message);
        }
        return Configured.From(errors, () => new EncoderRun(o, settings));
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Plot(string folder) => EncoderFigures.Plot(folder);

    /// <inheritdoc />
    public IReadOnlyList<Claim> Claims(string folder) => EncoderClaims.Judge(folder);
}
