using System.CommandLine;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Ablation;

/// <summary>
/// Paper Fig. 3: ABBA on one projection type at a time (all layers) versus all seven, with LoRA, HiRA and full
/// fine-tuning as baselines (Table 2's comparison). Synthetic stand-in: a Llama-style decoder pre-trained from scratch
/// on addition (P) with a little subtraction (F), then fine-tuned on F, instead of Mistral-7B on MetaMathQA -> GSM8K.
/// Under the comparison protocol: each (method, target) at its own learning rate, chosen on a validation split; paired
/// seeds; held-out answer cross-entropy as the primary metric; 95% intervals; the interval verdict rules.
/// </summary>
public sealed class AblationExperiment : IExperiment
{
    /// <summary>Stated in the log, summary and figure: what this experiment is not.</summary>
    public const string Disclaimer =
        "SYNTHETIC STAND-IN for MetaMathQA -> GSM8K: a small Llama-style decoder pre-trained from scratch on " +
        "addition (with a little subtraction) and fine-tuned on subtraction; no LLM weights or datasets are used.";

    readonly Option<string> methods = new("--methods")
    {
        Description = "methods run on each projection type alone, comma-separated from abba, lora, hira " +
                      "(ABBA is always included)",
        DefaultValueFactory = _ => AblationMethod.Abba.Name,
    };
    readonly Option<int?> rank = new("--rank")
    {
        Description = "LoRA/HiRA rank r; ABBA r1 = r2 = r/2 (default: the profile's)",
    };
    readonly Option<int?> steps = new("--finetune-steps")
    {
        Description = "fine-tuning steps of every arm (default: the profile's)",
    };
    readonly Option<double?> learningRate = new("--lr")
    {
        Description = "one fine-tuning learning rate for every arm, no sweep " +
                      "(default: a rate per method and target, chosen on the validation split)",
    };
    readonly Option<bool> rankCurveOnly = new("--rank-curve-only")
    {
        Description = "run only LoRA's rank curve (r/4 to 4r on all seven): the method-neutral calibration, " +
                      "in which no ABBA arm runs",
    };
    readonly Option<int?> pretrainModels = new("--pretrain-models")
    {
        Description = "independently pre-trained models; seed i fine-tunes model i mod this (default: the profile's)",
    };
    readonly Option<double?> pretrainMix = new("--pretrain-mix")
    {
        Description = "fraction of pre-training problems that are subtraction (task F), 0-0.5 (default: the profile's)",
    };

    /// <inheritdoc />
    /// <remarks>
    /// One CPU thread: the decoders are tiny (2-4 blocks of width 64), so libtorch's per-op threading costs more than
    /// it saves; on a 2-core CPU a paper-profile arm took 22 s on one thread against 52 s on two.
    /// </remarks>
    public ExperimentInfo Info { get; } = new("ablation",
        "which projections to adapt: ABBA on each of q/k/v/o/gate/up/down alone vs all (synthetic arithmetic stand-in)",
        "Figure 3", AblationFiles.Written,
        [
            new FigureInfo(AblationFiles.ComponentsFigure, "Figure 3"),
            new FigureInfo(AblationFiles.PretrainingFigure, "Figure 3"),
            new FigureInfo(AblationFiles.RankCurveFigure, "Table 2"),
            new FigureInfo(AblationFiles.SpectraFigure, "Table 2"),
        ])
    {
        PreferredCpuThreads = 1,
    };

    /// <inheritdoc />
    public IReadOnlyList<Option> Options =>
        [methods, rank, steps, learningRate, pretrainMix, pretrainModels, rankCurveOnly];

    /// <inheritdoc />
    public IReadOnlyDictionary<string, SettingProvenance> Provenance => AblationOptions.Provenance;

    /// <inheritdoc />
    public IReadOnlyList<string> Deviations => AblationClaims.Deviations;

