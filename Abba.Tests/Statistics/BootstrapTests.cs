using Abba.Core.Statistics;

namespace Abba.Tests.Statistics;

public class BootstrapTests
{
    [Theory]
    [InlineData(3)]
    [InlineData(9)]
    public void Share_OfResamplesHoldingReplicateZero_IsOneMinusTheChanceOfMissingItNTimes(int n)
    {
        // a resample of n draws with replacement misses replicate 0 with probability (1 - 1/n)^n
        double expected = 1 - Math.Pow(1 - 1.0 / n, n);
        double share = Bootstrap.Share(n, idx => idx.Contains(0), resamples: 20000, seed: 7);
        // binomial standard error at 20000 resamples is under 0.0036
        Assert.InRange(share, expected - 0.012, expected + 0.012);
    }

    [Fact]
    public void Share_DrawsTheSameResamplesAsThePercentileIntervalOfTheSameSeed()
    {
        // the statistic "mean index" of each resample, recorded by both: Share then sees the percentile's resamples
        var seen = new List<double>();
        Bootstrap.Percentile(5, idx => { seen.Add(idx.Average()); return idx.Average(); }, resamples: 50, seed: 4);
        var again = new List<double>();
        Bootstrap.Share(5, idx => { again.Add(idx.Average()); return true; }, resamples: 50, seed: 4);
        Assert.Equal(seen.Skip(1), again);   // the percentile evaluates the full sample first
    }
}
