using Abba.Core.Statistics;
using Abba.Experiments.Protocol;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Mnist;

/// <summary>The protocol's paired effects, ABBA minus each other method seed by seed, each with its interval and verdict.</summary>
public sealed partial class MnistExperiment
{
    /// <summary>Smoothed mini-batch loss the "converges faster" claim counts steps to.</summary>
    public const double FastLoss = 0.1;

    /// <summary>The methods ABBA is compared with, in legend order.</summary>
    static readonly string[] Baselines = ["full_ft", "lora", "hira"];

    /// <summary>Final train_loss and test_loss: ABBA minus each baseline, paired by seed (the paper says lower, sign -1).</summary>
    static IEnumerable<ComparisonRow> LossEffects(IReadOnlyList<MnistRunRow> runs) =>
        from metric in new (string Name, Func<MnistRunRow, double> Value)[] { ("train_loss", r => r.TrainLoss), ("test_loss", r => r.TestLoss) }
        from baseline in Baselines
        select Paired(runs.Select(r => (r.Seed, r.Method, metric.Value(r))), metric.Name, baseline);

    /// <summary>Steps to <see cref="FastLoss"/> per seed: ABBA minus each baseline (the paper says fewer, sign -1).</summary>
    static IEnumerable<ComparisonRow> SpeedEffects(IReadOnlyList<MnistCurveRow> curves)
    {
        var steps = StepsToLoss(curves);
        return Baselines.Select(b => Paired(steps.Select(kv => (kv.Key.Seed, kv.Key.Method, (double)kv.Value)), "steps_to_loss", b));
    }

    /// <summary>
    /// Per (seed, method), the first step at which the trailing moving average (window steps/50) of the mini-batch loss is
    /// below <see cref="FastLoss"/>; a run that never gets there counts as the last step + 1.
    /// </summary>
    public static Dictionary<(int Seed, string Method), int> StepsToLoss(IReadOnlyList<MnistCurveRow> curves)
    {
        int last = curves.Max(c => c.Step), window = Math.Max(1, last / 50);
        return curves.GroupBy(c => (c.Seed, c.Method)).ToDictionary(g => g.Key, g =>
        {
            int first = Array.FindIndex(MovingAverage([.. g.OrderBy(c => c.Step).Select(c => c.Loss)], window), v => v < FastLoss);
            return first < 0 ? last + 1 : first + 1;
        });
    }

    static ComparisonRow Paired(IEnumerable<(int Seed, string Method, double Value)> values, string metric, string baseline)
    {
        var bySeed = values.ToLookup(v => v.Seed);
        var seeds = bySeed.Where(g => g.Any(v => v.Method == "abba") && g.Any(v => v.Method == baseline)).Select(g => g.Key).Order().ToArray();
        double Of(int seed, string method) => bySeed[seed].Single(v => v.Method == method).Value;
        return Comparisons.Row("Figure 1", $"{metric}(abba) - {metric}({baseline})", metric, -1,
            Intervals.PairedDifference([.. seeds.Select(s => Of(s, "abba"))], [.. seeds.Select(s => Of(s, baseline))]));
    }
}
