using Abba.Core.Statistics;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Protocol;

namespace Abba.Tests.Experiments;

public class VerdictRuleTests
{
    static ConfidenceInterval Ci(double low, double high) => new((low + high) / 2, low, high, 5, "test");

    [Theory]
    [InlineData(0.01, 0.05, +1, Verdict.Reproduced)]        // paper's sign, excludes zero
    [InlineData(-0.05, -0.01, -1, Verdict.Reproduced)]
    [InlineData(-0.05, -0.01, +1, Verdict.NotReproduced)]   // wholly on the other side
    [InlineData(0.01, 0.05, -1, Verdict.NotReproduced)]
    [InlineData(-0.01, 0.05, +1, Verdict.Inconclusive)]     // includes zero
    [InlineData(-0.05, 0.01, +1, Verdict.Inconclusive)]
    [InlineData(0.0, 0.05, +1, Verdict.Inconclusive)]       // touches zero: does not exclude it
    public void FromInterval_FollowsTheSignOfTheWholeInterval(double low, double high, int paperSign, Verdict expected) =>
        Assert.Equal(expected, Verdicts.FromInterval(Ci(low, high), paperSign));

    [Theory]
    [InlineData(0.01, 0.05, 0.02, Verdict.Reproduced)]       // estimate 0.03 above a floor of 0.02
    [InlineData(0.01, 0.05, 0.035, Verdict.Inconclusive)]    // estimate 0.03 within a floor of 0.035
    [InlineData(-0.05, -0.01, 0.04, Verdict.Inconclusive)]   // a refutation inside the floor is no refutation
    [InlineData(-0.05, -0.01, 0.02, Verdict.NotReproduced)]
    public void FromInterval_WithinTheNoiseFloor_IsInconclusive(double low, double high, double floor, Verdict expected) =>
        Assert.Equal(expected, Verdicts.FromInterval(Ci(low, high), +1, floor));

    [Fact]
    public void FromInterval_RefusesANegativeFloor() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Verdicts.FromInterval(Ci(0.1, 0.2), +1, -0.01));

    [Fact]
    public void FromInterval_WithoutAnInterval_IsInconclusive() =>
        Assert.Equal(Verdict.Inconclusive, Verdicts.FromInterval(Intervals.StudentTMean([0.3]), +1));

    [Theory]
    [InlineData(new[] { Verdict.Reproduced, Verdict.Reproduced }, Verdict.Reproduced)]
    [InlineData(new[] { Verdict.Reproduced, Verdict.NotReproduced }, Verdict.Partly)]
    [InlineData(new[] { Verdict.Reproduced, Verdict.Inconclusive }, Verdict.Partly)]
    [InlineData(new[] { Verdict.Inconclusive, Verdict.NotReproduced }, Verdict.NotReproduced)]
    [InlineData(new[] { Verdict.Inconclusive, Verdict.Inconclusive }, Verdict.Inconclusive)]
    [InlineData(new[] { Verdict.NotReproduced, Verdict.NotReproduced }, Verdict.NotReproduced)]
    [InlineData(new[] { Verdict.NotRun, Verdict.Reproduced }, Verdict.Reproduced)]
    [InlineData(new[] { Verdict.NotRun }, Verdict.NotRun)]
    public void Combine_GivesPartlyOnlyWhenSomePartsReproduceAndOthersDoNot(Verdict[] parts, Verdict expected) =>
        Assert.Equal(expected, Verdicts.Combine(parts));

    [Fact]
    public void Combine_RefusesAPartThatIsItselfPartly() =>
        Assert.Throws<ArgumentException>(() => Verdicts.Combine([Verdict.Partly]));

    [Fact]
    public void ComparisonRow_StoresTheVerdictAndReadsItBack()
    {
        var row = Comparisons.Row("Table 2", "x - y", "test_ce", +1, Ci(-0.2, -0.1));
        Assert.Equal("not_reproduced", row.Verdict);
        Assert.Equal(Verdict.NotReproduced, Comparisons.VerdictOf(row));
    }

    [Fact]
    public void RateSweep_ChoosesTheLowestMeanValidationCe_PerMethodAndTarget()
    {
        LrSweepRow R(string m, double rate, int seed, double ce) => new() { Method = m, Target = "all", Rate = rate, Seed = seed, ValidationCe = ce };
        // abba: 1e-2 wins on the mean (0.25) though 3e-3 wins seed 0; hira: a tie goes to the smaller rate
        var runs = new[] { R("abba", 3e-3, 0, 0.20), R("abba", 3e-3, 1, 0.40), R("abba", 1e-2, 0, 0.22), R("abba", 1e-2, 1, 0.28),
                           R("hira", 1e-2, 0, 0.5), R("hira", 3e-2, 0, 0.5) };
        var chosen = RateSweep.Choose(runs);
        Assert.Equal(1e-2, chosen[("abba", "all")]);
        Assert.Equal(1e-2, chosen[("hira", "all")]);
        Assert.Equal([false, false, true, true, true, false], RateSweep.MarkChosen(runs).Select(r => r.Chosen));
    }
}
