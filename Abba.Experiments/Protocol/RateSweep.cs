using CsvHelper;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Protocol;

/// <summary>One run of a learning-rate sweep, scored on the validation split (never the test split).</summary>
[CsvRecord]
public partial record LrSweepRow
{
    /// <summary>Method (abba, lora, hira, full_ft).</summary>
    [CsvColumn("method")] public string Method { get; init; } = "";
    /// <summary>What it adapts (a projection type, all, model).</summary>
    [CsvColumn("target")] public string Target { get; init; } = "";
    /// <summary>Peak learning rate of this run.</summary>
    [CsvColumn("rate")] public double Rate { get; init; }
    /// <summary>Seed of this run.</summary>
    [CsvColumn("seed")] public int Seed { get; init; }
    /// <summary>Answer-token cross-entropy on the validation split (what the choice minimises).</summary>
    [CsvColumn("validation_ce")] public double ValidationCe { get; init; }
    /// <summary>Exact match on the validation split (shown, not used for the choice).</summary>
    [CsvColumn("validation_exact_match")] public double ValidationExactMatch { get; init; }
    /// <summary>Whether this rate is the one chosen for (method, target).</summary>
    [CsvColumn("chosen")] public bool Chosen { get; init; }
}

/// <summary>
/// The protocol's learning-rate choice: for each (method, target), the grid rate with the lowest mean validation
/// cross-entropy over the sweep seeds (ties: the smaller rate; a rate whose runs diverged to NaN counts as the worst).
/// Every arm is then compared at its own best rate, so a method that needs a larger step (HiRA's unscaled update, for
/// one) is not judged at another method's rate.
/// </summary>
public static class RateSweep
{
    /// <summary>The chosen rate of each (method, target) in <paramref name="runs"/>.</summary>
    public static Dictionary<(string Method, string Target), double> Choose(IEnumerable<LrSweepRow> runs) =>
        runs.GroupBy(r => (r.Method, r.Target)).ToDictionary(g => g.Key, g => g
            .GroupBy(r => r.Rate).OrderBy(r => Worst(r.Average(x => x.ValidationCe))).ThenBy(r => r.Key).First().Key);

    /// <summary>NaN as +infinity: .NET orders NaN below every number.</summary>
    static double Worst(double ce) => double.IsNaN(ce) ? double.PositiveInfinity : ce;

    /// <summary><paramref name="runs"/> with <see cref="LrSweepRow.Chosen"/> set on the chosen rate's rows.</summary>
    public static List<LrSweepRow> MarkChosen(IReadOnlyList<LrSweepRow> runs)
    {
        var chosen = Choose(runs);
        return [.. runs.Select(r => r with { Chosen = chosen[(r.Method, r.Target)] == r.Rate })];
    }

    /// <summary>Whether <paramref name="rate"/> is the smallest or largest of <paramref name="grid"/>: a choice there
    /// may lie outside it.</summary>
    public static bool AtEdge(double rate, IReadOnlyList<double> grid) => rate <= grid.Min() || rate >= grid.Max();
}
