using Abba.Core.Adapters;
using Abba.Tests.Support;
using MathNet.Numerics.LinearAlgebra;
using static Abba.Tests.Adapters.AdapterTestKit;
using static TorchSharp.torch;

namespace Abba.Tests.Adapters;

/// <summary>
/// ABBA's design options (the design experiment's Table 3 inits and Fig. 5 scalings), each checked in float64 against
/// MathNet: what every init starts at, and that none changes the layer's function at step 0.
/// </summary>
public class AbbaDesignOptionsTests
{
    const int R1 = 2, R2 = 3;
    const double Alpha = 1.5;

    public static TheoryData<AbbaInit> Inits() => [.. Enum.GetValues<AbbaInit>()];

    /// <summary>A float64 ABBA layer with init <paramref name="init"/> and the original W0 (read before wrapping: the residual inits replace it).</summary>
    static (AbbaLinear Layer, Matrix<double> W0) Build(AbbaInit init, AbbaScaling scaling = AbbaScaling.Paper)
    {
        var linear = BaseLayer(CPU, seed: 5);
        var W0 = Reference.ToMatrix(linear.weight!);
        return ((AbbaLinear)Injector.Create(linear, new AbbaConfig(R1, R2, Alpha, scaling, Init: init), seed: 3), W0);
    }

    static Matrix<double> P(AbbaLinear a, string key) => Reference.ToMatrix(a.AdapterParameters.Single(p => p.Key == key).Value);

    /// <summary>The rank-r truncated SVD of <paramref name="m"/> from component <paramref name="skip"/> on, in MathNet.</summary>
    static Matrix<double> Truncated(Matrix<double> m, int r, int skip)
    {
        var svd = m.Svd();
        return svd.U.SubMatrix(0, m.RowCount, skip, r) * Matrix<double>.Build.DiagonalOfDiagonalVector(svd.S.SubVector(skip, r)) * svd.VT.SubMatrix(skip, r, 0, m.ColumnCount);
    }

    [Theory, MemberData(nameof(Inits))]
    public void EveryInit_LeavesTheLayersFunctionUnchangedAtStep0(AbbaInit init)
    {
        var (abba, W0) = Build(init);
        using var _ = abba;
        var x = Reference.Gaussian(7, N, 41);
        var b = Reference.ToMatrix(abba.Base.bias!.reshape(M, 1));
        var expected = x * W0.Transpose() + Matrix<double>.Build.Dense(7, 1, 1) * b.Transpose();
        using var y = abba.forward(Reference.ToTensor(x));
        Assert.True(Reference.MaxAbsDiff(Reference.ToMatrix(y), expected) < 1e-10, $"{init}: the layer's output moved at step 0");
        // the effective update relative to W0: base (W0 or the residual W0 - P0) + dW - W0
        using var dW = abba.DeltaWeight();
        Assert.True(Reference.MaxAbsDiff(Reference.ToMatrix(abba.Base.weight!) + Reference.ToMatrix(dW), W0) < 1e-12, $"{init}: W_base + dW != W0");
    }

    [Theory]
    [InlineData(AbbaInit.Paper)]
    [InlineData(AbbaInit.SecondPairSvd)]
    [InlineData(AbbaInit.BothZero)]
    public void DeltaWeightIsZeroAtStep0_WhereThePapersInitIs_AndW0IsUntouched(AbbaInit init)
    {
        var (abba, W0) = Build(init);
        using var _ = abba;
        using var dW = abba.DeltaWeight();
        Assert.True(Reference.ToMatrix(dW).Enumerate().All(v => v == 0), $"{init}: dW != 0 at step 0");
        Assert.True(Reference.MaxAbsDiff(Reference.ToMatrix(abba.Base.weight!), W0) == 0, $"{init}: W0 was changed");
        Assert.Null(abba.InitialProduct);
        Assert.False(((AbbaConfig)abba.Config).StartsNonZero);
    }

    [Theory]
    [InlineData(AbbaInit.SecondPairOnes)]
    [InlineData(AbbaInit.SqrtTopTop)]
    [InlineData(AbbaInit.SqrtTopNext)]
    [InlineData(AbbaInit.SqrtNextTop)]
    public void NonZeroInits_KeepTheirProductAsP0_AndTheBaseHoldsTheResidual(AbbaInit init)
    {
        var (abba, W0) = Build(init);
        using var _ = abba;
        using var dW = abba.DeltaWeight();
        var P0 = Reference.ToMatrix(abba.InitialProduct!);
        Assert.True(Reference.MaxAbsDiff(Reference.ToMatrix(dW), P0) == 0);
        Assert.True(P0.FrobeniusNorm() > 0.1 * W0.FrobeniusNorm(), $"{init}: P0 is (nearly) zero");
        Assert.True(Reference.MaxAbsDiff(Reference.ToMatrix(abba.Base.weight!), W0 - P0) < 1e-12);
    }

