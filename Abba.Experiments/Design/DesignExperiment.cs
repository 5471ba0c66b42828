using System.CommandLine;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;

namespace Abba.Experiments.Design;

/// <summary>
/// ABBA's own design choices ablated (paper Tables 3, 5, 7, 8, 9, Figs. 5-6, Theorem 2) on the ablation experiment's
/// synthetic stand-in: the same decoder, pre-trained model and task, ABBA on all seven projections. Six families, each
/// against one reference arm (the paper's init and scaling, r1 = r2 = r/2, the reference alpha): initialisation,
/// scaling of s (with gradient-norm curves, and Theorem 2's moments measured directly), alpha, the r1/r2 split, the
/// total rank, and chained ABBA. Under the comparison protocol: paired seeds (every arm of a seed sees the same
/// batches; arms with the same pair ranks start from the same random draws), held-out answer cross-entropy as the
/// primary metric, 95% intervals, the interval verdict rules. Learning rate: the paper tunes one rate per model and
/// task and keeps it across its ablation rows, so one rate is chosen here, for the reference arm, on the validation
/// split, and every arm of every family uses it.
/// </summary>
public sealed class DesignExperiment : IExperiment
{
    /// <summary>Stated in the log, summary and figures: what this experiment is not.</summary>
    public const string Disclaimer =
        "SYNTHETIC STAND-IN for Mistral-7B on MetaMathQA -> GSM8K: the ablation experiment's small decoder, " +
        "pre-trained from scratch on addition (with a little subtraction) and fine-tuned on subtraction with ABBA on " +
        "all seven projections.";

    readonly Option<string?> families = new("--families")
    {
        Description = "families to run, comma-separated from init, scaling, alpha, alpha_code, split, rank, chained " +
            "(default: all)",
    };
    readonly Option<int?> steps = new("--finetune-steps")
    {
        Description = "fine-tuning steps of every arm (default: the profile's)",
    };

    /// <inheritdoc />
    /// <remarks>One CPU thread, as the ablation: its decoders are too small for libtorch's threading to pay.</remarks>
    public ExperimentInfo Info { get; } = new("design",
        "ABBA's design choices ablated: init (Table 3), scaling and Theorem 2 (Fig. 5), alpha (Table 8), " +
        "r1/r2 split (Table 5), total rank (Table 9), chained pairs (Table 7, Fig. 6) (synthetic arithmetic stand-in)",
        "Table 3", DesignFiles.Written, DesignFiles.Figures)
    {
        PreferredCpuThreads = 1, UsesFolders = ["Ablation"],
    };
    /// <inheritdoc />
    public IReadOnlyList<Option> Options => [families, steps];
    /// <inheritdoc />
    public IReadOnlyDictionary<string, SettingProvenance> Provenance => DesignOptions.Provenance;
    /// <inheritdoc />
    public IReadOnlyList<string> Deviations => DesignClaims.Deviations;

    /// <inheritdoc />
    public Configured Configure(OptionValues values, RunSettings settings)
    {
        var o = settings.Preset(DesignOptions.Tiny, DesignOptions.Quick, DesignOptions.Paper);
        var errors = new List<string>();
        var chosen = ListOption.Names(values.Get(families), "--families", DesignOptions.AllFamilies, errors);
        if (chosen is { Length: 0 } && errors.Count == 0) errors.Add("--families: name at least one family");
        o = o with
        {
            Families = chosen is { Length: > 0 } ? chosen : o.Families,
            FinetuneSteps = values.Get(steps) ?? o.FinetuneSteps,
        };
        if (o.FinetuneSteps < 10) errors.Add($"--finetune-steps must be at least 10 (got {o.FinetuneSteps})");
        if (errors.Count == 0)
            foreach (var arm in DesignFamily.ArmsOf(o))
                try { foreach (var (_, shape) in o.Model.ProjectionShapes()) arm.Config.Validate(shape.Out, shape.In); }
                catch (ArgumentException e) { errors.Add($"{arm.Family}/{arm.Name}: {e.Message}"); }
        return Configured.From(errors, () => new DesignRun(o, settings));
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Plot(string folder) => DesignFigures.Plot(folder, ProgramFiles.Folder);

    /// <inheritdoc />
    public IReadOnlyList<Claim> Claims(string folder) => DesignClaims.Claims(folder, ProgramFiles.Folder);
}
