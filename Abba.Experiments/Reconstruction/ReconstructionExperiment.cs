using System.CommandLine;
using Abba.Core.Reconstruction;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static TorchSharp.torch;

namespace Abba.Experiments.Reconstruction;

/// <summary>Paper Figure 2: reconstruction error of LoRA (truncated SVD), ABBA at two budgets and HiRA on four matrix types.</summary>
public sealed partial class ReconstructionExperiment : ILegacyExperiment
{
    readonly Option<int?> n = new("--n") { Description = "targets are n x n (default: quick 256, paper 1000)" };
    readonly Option<string?> ranks = new("--ranks") { Description = "comma-separated LoRA ranks r (default 8,16,...,72)" };
    readonly Option<string?> types = new("--matrix-types") { Description = "comma-separated: orthogonal, low_rank, sparse, random (default all)" };
    readonly Option<string?> budgets = new("--budgets") { Description = "comma-separated ABBA budgets: equal (r1 = r2 = r/2), doubled (r1 = r2 = r) (default both)" };
    readonly Option<string?> extras = new("--extras") { Description = "comma-separated extras: hira, splits, or none (default hira,splits)" };
    readonly Option<int?> steps = new("--steps") { Description = "maximum Adam steps per ABBA/HiRA fit (default 1500)" };
    readonly Option<double?> lr = new("--lr") { Description = "peak Adam learning rate (default 0.01)" };
    readonly Option<string?> settleStarts = new("--settle-starts") { Description = "comma-separated settling starts to run: svd_ones, random, warm (a fallback; default all)" };
    readonly Option<bool> settleLosingOnly = new("--settle-losing-only") { Description = "settle only the equal-budget fits that lose to LoRA, not those that beat it but stopped at the step cap (a fallback; default off)" };
    ReconstructionOptions? options;

    /// <inheritdoc />
    public string Name => "reconstruction";
    /// <inheritdoc />
    public string Description => "relative squared reconstruction error of LoRA, ABBA (equal and doubled budget) and HiRA on four matrix types";
    /// <inheritdoc />
    public string PaperArtefact => "Figure 2";
    /// <inheritdoc />
    public IReadOnlyList<Option> Options => [n, ranks, types, budgets, extras, steps, lr, settleLosingOnly, settleStarts];
    /// <inheritdoc />
    public object Configuration => options ?? (object)"not configured";
    /// <inheritdoc />
    public IReadOnlyList<string> CsvNames => [ReconstructionFiles.Csv, ReconstructionFiles.Settle];
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
        public static long RandomStart(MatrixType type, int rank, string start, int seed) =>
            UnitSeeds.Of(seed, $"reconstruction/settle/start={start}/type={type.Name()}/rank={rank}");

        /// <summary>
        /// A fit's unit identity (its stored result's name). An ABBA fit is named by its ranks alone, not by budget or
        /// LoRA rank, so the doubled budget at r and the equal budget at 2r (both r1 = r2 = r) are one unit, fitted once.
        /// </summary>
        public static string Fit(MatrixType type, Fit f, int seed) => f.Method == "abba"
            ? $"reconstruction/fit/method=abba/type={type.Name()}/r1={f.R1}/r2={f.R2}/seed={seed}"
            : $"reconstruction/fit/method={f.Method}/type={type.Name()}/rank={f.Rank}/seed={seed}";

