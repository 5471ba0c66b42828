using System.CommandLine;
using Abba.Core.Reconstruction;
using Abba.Experiments.Output;
using CsvHelper;
using static TorchSharp.torch;

namespace Abba.Experiments.Experiments;

/// <summary>Settings of the reconstruction experiment, recorded in the manifest.</summary>
public sealed record ReconstructionOptions
{
    /// <summary>Square targets are n x n (the paper's LoRA curves fit n = 1000).</summary>
    public int N { get; init; } = 256;
    /// <summary>LoRA ranks r (x axis); ABBA equal uses r1 = r2 = r/2, doubled r1 = r2 = r, HiRA rank r.</summary>
    public int[] Ranks { get; init; } = [8, 16, 24, 32, 40, 48, 56, 64, 72];
    /// <summary>Matrix types (panels).</summary>
    public string[] MatrixTypes { get; init; } = [.. Enum.GetValues<MatrixType>().Select(t => t.Name())];
    /// <summary>ABBA budgets: equal (r1 = r2 = r/2, LoRA's parameter count, the caption) and doubled (r1 = r2 = r, the released code).</summary>
    public string[] Budgets { get; init; } = [EqualBudget, DoubledBudget];
    /// <summary>Extras beyond the paper's figure: hira (against a fixed Gaussian W0) and splits (r1 != r2 at SplitRank).</summary>
    public string[] Extras { get; init; } = [HiraExtra, SplitsExtra];
    /// <summary>Unequal splits r1 / (SplitRank - r1), as in the paper's Table 5.</summary>
    public int SplitRank { get; init; } = 32;
    /// <inheritdoc cref="SplitRank"/>
    public int[] SplitFirstRanks { get; init; } = [4, 8, 12, 16];
    /// <summary>Seeds (targets) for LoRA and ABBA equal when --seeds is not given; every other fit uses the first seed.</summary>
    public int Seeds { get; init; } = 1;
    /// <summary>ABBA and HiRA fits: at most this many Adam steps (also the cosine schedule's length).</summary>
    public int Steps { get; init; } = 1500;
    /// <summary>Peak Adam learning rate (the target is scaled to unit RMS entries).</summary>
    public double LearningRate { get; init; } = 1e-2;
    /// <summary>Early stop once the error has not improved by MinImprovement for Patience steps.</summary>
    public int Patience { get; init; } = 150;
    /// <inheritdoc cref="Patience"/>
    public double MinImprovement { get; init; } = 1e-5;
    /// <summary>The fit, in words.</summary>
    public string FitMethod { get; init; } =
        "float32 Adam (betas 0.9/0.999, no weight decay) on the shared adapters' parameters, cosine decay to 0 over Steps, " +
        "early stop on a plateau, best iterate kept; ABBA starts at B1A1 = rank-r1 SVD of M and B2A2 = all-ones " +
        "(+1% noise on the other r2-1 columns), i.e. at LoRA-r1's error; HiRA starts at the exact line-search step along " +
        "the rank-r SVD of W0 ⊙ M; errors recomputed in float64";

    /// <summary>Budget and extra names.</summary>
    public const string EqualBudget = "equal", DoubledBudget = "doubled", HiraExtra = "hira", SplitsExtra = "splits";

    /// <summary>CPU-friendly: n = 256, one seed, at most 400 steps per fit.</summary>
    public static ReconstructionOptions Quick() => new() { Steps = 400 };

    /// <summary>The paper's size n = 1000, three seeds for the equal budget, at most 1500 steps per fit.</summary>
    public static ReconstructionOptions Paper() => new() { N = 1000, Seeds = 3, Steps = 1500 };

    /// <summary>ABBA (r1, r2) for LoRA rank r under <paramref name="budget"/>.</summary>
    public static (int R1, int R2) AbbaRanks(string budget, int r) => budget == EqualBudget ? (r / 2, r / 2) : (r, r);
}

