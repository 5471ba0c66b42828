using Abba.Core.Adapters;
using Abba.Core.Analysis;
using Abba.Core.Models;
using Abba.Core.Training;
using Abba.Core.Randomness;
using MathNet.Numerics.LinearAlgebra;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Tests.Analysis;

public class TrajectoryPlaneTests
{
    const int P = 40;

    static Vector<double> Gaussian(int seed) =>
        Vector<double>.Build.Random(P, new MathNet.Numerics.Distributions.Normal(0, 1, new Random(seed)));

    static Tensor ToTensor(Vector<double> v) => tensor(v.ToArray(), ScalarType.Float64);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Project_PointsInsideThePlane_MapBackToTheirWeights(bool anchored)
    {
        // Two trajectories in the plane o + a d1 + b d2 (d1, d2 neither orthogonal nor unit); the anchor is in it too.
        Vector<double> o = Gaussian(1), d1 = Gaussian(2), d2 = 0.5 * d1 + Gaussian(3);
        (double A, double B)[] coefficients = [(0.3, 0.1), (0.7, -0.2), (1.0, -0.4), (0.2, 0.5), (0.4, 0.9), (0.5, 1.3)];
        var points = coefficients.Select(c => o + c.A * d1 + c.B * d2).ToArray();
        using var origin = ToTensor(o);
        using var anchor = ToTensor(o + 0.8 * d1 + 0.8 * d2);
        var tensors = points.Select(ToTensor).ToArray();
        using var plane = TrajectoryPlane.Fit(origin, tensors, anchored ? anchor : null);
        // Reference: orthogonal projection onto span(d1, d2) by MathNet least squares.
        var D = Matrix<double>.Build.DenseOfColumnVectors(d1, d2);
        for (int k = 0; k < points.Length; k++)
        {
            var (x, y) = plane.Project(tensors[k]);
            using var back = plane.PointAt(x, y);
            double[] restored = back.data<double>().ToArray();
            for (int i = 0; i < P; i++) Assert.Equal(points[k][i], restored[i], 9);
            Assert.True(plane.RelativeResidual(tensors[k]) < 1e-9);
            var inPlane = D * D.Solve(points[k] - o);
            Assert.Equal(inPlane.L2Norm(), Math.Sqrt(x * x + y * y), 9);
        }
        Assert.Equal(1.0, plane.ExplainedX + plane.ExplainedY, 9);
        foreach (var t in tensors) t.Dispose();
    }

    [Fact]
    public void RelativeResidual_OfAPointOffThePlane_IsItsDistanceOverItsNorm()
    {
        Vector<double> o = Gaussian(4), d1 = Gaussian(5), d2 = Gaussian(6), off = Gaussian(7);
        var basis = Matrix<double>.Build.DenseOfColumnVectors(d1, d2);
        var normal = off - basis * basis.Solve(off);                       // component of off orthogonal to the plane
        var fitted = new[] { o + d1, o + d2, o + d1 - d2 }.Select(ToTensor).ToArray();
        using var origin = ToTensor(o);
        using var plane = TrajectoryPlane.Fit(origin, fitted);
        var p = o + 0.3 * d1 + normal;
        using var pt = ToTensor(p);
        Assert.Equal(normal.L2Norm() / (p - o).L2Norm(), plane.RelativeResidual(pt), 9);
        foreach (var t in fitted) t.Dispose();
    }

    [Fact]
    public void Fit_WithAnchor_PutsTheAnchorOnThePositiveXAxis()
    {
        Vector<double> o = Gaussian(8), d1 = Gaussian(9), d2 = Gaussian(10), target = o + 2 * d1 - d2;
        var fitted = new[] { o + d1, o + 2 * d1 + 0.1 * d2, o - 0.5 * d2, o + Gaussian(11) }.Select(ToTensor).ToArray();
        using var origin = ToTensor(o);
        using var anchor = ToTensor(target);
        using var plane = TrajectoryPlane.Fit(origin, fitted, anchor);
        var (x, y) = plane.Project(anchor);
        Assert.Equal((target - o).L2Norm(), x, 9);
        Assert.Equal(0.0, y, 9);
        Assert.True(plane.RelativeResidual(anchor) < 1e-9);
        foreach (var t in fitted) t.Dispose();
    }

    [Fact]
    public void LossGrid_EqualsTheLossOfAnMlpBuiltAtEachPoint()
    {
        const int n = 6, h = 5, c = 3;
        using var g = UnitSeed.NewGenerator(11);
        long size = h * n + h + c * h + c;
        using var o = randn(size, dtype: ScalarType.Float64, generator: g);
        var directions = new[]
        {
            randn(size, dtype: ScalarType.Float64, generator: g), randn(size, dtype: ScalarType.Float64, generator: g),
        };
        var fitted = directions.Select(d => o + d).ToArray();
        using var plane = TrajectoryPlane.Fit(o, fitted);
        using var x = randn(32, n, generator: g);
        using var y = randint(0, c, [32], generator: g);
        double[] xs = [-1.0, 0.0, 0.5, 2.0], ys = [-0.5, 0.25, 1.5];
        var grid = MlpLandscape.LossGrid(plane, x, y, n, h, c, xs, ys);
        for (int j = 0; j < ys.Length; j++)
            for (int i = 0; i < xs.Length; i++)
            {
                using var point = plane.PointAt(xs[i], ys[j]).to_type(ScalarType.Float32);
                var (W1, b1, W2, b2) = MlpLandscape.Split(point, n, h, c);
                using var model = new Mlp(n, h, c, seed: 11);
                MlpTransfer.LoadWeights(model, new Dictionary<string, Tensor> { ["fc1.weight"] = W1, ["fc1.bias"] = b1, ["fc2.weight"] = W2, ["fc2.bias"] = b2 });
                double expected = Classifier.MeanLoss(model, x, y);
                // float32 losses of about 3 differ in the last bits by summation order: an absolute tolerance,
                // not rounding to digits (two values 2e-7 apart can round to different fourth digits)
                Assert.Equal(expected, grid[j, i], 1e-4);
                Assert.Equal(expected, MlpLandscape.Loss(point, x, y, n, h, c), 1e-4);
            }
        foreach (var t in directions.Concat(fitted)) t.Dispose();
    }

    [Fact]
    public void EffectiveParameters_OfALoraModel_AreW0PlusDeltaWeightAndTheBiases()
    {
        using var model = new Mlp(7, 5, 3, seed: 12);
        Injector.Inject(model, ["fc1", "fc2"], new LoraConfig(2, 4));
        var adapters = Injector.Adapters(model);
        using (no_grad())
            foreach (var a in adapters.Values) ((LoraLinear)a).B.normal_();  // make dW non-zero
        using var flat = MlpLandscape.EffectiveParameters(model, 7, 5);
        var (W1, b1, W2, b2) = MlpLandscape.Split(flat, 7, 5, 3);
        var fc1 = adapters["fc1"];
        var fc2 = adapters["fc2"];
        using (no_grad())
        {
            Assert.True(W1.allclose(fc1.Base.weight! + fc1.DeltaWeight(), rtol: 1e-5, atol: 1e-5));
            Assert.True(W2.allclose(fc2.Base.weight! + fc2.DeltaWeight(), rtol: 1e-5, atol: 1e-5));
            Assert.True(b1.allclose(fc1.Base.bias!, atol: 1e-6) && b2.allclose(fc2.Base.bias!, atol: 1e-6));
            Assert.False(fc1.DeltaWeight().abs().max().item<float>() < 1e-3);
        }
    }
}
