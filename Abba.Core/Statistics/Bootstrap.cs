// Percentile bootstrap over replicates (seeds): draw n replicate indices with replacement, recompute the statistic,
// and take the (1-level)/2 and (1+level)/2 quantiles of the resampled values. Seeded, so the interval is reproducible.
// Resamples whose statistic is undefined (NaN: e.g. a rank correlation of all-equal values) are left out.
namespace Abba.Core.Statistics;

/// <summary>Seeded percentile bootstrap over replicates.</summary>
public static class Bootstrap
{
    /// <summary>
    /// <paramref name="statistic"/> of all <paramref name="n"/> replicates, with the percentile interval of
    /// <paramref name="resamples"/> bootstrap resamples; the statistic gets the resampled replicate indices.
    /// </summary>
    public static ConfidenceInterval Percentile(
        int n, Func<int[], double> statistic, int resamples = 2000, long seed = 0, double level = 0.95)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "need at least one replicate");
        double estimate = statistic([.. Enumerable.Range(0, n)]);
        string method = $"{100 * level:0.#}% percentile bootstrap over {n} seeds, {resamples} resamples";
        if (n < 2) return new ConfidenceInterval(estimate, double.NaN, double.NaN, n, method);
        var rng = new Random((int)(seed & int.MaxValue));
        var values = new List<double>(resamples);
        var indices = new int[n];
        for (int b = 0; b < resamples; b++)
        {
            for (int i = 0; i < n; i++) indices[i] = rng.Next(n);
            if (statistic(indices) is var v && !double.IsNaN(v)) values.Add(v);
        }
        if (values.Count == 0) return new ConfidenceInterval(estimate, double.NaN, double.NaN, n, method);
        values.Sort();
        return new ConfidenceInterval(estimate, Quantile(values, (1 - level) / 2), Quantile(values, (1 + level) / 2),
            n, method);
    }

    /// <summary>
    /// The share of <paramref name="resamples"/> bootstrap resamples of <paramref name="n"/> replicates for which
    /// <paramref name="holds"/> is true (how often a finding survives resampling the replicates); seeded.
    /// </summary>
    public static double Share(int n, Func<int[], bool> holds, int resamples = 2000, long seed = 0)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "need at least one replicate");
        var rng = new Random((int)(seed & int.MaxValue));
        var indices = new int[n];
        int count = 0;
        for (int b = 0; b < resamples; b++)
        {
            for (int i = 0; i < n; i++) indices[i] = rng.Next(n);
            if (holds(indices)) count++;
        }
        return (double)count / resamples;
    }

    /// <summary>Linear-interpolation quantile (type 7, as numpy's default) of sorted values.</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double p)
    {
        double h = (sorted.Count - 1) * p;
        int lo = (int)Math.Floor(h), hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }
}