/// <summary>One reconstruction of one target. Empty budget/r1/r2 for LoRA and HiRA; empty paper_value where the paper has none.</summary>
[CsvRecord]
public sealed partial record ReconstructionRow(
    [CsvColumn("matrix_type")] string MatrixType, [CsvColumn("n")] int N, [CsvColumn("method")] string Method,
    [CsvColumn("budget")] string Budget, [CsvColumn("rank")] int Rank, [CsvColumn("r1")] int? R1, [CsvColumn("r2")] int? R2,
    [CsvColumn("params")] long Params, [CsvColumn("seed")] int Seed, [CsvColumn("rel_sq_error")] double RelSqError,
    [CsvColumn("rank_bound_error")] double RankBoundError, [CsvColumn("paper_value")] double? PaperValue,
    [CsvColumn("steps")] int Steps, [CsvColumn("fit_seconds")] double FitSeconds);

/// <summary>A digitised point of the paper's Figure 2 (reference/fig2_reconstruction.csv).</summary>
[CsvRecord]
public sealed partial record PaperReconstructionRow(
    [CsvColumn("matrix_type")] string MatrixType, [CsvColumn("rank")] int Rank, [CsvColumn("method")] string Method,
    [CsvColumn("r1")] int R1, [CsvColumn("r2")] int R2, [CsvColumn("rel_sq_error")] double RelSqError, [CsvColumn("source")] string Source);

/// <summary>Paper Figure 2: reconstruction error of LoRA (truncated SVD), ABBA at two budgets and HiRA on four matrix types.</summary>
public sealed partial class ReconstructionExperiment : IExperiment
{
    /// <summary>The results table.</summary>
    public const string CsvName = "reconstruction.csv";

    /// <summary>The printed summary, saved.</summary>
    public const string SummaryName = "reconstruction_summary.md";

    readonly Option<int?> n = new("--n") { Description = "targets are n x n (default: quick 256, paper 1000)" };
    readonly Option<string?> ranks = new("--ranks") { Description = "comma-separated LoRA ranks r (default 8,16,...,72)" };
    readonly Option<string?> types = new("--matrix-types") { Description = "comma-separated: orthogonal, low_rank, sparse, random (default all)" };
    readonly Option<string?> budgets = new("--budgets") { Description = "comma-separated ABBA budgets: equal (r1 = r2 = r/2), doubled (r1 = r2 = r) (default both)" };
    readonly Option<string?> extras = new("--extras") { Description = "comma-separated extras: hira, splits, or none (default hira,splits)" };
    readonly Option<int?> steps = new("--steps") { Description = "maximum Adam steps per ABBA/HiRA fit (default 1500)" };
    readonly Option<double?> lr = new("--lr") { Description = "peak Adam learning rate (default 0.01)" };
    ReconstructionOptions? options;

    /// <inheritdoc />
    public string Name => "reconstruction";
    /// <inheritdoc />
    public string Description => "relative squared reconstruction error of LoRA, ABBA (equal and doubled budget) and HiRA on four matrix types";
    /// <inheritdoc />
    public string PaperArtefact => "Figure 2";
    /// <inheritdoc />
    public IReadOnlyList<Option> Options => [n, ranks, types, budgets, extras, steps, lr];
    /// <inheritdoc />
    public object Configuration => options ?? (object)"not configured";

    /// <inheritdoc />
    public IReadOnlyList<string> Configure(OptionValues values, RunSettings settings)
    {
        var o = settings.Profile == Profile.Paper ? ReconstructionOptions.Paper() : ReconstructionOptions.Quick();
        var problems = new List<string>();
        o = o with
        {
            N = values.Get(n) ?? o.N,
            Ranks = ParseInts(values.Get(ranks), "--ranks", problems) ?? o.Ranks,
            MatrixTypes = ParseNames(values.Get(types), "--matrix-types", [.. Enum.GetValues<MatrixType>().Select(t => t.Name())], problems) ?? o.MatrixTypes,
            Budgets = ParseNames(values.Get(budgets), "--budgets", [ReconstructionOptions.EqualBudget, ReconstructionOptions.DoubledBudget], problems) ?? o.Budgets,
            Extras = values.Get(extras) == "none" ? [] : ParseNames(values.Get(extras), "--extras", [ReconstructionOptions.HiraExtra, ReconstructionOptions.SplitsExtra], problems) ?? o.Extras,
            Steps = values.Get(steps) ?? o.Steps,
            LearningRate = values.Get(lr) ?? o.LearningRate,
        };
        problems.AddRange(Check(o));
        options = o;
        return problems;
    }

