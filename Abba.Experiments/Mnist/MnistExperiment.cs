using System.CommandLine;
using Abba.Experiments.Pipeline;
using MnistData = Abba.Core.Data.Mnist;   // the simple name Mnist is this experiment's namespace

namespace Abba.Experiments.Mnist;

/// <summary>Paper Figure 1 (right): pre-train an MLP on digits 0-7, fine-tune on 8-9 with Full FT, LoRA, HiRA and
/// ABBA.</summary>
public sealed class MnistExperiment : IExperiment
{
    readonly Option<string> data = new("--data")
    {
        Description = "folder with the four MNIST IDX files (.gz or raw)",
        DefaultValueFactory = _ => MnistOptions.DefaultDataFolder,
    };
    readonly Option<int?> steps = new("--steps") { Description = "fine-tuning steps per method (default: the " +
        "profile's)" };
    readonly Option<int?> rank = new("--rank")
    {
        Description = "r: LoRA/HiRA rank; ABBA uses r1 = r2 = r/2 (even, 2-10; default 8)",
    };
    readonly Option<int?> hidden = new("--hidden") { Description = "hidden width H of the 784 -> H -> 10 MLP " +
        "(default 256)" };

    /// <inheritdoc />
    public ExperimentInfo Info { get; } = new("mnist",
        "MLP pre-trained on digits 0-7, fine-tuned on 8-9: loss curves, loss landscape, forgetting", "Figure 1 (right)",
        MnistFiles.Written,
        [
            new(MnistFiles.LossFigure, "Figure 1 (right): loss curves"),
            new(MnistFiles.LandscapeFigure, "Figure 1 (right): loss landscape"),
            new(MnistFiles.AccuracyFigure, "Figure 1 (right) setting: retention of 0-7 (not in the paper)"),
        ]);

    /// <inheritdoc />
    public IReadOnlyList<Option> Options => [data, steps, rank, hidden];

    /// <inheritdoc />
    public IReadOnlyDictionary<string, SettingProvenance> Provenance => MnistOptions.Provenance;

    /// <inheritdoc />
    public IReadOnlyList<string> Deviations => MnistClaims.Deviations;

    /// <inheritdoc />
    public Configured Configure(OptionValues values, RunSettings settings)
    {
        string folder = values.Get(data);
        var o = settings.Preset(MnistOptions.Tiny, MnistOptions.Quick, MnistOptions.Paper);
        o = o with
        {
            DataFolder = folder,
            Steps = values.Get(steps) ?? o.Steps,
            Rank = values.Get(rank) ?? o.Rank,
            Hidden = values.Get(hidden) ?? o.Hidden,
        };
        var problems = new List<string>();
        var missing = Directory.Exists(folder) ? MnistData.MissingFiles(folder)
            : [$"{Path.GetFullPath(folder)} (no such folder)"];
        if (missing.Count > 0)
            problems.Add($"--data: MNIST files not found: looked for {string.Join("; ", missing)}. " +
                $"Point --data at the folder holding the four MNIST IDX files (default " +
                    $"{MnistOptions.DefaultDataFolder}).");
        if (o.Steps < o.Checkpoints) problems.Add($"--steps must be at least {o.Checkpoints} (got {o.Steps})");
        if (o.Rank is < 2 or > MnistData.Classes || o.Rank % 2 != 0)
            problems.Add($"--rank must be even and between 2 and {MnistData.Classes} " +
                $"(the 10-way head limits it; got {o.Rank})");
        if (o.Hidden < o.Rank) problems.Add($"--hidden must be at least the rank {o.Rank} (got {o.Hidden})");
        return Configured.From(problems, () => new MnistRun(o, settings.SeedList(o.Seeds)));
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Plot(string folder) => MnistFigures.Plot(folder);

    /// <inheritdoc />
    public IReadOnlyList<Claim> Claims(string folder) => MnistClaims.Judge(folder);
}
