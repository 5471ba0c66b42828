using Abba.Core.Statistics;

namespace Abba.Tests.Statistics;

public class IntervalTests
{
    [Fact]
    public void TQuantile_MatchesPublishedTables()
    {
        Assert.Equal(2.7764451, Intervals.TQuantile(4, 0.975), 6);     // t_{4, 0.975}
        Assert.Equal(12.7062047, Intervals.TQuantile(1, 0.975), 6);
        Assert.Equal(2.2621572, Intervals.TQuantile(9, 0.975), 6);
    }

    [Fact]
    public void StudentTMean_Covers95PercentOfTrueMeans_On2000SimulatedSamples()
    {
        var rng = new Random(7);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        const double mu = 1.5, sigma = 0.3;
        int covered = 0;
        for (int i = 0; i < 2000; i++)
        {
            double[] sample = [.. Enumerable.Range(0, 5).Select(_ => mu + sigma * Normal())];
            var ci = Intervals.StudentTMean(sample);
            if (ci.Low <= mu && mu <= ci.High) covered++;
        }
        Assert.InRange(covered / 2000.0, 0.93, 0.97);
    }

    [Fact]
    public void PairedDifference_EqualsTheHandComputation()
    {
        double[] a = [0.50, 0.42, 0.61, 0.47, 0.55], b = [0.40, 0.40, 0.50, 0.41, 0.49];
        // d = 0.10 0.02 0.11 0.06 0.06; mean 0.07; sum (d - mean)^2 = 0.0009 + 0.0025 + 0.0016 + 0.0001 + 0.0001 = 0.0052
        double sd = Math.Sqrt(0.0052 / 4), half = 2.7764451 * sd / Math.Sqrt(5);
        var ci = Intervals.PairedDifference(a, b);
        Assert.Equal(0.07, ci.Estimate, 12);
        Assert.Equal(0.07 - half, ci.Low, 6);
        Assert.Equal(0.07 + half, ci.High, 6);
        Assert.Equal(5, ci.N);
        Assert.Equal(1, ci.SignExcludingZero);
        Assert.StartsWith("paired 95% t interval", ci.Method, StringComparison.Ordinal);
    }

    [Fact]
    public void OneValue_GivesNoInterval()
    {
        var ci = Intervals.StudentTMean([0.4]);
        Assert.False(ci.HasInterval);
        Assert.Equal(0, ci.SignExcludingZero);
        Assert.Throws<ArgumentException>(() => Intervals.PairedDifference([1, 2], [1]));
    }

    [Fact]
    public void Bootstrap_IsSeeded_AndBracketsTheEstimateOfAMean()
    {
        double[] x = [0.1, 0.4, 0.35, 0.2, 0.3, 0.25];
        double Mean(int[] idx) => idx.Average(i => x[i]);
        var first = Bootstrap.Percentile(x.Length, Mean, 2000, seed: 11);
        var again = Bootstrap.Percentile(x.Length, Mean, 2000, seed: 11);
        Assert.Equal(first, again);
        Assert.Equal(x.Average(), first.Estimate, 12);
        Assert.True(first.Low < first.Estimate && first.Estimate < first.High);
        Assert.InRange(first.Low, x.Min(), x.Average());
        Assert.Equal(0.5, Bootstrap.Quantile([0.0, 1.0], 0.5), 12);
    }
}