    static IEnumerable<string> Check(ReconstructionOptions o)
    {
        if (o.N < 8) yield return $"--n must be at least 8 (got {o.N})";
        if (o.MatrixTypes.Contains(MatrixType.LowRank.Name()) && o.N < MatrixGenerators.LowRankRank)
            yield return $"--matrix-types low_rank needs --n of at least {MatrixGenerators.LowRankRank} (its rank; got {o.N})";
        foreach (int r in o.Ranks.Where(r => r > o.N)) yield return $"--ranks: rank {r} exceeds --n {o.N}";
        if (o.Budgets.Contains(ReconstructionOptions.EqualBudget))
            foreach (int r in o.Ranks.Where(r => r % 2 != 0))
                yield return $"--ranks: rank {r} is odd, but the equal budget needs r1 = r2 = r/2 (use even ranks, or --budgets doubled)";
        if (o.Extras.Contains(ReconstructionOptions.SplitsExtra) && o.SplitRank > o.N)
            yield return $"--extras splits fits r1 + r2 = {o.SplitRank}, which exceeds --n {o.N} (use --extras hira or none)";
        if (o.Steps < 1) yield return $"--steps must be at least 1 (got {o.Steps})";
        if (!(o.LearningRate > 0) || !double.IsFinite(o.LearningRate)) yield return $"--lr must be a positive number (got {o.LearningRate})";
    }

    static int[]? ParseInts(string? text, string option, List<string> problems)
    {
        if (text is null) return null;
        var items = text.Split(',', StringSplitOptions.TrimEntries);
        var bad = items.Where(i => !int.TryParse(i, out int v) || v < 1).ToArray();
        foreach (var b in bad) problems.Add($"{option}: '{b}' is not a positive whole number");
        if (bad.Length > 0) return [];
        return [.. items.Select(int.Parse).Distinct().Order()];
    }

    static string[]? ParseNames(string? text, string option, string[] valid, List<string> problems)
    {
        if (text is null) return null;
        var items = text.Split(',', StringSplitOptions.TrimEntries);
        foreach (var i in items.Where(i => !valid.Contains(i)))
            problems.Add($"{option}: unknown value '{i}' (valid: {string.Join(", ", valid)})");
        return [.. valid.Where(items.Contains)];
    }

    /// <inheritdoc />
    public void Run(ExperimentContext ctx)
    {
        var o = options ?? throw new InvalidOperationException("Configure first.");
        var seeds = ctx.Seeds(o.Seeds);
        var paper = LoadPaperValues();
        var rows = new List<ReconstructionRow>();
        using var progress = ctx.Progress.Start("reconstruction fits", o.MatrixTypes.Length * seeds.Sum(s => FitsPerTarget(o, s == seeds[0])));
        foreach (var type in o.MatrixTypes.Select(t => MatrixGenerators.Parse(t)!.Value))
            foreach (int seed in seeds)
            {
                using var M = MatrixGenerators.Generate(type, o.N, seed);
                using var svd = new TargetSvd(M);
                var target = new Target(type, M, svd, seed, FirstSeed: seed == seeds[0]);
                foreach (var fit in Plan(o, target.FirstSeed))
                {
                    ctx.ThrowIfCancelled();
                    rows.Add(RunFit(ctx, o, target, fit, paper));
                    progress.Advance();
                }
                ctx.WriteCsv(CsvName, rows);   // after every target: an interrupted run keeps whole targets
            }
        ctx.Record(Plot(ctx.OutputDir));
        foreach (var line in File.ReadAllLines(ctx.PathOf(SummaryName))) ctx.Log.Info(line);
    }

    /// <summary>A target and its SVD.</summary>
    sealed record Target(MatrixType Type, Tensor M, TargetSvd Svd, int Seed, bool FirstSeed);

    /// <summary>One planned fit: method, budget, LoRA rank r and ABBA ranks.</summary>
    sealed record Fit(string Method, string Budget, int Rank, int R1, int R2);

