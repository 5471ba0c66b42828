// Spearman's rank correlation (MathNet: Pearson correlation of average ranks, so ties are handled) and an exact
// permutation test for it. With n = 7 components there are only 5040 orderings, so the p-value is enumerated, not
// approximated: it is the fraction of orderings of the measured values that correlate at least as strongly.
using MathNet.Numerics.Statistics;

namespace Abba.Core.Statistics;

/// <summary>Spearman rank correlation with an exact permutation p-value.</summary>
public static class RankCorrelation
{
    /// <summary>Spearman's rho of <paramref name="x"/> and <paramref name="y"/> (ties take average ranks).</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count || x.Count < 2)
            throw new ArgumentException(
                $"need two equally long series of at least 2 values (got {x.Count} and {y.Count})");
        return Correlation.Spearman(x, y);
    }

    /// <summary>
    /// One-sided exact p-value of a positive association: the fraction of all n! orderings of <paramref name="x"/>
    /// whose rho with <paramref name="y"/> is at least the observed rho (the observed ordering included).
    /// </summary>
    /// <exception cref="ArgumentException">More than 9 values (9! = 362880 orderings is the limit).</exception>
    public static double PermutationPValue(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count > 9) throw new ArgumentException($"exact enumeration is limited to 9 values (got {x.Count})");
        double observed = Spearman(x, y) - 1e-12;   // tolerance for ties in floating-point rho
        int atLeast = 0, total = 0;
        foreach (var order in Permutations(x.Count))
        {
            total++;
            if (Spearman(order.Select(i => x[i]).ToArray(), y) >= observed) atLeast++;
        }
        return (double)atLeast / total;
    }

    static IEnumerable<int[]> Permutations(int n)
    {
        var a = Enumerable.Range(0, n).ToArray();
        while (true)
        {
            yield return (int[])a.Clone();
            int i = n - 2;
            while (i >= 0 && a[i] >= a[i + 1]) i--;
            if (i < 0) yield break;
            int j = n - 1;
            while (a[j] <= a[i]) j--;
            (a[i], a[j]) = (a[j], a[i]);
            Array.Reverse(a, i + 1, n - i - 1);
        }
    }
}