    [Fact]
    public void SecondPairOnes_IsTableThreeRowOne_P0IsTheBestRankR1ApproximationOfW0()
    {
        var (abba, W0) = Build(AbbaInit.SecondPairOnes);
        using var _ = abba;
        double s = Alpha * Alpha / Math.Sqrt(R1 * R2);
        Assert.True(Reference.MaxAbsDiff(P(abba, "abba_B1") * P(abba, "abba_A1"), Truncated(W0, R1, 0)) < 1e-10);
        Assert.True(Reference.MaxAbsDiff(P(abba, "abba_B2") * P(abba, "abba_A2"), Matrix<double>.Build.Dense(M, N, 1 / s)) < 1e-12, "B2 A2 != J / s");
        Assert.True(Reference.MaxAbsDiff(Reference.ToMatrix(abba.InitialProduct!), Truncated(W0, R1, 0)) < 1e-10);
    }

    [Theory]
    [InlineData(AbbaInit.SqrtTopTop, 0, 0)]
    [InlineData(AbbaInit.SqrtTopNext, 0, R2)]
    [InlineData(AbbaInit.SqrtNextTop, R1, 0)]
    public void SqrtInits_AreTableThreeRowsTwoToFour_FromTheSignedRootsSvd(AbbaInit init, int skip1, int skip2)
    {
        var (abba, W0) = Build(init);
        using var _ = abba;
        var magnitude = W0.Map(v => Math.Sqrt(Math.Abs(v)));
        var signed = W0.Map(v => Math.Sign(v) * Math.Sqrt(Math.Abs(v)));
        Assert.True(Reference.MaxAbsDiff(signed.PointwiseMultiply(magnitude), W0) < 1e-12, "the split root does not multiply back to W0");
        double s = Alpha * Alpha / Math.Sqrt(R1 * R2), shrink = Math.Pow(s, -0.5);   // s^-1/4 on each factor: s^-1/2 per pair
        Assert.True(Reference.MaxAbsDiff(P(abba, "abba_B1") * P(abba, "abba_A1"), shrink * Truncated(signed, R1, skip1)) < 1e-10);
        Assert.True(Reference.MaxAbsDiff(P(abba, "abba_B2") * P(abba, "abba_A2"), shrink * Truncated(magnitude, R2, skip2)) < 1e-10);
        var expected = Truncated(signed, R1, skip1).PointwiseMultiply(Truncated(magnitude, R2, skip2));   // s (pair 1 ⊙ pair 2)
        Assert.True(Reference.MaxAbsDiff(Reference.ToMatrix(abba.InitialProduct!), expected) < 1e-10);
    }

    [Fact]
    public void SecondPairSvd_IsTableThreeRowFive_TheSwappedPairs()
    {
        var (abba, W0) = Build(AbbaInit.SecondPairSvd);
        using var _ = abba;
        Assert.True(Reference.MaxAbsDiff(P(abba, "abba_B2") * P(abba, "abba_A2"), Truncated(W0, R2, 0)) < 1e-10);
        Assert.True(P(abba, "abba_B1").Enumerate().All(v => v == 0));
        Assert.Contains(P(abba, "abba_A1").Enumerate(), v => v != 0);
    }

    [Fact]
    public void BothZero_StartsBothBsAtZero()
    {
        var (abba, _) = Build(AbbaInit.BothZero);
        using var __ = abba;
        Assert.True(P(abba, "abba_B1").Enumerate().All(v => v == 0) && P(abba, "abba_B2").Enumerate().All(v => v == 0));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.25)]
    [InlineData(1.0 / 6)]
    [InlineData(0.0)]
    public void RankPowerScaling_IsAlphaSquaredTimesR1R2ToTheMinusE(double e)
    {
        var config = new AbbaConfig(4, 9, 3, AbbaScaling.RankPower, RankExponent: e);
        Assert.Equal(9 * Math.Pow(36, -e), config.Scale, 12);
        if (e == 0.5) Assert.Equal(new AbbaConfig(4, 9, 3).Scale, config.Scale, 12);
    }

    [Fact]
    public void NextComponentInits_AreRefusedWhenTheLayerHasTooFewComponents()
    {
        var error = Assert.Throws<ArgumentException>(() => Injector.Create(BaseLayer(CPU), new AbbaConfig(R1, 5, Alpha, Init: AbbaInit.SqrtTopNext)));
        Assert.Contains("next components", error.Message);
    }
}
