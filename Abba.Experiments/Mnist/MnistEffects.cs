using Abba.Core.Statistics;
using Abba.Experiments.Protocol;

namespace Abba.Experiments.Mnist;

/// <summary>The protocol's paired effects, the proposed arm minus each baseline seed by seed, each with its interval
/// and verdict; and the comparison labels they carry, which the claims look up.</summary>
public static class MnistEffects
{
    /// <summary>Smoothed mini-batch loss the "converges faster" claim counts steps to.</summary>
    public const double FastLoss = 0.1;

    /// <summary>The metric of the closeness effects: KL(optimum || arm) over the 8-9 test images.</summary>
    public const string TestKl = "test_kl_over_images";

    /// <summary>The metric of the speed effects: steps to <see cref="FastLoss"/>.</summary>
    public const string StepsMetric = "steps_to_loss";

    /// <summary>The final losses compared (the paper says lower, sign -1), each with its part label.</summary>
    public static readonly IReadOnlyList<Metric<MnistRunRow>> Losses =
    [
        new("train_loss", "train", LowerIsBetter: true, r => r.TrainLoss),
        new("test_loss", "test", LowerIsBetter: true, r => r.TestLoss),
    ];

    /// <summary>"metric(proposed) - metric(baseline)".</summary>
    public static string Comparison(string metric, MnistArm proposed, MnistArm baseline) =>
        $"{metric}({proposed.Method}) - {metric}({baseline.Method})";

    /// <summary>"kl(optimum k || proposed) - kl(optimum k || baseline)".</summary>
    public static string ClosenessComparison(int optimum, MnistArm proposed, MnistArm baseline) =>
        $"kl(optimum {optimum} || {proposed.Method}) - kl(optimum {optimum} || {baseline.Method})";

    /// <summary>Final train_loss and test_loss: the proposed arm minus each baseline, paired by seed.</summary>
    public static IEnumerable<ComparisonRow> Loss(IReadOnlyList<MnistRunRow> runs, IReadOnlyList<MnistArm> arms) =>
        from metric in Losses
        from baseline in MnistArm.BaselinesOf(arms)
        select Paired(runs.Select(r => (r.Seed, r.Method, metric.Of(r))), metric.Name, MnistArm.ProposedOf(arms),
            baseline);

    /// <summary>Steps to <see cref="FastLoss"/> per seed: the proposed arm minus each baseline (the paper says fewer,
    /// sign -1).</summary>
    /// <summary>The metric of the closeness comparisons over seeds.</summary>
    public const string SeedKl = "test_kl_own_optimum";

    /// <summary>
    /// KL(own optimum || ABBA) - KL(own optimum || baseline) per seed, each seed's arms against that seed's own
    /// optimum,
    /// for the baselines the closeness claim names (full fine-tuning is the optimum's own method and is left out).
    /// </summary>
    public static IEnumerable<ComparisonRow> Closeness(IReadOnlyList<MnistSeedClosenessRow> rows,
        IReadOnlyList<MnistArm> arms) =>
        MnistArm.BaselinesOf(arms).Where(b => b.InClosenessClaim).Select(b => Paired(
            rows.Select(r => (r.Seed, r.Method, r.Kl)), SeedKl, MnistArm.ProposedOf(arms), b));

    public static IEnumerable<ComparisonRow> Speed(IReadOnlyList<MnistCurveRow> curves, IReadOnlyList<MnistArm> arms)
    {
        var steps = StepsToLoss(curves);
        return MnistArm.BaselinesOf(arms).Select(b => Paired(
            steps.Select(kv => (kv.Key.Seed, kv.Key.Method, (double)kv.Value)), StepsMetric, MnistArm.ProposedOf(arms),
                b));
    }

    /// <summary>
    /// Per (seed, method), the first step at which the trailing moving average (window steps/50) of the mini-batch
    /// loss is below <see cref="FastLoss"/>; a run that never gets there counts as the last step + 1.
    /// </summary>
    public static Dictionary<(int Seed, string Method), int> StepsToLoss(IReadOnlyList<MnistCurveRow> curves) =>
        curves.GroupBy(c => (c.Seed, c.Method)).ToDictionary(g => g.Key,
            g => StepsTo([.. g.OrderBy(c => c.Step).Select(c => c.Loss)]));

