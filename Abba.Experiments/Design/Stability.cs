using Abba.Core.Analysis;
using Abba.Core.Statistics;
using Abba.Experiments.Protocol;
using static System.FormattableString;

namespace Abba.Experiments.Design;

/// <summary>
/// Rank stability in training (Fig. 5 and Theorem 2 tested on the model): for each scaling exponent e run at several
/// r1 = r2, how the best learning rate, the late gradient norm and the learned update's second moment move with r1 r2.
/// Each is fitted per seed as a log-log slope; the paper's claim is that under e = 1/2 they stay flat in rank while the
/// others drift, judged by the paired difference |slope(e)| - |slope(1/2)| over seeds.
/// </summary>
public static class DesignStability
{
    /// <summary>The quantities fitted, by the name the CSV gives each.</summary>
    public const string BestRate = "best_rate", Plateau = "grad_norm_plateau", Moment = "update_moment";

    /// <summary>Every quantity, in report order.</summary>
    public static readonly IReadOnlyList<string> Quantities = [BestRate, Plateau, Moment];

    /// <summary>The paper's exponent.</summary>
    public const double PaperExponent = 0.5;

    /// <summary>Per-seed slopes of one (exponent, quantity), the ranks they span and the seeds left out.</summary>
    public sealed record Slopes(double Exponent, string Quantity, int[] Ranks, Dictionary<int, double> PerSeed,
        int Excluded);

    /// <summary>
    /// Every (exponent, quantity) of the scaling family's tuned rows with at least two ranks: per seed, the
    /// least-squares slope of log quantity on log(r1 r2) over the ranks, where every rank's run trained (best rate: on
    /// the sweep seeds, where every rank trained at some grid rate; the optimum inside the grid by a parabola through
    /// the lowest point and its neighbours in log rate).
    /// </summary>
    public static List<Slopes> PerSeed(IReadOnlyList<DesignRow> rows, IReadOnlyList<LrSweepRow> sweep)
    {
        var tuned = rows.Where(r => r.Of(DesignFamily.Scaling) && r.RateChoice == DesignRow.Tuned).ToList();
        var floorValidation = DesignSummary.ValidationFloorBySeed(rows);
        var result = new List<Slopes>();
        foreach (var e in tuned.GroupBy(r => r.Exponent).OrderByDescending(g => g.Key))
        {
            var byRank = e.GroupBy(r => DesignSummary.FirstRank(r)).OrderBy(g => g.Key).ToArray();
            if (byRank.Length < 2) continue;
            int[] ranks = [.. byRank.Select(g => g.Key)];
            double[] products = [.. ranks.Select(r => (double)r * r)];
            Slopes Fit(string quantity, IEnumerable<int> seeds, Func<IGrouping<int, DesignRow>, int, double?> value)
            {
                var perSeed = new Dictionary<int, double>();
                int excluded = 0;
                foreach (int seed in seeds)
                {
                    double?[] y = [.. byRank.Select(g => value(g, seed))];
                    if (y.Any(v => v is null || !(v > 0))) { excluded++; continue; }
                    perSeed[seed] = RankStability.LogLogFit(products, [.. y.Select(v => v!.Value)]).Slope;
                }
                return new Slopes(e.Key, quantity, ranks, perSeed, excluded);
            }
            var seeds = e.Select(r => r.Seed).Distinct().Order().ToArray();
            var sweepSeeds = sweep.Select(s => s.Seed).Distinct().Order().ToArray();
            double? Trained(IGrouping<int, DesignRow> g, int seed, Func<DesignRow, double> of) =>
                g.FirstOrDefault(r => r.Seed == seed) is { Trained: true } row ? of(row) : null;
            double? Best(IGrouping<int, DesignRow> g, int seed)
            {
                string target = $"{DesignFamily.Scaling}/{g.First().Arm}";
                var curve = sweep.Where(s => s.Target == target && s.Seed == seed).OrderBy(s => s.Rate).ToArray();
                if (curve.Length == 0 || curve.Min(s => Finite(s.ValidationCe)) >= floorValidation[seed]) return null;
                return BestRateOf([.. curve.Select(s => s.Rate)], [.. curve.Select(s => Finite(s.ValidationCe))]);
            }
            result.Add(Fit(BestRate, sweepSeeds, Best));
            result.Add(Fit(Plateau, seeds, (g, s) => Trained(g, s, r => r.GradNormPlateau)));
            result.Add(Fit(Moment, seeds, (g, s) => Trained(g, s, r => r.UpdateMoment)));
        }
        return result;
    }

