using Abba.Core.Reconstruction;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Reconstruction;

/// <summary>One planned fit: method, budget, LoRA rank r and ABBA ranks.</summary>
public sealed record Fit(FitMethod Method, string Budget, int Rank, int R1, int R2)
{
    /// <summary>LoRA rank r.</summary>
    public static Fit Lora(int rank) => new(FitMethod.Lora, "", rank, 0, 0);

    /// <summary>HiRA rank r.</summary>
    public static Fit Hira(int rank) => new(FitMethod.Hira, "", rank, 0, 0);

    /// <summary>ABBA (r1, r2) under <paramref name="budget"/> at LoRA rank r.</summary>
    public static Fit Abba(string budget, int rank, int r1, int r2) => new(FitMethod.Abba, budget, rank, r1, r2);

    /// <summary>The equal-budget point at LoRA rank r: ABBA(r/2, r/2).</summary>
    public static Fit EqualPoint(int rank) => Abba(ReconstructionOptions.EqualBudget, rank, rank / 2, rank / 2);

    /// <summary>An equal-budget point of the figure (r1 = r2 = r/2), the only fits that are settled.</summary>
    public bool IsEqualPoint =>
        Method == FitMethod.Abba && Budget == ReconstructionOptions.EqualBudget && R1 == Rank / 2 && R2 == Rank / 2;
}

/// <summary>One settling unit kind: the reason a point is settled and the start it gets.</summary>
public sealed record SettleUnit(string Reason, string Start);

/// <summary>A run's units: the fits, then the settling fits (run order).</summary>
public sealed record PlannedUnits(IReadOnlyList<UnitPlan> Fits, IReadOnlyList<UnitPlan> Settles);

/// <summary>Seed identities and unit identities: the target and HiRA's W0 are shared by every fit on them; an ABBA
/// fit's start is its own.</summary>
public static class ReconstructionIds
{
    const string Root = "reconstruction";

    /// <summary>The target's seed.</summary>
    public static long Target(MatrixType type, int seed) => UnitSeeds.Of(seed, $"{Root}/target/type={type.Name()}");

    /// <summary>HiRA's W0 seed.</summary>
    public static long HiraBase(MatrixType type, int seed) =>
        UnitSeeds.Of(seed, $"{Root}/hira-base/type={type.Name()}");

    /// <summary>An ABBA fit's seed (its noise on the ones factor).</summary>
    public static long AbbaFit(MatrixType type, int r1, int r2, int seed) =>
        UnitSeeds.Of(seed, $"{Root}/fit/method={FitMethod.Abba.Id()}/type={type.Name()}/r1={r1}/r2={r2}");

    /// <summary>A random settling start's seed.</summary>
    public static long RandomStart(MatrixType type, int rank, string start, int seed) =>
        UnitSeeds.Of(seed, $"{Root}/settle/start={start}/type={type.Name()}/rank={rank}");

    /// <summary>
    /// A fit's unit identity (its stored result's name). An ABBA fit is named by its ranks alone, not by budget or
    /// LoRA rank, so the doubled budget at r and the equal budget at 2r (both r1 = r2 = r) are one unit, fitted once.
    /// </summary>
    public static string Fit(MatrixType type, Fit f, int seed) => f.Method == FitMethod.Abba
        ? $"{Root}/fit/method={f.Method.Id()}/type={type.Name()}/r1={f.R1}/r2={f.R2}/seed={seed}"
        : $"{Root}/fit/method={f.Method.Id()}/type={type.Name()}/rank={f.Rank}/seed={seed}";

    /// <summary>
    /// A settling fit's unit identity: one per equal-budget point, reason it serves and start. It runs only when the
    /// point's protocol fit has that reason, so which reasons are settled adds or removes units without changing any.
    /// </summary>
    public static string Settle(MatrixType type, int rank, SettleUnit u, int seed) =>
        $"{Root}/settle/type={type.Name()}/rank={rank}/reason={u.Reason}/start={u.Start}/seed={seed}";
}

/// <summary>Which fits and settling fits a run consists of, in run order, and what each costs.</summary>
public static class ReconstructionPlan
{
    /// <summary>The matrix types of the options, typed.</summary>
    public static MatrixType[] Types(ReconstructionOptions o) =>
        [.. o.MatrixTypes.Select(t => MatrixGenerators.Parse(t)!.Value)];

