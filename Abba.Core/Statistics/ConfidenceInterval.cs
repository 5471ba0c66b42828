// Intervals for comparisons over a few paired seeds. The t interval is the textbook one: mean ± t_{n-1, (1+level)/2}
// · s / √n, exact for normal data and close for most others at n ≥ 5. A paired difference is the t interval of the
// per-seed differences, so whatever a seed shares between two arms (data order, held-out set, pre-trained model)
// cancels. Fewer than two values give no interval (NaN bounds): a claim judged on one seed is inconclusive.
using MathNet.Numerics.Distributions;

namespace Abba.Core.Statistics;

/// <summary>An estimate with its two-sided interval and how the interval was made.</summary>
/// <param name="Estimate">The point estimate (a mean, a mean difference, a rank correlation).</param>
/// <param name="Low">Lower bound; NaN when there is no interval (n &lt; 2).</param>
/// <param name="High">Upper bound; NaN when there is no interval.</param>
/// <param name="N">Number of values behind it (seeds).</param>
/// <param name="Method">How the interval was made, in words (e.g. "95% t interval").</param>
public sealed record ConfidenceInterval(double Estimate, double Low, double High, int N, string Method)
{
    /// <summary>Whether the interval exists (at least two values).</summary>
    public bool HasInterval => !double.IsNaN(Low) && !double.IsNaN(High);

    /// <summary>+1 when the whole interval lies above zero,
    /// -1 when below, 0 when it includes zero or does not exist.</summary>
    public int SignExcludingZero => !HasInterval ? 0 : Low > 0 ? 1 : High < 0 ? -1 : 0;
}

/// <summary>Student-t intervals of a mean and of a paired difference.</summary>
public static class Intervals
{
    /// <summary>The t quantile t_{df, p} (MathNet's StudentT with location 0, scale 1).</summary>
    public static double TQuantile(int degreesOfFreedom, double p) => StudentT.InvCDF(0, 1, degreesOfFreedom, p);

    /// <summary>Mean of <paramref name="values"/> with its two-sided <paramref name="level"/> t interval.</summary>
    public static ConfidenceInterval StudentTMean(IReadOnlyList<double> values, double level = 0.95)
    {
        if (level is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(level), level, "level must be in (0, 1)");
        int n = values.Count;
        double mean = Describe.Mean(values);
        string method = $"{100 * level:0.#}% t interval";
        if (n < 2) return new ConfidenceInterval(mean, double.NaN, double.NaN, n, method);
        double half = TQuantile(n - 1, (1 + level) / 2) * Describe.SampleStd(values) / Math.Sqrt(n);
        return new ConfidenceInterval(mean, mean - half, mean + half, n, method);
    }

    /// <summary>Mean of the per-seed differences
    /// <paramref name="a"/>[i] - <paramref name="b"/>[i] with its t interval.</summary>
    /// <exception cref="ArgumentException">The two series differ in length.</exception>
    public static ConfidenceInterval PairedDifference(
        IReadOnlyList<double> a, IReadOnlyList<double> b, double level = 0.95)
    {
        if (a.Count != b.Count)
            throw new ArgumentException($"paired series must be equally long (got {a.Count} and {b.Count})");
        var t = StudentTMean([.. a.Zip(b, (x, y) => x - y)], level);
        return t with { Method = "paired " + t.Method };
    }
}
