using Abba.Core.Adapters;
using Abba.Core.Randomness;
using static TorchSharp.torch;

namespace Abba.Core.Analysis;

/// <summary>Second moments of an ABBA adapter's output and of the gradient it passes back to its input.</summary>
/// <param name="Output">Mean of y_i^2 over the entries of y = dW x (the adapter's output alone, no base).</param>
/// <param name="InputGradient">Mean of (dL/dx)_j^2 when dL/dy has i.i.d. entries.</param>
public sealed record AdapterMoments(double Output, double InputGradient);

/// <summary>
/// Theorem 2 (rank stability) measured directly. Derivation of the expected moments (paper App. D, restated): let B1
/// (m x r1), A1 (r1 x n), B2 (m x r2), A2 (r2 x n) have independent mean-zero entries of variances vB1, vA1, vB2, vA2,
/// and x (n) i.i.d. entries of second moment vx, independent of them. Then y_i = s Σ_j Σ_{k,l} B1_ik A1_kj B2_il
/// A2_lj x_j. Every cross term of E[y_i^2] pairs two different indices (k != k', l != l' or j != j') of some
/// independent mean-zero factor, so it vanishes, and the n r1 r2 diagonal terms each contribute vB1 vA1 vB2 vA2 vx:
///   E[y_i^2] = s^2 n r1 r2 C vx,   C = vB1 vA1 vB2 vA2;
/// by the same count, with g = dL/dy i.i.d. of second moment vg, dL/dx = s dW'^T g gives E[(dL/dx)_j^2] = s^2 m r1 r2 C
/// vg. With s = alpha^2 (r1 r2)^-e both moments are proportional to (r1 r2)^(1 - 2e): on log-log axes against r1 r2
/// their slope is 1 - 2e, i.e. 0 for the paper's e = 1/2 (rank-stable),
/// 1/2 for e = 1/4, 2/3 for e = 1/6 and 1 for s in Θ(1) (e = 0).
/// </summary>
public static class RankStability
{
    /// <summary>The log-log slope of both moments against r1 r2 under
    /// s = alpha^2 (r1 r2)^-<paramref name="exponent"/>: 1 - 2e.</summary>
    public static double ExpectedSlope(double exponent) => 1 - 2 * exponent;

    /// <summary>
    /// The closed form: s^2 n r1 r2 C vx for the output and s^2 m r1 r2 C vg for the input gradient, with every factor
    /// entry of variance <paramref name="factorVariance"/>
    /// (C = its fourth power) and vx = vg = <paramref name="signalVariance"/>.
    /// </summary>
    public static AdapterMoments Expected(
        AbbaConfig config, long outFeatures, long inFeatures, double factorVariance = 1, double signalVariance = 1)
    {
        double common = config.Scale * config.Scale * config.Rank1 * config.Rank2 * Math.Pow(factorVariance, 4)
            * signalVariance;
        return new AdapterMoments(common * inFeatures, common * outFeatures);
    }

    /// <summary>
    /// Measures both moments on an <see cref="AbbaLinear"/> built from <paramref name="config"/> over a zero base layer
    /// (so its output is the adapter's alone), in float64: its four factors are replaced by independent N(0, 1) draws,
    /// x (<paramref name="tokens"/> x n) and g = dL/dy are N(0, 1), y = layer(x) and dL/dx come from the layer's own
    /// forward and backward. One draw of everything per call, all from <paramref name="generator"/>.
    /// </summary>
    public static AdapterMoments Measure(
        AbbaConfig config, long outFeatures, long inFeatures, int tokens, Generator generator)
    {
        using var scope = NewDisposeScope();
        var baseLayer = nn.Linear(inFeatures, outFeatures, hasBias: false, dtype: ScalarType.Float64);
        using (no_grad()) baseLayer.weight!.zero_();
        using var layer = new AbbaLinear(baseLayer, config with { Init = AbbaInit.BothZero }, generator);
        using (no_grad())
            foreach (var p in new[] { layer.B1, layer.A1, layer.B2, layer.A2 })
                p.copy_(Draw.Normal(generator, [.. p.shape], dtype: ScalarType.Float64));
        var x = Draw.Normal(generator, [tokens, inFeatures], dtype: ScalarType.Float64).requires_grad_(true);
        var g = Draw.Normal(generator, [tokens, outFeatures], dtype: ScalarType.Float64);
        var y = layer.forward(x);
        y.mul(g).sum().backward();
        return new AdapterMoments(y.detach().square().mean().item<double>(), x.grad!.square().mean().item<double>());
    }

    /// <summary>Least-squares slope and intercept of
    /// log(<paramref name="y"/>) against log(<paramref name="x"/>).</summary>
    public static (double Slope, double Intercept) LogLogFit(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count || x.Count < 2)
            throw new ArgumentException("a log-log fit needs at least two (x, y) pairs of equal count");
        var (intercept, slope) =
            MathNet.Numerics.Fit.Line([.. x.Select(v => Math.Log(v))], [.. y.Select(v => Math.Log(v))]);
        return (slope, intercept);
    }
}
