using Abba.Core.Adapters;
using Abba.Experiments.Design;
using Abba.Experiments.Output;
using Abba.Experiments.Protocol;
using Abba.Tests.Support;

namespace Abba.Tests.Experiments;

/// <summary>
/// The design experiment's arithmetic, against closed forms: the scales its arms are built to match, the best rate of
/// a validation curve, the rank-stability slopes, and which runs the paired comparisons may count.
/// </summary>
public class DesignAnalysisTests
{
    static readonly DesignOptions Paper = DesignOptions.Paper;

    static Arm ArmOf(DesignFamily family, string name) =>
        DesignFamily.ArmsOf(Paper with { Families = [family.Name] }).Single(a => a.Name == name);

    [Fact]
    public void AlphaFamily_RunsEachPaperAlphaAtThePapersScale_AlphaSquaredOver16()
    {
        foreach (double a in Paper.Alphas)
            Assert.Equal(a * a / 16, ArmOf(DesignFamily.Alpha, $"alpha={a}").Scale, 1e-9 * a * a);
        Assert.True(ArmOf(DesignFamily.Alpha, "alpha=32").Reference);
        foreach (double a in Paper.Alphas) Assert.Equal(a, ArmOf(DesignFamily.AlphaCode, $"alpha={a}").Scale, 1e-12);
    }

    [Fact]
    public void MatchedChainedArm_HasTheReferencesScale_TheFormulaArm256TimesIt()
    {
        double reference = DesignFamily.ReferenceArm(Paper).Scale;
        Assert.Equal(16.0 * 16 / 4, reference);   // alpha^2 / sqrt(r1 r2) at alpha 16, r1 = r2 = 4
        var matched = ArmOf(DesignFamily.Chained, $"pairs={Paper.ChainedPairs}/{DesignFamily.ChainedMatched}");
        Assert.Equal(reference, matched.Scale, 1e-9);
        Assert.Equal(Paper.Rank, ((ChainedAbbaConfig)matched.Config).Ranks.Sum());
        // prod(alpha / sqrt(r_i)) at alpha 16 and four pairs of rank 2: 16^4 / 4
        Assert.Equal(16384, ArmOf(DesignFamily.Chained, $"pairs={Paper.ChainedPairs}/formula").Scale, 1e-9);
    }

    [Fact]
    public void ScalingArms_HaveS_AlphaSquaredTimesRankProductToTheMinusE_AtEveryRank()
    {
        var arms = DesignFamily.ArmsOf(Paper with { Families = ["scaling"] });
        foreach (double e in Paper.StabilityExponents)
            foreach (int r in Paper.StabilityRanks)
            {
                var arm = arms.Single(a => a.Name == DesignFamily.ScalingName(e, r));
                Assert.Equal(Paper.Alpha * Paper.Alpha * Math.Pow(r * r, -e), arm.Scale, 1e-9);
                Assert.Equal(Paper.StabilitySteps, arm.Steps);
            }
        Assert.Single(arms, a => a.Reference);
    }

    [Fact]
    public void BestRate_IsTheVertexOfAParabolaInLogRate_AndTheGridsEndWhenNotBracketed()
    {
        double[] rates = [1e-3, 3e-3, 1e-2, 3e-2];
        double optimum = Math.Log(5e-3);
        double[] ce = [.. rates.Select(r => 0.2 + 0.7 * Math.Pow(Math.Log(r) - optimum, 2))];
        Assert.Equal(5e-3, DesignStability.BestRateOf(rates, ce), 1e-12);
        double[] falling = [0.9, 0.7, 0.5, 0.4];
        Assert.Equal(3e-2, DesignStability.BestRateOf(rates, falling));
        Assert.Equal(1e-3, DesignStability.BestRateOf(rates, [.. falling.Reverse()]));
    }

    [Fact]
    public void RateChoice_CountsADivergedRateAsTheWorst()
    {
        LrSweepRow Run(double rate, double ce) =>
            new() { Method = "abba", Target = "t", Rate = rate, ValidationCe = ce };
        var chosen = RateSweep.Choose([Run(1e-2, 0.5), Run(1e-1, double.NaN), Run(1e-3, 0.7)]);
        Assert.Equal(1e-2, chosen[("abba", "t")]);
    }