    /// <summary>LoRA and ABBA equal on every seed; ABBA doubled, HiRA and the splits on the first seed only.</summary>
    public static IEnumerable<Fit> Fits(ReconstructionOptions o, bool firstSeed)
    {
        foreach (int r in o.Ranks)
        {
            yield return Fit.Lora(r);
            foreach (var budget in o.Budgets.Where(b => firstSeed || b == ReconstructionOptions.EqualBudget))
            {
                var (r1, r2) = ReconstructionOptions.AbbaRanks(budget, r);
                yield return Fit.Abba(budget, r, r1, r2);
            }
            if (firstSeed && o.Extras.Contains(ReconstructionOptions.HiraExtra)) yield return Fit.Hira(r);
        }
        if (!firstSeed || !o.Extras.Contains(ReconstructionOptions.SplitsExtra)) yield break;
        bool evenSplitDone = o.Ranks.Contains(o.SplitRank) && o.Budgets.Contains(ReconstructionOptions.EqualBudget);
        foreach (int r1 in o.SplitFirstRanks.Where(r1 => !(evenSplitDone && 2 * r1 == o.SplitRank)))
            yield return Fit.Abba(ReconstructionOptions.EqualBudget, o.SplitRank, r1, o.SplitRank - r1);
    }

    /// <summary>The settling units under these options: every start for a losing point, then the capped points'
    /// (<see cref="ReconstructionSettle.Starts"/>).</summary>
    public static IEnumerable<SettleUnit> SettleUnits(ReconstructionOptions o) =>
        (o.SettleLosingOnly
                ? [ReconstructionSettle.Loses]
                : new[] { ReconstructionSettle.Loses, ReconstructionSettle.Capped })
            .SelectMany(reason => ReconstructionSettle.Starts(reason, o.SettleRandomStarts, o.SettleCappedAllStarts)
                .Select(start => new SettleUnit(reason, start)))
            .Where(u => o.SettleStartsOnly.Contains(ReconstructionSettle.KindOf(u.Start)));

    /// <summary>
    /// One unit per distinct fit (by matrix type, seed, method and ranks; an ABBA fit shared by two budgets is one
    /// unit), then one per equal-budget point and settling start. A settling unit reads its point's protocol fit and
    /// LoRA (loading them, or computing them when another shard has not stored them yet) and runs only when the rule
    /// calls for its start. Cost ~ n^2 times the fit's rank (r1 + r2 for ABBA) times its step cap.
    /// </summary>
    public static PlannedUnits Units(ReconstructionOptions o, IReadOnlyList<int> seeds, TargetCache targets)
    {
        var types = Types(o);
        var fits = new Dictionary<string, UnitPlan>();
        foreach (var type in types)
            foreach (int seed in seeds)
                foreach (var fit in Fits(o, seed == seeds[0]))
                {
                    string id = ReconstructionIds.Fit(type, fit, seed);
                    if (!fits.ContainsKey(id))
                        fits[id] = new UnitPlan(id, Cost(o, fit),
                            ctx => ReconstructionFitting.RunFit(ctx, o, targets.Of(type, o.N, seed), fit));
                }
        var settle = new List<UnitPlan>();
        if (o.Budgets.Contains(ReconstructionOptions.EqualBudget))
            foreach (var unit in SettleUnits(o))   // the losing points' units first, then the capped ones'
                foreach (var type in types)
                    foreach (int seed in seeds)
                        foreach (int r in o.Ranks)
                        {
                            var point = new SettlePoint(type, seed, r,
                                Protocol: fits[ReconstructionIds.Fit(type, Fit.EqualPoint(r), seed)],
                                Lora: fits[ReconstructionIds.Fit(type, Fit.Lora(r), seed)]);
                            string id = ReconstructionIds.Settle(type, r, unit, seed);
                            settle.Add(new UnitPlan(id, SettleCost(o, r, unit.Start),
                                ctx => ReconstructionFitting.RunSettle(ctx, o, targets, point, unit)));
                        }
        return new PlannedUnits([.. fits.Values], settle);
    }

    static double Cost(ReconstructionOptions o, Fit f) =>
        (double)o.N * o.N * (f.Method == FitMethod.Lora ? 1 : Math.Max(f.Rank, f.R1 + f.R2) * o.Steps / 10.0);

    /// <summary>As if it runs: the warm start stops on a plateau within about two patience windows (it cannot leave
    /// rank r - 1).</summary>
    static double SettleCost(ReconstructionOptions o, int r, string start) =>
        (double)o.N * o.N * r
        * (start == ReconstructionSettle.Warm ? 2 * o.Patience : o.Steps * o.SettleStepMultiplier) / 10.0;
}
