using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Core.Analysis;

/// <summary>
/// A 2-D plane <c>origin + x u + y v</c> (u, v orthonormal) through parameter space, fitted to trajectories that share
/// a start: the plane passes through the start (the origin), which sits at (0, 0) as in the paper's Figure 1.
/// Without an anchor, u and v are the top two principal directions of the displacements from the origin (PCA, not
/// mean-centred). With an anchor (a target point), u points from the origin to the anchor, so the anchor lies in the
/// plane at (|anchor - origin|, 0), and v is the top principal direction of the displacements once their u component
/// is removed. All maths is in float64.
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

    /// <summary>Fits the plane to <paramref name="points"/>
    /// (flat parameter vectors) through <paramref name="origin"/>.</summary>
    /// <param name="origin">The shared start.</param>
    /// <param name="points">The points the plane should capture (at least two).</param>
    /// <param name="anchor">A point the plane must contain, on its positive x axis;
    /// null for plain PCA (x oriented along the mean displacement).</param>
    /// <remarks>v's sign is chosen so that the points' mean y is &gt;= 0.</remarks>
    public static TrajectoryPlane Fit(Tensor origin, IReadOnlyList<Tensor> points, Tensor? anchor = null)
    {
        if (points.Count < 2) throw new ArgumentException("fitting a plane needs at least two points", nameof(points));
        using var scope = NewDisposeScope();
        var o = origin.to_type(ScalarType.Float64).flatten();
        var D = stack(points.Select(p => p.to_type(ScalarType.Float64).flatten() - o));   // (K, P)
        Tensor u, v;
        if (anchor is null)
        {
            var (_, _, Vh) = linalg.svd(D, fullMatrices: false);
            (u, v) = (Vh[0].clone(), Vh[1].clone());
            if (D.mean([0]).dot(u).item<double>() < 0) u.neg_();
        }
        else
        {
            var a = anchor.to_type(ScalarType.Float64).flatten() - o;
            u = a / a.norm();
            var residual = D - D.matmul(u).outer(u);                                       // (K, P), orthogonal to u
            var (_, _, Vh) = linalg.svd(residual, fullMatrices: false);
            v = Vh[0].clone();
        }
        if (D.matmul(v).mean().item<double>() < 0) v.neg_();
        double total = D.square().sum().item<double>();
        double Share(Tensor w) => total > 0 ? D.matmul(w).square().sum().item<double>() / total : 0;
        return new TrajectoryPlane(
            o.MoveToOuterDisposeScope(), u.MoveToOuterDisposeScope(), v.MoveToOuterDisposeScope(), Share(u), Share(v));
    }

    /// <summary>Coordinates of the orthogonal projection of <paramref name="point"/> onto the plane.</summary>
    public (double X, double Y) Project(Tensor point)
    {
        using var scope = NewDisposeScope();
        var d = point.to_type(ScalarType.Float64).flatten() - origin;
        return (d.dot(u).item<double>(), d.dot(v).item<double>());
    }

    /// <summary>Distance from <paramref name="point"/> to the plane divided
    /// by its distance to the origin (0 when in the plane).</summary>
    public double RelativeResidual(Tensor point)
    {
        using var scope = NewDisposeScope();
        var d = point.to_type(ScalarType.Float64).flatten() - origin;
        var (x, y) = Project(point);
        double norm = d.norm().item<double>();
        return norm == 0 ? 0 : (d - x * u - y * v).norm().item<double>() / norm;
    }

    /// <summary>The parameter vector at plane coordinates
    /// (<paramref name="x"/>, <paramref name="y"/>), float64.</summary>
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