    /// <summary>Rows of one scaling exponent whose plateau and moment follow c (r1 r2)^k exactly.</summary>
    static IEnumerable<DesignRow> PowerLaw(double e, double k, int seeds, Func<int, int, bool>? trained = null) =>
        from seed in Enumerable.Range(0, seeds)
        from r in new[] { 2, 4, 8 }
        select new DesignRow
        {
            Family = "scaling", Arm = DesignFamily.ScalingName(e, r), Ranks = $"{r}/{r}", Exponent = e,
            RateChoice = DesignRow.Tuned, Seed = seed, Trained = trained?.Invoke(seed, r) ?? true,
            GradNormPlateau = (1 + 0.1 * seed) * Math.Pow(r * r, k), UpdateMoment = 3 * Math.Pow(r * r, 2 * k),
        };

    static readonly DesignRow Floor = new() { Family = DesignFamily.PretrainedName, Arm = "none", ValidationCe = 1 };

    [Fact]
    public void StabilitySlopes_RecoverAPowerLaw_AndLeaveOutSeedsWithARunThatDidNotTrain()
    {
        List<DesignRow> rows = [Floor, .. PowerLaw(0.5, 0, 3), .. PowerLaw(0, 0.5, 3, (s, r) => !(s == 1 && r == 8))];
        var fits = DesignStability.PerSeed(rows, []);
        var flat = fits.Single(f => f.Exponent == 0.5 && f.Quantity == DesignStability.Plateau);
        Assert.All(flat.PerSeed.Values, v => Assert.Equal(0, v, 1e-12));
        var steep = fits.Single(f => f.Exponent == 0 && f.Quantity == DesignStability.Moment);
        Assert.Equal([0, 2], steep.PerSeed.Keys.Order());
        Assert.All(steep.PerSeed.Values, v => Assert.Equal(1.0, v, 1e-12));
        Assert.Equal(1, steep.Excluded);
        var compared = DesignStability.Compare(rows, []).Single(c => c.Metric == DesignStability.Plateau);
        Assert.Equal(0.5, compared.Estimate, 1e-12);   // |0.5| - |0| on the two seeds both kept
        Assert.Equal(2, compared.N);
        Assert.Contains("1 of 3 seeds left out", compared.Comparison);
    }

    [Fact]
    public void PairedComparisons_UseOnlySeedsWhereBothRunsTrained_AndCallAnArmThatTrainsAtNoRateNotTested()
    {
        using var folder = new TempFolder();
        DesignRow Run(string arm, int seed, double ce, bool trained) => new()
        {
            Family = "split", Arm = arm, Ranks = "2/6", RateChoice = DesignRow.Tuned, Seed = seed, TestCe = ce,
            Trained = trained, Reference = arm == "r1=4",
        };
        List<DesignRow> rows =
        [
            Floor,
            .. Enumerable.Range(0, 4).Select(s => Run("r1=4", s, 0.10 + 0.01 * s, true)),
            .. Enumerable.Range(0, 4).Select(s => Run("r1=2", s, s == 3 ? 2.0 : 0.20 + 0.01 * s, s != 3)),
            .. Enumerable.Range(0, 4).Select(s => Run("r1=1", s, 2.0, false)),
        ];
        LrSweepRow Sweep(string arm, double ce) => new() { Method = "abba", Target = $"split/{arm}", Rate = 0.01,
            ValidationCe = ce };
        CsvFiles.Write(Path.Combine(folder.Path, DesignFiles.LrSweep),
            new[] { Sweep("r1=4", 0.1), Sweep("r1=2", 0.2), Sweep("r1=1", 1.5) }.ToList());
        var tests = DesignSummary.Compare(rows, [], folder.Path).Where(t => t.Artefact == "Table 5").ToList();
        var two = tests.Single(t => t.Comparison.StartsWith("ce(split/r1=2)", StringComparison.Ordinal));
        Assert.Equal(3, two.N);
        Assert.Equal(0.10, two.Estimate, 1e-12);
        Assert.Contains("1 of 4 seeds left out", two.Comparison);
        Assert.Equal("reproduced", two.Verdict);
        Assert.Equal(DesignSummary.NotTested,
            tests.Single(t => t.Comparison.StartsWith("ce(split/r1=1)", StringComparison.Ordinal)).Verdict);
    }
}