    /// <inheritdoc />
    public Configured Configure(OptionValues values, RunSettings settings)
    {
        var o = settings.Preset(AblationOptions.Tiny, AblationOptions.Quick, AblationOptions.Paper);
        var errors = new List<string>();
        var known = AblationMethod.Adapters.Select(m => m.Name).ToArray();
        var chosen = ListOption.Items(values.Get(methods))!.Prepend(AblationMethod.Abba.Name).Distinct().ToArray();
        errors.AddRange(chosen.Where(m => !known.Contains(m))
            .Select(m => $"--methods: unknown method '{m}' (valid: {string.Join(", ", known)})"));
        o = o with
        {
            PerComponentMethods = known.Where(chosen.Contains).ToArray(),
            Rank = values.Get(rank) ?? o.Rank,
            FinetuneSteps = values.Get(steps) ?? o.FinetuneSteps,
            FixedRate = values.Get(learningRate) ?? o.FixedRate,
            PretrainMix = values.Get(pretrainMix) ?? o.PretrainMix,
            PretrainModels = values.Get(pretrainModels) ?? o.PretrainModels,
            RankCurveOnly = values.Get(rankCurveOnly) || o.RankCurveOnly,
        };
        int smallest = o.Model.ProjectionShapes().Values.Min(s => Math.Min(s.In, s.Out));
        if (o.Rank < 2 || o.Rank % 2 != 0 || o.Rank > smallest || (o.Rank / 2) * (o.Rank / 2) > smallest)
            errors.Add($"--rank must be even, at least 2, and fit the narrowest projection ({smallest}): " +
                       $"r <= {smallest} and ABBA's r1 r2 = (r/2)^2 <= {smallest} (got {o.Rank})");
        else if (o.CurveRanks.Max() > smallest || o.CurveRanks.Min() < 1)
            errors.Add($"--rank: LoRA's rank curve ({string.Join(", ", o.CurveRanks)}) must fit the narrowest " +
                       $"projection ({smallest}): r <= {smallest / o.RankCurve.Append(1).Max()} (got {o.Rank})");
        if (o.PretrainModels < 1) errors.Add($"--pretrain-models must be at least 1 (got {o.PretrainModels})");
        if (o.FinetuneSteps < 10) errors.Add($"--finetune-steps must be at least 10 (got {o.FinetuneSteps})");
        if (o.FixedRate is { } lr && !(lr > 0 && lr < 1)) errors.Add($"--lr must be in (0, 1) (got {lr})");
        if (!(o.PretrainMix >= 0 && o.PretrainMix <= 0.5))
            errors.Add($"--pretrain-mix must be in [0, 0.5] (got {o.PretrainMix})");
        return Configured.From(errors, () => new AblationRun(o, settings));
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Plot(string folder) => AblationFigures.Plot(folder, ProgramFiles.Folder);

    /// <inheritdoc />
    public IReadOnlyList<Claim> Claims(string folder) => AblationClaims.Judge(folder, ProgramFiles.Folder);

    // For notebooks, which do not run beside the program: they pass the source tree's Abba.Experiments folder.

    /// <summary>The claims judged from <paramref name="folder"/>, the paper's values read under
    /// <paramref name="referenceBase"/>.</summary>
    public IReadOnlyList<Claim> Claims(string folder, string referenceBase) =>
        AblationClaims.Judge(folder, referenceBase);

    /// <summary>Redraws the figures in <paramref name="folder"/>, the paper's values read under
    /// <paramref name="referenceBase"/>.</summary>
    public IReadOnlyList<string> Plot(string folder, string referenceBase) =>
        AblationFigures.Plot(folder, referenceBase);

    /// <summary>The seven projection names in the paper's Fig. 3 order (ascending GSM8K accuracy).</summary>
    public static IReadOnlyList<string> PaperOrder { get; } = [.. Target.PaperOrder.Select(t => t.Name)];

    /// <inheritdoc cref="AblationAnalysis.PaperComponents"/>
    public static List<PaperComponentRow> PaperComponents(string baseDirectory) =>
        AblationAnalysis.PaperComponents(baseDirectory);

    /// <inheritdoc cref="AblationAnalysis.Correlation"/>
    public static (double Rho, double P) Correlation(
        IReadOnlyList<AblationRow> rows, IReadOnlyList<PaperComponentRow> paper, string benchmark) =>
        AblationAnalysis.Correlation(rows, paper, benchmark);
}
