using Abba.Experiments.Protocol;
using static System.FormattableString;

namespace Abba.Experiments.Ablation;

/// <summary>
/// What the arms learned: the singular spectrum of every learned update dW of every tuned run (the rows of
/// ablation_spectra.csv), each arm's mean normalised spectrum, and the per-seed mean stable rank the comparisons
/// pair.
/// </summary>
public static class AblationSpectra
{
    /// <summary>One row per (run, module), in run order and module order.</summary>
    public static List<SpectrumRow> Rows(IEnumerable<RunResult> finals) =>
        [.. finals.SelectMany(r => SpectrumRows.Of(r.Method, r.Target, r.Model, r.Seed, r.Spectra))];

    /// <summary>Each arm's sigma_i / sigma_1 averaged over its modules and seeds, for i up to the shortest
    /// spectrum.</summary>
    public static List<SpectrumCurveRow> Curves(IEnumerable<RunResult> finals) =>
        [.. from g in finals.GroupBy(r => (r.Method, r.Target))
            let spectra = g.SelectMany(r => r.Spectra.Values).ToArray()
            where spectra.Length > 0
            let length = spectra.Min(s => s.Normalised.Length)
            from i in Enumerable.Range(0, length)
            select new SpectrumCurveRow
            {
                Method = g.Key.Method, Target = g.Key.Target, Index = i + 1,
                NormalisedSigma = spectra.Average(s => s.Normalised[i]), N = spectra.Length,
            }];

    /// <summary>The mean stable rank over the modules of each seed's run of <paramref name="arm"/>, keyed by
    /// seed.</summary>
    public static Dictionary<int, double> MeanStableRank(IReadOnlyList<SpectrumRow> rows, Arm arm) =>
        rows.Where(r => r.Method == arm.Method.Name && r.Target == arm.Target.Name).GroupBy(r => r.Seed)
            .ToDictionary(g => g.Key, g => g.Average(r => r.StableRank));

    /// <summary>"stable rank 3.1, 12 of 32 singular values above 1%, top-r energy 0.91" of one arm, averaged over
    /// modules and seeds.</summary>
    public static string Describe(IReadOnlyList<SpectrumRow> rows, Arm arm)
    {
        var mine = rows.Where(r => r.Method == arm.Method.Name && r.Target == arm.Target.Name).ToArray();
        if (mine.Length == 0) return "no spectrum";
        return Invariant($"stable rank {mine.Average(r => r.StableRank):0.00}, ") +
               Invariant($"{mine.Average(r => r.AboveOnePercent):0.0} singular values above 1% of the largest, ") +
               Invariant($"top-{mine[0].BudgetRank} energy {mine.Average(r => r.TopEnergy):0.000}");
    }
}