    /// <summary>A validation CE that diverged (NaN or infinite) as the largest finite value, so that it is never a
    /// curve's minimum.</summary>
    public static double Finite(double v) => double.IsFinite(v) ? v : double.MaxValue;

    /// <summary>
    /// The rate minimising a validation-CE curve over an ascending grid: the vertex of the parabola through the lowest
    /// point and its two neighbours in log rate (kept between them), or the grid's end when the lowest point is there
    /// (not bracketed).
    /// </summary>
    public static double BestRateOf(IReadOnlyList<double> rates, IReadOnlyList<double> ce)
    {
        int i = 0;
        for (int k = 1; k < ce.Count; k++) if (ce[k] < ce[i]) i = k;
        if (i == 0 || i == ce.Count - 1 || ce[i - 1] == double.MaxValue || ce[i + 1] == double.MaxValue)
            return rates[i];
        double x0 = Math.Log(rates[i - 1]), x1 = Math.Log(rates[i]), x2 = Math.Log(rates[i + 1]);
        double c0 = ce[i - 1], c1 = ce[i], c2 = ce[i + 1];
        double numerator = (x1 - x0) * (x1 - x0) * (c1 - c2) - (x1 - x2) * (x1 - x2) * (c1 - c0);
        double denominator = (x1 - x0) * (c1 - c2) - (x1 - x2) * (c1 - c0);
        if (denominator == 0) return rates[i];
        double vertex = Math.Clamp(x1 - 0.5 * numerator / denominator, x0, x2);
        return Math.Exp(vertex);
    }

    /// <summary>The slope Theorem 2 implies where it implies one: the best rate scales as the inverse of the update's
    /// typical size, (r1 r2)^-(1/2 - e) (derived here); none for the others (the theorem is about random factors, not
    /// trained ones).</summary>
    public static double Predicted(double exponent, string quantity) =>
        quantity == BestRate ? exponent - 0.5 : double.NaN;

    /// <summary>The CSV rows: each slope with its 95% t interval over seeds.</summary>
    public static List<StabilityRow> Fit(IReadOnlyList<DesignRow> rows, IReadOnlyList<LrSweepRow> sweep) =>
        [.. from s in PerSeed(rows, sweep)
            let ci = Intervals.StudentTMean([.. s.PerSeed.Values])
            select new StabilityRow
            {
                Exponent = s.Exponent, Quantity = s.Quantity, Ranks = string.Join('/', s.Ranks), N = ci.N,
                Excluded = s.Excluded, Slope = ci.Estimate, CiLow = ci.Low, CiHigh = ci.High,
                PerSeed = string.Join(' ', s.PerSeed.Select(kv => Invariant($"{kv.Key}:{kv.Value:0.####}"))),
                Predicted = Predicted(s.Exponent, s.Quantity),
            }];

    /// <summary>Per quantity and exponent e other than 1/2: |slope(e)| - |slope(1/2)| paired over seeds (positive:
    /// e drifts more with rank than the paper's scaling, as the paper says).</summary>
    public static List<ComparisonRow> Compare(IReadOnlyList<DesignRow> rows, IReadOnlyList<LrSweepRow> sweep)
    {
        var slopes = PerSeed(rows, sweep);
        return [.. from paper in slopes where paper.Exponent == PaperExponent
                   from other in slopes
                   where other.Quantity == paper.Quantity && other.Exponent != PaperExponent
                   let seeds = paper.PerSeed.Keys.Intersect(other.PerSeed.Keys).Order().ToArray()
                   select Comparisons.Row("Figure 5 (rank stability)",
                       Invariant($"|slope {paper.Quantity}(e={Math.Round(other.Exponent, 4)})| - ") +
                       Invariant($"|slope {paper.Quantity}(e=0.5)|") + Excluded(paper, other, seeds.Length),
                       paper.Quantity, +1, Intervals.PairedDifference(
                           [.. seeds.Select(s => Math.Abs(other.PerSeed[s]))],
                           [.. seeds.Select(s => Math.Abs(paper.PerSeed[s]))]))];
    }

    static string Excluded(Slopes a, Slopes b, int kept)
    {
        int all = a.PerSeed.Count + a.Excluded;
        return kept == all ? "" : Invariant($" [{all - kept} of {all} seeds left out: a run did not train]");
    }
}
