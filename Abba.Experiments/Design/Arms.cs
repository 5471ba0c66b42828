using Abba.Core.Adapters;
using static System.FormattableString;

namespace Abba.Experiments.Design;

/// <summary>
/// One arm: its family, its name there, whether it is the reference, its adapter, and what the run and the CSVs ask of
/// that adapter (pair ranks, unit identity, alpha, s, steps), taken from the config where the arm is built.
/// </summary>
/// <param name="Family">The family the arm belongs to.</param>
/// <param name="Name">The arm's name within its family (ours, e=0.25/r1=8, alpha=24, r1=2, r=16, pairs=4).</param>
/// <param name="Reference">Whether this is the family's reference arm.</param>
/// <param name="Config">The adapter on all seven projections.</param>
/// <param name="Ranks">The pair ranks, "4/4" (or "2/2/2/2").</param>
/// <param name="Variant">Every setting that changes the run: the unit identity (equal strings are the same
/// runs).</param>
/// <param name="Alpha">alpha.</param>
/// <param name="Scale">s.</param>
/// <param name="Steps">Fine-tuning steps.</param>
/// <param name="Exponent">e of s = alpha^2 (r1 r2)^-e for a scaling arm; NaN otherwise.</param>
public sealed record Arm(
    DesignFamily Family, string Name, bool Reference, AdapterConfig Config, string Ranks, string Variant, double Alpha,
    double Scale, int Steps, double Exponent)
{
    /// <summary>An ABBA arm.</summary>
    public static Arm Of(DesignFamily family, string name, bool reference, AbbaConfig c, int steps,
        double exponent = double.NaN)
    {
        string ranks = $"{c.Rank1}/{c.Rank2}";
        string variant =
            Invariant($"abba/ranks={ranks}/alpha={c.Alpha:R}/scale={c.Scale:R}/init={c.Init}/steps={steps}");
        return new(family, name, reference, c, ranks, variant, c.Alpha, c.Scale, steps, exponent);
    }

    /// <summary>A chained-ABBA arm.</summary>
    public static Arm Of(DesignFamily family, string name, bool reference, ChainedAbbaConfig c, int steps)
    {
        string ranks = string.Join('/', c.Ranks);
        string variant = Invariant($"chained_abba/ranks={ranks}/alpha={c.Alpha:R}/scale={c.Scale:R}/steps={steps}");
        return new(family, name, reference, c, ranks, variant, c.Alpha, c.Scale, steps, double.NaN);
    }

    /// <summary>Whether its rate is tuned: every arm but the one whose gradients are zero by construction (it runs
    /// at the shared rate).</summary>
    public bool Swept => Name != DesignFamily.BothZeroArm;

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

    /// <summary>The name of the scaling arm of exponent <paramref name="e"/> at r1 = r2 =
    /// <paramref name="rank"/>.</summary>
    public static string ScalingName(double e, int rank) => Invariant($"e={Math.Round(e, 4)}/r1={rank}");

    /// <summary>Table 3: the inits.</summary>
    public static readonly DesignFamily Init = new("init", false, (f, c) =>
        InitRows.Select(r => Arm.Of(f, r.Name, r.Init == AbbaInit.Paper, c.Reference with { Init = r.Init },
            c.Options.FinetuneSteps)));

    /// <summary>Fig. 5 and Theorem 2 in training: s = alpha^2 (r1 r2)^-e at every r1 = r2 of the stability grid for
    /// the stability exponents, and at the reference ranks for the others, over the longer schedule.</summary>
    public static readonly DesignFamily Scaling = new("scaling", true, (f, c) =>
    {
        var o = c.Options;
        int r0 = o.Rank / 2;
        var points = o.StabilityExponents.SelectMany(e => o.StabilityRanks.Select(r => (e, r)))
            .Concat(o.ScalingExponents.Select(e => (e, r: r0))).Distinct()
            .OrderByDescending(p => p.e).ThenBy(p => p.r);
        return points.Select(p => Arm.Of(f, ScalingName(p.e, p.r), p.e == 0.5 && p.r == r0,
            p.e == 0.5
                ? c.Abba(p.r, p.r)
                : c.Abba(p.r, p.r) with { Scaling = AbbaScaling.RankPower, RankExponent = p.e },
            o.StabilitySteps, p.e));
    });

    /// <summary>Table 8 at the paper's s: the paper's alpha a at its r1 = r2 = 16 gives s = a^2 / 16; each arm takes
    /// the alpha that gives that s at the reference ranks. The reference is the arm at the reference's s.</summary>
    public static readonly DesignFamily Alpha = new("alpha", false, (f, c) =>
        c.Options.Alphas.Select(a =>
        {
            var arm = c.Reference with { Alpha = PaperAlphaAtReference(a, c.Options.Rank) };
            return Arm.Of(f, Invariant($"alpha={a}"), arm.Scale == c.Reference.Scale, arm, c.Options.FinetuneSteps);
        }));

    /// <summary>Table 8 at the released code's s = alpha. The reference is the arm whose s is the reference's (none
    /// when no alpha gives it).</summary>
    public static readonly DesignFamily AlphaCode = new("alpha_code", false, (f, c) =>
        c.Options.Alphas.Select(a =>
        {
            var arm = c.Reference with { Alpha = a, Scaling = AbbaScaling.OfficialCode };
            return Arm.Of(f, Invariant($"alpha={a}"), arm.Scale == c.Reference.Scale, arm, c.Options.FinetuneSteps);
        }));

    /// <summary>The alpha at the reference ranks r1 = r2 = r/2 whose s = alpha^2 / sqrt(r1 r2) equals the paper's s
    /// = a^2 / 16 at its r1 = r2 = 16.</summary>
    public static double PaperAlphaAtReference(double a, int rank) => a * Math.Sqrt(rank / 2.0) / 4;

    /// <summary>Table 5: the r1/r2 split at r1 + r2 = r.</summary>
    public static readonly DesignFamily Split = new("split", false, (f, c) =>
        c.Options.SplitFirstRanks.Select(r1 =>
            Arm.Of(f, $"r1={r1}", 2 * r1 == c.Options.Rank, c.Abba(r1, c.Options.Rank - r1), c.Options.FinetuneSteps)));

    /// <summary>Table 9: the total rank r, r1 = r2 = r/2.</summary>
    public static readonly DesignFamily Rank = new("rank", false, (f, c) =>
        c.Options.TotalRanks.Select(r =>
            Arm.Of(f, $"r={r}", r == c.Options.Rank, c.Abba(r / 2, r / 2), c.Options.FinetuneSteps)));

    /// <summary>The chained arm at the reference's s.</summary>
    public const string ChainedMatched = "matched";

    /// <summary>Table 7, Fig. 6: two pairs against chained pairs at the same budget, at the reference's s (alpha
    /// chosen so that s = alpha^k / sqrt(prod r_i) equals it) and at the harness's formula with the reference
    /// alpha.</summary>
    public static readonly DesignFamily Chained = new("chained", true, (f, c) =>
    {
        var o = c.Options;
        var formula = ChainedAbbaConfig.AtBudget(o.Rank, o.Alpha, o.ChainedPairs);
        double matched =
            Math.Round(Math.Pow(c.Reference.Scale * Math.Sqrt(formula.KhatriRaoSize), 1.0 / o.ChainedPairs), 12);
        return
        [
            Arm.Of(f, "pairs=2", true, c.Reference, o.FinetuneSteps),
            Arm.Of(f, $"pairs={o.ChainedPairs}/{ChainedMatched}", false, formula with { Alpha = matched },
                o.FinetuneSteps),
            Arm.Of(f, $"pairs={o.ChainedPairs}/formula", false, formula, o.FinetuneSteps),
        ];
    });

    /// <summary>Every family, in run order.</summary>
    public static readonly IReadOnlyList<DesignFamily> All = [Init, Scaling, Alpha, AlphaCode, Split, Rank, Chained];

    /// <summary>The family called <paramref name="name"/>.</summary>
    public static DesignFamily Named(string name) => All.Single(f => f.Name == name);

    /// <summary>Every arm of every chosen family, the reference arm once in each family.</summary>
    public static List<Arm> ArmsOf(DesignOptions o)
    {
        var context = ContextOf(o);
        return [.. from name in o.Families
                   let family = Named(name)
                   from arm in family.Build(family, context)
                   select arm];
    }

    /// <summary>The reference arm (the paper's init and scaling at the reference budget and schedule), whose tuned
    /// rate is the shared rate, whichever families run.</summary>
    public static Arm ReferenceArm(DesignOptions o) =>
        Arm.Of(Init, InitRows[^1].Name, true, ContextOf(o).Reference, o.FinetuneSteps);

    static ArmContext ContextOf(DesignOptions o)
    {
        int smallest = o.Model.ProjectionShapes().Values.Min(s => Math.Min(s.In, s.Out));
        return new ArmContext(o, (r1, r2) => new(r1, r2, o.Alpha, AllowRankAboveFull: r1 * r2 > smallest));
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
