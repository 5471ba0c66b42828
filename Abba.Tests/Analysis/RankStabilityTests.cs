using Abba.Core.Adapters;
using Abba.Core.Analysis;
using Abba.Core.Randomness;

namespace Abba.Tests.Analysis;

/// <summary>Theorem 2's moments: the Monte Carlo measurement on the real ABBA layer against the closed form s^2 n r1 r2 C.</summary>
public class RankStabilityTests
{
    [Theory]
    [InlineData(0.5, 0.0)]
    [InlineData(0.25, 0.5)]
    [InlineData(1.0 / 6, 2.0 / 3)]
    [InlineData(0.0, 1.0)]
    public void ExpectedSlope_IsOneMinusTwoE(double exponent, double slope) => Assert.Equal(slope, RankStability.ExpectedSlope(exponent), 12);

    [Fact]
    public void LogLogFit_RecoversAnExactPowerLaw()
    {
        double[] x = [4, 16, 64, 256, 1024];
        var (slope, intercept) = RankStability.LogLogFit(x, [.. x.Select(v => 3.5 * Math.Pow(v, 2.0 / 3))]);
        Assert.Equal(2.0 / 3, slope, 12);
        Assert.Equal(Math.Log(3.5), intercept, 12);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.0)]
    public void ClosedForm_HasTheDerivedSlopeInR1R2(double exponent)
    {
        int[] ranks = [2, 4, 8, 16, 32];
        var expected = ranks.Select(r => RankStability.Expected(new AbbaConfig(r, r, 1.3, AbbaScaling.RankPower, AllowRankAboveFull: true, RankExponent: exponent), 20, 30)).ToArray();
        double[] r1r2 = [.. ranks.Select(r => (double)r * r)];
        Assert.Equal(RankStability.ExpectedSlope(exponent), RankStability.LogLogFit(r1r2, [.. expected.Select(m => m.Output)]).Slope, 10);
        Assert.Equal(RankStability.ExpectedSlope(exponent), RankStability.LogLogFit(r1r2, [.. expected.Select(m => m.InputGradient)]).Slope, 10);
    }

    [Theory]
    [InlineData(2, 3, 0.25)]
    [InlineData(4, 4, 0.5)]
    public void Measured_MatchesTheClosedForm_WithOutputOnInWidthAndGradientOnOutWidth(int r1, int r2, double exponent)
    {
        // m != n, so swapping the two widths (s^2 n r1 r2 vs s^2 m r1 r2) would be off by 40/24.
        const int m = 24, n = 40, draws = 400;
        var config = new AbbaConfig(r1, r2, 1.2, AbbaScaling.RankPower, RankExponent: exponent);
        var generator = UnitSeed.NewGenerator(7);
        var measured = Enumerable.Range(0, draws).Select(_ => RankStability.Measure(config, m, n, tokens: 32, generator)).ToArray();
        var expected = RankStability.Expected(config, m, n);
        Assert.Equal(config.Scale * config.Scale * n * r1 * r2, expected.Output, 9);
        Assert.Equal(config.Scale * config.Scale * m * r1 * r2, expected.InputGradient, 9);
        double output = measured.Average(d => d.Output) / expected.Output, gradient = measured.Average(d => d.InputGradient) / expected.InputGradient;
        Assert.True(Math.Abs(output - 1) < 0.08, $"output moment / closed form = {output}");
        Assert.True(Math.Abs(gradient - 1) < 0.08, $"input-gradient moment / closed form = {gradient}");
    }
}
