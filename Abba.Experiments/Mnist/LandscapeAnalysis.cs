using Abba.Core.Analysis;
using Abba.Core.Data;
using Abba.Core.Statistics;
using Abba.Core.Training;
using Abba.Experiments.Protocol;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static TorchSharp.torch;
using MnistData = Abba.Core.Data.Mnist;   // the simple name Mnist is this experiment's namespace

namespace Abba.Experiments.Mnist;

/// <summary>The reference optima, the landscape plane and each arm's closeness to the optima.</summary>
public static class LandscapeAnalysis
{
    /// <summary>The trajectory name of the first optimum in mnist_trajectories.csv.</summary>
    public const string TargetOptimum = "target_optimum";

    /// <summary>
    /// The reference optima and the paper-style landscape. Each optimum is full fine-tuning from the first seed's W0
    /// with
    /// its own seed, batch order and fixed rate, trained until the full-batch gradient is small; the first anchors a
    /// plane
    /// through the start, fitted to the first seed's checkpoints of every method, and the loss is evaluated on a grid
    /// over it.
    /// Each arm's final weights are compared with every optimum as functions (KL on the 8-9 test images) and as
    /// weights.
    /// </summary>
    public static LandscapeUnit Compute(ExperimentContext ctx, MnistOptions o, TransferData split,
        IReadOnlyDictionary<string, Tensor> weights, IReadOnlyList<MnistArm> arms,
        IReadOnlyDictionary<string, IReadOnlyList<(int Step, Tensor Parameters)>> trajectories, int seed)
    {
        using var task = ctx.Progress.Start("reference optima and landscape", o.Optima * o.OptimumMaxSteps
            + o.GridSize * o.GridSize);
        var settings = new OptimumSettings(o.OptimumMaxSteps, o.OptimumBatchSize, o.OptimumLearningRate,
            o.OptimumGradientTolerance, o.OptimumCheckEvery);
        var optima = Enumerable.Range(1, o.Optima).Select(k => Optimum.Train(weights, o.Hidden, split.FineTune,
            settings, MnistSeeds.Optimum(seed, k), _ => task.Advance())).ToList();
        try
        {
            var optimum = optima[0].Parameters;
            var start = trajectories.Values.First()[0].Parameters;
            var fitted = trajectories.Values.SelectMany(c => c.Skip(1).Select(p => p.Parameters)).Append(optimum)
                .ToList();
            using var plane = TrajectoryPlane.Fit(start, fitted, anchor: optimum);
            var rows = trajectories.SelectMany(kv => kv.Value.Select((c, i) => Project(plane, split, o, optimum,
                kv.Key, i, c.Step, c.Parameters))).ToList();
            rows.Add(Project(plane, split, o, optimum, TargetOptimum, 0, optima[0].Steps, optimum));
            var xs = Axis(rows.Select(r => r.X), o.GridSize);
            var ys = Axis(rows.Select(r => r.Y), o.GridSize);
            var loss = MlpLandscape.LossGrid(plane, split.FineTune.Images, split.FineTune.Labels, MnistData.Pixels,
                o.Hidden, MnistData.Classes, xs, ys);
            task.Advance(o.GridSize * o.GridSize);
            var finals = trajectories.ToDictionary(kv => kv.Key, kv => kv.Value[^1].Parameters);
            var closeness = optima.Select((m, i) => Closeness(o, split, arms, i + 1, m.Parameters, finals)).ToList();
            return new LandscapeUnit(rows, new MnistPlaneRow(plane.ExplainedX, plane.ExplainedY, fitted.Count),
                [.. from j in Enumerable.Range(0, ys.Length) from i in Enumerable.Range(0,
                    xs.Length) select new MnistLandscapeRow(xs[i], ys[j], loss[j, i])],
                [.. optima.Select((m, i) => OptimumRow(o, split, i + 1, m))], [.. closeness.SelectMany(c => c.Rows)],
                    [.. closeness.SelectMany(c => c.Effects)]);
        }
        finally
        {
            foreach (var m in optima) m.Dispose();
        }
    }