        /// <summary>
        /// A settling fit's unit identity: one per equal-budget point, reason it serves and start. It runs only when the
        /// point's protocol fit has that reason, so which reasons are settled adds or removes units without changing any.
        /// </summary>
        public static string Settle(MatrixType type, int rank, string reason, string start, int seed) =>
            $"reconstruction/settle/type={type.Name()}/rank={rank}/reason={reason}/start={start}/seed={seed}";
    }

    /// <summary>What a fit unit stores.</summary>
    public sealed record FitRecord(double RelSqError, long Params, int Steps, bool HitCap, double RankBoundError, double Seconds);

    /// <summary>What a settling unit stores; Ran is false (and the fit fields empty) when the point's protocol fit did not call for this start.</summary>
    public sealed record SettleRecord(bool Ran, string Reason, int R1, int R2, int MaxSteps, double RelSqError, int Steps, bool HitCap, double Seconds,
        double ProtocolRelSqError, double LoraRelSqError);

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
            SettleLosingOnly = values.Get(settleLosingOnly) || o.SettleLosingOnly,
            SettleStartsOnly = ListOption.Names(values.Get(settleStarts), "--settle-starts", ReconstructionOptions.SettleStartKinds, problems) ?? o.SettleStartsOnly,
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
        var seeds = ctx.Seeds(o.Seeds);
        var plans = PlanUnits(ctx.Settings);
        var fits = new Dictionary<string, FitRecord>();
        var settles = new Dictionary<string, SettleRecord>();
        using (var progress = ctx.Progress.Start("reconstruction fits", plans.Count))
            foreach (var plan in plans)
            {
                // stored at once: an interrupted run resumes after its last unit
                if (plan.Identity.StartsWith(SettlePrefix, StringComparison.Ordinal)) settles[plan.Identity] = ctx.Unit<SettleRecord>(plan);
                else fits[plan.Identity] = ctx.Unit<FitRecord>(plan);
                progress.Advance();
            }
        var (rows, settleRows) = Rows(o, seeds, fits, settles, LoadPaperValues());
        ctx.WriteCsv(ReconstructionFiles.Csv, rows);
        ctx.WriteCsv(ReconstructionFiles.Settle, settleRows);
        ctx.Record(Plot(ctx.OutputDir));
        foreach (var line in File.ReadAllLines(ctx.PathOf(ReconstructionFiles.Summary))) ctx.Log.Info(line);
    }

    const string SettlePrefix = "reconstruction/settle/";

    /// <summary>The CSV rows, in plan order: one per planned fit (a shared ABBA unit gives a row to each budget that uses it), and one per settling fit run.</summary>
    static (List<ReconstructionRow> Rows, List<ReconstructionSettleRow> Settle) Rows(ReconstructionOptions o, IReadOnlyList<int> seeds,
        IReadOnlyDictionary<string, FitRecord> fits, IReadOnlyDictionary<string, SettleRecord> settles, IReadOnlyDictionary<(string, int, string), double> paper)
    {
        var rows = new List<ReconstructionRow>();
        var settleRows = new List<ReconstructionSettleRow>();
        foreach (var type in o.MatrixTypes.Select(t => MatrixGenerators.Parse(t)!.Value))
            foreach (int seed in seeds)
                foreach (var f in Plan(o, seed == seeds[0]))
                {
                    var fit = fits[Units.Fit(type, f, seed)];
                    double? paperValue = f.Method == "hira" || (f.Method == "abba" && f.R1 != f.R2) ? null
                        : paper.TryGetValue((type.Name(), f.Rank, f.Method), out var v) ? v : null;
                    var row = new ReconstructionRow(type.Name(), o.N, f.Method, f.Budget, f.Rank, f.Method == "abba" ? f.R1 : null,
                        f.Method == "abba" ? f.R2 : null, fit.Params, seed, fit.RelSqError, fit.RankBoundError, paperValue, fit.Steps, fit.HitCap,
                        "", null, "", null, null, null, null, fit.Seconds);
                    if (IsEqualPoint(f))
                    {
                        var ran = SettleUnits(o).Select(u => (u.Start, Record: settles[Units.Settle(type, f.Rank, u.Reason, u.Start, seed)]))
                            .Where(s => s.Record.Ran).ToArray();
                        var best = ReconstructionSettle.Best([new(ReconstructionSettle.Protocol, f.R1, f.R2, fit.RelSqError, fit.Steps, fit.HitCap),
                            .. ran.Select(s => new ReconstructionSettle.Candidate(s.Start, s.Record.R1, s.Record.R2, s.Record.RelSqError, s.Record.Steps, s.Record.HitCap))]);
                        row = row with
                        {
                            Settle = ran.Length > 0 ? ran[0].Record.Reason : "", BestRelSqError = best.RelSqError, BestStart = best.Start,
                            BestR1 = best.R1, BestR2 = best.R2, BestSteps = best.Steps, BestHitCap = best.HitCap,
                        };
                        settleRows.AddRange(ran.Select(s => new ReconstructionSettleRow(type.Name(), o.N, f.Rank, seed, s.Record.Reason, s.Start, s.Record.R1,
                            s.Record.R2, s.Record.MaxSteps, s.Record.RelSqError, s.Record.ProtocolRelSqError, s.Record.LoraRelSqError, s.Record.Steps,
                            s.Record.HitCap, s.Record.Seconds)));
                    }
                    rows.Add(row);
                }
        return (rows, settleRows);
    }

    /// <summary>An equal-budget point of the figure (r1 = r2 = r/2), the only fits that are settled.</summary>
    static bool IsEqualPoint(Fit f) => f.Method == "abba" && f.Budget == ReconstructionOptions.EqualBudget && f.R1 == f.Rank / 2 && f.R2 == f.Rank / 2;

    /// <inheritdoc />
    /// <remarks>
    /// One unit per distinct fit (by matrix type, seed, method and ranks; an ABBA fit shared by two budgets is one unit),
    /// then one per equal-budget point and settling start. A settling unit reads its point's protocol fit and LoRA (loading
    /// them, or computing them when another shard has not stored them yet) and runs only when the rule calls for its start.
    /// Cost ~ n^2 times the fit's rank (r1 + r2 for ABBA) times its step cap.
    /// </remarks>
    public IReadOnlyList<UnitPlan> PlanUnits(RunSettings settings)
    {
        var o = options ?? throw new InvalidOperationException("Configure first.");
        var seeds = settings.SeedList(o.Seeds);
        var types = o.MatrixTypes.Select(t => MatrixGenerators.Parse(t)!.Value).ToArray();
        var fits = new Dictionary<string, UnitPlan>();
        foreach (var type in types)
            foreach (int seed in seeds)
                foreach (var fit in Plan(o, seed == seeds[0]))
                {
                    string id = Units.Fit(type, fit, seed);
                    if (!fits.ContainsKey(id)) fits[id] = new UnitPlan(id, Cost(o, fit), ctx => RunFit(ctx, o, TargetOf(type, o.N, seed), fit));
                }
        var settle = new List<UnitPlan>();
        if (o.Budgets.Contains(ReconstructionOptions.EqualBudget))
            foreach (var (reason, start) in SettleUnits(o))   // the losing points' units first, then the capped ones'
                foreach (var type in types)
                    foreach (int seed in seeds)
                        foreach (int r in o.Ranks)
                        {
                            var protocol = fits[Units.Fit(type, new("abba", ReconstructionOptions.EqualBudget, r, r / 2, r / 2), seed)];
                            var lora = fits[Units.Fit(type, new("lora", "", r, 0, 0), seed)];
                            settle.Add(new UnitPlan(Units.Settle(type, r, reason, start, seed), SettleCost(o, r, start),
                                ctx => RunSettle(ctx, o, type, seed, r, reason, start, protocol, lora)));
                        }
        return [.. fits.Values, .. settle];
    }

    /// <summary>The (reason, start) pairs settled under these options: every start for a losing point, then the capped points' (<see cref="ReconstructionSettle.Starts"/>).</summary>
    static IEnumerable<(string Reason, string Start)> SettleUnits(ReconstructionOptions o) =>
        (o.SettleLosingOnly ? [ReconstructionSettle.Loses] : new[] { ReconstructionSettle.Loses, ReconstructionSettle.Capped })
            .SelectMany(reason => ReconstructionSettle.Starts(reason, o.SettleRandomStarts, o.SettleCappedAllStarts).Select(start => (reason, start)))
            .Where(u => o.SettleStartsOnly is not { } only || only.Contains(ReconstructionSettle.IsRandom(u.start) ? "random" : u.start));

    /// <inheritdoc />
    /// <remarks>
    /// Settling the losing points alone, or only some starts, only removes settling units (each unit's identity names its
    /// reason and start), so these two are left out of the settings every unit's hash covers: a run that settles less
    /// reuses the units of one that settles more, and the reverse.
    /// </remarks>
    public object UnitConfiguration => options is { } o ? o with { SettleLosingOnly = false, SettleStartsOnly = null } : "not configured";

    static double Cost(ReconstructionOptions o, Fit f) =>
        (double)o.N * o.N * (f.Method == "lora" ? 1 : Math.Max(f.Rank, f.R1 + f.R2) * o.Steps / 10.0);

    /// <summary>As if it runs: the warm start stops on a plateau within about two patience windows (it cannot leave rank r - 1).</summary>
    static double SettleCost(ReconstructionOptions o, int r, string start) =>
        (double)o.N * o.N * r * (start == ReconstructionSettle.Warm ? 2 * o.Patience : o.Steps * o.SettleStepMultiplier) / 10.0;

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

    static FitRecord RunFit(ExperimentContext ctx, ReconstructionOptions o, Target t, Fit f)
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
        var record = new FitRecord(result.RelSqError, result.Params, result.Steps, result.HitCap, t.Svd.Bound(maxRank), result.Seconds);
        string ranks = f.Method == "abba" ? $"r1={f.R1} r2={f.R2}" : $"r={f.Rank}";
        ctx.Log.Detail($"{t.Type.Name()} seed {t.Seed} {f.Method} {ranks}: {record.RelSqError:0.00000} (bound {record.RankBoundError:0.00000}) " +
                       $"in {record.Steps} steps{(record.HitCap ? " (cap)" : "")}, {record.Seconds:0.0}s");
        return record;
    }

    SettleRecord RunSettle(ExperimentContext ctx, ReconstructionOptions o, MatrixType type, int seed, int r, string unitReason, string start, UnitPlan protocolPlan, UnitPlan loraPlan)
    {
        var protocol = ctx.Unit<FitRecord>(protocolPlan);
        var lora = ctx.Unit<FitRecord>(loraPlan);
        string? reason = ReconstructionSettle.Reason(protocol.RelSqError, lora.RelSqError, protocol.HitCap);
        var (r1, r2) = ReconstructionSettle.Ranks(start, r);
        int maxSteps = o.Steps * o.SettleStepMultiplier;
        if (reason != unitReason)
            return new SettleRecord(false, reason ?? "", r1, r2, maxSteps, double.NaN, 0, false, 0, protocol.RelSqError, lora.RelSqError);
        var t = TargetOf(type, o.N, seed);
        var settings = new FitSettings(maxSteps, o.LearningRate, o.Patience, o.MinImprovement);
        bool random = ReconstructionSettle.IsRandom(start);
        long fitSeed = random ? Units.RandomStart(type, r, start, seed) : Units.AbbaFit(type, r1, r2, seed);
        var result = ReconstructionFits.Abba(t.M, r1, r2, settings, ctx.Device, fitSeed, ctx.Cancel, random ? AbbaStart.Random : AbbaStart.SvdOnes);
        ctx.Log.Detail($"{type.Name()} seed {seed} settle r={r} ({reason}) {start} r1={r1} r2={r2}: {result.RelSqError:0.00000} " +
                       $"(protocol {protocol.RelSqError:0.00000}, LoRA {lora.RelSqError:0.00000}) in {result.Steps} steps{(result.HitCap ? " (cap)" : "")}, {result.Seconds:0.0}s");
        return new SettleRecord(true, reason!, r1, r2, maxSteps, result.RelSqError, result.Steps, result.HitCap, result.Seconds, protocol.RelSqError, lora.RelSqError);
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
