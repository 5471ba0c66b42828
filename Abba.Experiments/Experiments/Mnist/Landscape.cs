using Abba.Core.Adapters;
using Abba.Core.Analysis;
using Abba.Core.Data;
using Abba.Core.Training;
using static TorchSharp.torch;
using MnistData = Abba.Core.Data.Mnist;   // the simple name Mnist is this experiment's namespace

namespace Abba.Experiments.Experiments.Mnist;

public sealed partial class MnistExperiment
{
    /// <summary>
    /// The paper-style landscape: a long full fine-tuning run gives the "target optimum"; a plane through the start and
    /// that optimum is fitted to the first seed's checkpoints of every method; the loss is evaluated on a grid over it.
    /// </summary>
    static LandscapeUnit ComputeLandscape(ExperimentContext ctx, MnistOptions o, TransferData split, IReadOnlyDictionary<string, Tensor> weights,
        IReadOnlyDictionary<string, IReadOnlyList<(int Step, Tensor Parameters)>> trajectories, double fullFtRate, int seed)
    {
        using var task = ctx.Progress.Start("target optimum and landscape", o.TargetSteps + o.GridSize * o.GridSize);
        var settings = new FineTuneSettings(o.TargetSteps, o.BatchSize, fullFtRate, Checkpoints: 1, CosineDecay: true);
        using var target = MlpTransfer.FineTune(weights, o.Hidden, new FullFineTuneConfig(), split.FineTune, settings, Units.TargetOptimum(seed), Units.TargetOptimum(seed), _ => task.Advance());
        var optimum = target.Checkpoints[^1].Parameters;
        var start = trajectories.Values.First()[0].Parameters;
        var fitted = trajectories.Values.SelectMany(c => c.Skip(1).Select(p => p.Parameters)).Append(optimum).ToList();
        using var plane = TrajectoryPlane.Fit(start, fitted, anchor: optimum);
        var rows = trajectories.SelectMany(kv => kv.Value.Select((c, i) => Project(plane, split, o, optimum, kv.Key, i, c.Step, c.Parameters))).ToList();
        rows.Add(Project(plane, split, o, optimum, "target_optimum", 0, o.TargetSteps, optimum));
        var xs = Axis(rows.Select(r => r.X), o.GridSize);
        var ys = Axis(rows.Select(r => r.Y), o.GridSize);
        var loss = MlpLandscape.LossGrid(plane, split.FineTune.Images, split.FineTune.Labels, MnistData.Pixels, o.Hidden, MnistData.Classes, xs, ys);
        task.Advance(o.GridSize * o.GridSize);
        return new LandscapeUnit(rows, new MnistPlaneRow(plane.ExplainedX, plane.ExplainedY, fitted.Count),
            [.. from j in Enumerable.Range(0, ys.Length) from i in Enumerable.Range(0, xs.Length) select new MnistLandscapeRow(xs[i], ys[j], loss[j, i])]);
    }

    static MnistTrajectoryRow Project(TrajectoryPlane plane, TransferData split, MnistOptions o, Tensor optimum,
        string method, int checkpoint, int step, Tensor parameters)
    {
        var (x, y) = plane.Project(parameters);
        double loss = MlpLandscape.Loss(parameters, split.FineTune.Images, split.FineTune.Labels, MnistData.Pixels, o.Hidden, MnistData.Classes);
        using var gap = parameters.to_type(ScalarType.Float64) - optimum.to_type(ScalarType.Float64);
        return new MnistTrajectoryRow(method, checkpoint, step, x, y, loss, plane.RelativeResidual(parameters), gap.norm().item<double>());
    }

    /// <summary><paramref name="count"/> evenly spaced values covering <paramref name="values"/> with a 20% margin on each side.</summary>
    static double[] Axis(IEnumerable<double> values, int count)
    {
        double lo = values.Min(), hi = values.Max(), margin = 0.2 * Math.Max(hi - lo, 1e-6);
        return [.. Enumerable.Range(0, count).Select(i => lo - margin + i * (hi - lo + 2 * margin) / (count - 1))];
    }
}