    static MnistOptimumRow OptimumRow(MnistOptions o, TransferData split, int index, OptimumResult m) =>
        new(index, m.Steps, o.OptimumMaxSteps, m.Converged, m.GradientNorm, o.OptimumGradientTolerance, m.Loss,
            MlpLandscape.Loss(m.Parameters, split.Test89.Images, split.Test89.Labels, MnistData.Pixels, o.Hidden,
                MnistData.Classes));

    /// <summary>Each arm's closeness to optimum <paramref name="index"/>, and ABBA's KL minus each other arm's, paired
    /// over the test images.</summary>
    static (List<MnistClosenessRow> Rows, List<ComparisonRow> Effects) Closeness(MnistOptions o, TransferData split,
        IReadOnlyList<MnistArm> arms, int index, Tensor optimum, IReadOnlyDictionary<string, Tensor> finals)
    {
        var kl = new Dictionary<string, double[]>();
        var rows = new List<MnistClosenessRow>();
        foreach (var (method, parameters) in finals)
        {
            var (values, agreement, distance) = Against(o, split, optimum, parameters);
            kl[method] = values;
            var ci = Intervals.StudentTMean(values);
            rows.Add(new MnistClosenessRow(index, method, ci.Estimate, ci.Low, ci.High, agreement, distance, 0, 0));
        }
        var byKl = rows.OrderBy(r => r.Kl).Select(r => r.Method).ToList();
        var byDistance = rows.OrderBy(r => r.WeightDistance).Select(r => r.Method).ToList();
        rows = [.. rows.Select(r => r with { KlRank = byKl.IndexOf(r.Method) + 1,
            DistanceRank = byDistance.IndexOf(r.Method) + 1 })];
        var proposed = MnistArm.ProposedOf(arms);
        var effects = MnistArm.BaselinesOf(arms).Select(b => Comparisons.Row("Figure 1",
            MnistEffects.ClosenessComparison(index, proposed, b), MnistEffects.TestKl, -1,
            Intervals.PairedDifference(kl[proposed.Method], kl[b.Method]))).ToList();
        return (rows, effects);
    }

    /// <summary>
    /// How far <paramref name="parameters"/> are from <paramref name="optimum"/>: KL(optimum || them) per 8-9 test
    /// image, the share of test images where they predict the same class, and the float64 weight-space distance.
    /// </summary>
    public static (double[] Kl, double Agreement, double Distance) Against(MnistOptions o, TransferData split,
        Tensor optimum, Tensor parameters)
    {
        var (values, agreement) = FunctionDistance.Compare(optimum, parameters, split.Test89.Images,
            MnistData.Pixels, o.Hidden, MnistData.Classes);
        using var gap = parameters.to_type(ScalarType.Float64) - optimum.to_type(ScalarType.Float64);
        return (values, agreement, gap.norm().item<double>());
    }

    static MnistTrajectoryRow Project(TrajectoryPlane plane, TransferData split, MnistOptions o, Tensor optimum,
        string method, int checkpoint, int step, Tensor parameters)
    {
        var (x, y) = plane.Project(parameters);
        double loss = MlpLandscape.Loss(parameters, split.FineTune.Images, split.FineTune.Labels, MnistData.Pixels,
            o.Hidden, MnistData.Classes);
        using var gap = parameters.to_type(ScalarType.Float64) - optimum.to_type(ScalarType.Float64);
        return new MnistTrajectoryRow(method, checkpoint, step, x, y, loss, plane.RelativeResidual(parameters),
            gap.norm().item<double>());
    }

    /// <summary><paramref name="count"/> evenly spaced values covering <paramref name="values"/> with a 20% margin on
    /// each side.</summary>
    static double[] Axis(IEnumerable<double> values, int count)
    {
        double lo = values.Min(), hi = values.Max(), margin = 0.2 * Math.Max(hi - lo, 1e-6);
        return [.. Enumerable.Range(0, count).Select(i => lo - margin + i * (hi - lo + 2 * margin) / (count - 1))];
    }
}