    static int FitsPerTarget(ReconstructionOptions o, bool firstSeed) => Plan(o, firstSeed).Count();

    /// <summary>LoRA and ABBA equal on every seed; ABBA doubled, HiRA and the splits on the first seed only.</summary>
    static IEnumerable<Fit> Plan(ReconstructionOptions o, bool firstSeed)
    {
        foreach (int r in o.Ranks)
        {
            yield return new("lora", "", r, 0, 0);
            foreach (var budget in o.Budgets.Where(b => firstSeed || b == ReconstructionOptions.EqualBudget))
            {
                var (r1, r2) = ReconstructionOptions.AbbaRanks(budget, r);
                yield return new("abba", budget, r, r1, r2);
            }
            if (firstSeed && o.Extras.Contains(ReconstructionOptions.HiraExtra)) yield return new("hira", "", r, 0, 0);
        }
        if (!firstSeed || !o.Extras.Contains(ReconstructionOptions.SplitsExtra)) yield break;
        bool evenSplitDone = o.Ranks.Contains(o.SplitRank) && o.Budgets.Contains(ReconstructionOptions.EqualBudget);
        foreach (int r1 in o.SplitFirstRanks.Where(r1 => !(evenSplitDone && 2 * r1 == o.SplitRank)))
            yield return new("abba", ReconstructionOptions.EqualBudget, o.SplitRank, r1, o.SplitRank - r1);
    }

    static ReconstructionRow RunFit(ExperimentContext ctx, ReconstructionOptions o, Target t, Fit f, IReadOnlyDictionary<(string, int, string), double> paper)
    {
        var settings = new FitSettings(o.Steps, o.LearningRate, o.Patience, o.MinImprovement);
        var result = f.Method switch
        {
            "lora" => ReconstructionFits.Lora(t.M, t.Svd, f.Rank),
            "abba" => ReconstructionFits.Abba(t.M, f.R1, f.R2, settings, ctx.Device, t.Seed, ctx.Cancel),
            _ => Hira(t, f.Rank, settings, ctx),
        };
        // Eckart-Young at the method's maximal rank: LoRA r, ABBA r1 r2, HiRA rank(W0) r (>= n: no bound).
        long maxRank = f.Method switch { "lora" => f.Rank, "abba" => (long)f.R1 * f.R2, _ => (long)o.N * f.Rank };
        double? paperValue = f.Method == "hira" || (f.Method == "abba" && f.R1 != f.R2) ? null
            : paper.TryGetValue((t.Type.Name(), f.Rank, f.Method), out var v) ? v : null;
        var row = new ReconstructionRow(t.Type.Name(), o.N, f.Method, f.Budget, f.Rank, f.Method == "abba" ? f.R1 : null,
            f.Method == "abba" ? f.R2 : null, result.Params, t.Seed, result.RelSqError, t.Svd.Bound(maxRank), paperValue, result.Steps, result.Seconds);
        ctx.Log.Detail($"{row.MatrixType} seed {row.Seed} {row.Method} {row.Budget} r={row.Rank} r1={row.R1} r2={row.R2}: " +
                       $"{row.RelSqError:0.00000} (bound {row.RankBoundError:0.00000}) in {row.Steps} steps, {row.FitSeconds:0.0}s");
        return row;
    }

    static ReconstructionResult Hira(Target t, int r, FitSettings settings, ExperimentContext ctx)
    {
        using var W0 = MatrixGenerators.GaussianBase((int)t.M.shape[0], t.Seed);
        return ReconstructionFits.Hira(t.M, W0, r, settings, ctx.Device, ctx.Cancel);
    }

    /// <summary>The paper's digitised values by (matrix type, rank, method), shipped beside the program.</summary>
    public static IReadOnlyDictionary<(string Type, int Rank, string Method), double> LoadPaperValues() =>
        CsvFiles.Read<PaperReconstructionRow>(Path.Combine(AppContext.BaseDirectory, "reference", "fig2_reconstruction.csv"))
            .ToDictionary(p => (p.MatrixType, p.Rank, p.Method), p => p.RelSqError);
}