    /// <summary>
    /// The first step (from 1) at which the moving average of <paramref name="losses"/> (one per step, over a fiftieth
    /// of the run) is below <see cref="FastLoss"/>; the step count + 1 when it never is.
    /// </summary>
    public static int StepsTo(IReadOnlyList<double> losses)
    {
        int window = Math.Max(1, losses.Count / 50);
        int first = Array.FindIndex(MovingAverage([.. losses], window), v => v < FastLoss);
        return first < 0 ? losses.Count + 1 : first + 1;
    }

    /// <summary>The metric of the speed comparisons at the rates chosen for speed.</summary>
    public const string SpeedRateMetric = "steps_to_loss_at_speed_rate";

    /// <summary>
    /// Sensitivity of the speed claim to the rate: steps(ABBA) - steps(baseline) per seed, each arm at the sweep rate
    /// that reached the loss in the fewest mean steps on the sweep seeds.
    /// </summary>
    public static IEnumerable<ComparisonRow> SpeedAtSpeedRates(IReadOnlyList<MnistSpeedRow> runs,
        IReadOnlyList<MnistArm> arms) =>
        MnistArm.BaselinesOf(arms).Select(b => Paired(runs.Select(r => (r.Seed, r.Method, (double)r.StepsToLoss)),
            SpeedRateMetric, MnistArm.ProposedOf(arms), b));

    /// <summary>The trailing moving average over <paramref name="window"/> values (fewer at the start).</summary>
    public static double[] MovingAverage(double[] values, int window)
    {
        var result = new double[values.Length];
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            sum += values[i];
            if (i >= window) sum -= values[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }

    static ComparisonRow Paired(IEnumerable<(int Seed, string Method, double Value)> values, string metric,
        MnistArm proposed, MnistArm baseline)
    {
        var bySeed = values.ToLookup(v => v.Seed);
        var seeds = bySeed.Where(g => g.Any(v => v.Method == proposed.Method)
            && g.Any(v => v.Method == baseline.Method))
            .Select(g => g.Key).Order().ToArray();
        double Of(int seed, MnistArm arm) => bySeed[seed].Single(v => v.Method == arm.Method).Value;
        return Comparisons.Row("Figure 1", Comparison(metric, proposed, baseline), metric, -1,
            Intervals.PairedDifference([.. seeds.Select(s => Of(s, proposed))], [.. seeds.Select(s => Of(s,
                baseline))]));
    }
}

/// <summary>The per-method summary over seeds.</summary>
public static class MnistSummary
{
    /// <summary>Mean and sample standard deviation over seeds per method (std 0 for one seed); 95% t intervals of the
    /// losses (NaN for one seed).</summary>
    public static IEnumerable<MnistSummaryRow> Of(IReadOnlyList<MnistRunRow> runs, IReadOnlyList<PaperLossRow> paper) =>
        runs.GroupBy(r => r.Method).Select(g =>
        {
            var first = g.First();
            (double Mean, double Std) S(Func<MnistRunRow, double> f) => Describe.MeanStd(g.Select(f));
            var train = Intervals.StudentTMean([.. g.Select(r => r.TrainLoss)]);
            var test = Intervals.StudentTMean([.. g.Select(r => r.TestLoss)]);
            var (a89, a89s) = S(r => r.Acc89);
            var (a07, a07s) = S(r => r.Acc07);
            var (all, alls) = S(r => r.AccAll);
            return new MnistSummaryRow(Method: g.Key, Rank: first.Rank, Params: first.Params,
                LearningRate: first.LearningRate, Seeds: g.Count(),
                TrainLoss: train.Estimate, TrainLossStd: S(r => r.TrainLoss).Std,
                TrainLossCiLow: train.Low, TrainLossCiHigh: train.High,
                TestLoss: test.Estimate, TestLossStd: S(r => r.TestLoss).Std, TestLossCiLow: test.Low,
                TestLossCiHigh: test.High, Acc89: a89, Acc89Std: a89s, Acc07: a07, Acc07Std: a07s,
                AccAll: all, AccAllStd: alls, Seconds: S(r => r.Seconds).Mean,
                PaperFinalLoss: paper.FirstOrDefault(p => p.Method == g.Key)?.FinalLoss);
        });
}
