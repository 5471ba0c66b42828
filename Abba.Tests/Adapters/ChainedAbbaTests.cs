using Abba.Core.Adapters;
using Abba.Tests.Support;
using MathNet.Numerics.LinearAlgebra;
using static TorchSharp.torch;
using static Abba.Tests.Adapters.AdapterTestKit;

namespace Abba.Tests.Adapters;

/// <summary>Chained ABBA: k = 2 is ABBA, the scale and init generalise ABBA's, the forward is chosen by cost.</summary>
public class ChainedAbbaTests
{
    static ChainedAbbaLinear Chained(ChainedAbbaConfig config) => (ChainedAbbaLinear)Injector.Create(BaseLayer(CPU), config, seed: 3);

    [Theory]
    [InlineData(AbbaForward.KhatriRao, ChainedAbbaForward.KhatriRao)]
    [InlineData(AbbaForward.KhatriRaoLean, ChainedAbbaForward.KhatriRao)]
    [InlineData(AbbaForward.Dense, ChainedAbbaForward.Dense)]
    public void TwoPairs_EqualAbba_InitScaleOutputAndGradients(AbbaForward abbaForward, ChainedAbbaForward chainedForward)
    {
        using var abba = (AbbaLinear)Injector.Create(BaseLayer(CPU), new AbbaConfig(2, 3, 2.5, Forward: abbaForward), seed: 3);
        using var chained = Chained(new ChainedAbbaConfig([2, 3], 2.5, chainedForward));
        Assert.Equal(abba.Scale, chained.Scale);                                      // bit for bit
        Assert.Equal(abba.AdapterParameters.Select(p => p.Key), chained.AdapterParameters.Select(p => p.Key));
        foreach (var ((key, p), (_, q)) in abba.AdapterParameters.Zip(chained.AdapterParameters))
            Assert.True(Reference.BitEqual(p, q), $"{key}: initial values differ");

        Randomise(abba, seed: 51);
        Randomise(chained, seed: 51);
        using var x = Reference.ToTensor(Reference.Gaussian(5, N, 52));
        using var G = Reference.ToTensor(Reference.Gaussian(5, M, 53));
        using var ya = abba.forward(x);
        using var yc = chained.forward(x);
        Assert.True(ya.allclose(yc, rtol: 0, atol: 1e-12), "outputs differ");
        using (var loss = (ya * G).sum()) loss.backward();
        using (var loss = (yc * G).sum()) loss.backward();
        foreach (var ((key, p), (_, q)) in abba.AdapterParameters.Zip(chained.AdapterParameters))
            Assert.True(p.grad!.allclose(q.grad!, rtol: 0, atol: 1e-12), $"{key}: gradients differ");
    }

    [Fact]
    public void Scale_IsTheProductOfEachPairsRankStableScale()
    {
        var config = new ChainedAbbaConfig([2, 3, 4, 5], 1.7);
        double expected = new[] { 2, 3, 4, 5 }.Aggregate(1.0, (s, r) => s * 1.7 / Math.Sqrt(r));
        Assert.Equal(expected, config.Scale, 12);
        Assert.Equal(new AbbaConfig(4, 4, 1.7).Scale, new ChainedAbbaConfig([4, 4], 1.7).Scale);
    }

    [Fact]
    public void Init_FirstPairIsTheSvdOfW0_MiddlePairsPassThrough_LastPairIsLoraStyle()
    {
        using var chained = Chained(new ChainedAbbaConfig([2, 3, 2, 2], 1.0));
        var W0 = Reference.ToMatrix(chained.Base.weight!);
        var svd = W0.Svd();
        var best = svd.U.SubMatrix(0, M, 0, 2) * Matrix<double>.Build.DiagonalOfDiagonalArray(svd.S.SubVector(0, 2).ToArray()) * svd.VT.SubMatrix(0, 2, 0, N);
        Assert.True(Reference.MaxAbsDiff(Param(chained, "abba_B1") * Param(chained, "abba_A1"), best) < 1e-10);
        foreach (int i in new[] { 2, 3 })
        {
            var product = Param(chained, $"abba_B{i}") * Param(chained, $"abba_A{i}");
            Assert.True(product.Enumerate().All(v => v == 1), $"B{i} A{i} is not all ones");
            Assert.True(Param(chained, $"abba_A{i}").SubMatrix(1, (int)chained.A(i).shape[0] - 1, 0, N).Enumerate().Any(v => v != 1), $"A{i}'s spare rows are not drawn");
        }
        Assert.True(Param(chained, "abba_B4").Enumerate().All(v => v == 0));
    }

    [Fact]
    public void MiddlePairs_ReceiveDistinctGradientsPerColumn_OnceTheLastPairMoves()
    {
        using var chained = Chained(new ChainedAbbaConfig([2, 3, 2], 1.0));
        using (no_grad()) chained.B(3).add_(0.1);                                  // as after a first step
        using var x = Reference.ToTensor(Reference.Gaussian(5, N, 54));
        using var G = Reference.ToTensor(Reference.Gaussian(5, M, 55));
        using (var loss = (chained.forward(x) * G).sum()) loss.backward();
        var dB2 = Reference.ToMatrix(chained.B(2).grad!);
        Assert.True((dB2.Column(0) - dB2.Column(1)).L2Norm() > 1e-6, "the middle pair's columns move together");
    }

    [Theory]
    [InlineData(4096, 4096, 8, 256, ChainedAbbaForward.Dense)]        // the paper's r = 32 as 4 pairs of 8: R = 4096
    [InlineData(4096, 4096, 4, 256, ChainedAbbaForward.KhatriRao)]    // r = 16 as 4 pairs of 4: R = 256
    [InlineData(2048, 8192, 8, 1, ChainedAbbaForward.KhatriRao)]      // one token: forming dW would cost more than the thin products
    public void Auto_ChoosesTheForwardWithFewerMultiplyAdds(long m, long n, int r, long tokens, ChainedAbbaForward expected) =>
        Assert.Equal(expected, new ChainedAbbaConfig([r, r, r, r], 16).ForwardFor(m, n, tokens));

    [Fact]
    public void LastForward_SaysWhichPathTheCallUsed()
    {
        using var chained = Chained(new ChainedAbbaConfig([2, 2, 2], 1.0));     // R = 8, m + n = 21, m n = 108
        Assert.Null(chained.LastForward);
        using (var y = chained.forward(Reference.ToTensor(Reference.Gaussian(4, N, 56)))) { }
        Assert.Equal(ChainedAbbaForward.KhatriRao, chained.LastForward);    // (4 + 2) 8 * 21 = 1008 <= (4 + 6 + 2) 108 = 1296
        using (var y = chained.forward(Reference.ToTensor(Reference.Gaussian(40, N, 57)))) { }
        Assert.Equal(ChainedAbbaForward.Dense, chained.LastForward);        // (40 + 2) 8 * 21 = 7056 > (40 + 6 + 2) 108 = 5184
    }

    [Fact]
    public void AtBudget_SplitsTheRankIntoThePapersFourPairs()
    {
        var config = ChainedAbbaConfig.AtBudget(32, 16);
        Assert.Equal([8, 8, 8, 8], config.Ranks);
        Assert.Equal(32L * (M + N), config.TrainableParameters(M, N));
        Assert.Throws<ArgumentException>(() => ChainedAbbaConfig.AtBudget(30, 16));
        Assert.Throws<ArgumentException>(() => Injector.Create(BaseLayer(CPU), new ChainedAbbaConfig([4], 1.0)));
    }
}
