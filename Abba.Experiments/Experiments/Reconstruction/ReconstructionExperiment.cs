using System.CommandLine;
using Abba.Core.Reconstruction;
using Abba.Experiments.Output;
using static TorchSharp.torch;

namespace Abba.Experiments.Experiments.Reconstruction;

/// <summary>Paper Figure 2: reconstruction error of LoRA (truncated SVD), ABBA at two budgets and HiRA on four matrix types.</summary>
public sealed partial class ReconstructionExperiment : IExperiment
{
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
    public IReadOnlyList<string> CsvNames => [ReconstructionFiles.Csv];
    /// <inheritdoc />
    public IReadOnlyDictionary<string, SettingProvenance> Provenance => ReconstructionOptions.Provenance;
    /// <inheritdoc />
    public IReadOnlyList<string> FigureNames => [ReconstructionFiles.Figure];

    /// <summary>Seed identities: the target and HiRA's W0 are shared by every fit on them; an ABBA fit's start is its own.</summary>
    static class Units
    {
        public static long Target(MatrixType type, int seed) => UnitSeeds.Of(seed, $"reconstruction/target/type={type.Name()}");
        public static long HiraBase(MatrixType type, int seed) => UnitSeeds.Of(seed, $"reconstruction/hira-base/type={type.Name()}");
        public static long AbbaFit(MatrixType type, int r1, int r2, int seed) => UnitSeeds.Of(seed, $"reconstruction/fit/method=abba/type={type.Name()}/r1={r1}/r2={r2}");
        /// <summary>A fit's unit identity (its stored result's name), by method, budget and ranks.</summary>
        public static string Fit(MatrixType type, Fit f, int seed) =>
            $"reconstruction/fit/method={f.Method}/budget={f.Budget}/type={type.Name()}/rank={f.Rank}/r1={f.R1}/r2={f.R2}/seed={seed}";
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Configure(OptionValues values, RunSettings settings)
    {
        var o = settings.Preset(ReconstructionOptions.Tiny, ReconstructionOptions.Quick, ReconstructionOptions.Paper);
        var problems = new List<string>();
        o = o with
        {
            N = values.Get(n) ?? o.N,
            Ranks = ListOption.PositiveInts(values.Get(ranks), "--ranks", problems) ?? o.Ranks,
            MatrixTypes = ListOption.Names(values.Get(types), "--matrix-types", [.. Enum.GetValues<MatrixType>().Select(t => t.Name())], problems) ?? o.MatrixTypes,
            Budgets = ListOption.Names(values.Get(budgets), "--budgets", [ReconstructionOptions.EqualBudget, ReconstructionOptions.DoubledBudget], problems) ?? o.Budgets,
            Extras = values.Get(extras) == "none" ? [] : ListOption.Names(values.Get(extras), "--extras", [ReconstructionOptions.HiraExtra, ReconstructionOptions.SplitsExtra], problems) ?? o.Extras,
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

    /// <inheritdoc />
    public void Run(ExperimentContext ctx)
    {
        var o = options ?? throw new InvalidOperationException("Configure first.");
        ctx.Seeds(o.Seeds);
        var plans = PlanUnits(ctx.Settings);
        var rows = new List<ReconstructionRow>();
        using (var progress = ctx.Progress.Start("reconstruction fits", plans.Count))
            foreach (var plan in plans)
            {
                rows.Add(ctx.Unit<ReconstructionRow>(plan));   // stored at once: an interrupted run resumes after its last fit
                progress.Advance();
            }
        ctx.WriteCsv(ReconstructionFiles.Csv, rows);
        ctx.Record(Plot(ctx.OutputDir));
        foreach (var line in File.ReadAllLines(ctx.PathOf(ReconstructionFiles.Summary))) ctx.Log.Info(line);
    }

    /// <inheritdoc />
    /// <remarks>One unit per fit, by matrix type, seed and plan; cost ~ n^2 times the fit's rank (r1 + r2 for ABBA), steps for the iterative fits.</remarks>
    public IReadOnlyList<UnitPlan> PlanUnits(RunSettings settings)
    {
        var o = options ?? throw new InvalidOperationException("Configure first.");
        var seeds = settings.SeedList(o.Seeds);
        var paper = new Lazy<IReadOnlyDictionary<(string, int, string), double>>(LoadPaperValues);
        return [.. from type in o.MatrixTypes.Select(t => MatrixGenerators.Parse(t)!.Value)
                   from seed in seeds
                   from fit in Plan(o, seed == seeds[0])
                   select new UnitPlan(Units.Fit(type, fit, seed), Cost(o, fit), ctx => RunFit(ctx, o, TargetOf(type, o.N, seed), fit, paper.Value))];
    }

    static double Cost(ReconstructionOptions o, Fit f) =>
        (double)o.N * o.N * (f.Method == "lora" ? 1 : Math.Max(f.Rank, f.R1 + f.R2) * o.Steps / 10.0);

    /// <summary>The last target made: consecutive fits on one target share it and its SVD.</summary>
    Target? lastTarget;

    Target TargetOf(MatrixType type, int size, int seed)
    {
        if (lastTarget is { } t && t.Type == type && t.Seed == seed && t.M.shape[0] == size) return t;
        lastTarget?.Dispose();
        var M = MatrixGenerators.Generate(type, size, Units.Target(type, seed));
        return lastTarget = new Target(type, M, new TargetSvd(M), seed);
    }

    /// <summary>A target and its SVD.</summary>
    sealed record Target(MatrixType Type, Tensor M, TargetSvd Svd, int Seed) : IDisposable
    {
        public void Dispose()
        {
            Svd.Dispose();
            M.Dispose();
        }
    }

    /// <summary>One planned fit: method, budget, LoRA rank r and ABBA ranks.</summary>
    sealed record Fit(string Method, string Budget, int Rank, int R1, int R2);

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
            "abba" => ReconstructionFits.Abba(t.M, f.R1, f.R2, settings, ctx.Device, Units.AbbaFit(t.Type, f.R1, f.R2, t.Seed), ctx.Cancel),
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
        using var W0 = MatrixGenerators.GaussianBase((int)t.M.shape[0], Units.HiraBase(t.Type, t.Seed));
        return ReconstructionFits.Hira(t.M, W0, r, settings, ctx.Device, ctx.Cancel);
    }

    /// <summary>The paper's digitised values by (matrix type, rank, method), shipped beside the program.</summary>
    public static IReadOnlyDictionary<(string Type, int Rank, string Method), double> LoadPaperValues() =>
        ReferenceData.Read<PaperReconstructionRow>(ReconstructionFiles.PaperReference)
            .ToDictionary(p => (p.MatrixType, p.Rank, p.Method), p => p.RelSqError);
}
