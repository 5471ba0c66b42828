using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Core.Analysis;

/// <summary>
/// A 2-D plane <c>origin + x u + y v</c> (u, v orthonormal) through parameter space, fitted to trajectories by PCA
/// of their displacements from a shared start. The PCA is not mean-centred: the plane passes through the start,
/// which therefore sits at (0, 0), as in the paper's Figure 1 where every trajectory leaves from one point.
/// All maths is in float64.
/// </summary>
public sealed class TrajectoryPlane : IDisposable
{
    readonly Tensor origin, u, v;

    TrajectoryPlane(Tensor origin, Tensor u, Tensor v, double explainedX, double explainedY)
    {
        (this.origin, this.u, this.v, ExplainedX, ExplainedY) = (origin, u, v, explainedX, explainedY);
    }

    /// <summary>Share of the fitted points' total squared displacement from the origin along u (the x axis).</summary>
    public double ExplainedX { get; }

    /// <summary>Share of the fitted points' total squared displacement from the origin along v (the y axis).</summary>
    public double ExplainedY { get; }

    /// <summary>
    /// Fits the plane to <paramref name="points"/> (flat parameter vectors) through <paramref name="origin"/>:
    /// u and v are the top two right singular vectors of the matrix of displacements <c>point - origin</c>.
    /// Signs are fixed so that <paramref name="orientTowards"/> (or the mean displacement) has x &gt;= 0 and the
    /// points' mean y is &gt;= 0.
    /// </summary>
    public static TrajectoryPlane Fit(Tensor origin, IReadOnlyList<Tensor> points, Tensor? orientTowards = null)
    {
        if (points.Count < 2) throw new ArgumentException("fitting a plane needs at least two points", nameof(points));
        using var scope = NewDisposeScope();
        var o = origin.to_type(ScalarType.Float64).flatten();
        var D = stack(points.Select(p => p.to_type(ScalarType.Float64).flatten() - o)); // (K, P)
        var (_, S, Vh) = linalg.svd(D, fullMatrices: false);
        var u = Vh[0].clone();
        var v = Vh[1].clone();
        var direction = orientTowards is null ? D.mean([0]) : orientTowards.to_type(ScalarType.Float64).flatten() - o;
        if (direction.dot(u).item<double>() < 0) u.neg_();
        if (D.matmul(v).mean().item<double>() < 0) v.neg_();
        var share = S.square() / S.square().sum();
        return new TrajectoryPlane(o.MoveToOuterDisposeScope(), u.MoveToOuterDisposeScope(), v.MoveToOuterDisposeScope(),
            share[0].item<double>(), share[1].item<double>());
    }

    /// <summary>Coordinates of the orthogonal projection of <paramref name="point"/> onto the plane.</summary>
    public (double X, double Y) Project(Tensor point)
    {
        using var scope = NewDisposeScope();
        var d = point.to_type(ScalarType.Float64).flatten() - origin;
        return (d.dot(u).item<double>(), d.dot(v).item<double>());
    }

    /// <summary>Distance from <paramref name="point"/> to the plane divided by its distance to the origin (0 when in the plane).</summary>
    public double RelativeResidual(Tensor point)
    {
        using var scope = NewDisposeScope();
        var d = point.to_type(ScalarType.Float64).flatten() - origin;
        var (x, y) = Project(point);
        double norm = d.norm().item<double>();
        return norm == 0 ? 0 : (d - x * u - y * v).norm().item<double>() / norm;
    }

    /// <summary>The parameter vector at plane coordinates (<paramref name="x"/>, <paramref name="y"/>), float64.</summary>
    public Tensor PointAt(double x, double y) => origin + x * u + y * v;

    /// <summary>Origin and the two unit directions, float64 (owned by the plane; do not dispose).</summary>
    public (Tensor Origin, Tensor U, Tensor V) Basis => (origin, u, v);

    /// <inheritdoc />
    public void Dispose()
    {
        origin.Dispose();
        u.Dispose();
        v.Dispose();
    }
}
