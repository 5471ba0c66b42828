using Abba.Core.Adapters;
using static System.FormattableString;

namespace Abba.Experiments.Design;

/// <summary>
/// One arm: its family, its name there, whether it is the reference, its adapter, and what the run and the CSVs ask of
/// that adapter (pair ranks, unit identity, alpha, s), taken from the config where the arm is built.
/// </summary>
/// <param name="Family">The family the arm belongs to.</param>
/// <param name="Name">The arm's name within its family (ours, e=0.25, alpha=24, r1=2, r=16, pairs=4).</param>
/// <param name="Reference">Whether this is the family's reference arm.</param>
/// <param name="Config">The adapter on all seven projections.</param>
/// <param name="Ranks">The pair ranks, "4/4" (or "2/2/2/2").</param>
/// <param name="Variant">Every setting that changes the run: the unit identity (the reference arm is one run whatever
/// its family).</param>
/// <param name="Alpha">alpha.</param>
/// <param name="Scale">s.</param>
public sealed record Arm(
    DesignFamily Family, string Name, bool Reference, AdapterConfig Config, string Ranks, string Variant, double Alpha,
    double Scale)
{
    /// <summary>An ABBA arm.</summary>
    public static Arm Of(DesignFamily family, string name, bool reference, AbbaConfig c)
    {
        string ranks = $"{c.Rank1}/{c.Rank2}";
        string variant = Invariant($"abba/ranks={ranks}/alpha={c.Alpha:R}/scale={c.Scale:R}/init={c.Init}");
        return new(family, name, reference, c, ranks, variant, c.Alpha, c.Scale);
    }

    /// <summary>A chained-ABBA arm.</summary>
    public static Arm Of(DesignFamily family, string name, bool reference, ChainedAbbaConfig c)
    {
        string ranks = string.Join('/', c.Ranks);
        string variant = Invariant($"chained_abba/ranks={ranks}/alpha={c.Alpha:R}/scale={c.Scale:R}");
        return new(family, name, reference, c, ranks, variant, c.Alpha, c.Scale);
    }
}

/// <summary>What the arm builders of a family are given: the options and the reference adapter.</summary>
/// <param name="Options">The run's options.</param>
/// <param name="Abba">ABBA at (r1, r2) with the reference alpha.</param>
public sealed record ArmContext(DesignOptions Options, Func<int, int, AbbaConfig> Abba)
{
    /// <summary>The paper's init and scaling, r1 = r2 = r/2, the reference alpha.</summary>
    public AbbaConfig Reference => Abba(Options.Rank / 2, Options.Rank / 2);
}

/// <summary>
/// One family of design arms: its name (as in <c>--families</c> and the CSVs), whether its runs' gradient-norm curves
/// are written, and how its arms are built.
/// </summary>
/// <param name="Name">The family's name.</param>
/// <param name="WritesGradNorms">Whether its per-step gradient norms go to the gradient-norm CSV.</param>
/// <param name="Build">Its arms, the reference among them.</param>
public sealed record DesignFamily(
    string Name, bool WritesGradNorms, Func<DesignFamily, ArmContext, IEnumerable<Arm>> Build)
{
    /// <summary>The arm names of the init family, in Table 3's order, and their inits.</summary>
    public static readonly IReadOnlyList<(string Name, AbbaInit Init)> InitRows =
    [
        ("row1", AbbaInit.SecondPairOnes), ("row2", AbbaInit.SqrtTopTop), ("row3", AbbaInit.SqrtTopNext),
        ("row4", AbbaInit.SqrtNextTop), ("row5", AbbaInit.SecondPairSvd), ("both_zero", AbbaInit.BothZero),
        ("ours", AbbaInit.Paper),
    ];

    /// <summary>The family column of the pre-trained model's row (scored before fine-tuning).</summary>
    public const string PretrainedName = "pretrained";

    /// <summary>The init arm whose gradients are all zero (both pairs LoRA-style).</summary>
    public const string BothZeroArm = "both_zero";

    /// <summary>The name of the scaling arm of exponent <paramref name="e"/>.</summary>
    public static string ScalingName(double e) => Invariant($"e={Math.Round(e, 4)}");

    /// <summary>Table 3: the inits.</summary>
    public static readonly DesignFamily Init = new("init", false, (f, c) =>
        InitRows.Select(r => Arm.Of(f, r.Name, r.Init == AbbaInit.Paper, c.Reference with { Init = r.Init })));

    /// <summary>Fig. 5: s = alpha^2 (r1 r2)^-e.</summary>
    public static readonly DesignFamily Scaling = new("scaling", true, (f, c) =>
        c.Options.ScalingExponents.Select(e => Arm.Of(f, ScalingName(e), e == 0.5,
            e == 0.5 ? c.Reference : c.Reference with { Scaling = AbbaScaling.RankPower, RankExponent = e })));

    /// <summary>Table 8: alpha.</summary>
    public static readonly DesignFamily Alpha = new("alpha", false, (f, c) =>
        c.Options.Alphas.Select(a =>
            Arm.Of(f, Invariant($"alpha={a}"), a == c.Options.Alpha, c.Reference with { Alpha = a })));

    /// <summary>Table 5: the r1/r2 split at r1 + r2 = r.</summary>
    public static readonly DesignFamily Split = new("split", false, (f, c) =>
        c.Options.SplitFirstRanks.Select(r1 =>
            Arm.Of(f, $"r1={r1}", 2 * r1 == c.Options.Rank, c.Abba(r1, c.Options.Rank - r1))));

    /// <summary>Table 9: the total rank r, r1 = r2 = r/2.</summary>
    public static readonly DesignFamily Rank = new("rank", false, (f, c) =>
        c.Options.TotalRanks.Select(r => Arm.Of(f, $"r={r}", r == c.Options.Rank, c.Abba(r / 2, r / 2))));

    /// <summary>Table 7, Fig. 6: two pairs against chained pairs at the same budget.</summary>
    public static readonly DesignFamily Chained = new("chained", true, (f, c) =>
    [
        Arm.Of(f, "pairs=2", true, c.Reference),
        Arm.Of(f, $"pairs={c.Options.ChainedPairs}", false,
            ChainedAbbaConfig.AtBudget(c.Options.Rank, c.Options.Alpha, c.Options.ChainedPairs)),
    ]);

    /// <summary>Every family, in run order.</summary>
    public static readonly IReadOnlyList<DesignFamily> All = [Init, Scaling, Alpha, Split, Rank, Chained];

    /// <summary>The family called <paramref name="name"/>.</summary>
    public static DesignFamily Named(string name) => All.Single(f => f.Name == name);

    /// <summary>Every arm of every chosen family, the reference arm once in each family.</summary>
    public static List<Arm> ArmsOf(DesignOptions o)
    {
        int smallest = o.Model.ProjectionShapes().Values.Min(s => Math.Min(s.In, s.Out));
        var context = new ArmContext(o, (r1, r2) => new(r1, r2, o.Alpha, AllowRankAboveFull: r1 * r2 > smallest));
        return [.. from name in o.Families
                   let family = Named(name)
                   from arm in family.Build(family, context)
                   select arm];
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
