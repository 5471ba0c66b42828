namespace Abba.Core.Statistics;

/// <summary>Descriptive statistics of a sample, written once for every summary and figure.</summary>
public static class Describe
{
    /// <summary>Arithmetic mean; NaN for an empty sample.</summary>
    public static double Mean(IEnumerable<double> values)
    {
        var v = values as IReadOnlyCollection<double> ?? values.ToArray();
        return v.Count == 0 ? double.NaN : v.Average();
    }

    /// <summary>Sample standard deviation (n - 1 in the denominator); 0 for fewer than two values.</summary>
    public static double SampleStd(IEnumerable<double> values)
    {
        var v = values as IReadOnlyCollection<double> ?? values.ToArray();
        if (v.Count < 2) return 0;
        double mean = v.Average();
        return Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Count - 1));
    }

    /// <summary><see cref="Mean"/> and <see cref="SampleStd"/> together.</summary>
    public static (double Mean, double Std) MeanStd(IEnumerable<double> values)
    {
        var v = values as IReadOnlyCollection<double> ?? values.ToArray();
        return (Mean(v), SampleStd(v));
    }
}
