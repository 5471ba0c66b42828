using System.CommandLine;
using Abba.Core.Reconstruction;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static TorchSharp.torch;

namespace Abba.Experiments.Reconstruction;

/// <summary>
/// Paper Figure 2: reconstruction error of LoRA (truncated SVD), ABBA at two budgets and HiRA on four matrix types.
/// </summary>
public sealed class ReconstructionExperiment : IExperiment
{
    readonly Option<int?> n = new("--n") { Description = "targets are n x n (default: quick 256, paper 1000)" };
    readonly Option<string?> ranks = new("--ranks") { Description = "comma-separated LoRA ranks r (default " +
        "8,16,...,72)" };
    readonly Option<string?> types = new("--matrix-types") { Description = "comma-separated: orthogonal, low_rank, " +
        "sparse, random (default all)" };
    readonly Option<string?> budgets = new("--budgets") { Description = "comma-separated ABBA budgets: equal (r1 = " +
        "r2 = r/2), doubled (r1 = r2 = r) (default both)" };
    readonly Option<string?> extras = new("--extras") { Description = "comma-separated extras: hira, splits, or " +
        "none (default hira,splits)" };
    readonly Option<int?> steps = new("--steps") { Description = "maximum Adam steps per ABBA/HiRA fit (default " +
        "1500)" };
    readonly Option<double?> lr = new("--lr") { Description = "peak Adam learning rate (default 0.01)" };
    readonly Option<string?> settleStarts = new("--settle-starts") { Description = "comma-separated settling starts " +
        "to run: svd_ones, random, warm (a fallback; default all)" };
    readonly Option<bool> settleLosingOnly = new("--settle-losing-only") { Description = "settle only the " +
        "equal-budget fits that lose to LoRA, not those that beat it but stopped at the step cap (a fallback; " +
            "default off)" };

    /// <inheritdoc />
    public ExperimentInfo Info { get; } = new("reconstruction",
        "relative squared reconstruction error of LoRA, ABBA (equal and doubled budget) and HiRA on four matrix types",
        "Figure 2", [ReconstructionFiles.Csv, ReconstructionFiles.Settle],
        [new FigureInfo(ReconstructionFiles.Figure, "Figure 2")]);

    /// <inheritdoc />
    public IReadOnlyList<Option> Options => [n, ranks, types, budgets, extras, steps, lr, settleLosingOnly,
        settleStarts];

    /// <inheritdoc />
    public IReadOnlyDictionary<string, SettingProvenance> Provenance => ReconstructionOptions.Provenance;

    /// <inheritdoc />
    public Configured Configure(OptionValues values, RunSettings settings)
    {
        var o = settings.Preset(ReconstructionOptions.Tiny, ReconstructionOptions.Quick, ReconstructionOptions.Paper);
        var problems = new List<string>();
        o = o with
        {
            N = values.Get(n) ?? o.N,
            Ranks = ListOption.PositiveInts(values.Get(ranks), "--ranks", problems) ?? o.Ranks,
            MatrixTypes = ListOption.Names(values.Get(types), "--matrix-types",
                [.. Enum.GetValues<MatrixType>().Select(t => t.Name())], problems) ?? o.MatrixTypes,
            Budgets = ListOption.Names(values.Get(budgets), "--budgets", [ReconstructionOptions.EqualBudget,
                ReconstructionOptions.DoubledBudget], problems) ?? o.Budgets,
            Extras = values.Get(extras) == "none" ? [] : ListOption.Names(values.Get(extras), "--extras",
                [ReconstructionOptions.HiraExtra, ReconstructionOptions.SplitsExtra], problems) ?? o.Extras,
            Steps = values.Get(steps) ?? o.Steps,
            LearningRate = values.Get(lr) ?? o.LearningRate,
            SettleLosingOnly = values.Get(settleLosingOnly) || o.SettleLosingOnly,
            SettleStartsOnly = ListOption.Names(values.Get(settleStarts), "--settle-starts",
                ReconstructionOptions.SettleStartKinds, problems) ?? o.SettleStartsOnly,
        };
        problems.AddRange(Check(o));
        return Configured.From(problems, () => new ReconstructionRun(o, settings));
    }

    static IEnumerable<string> Check(ReconstructionOptions o)
    {
        if (o.N < 8) yield return $"--n must be at least 8 (got {o.N})";
        if (o.MatrixTypes.Contains(MatrixType.LowRank.Name()) && o.N < MatrixGenerators.LowRankRank)
            yield return $"--matrix-types low_rank needs --n of at least {MatrixGenerators.LowRankRank} (its rank; " +
                $"got {o.N})";
        foreach (int r in o.Ranks.Where(r => r > o.N)) yield return $"--ranks: rank {r} exceeds --n {o.N}";
        if (o.Budgets.Contains(ReconstructionOptions.EqualBudget))
            foreach (int r in o.Ranks.Where(r => r % 2 != 0))
                yield return $"--ranks: rank {r} is odd, but the equal budget needs r1 = r2 = r/2 (use even ranks, " +
                    $"or --budgets doubled)";
        if (o.Extras.Contains(ReconstructionOptions.SplitsExtra) && o.SplitRank > o.N)
            yield return $"--extras splits fits r1 + r2 = {o.SplitRank}, which exceeds --n {o.N} (use --extras hira " +
                $"or none)";
        if (o.Steps < 1) yield return $"--steps must be at least 1 (got {o.Steps})";
        if (!(o.LearningRate > 0) || !double.IsFinite(o.LearningRate)) yield return $"--lr must be a positive " +
            $"number (got {o.LearningRate})";
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Plot(string folder)
    {
        var rows = CsvFiles.Read<ReconstructionRow>(Path.Combine(folder, ReconstructionFiles.Csv));
        string summary = Path.Combine(folder, ReconstructionFiles.Summary);
        AtomicFile.WriteText(summary, ReconstructionSummary.Build(rows, ReconstructionClaims.SettleRows(folder),
            rows[0].N));
        return [summary, .. ReconstructionFigure.Save(folder, rows)];
    }

    /// <inheritdoc />
    public IReadOnlyList<Claim> Claims(string folder) => ReconstructionClaims.Judge(folder);

    /// <inheritdoc />
    public IReadOnlyList<string> Deviations => ReconstructionClaims.Deviations;
}
