using Abba.Core.Adapters;
using Abba.Tests.Support;
using MathNet.Numerics.LinearAlgebra;
using static TorchSharp.torch;
using static Abba.Tests.Adapters.AdapterTestKit;

namespace Abba.Tests.Adapters;

public class AdapterMathsTests
{
    public static IEnumerable<object[]> Cases() => AllMethodsOnAllDevices();
    public static IEnumerable<object[]> Devices() => Reference.Devices();

    [Theory, MemberData(nameof(Cases))]
    public void Forward_EqualsFloat64ReferenceOfBasePlusDelta(string device, string method)
    {
        var d = Reference.DeviceOf(device);
        using var adapter = Injector.Create(BaseLayer(d), Config(method));
        Randomise(adapter, seed: 5);
        var X = Reference.Gaussian(4, N, seed: 9);
        using var x = Reference.ToTensor(X, d);
        using var y = adapter.forward(x);

        var W0 = Reference.ToMatrix(adapter.Base.weight!);
        var b = Reference.ToMatrix(adapter.Base.bias!.unsqueeze(0));
        var expected = X * (W0 + ReferenceDelta(adapter)).Transpose() + Matrix<double>.Build.Dense(4, 1, 1.0) * b;
        Assert.True(Reference.MaxAbsDiff(Reference.ToMatrix(y), expected) < 1e-10, $"{method}: forward differs from the float64 reference");
    }

    [Theory, MemberData(nameof(Cases))]
    public void DeltaWeight_EqualsFloat64Reference(string device, string method)
    {
        using var adapter = Injector.Create(BaseLayer(Reference.DeviceOf(device)), Config(method));
        Randomise(adapter, seed: 6);
        using var dW = adapter.DeltaWeight();
        Assert.True(Reference.MaxAbsDiff(Reference.ToMatrix(dW), ReferenceDelta(adapter)) < 1e-10);
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(2, 3)]
    [InlineData(3, 2)]
    public void KhatriRaoFactors_ReproduceTheHadamardProduct(int r1, int r2)
    {
        using var abba = (AbbaLinear)Injector.Create(BaseLayer(CPU), new AbbaConfig(r1, r2, 1.0, AbbaScaling.Explicit, ExplicitScale: 1.0));
        Randomise(abba, seed: 3);
        var (Bkr, Akr) = abba.KhatriRaoFactors();
        Assert.Equal([M, r1 * r2], Bkr.shape);
        Assert.Equal([r1 * r2, N], Akr.shape);
        var expected = (Param(abba, "abba_B1") * Param(abba, "abba_A1")).PointwiseMultiply(Param(abba, "abba_B2") * Param(abba, "abba_A2"));
        Assert.True(Reference.MaxAbsDiff(Reference.ToMatrix(Bkr) * Reference.ToMatrix(Akr), expected) < 1e-12);
    }

    [Theory]
    [InlineData(2, 3, 12, 12)]
    [InlineData(1, 4, 12, 9)]
    [InlineData(3, 4, 12, 9)]
    public void AbbaRank_IsAtMostR1R2_AndReachesItForGeneralFactors(int r1, int r2, int m, int n)
    {
        using var abba = (AbbaLinear)Injector.Create(BaseLayer(CPU, m: m, n: n), new AbbaConfig(r1, r2, 1.0, AllowRankAboveFull: true));
        Randomise(abba, seed: 11);
        using var dW = abba.DeltaWeight();
        int rank = Reference.Rank(Reference.ToMatrix(dW));
        Assert.True(rank <= r1 * r2);
        Assert.Equal(Math.Min(r1 * r2, Math.Min(m, n)), rank);
    }

    [Theory, MemberData(nameof(Cases))]
    public void DeltaWeight_IsZeroAtInitialisation(string device, string method)
    {
        using var adapter = Injector.Create(BaseLayer(Reference.DeviceOf(device)), Config(method));
        using var dW = adapter.DeltaWeight();
        Assert.True(Reference.ToMatrix(dW).Enumerate().Max(Math.Abs) < 1e-12, $"{method}: dW != 0 at init");
    }

    [Theory, MemberData(nameof(Devices))]
    public void AbbaPaperInit_FirstPairIsTheEckartYoungApproximationOfW0(string device)
    {
        const int r1 = 3;
        using var abba = (AbbaLinear)Injector.Create(BaseLayer(Reference.DeviceOf(device)), new AbbaConfig(r1, 2, 1.0));
        var W0 = Reference.ToMatrix(abba.Base.weight!);
        var svd = W0.Svd();
        var best = svd.U.SubMatrix(0, M, 0, r1) * Matrix<double>.Build.DiagonalOfDiagonalVector(svd.S.SubVector(0, r1)) * svd.VT.SubMatrix(0, r1, 0, N);
        var B1 = Param(abba, "abba_B1");
        var A1 = Param(abba, "abba_A1");
        Assert.True(Reference.MaxAbsDiff(B1 * A1, best) < 1e-10);
        // sqrt(Sigma) on each side: the columns of B1 and the rows of A1 have equal norms.
        for (int i = 0; i < r1; i++) Assert.Equal(B1.Column(i).L2Norm(), A1.Row(i).L2Norm(), 10);
        Assert.True(Param(abba, "abba_B2").Enumerate().All(v => v == 0));
    }

    [Theory, MemberData(nameof(Cases))]
    public void Gradients_MatchCentralFiniteDifferences(string device, string method)
    {
        var d = Reference.DeviceOf(device);
        using var adapter = Injector.Create(BaseLayer(d), Config(method));
        Randomise(adapter, seed: 21);
        using var x = Reference.ToTensor(Reference.Gaussian(5, N, 22), d);
        using var G = Reference.ToTensor(Reference.Gaussian(5, M, 23), d);
        double Loss() { using var _ = no_grad(); using var y = adapter.forward(x); return (y * G).sum().item<double>(); }

        using (var loss = (adapter.forward(x) * G).sum()) loss.backward();
        var rng = new Random(24);
        foreach (var (key, p) in adapter.AdapterParameters)
        {
            using var flatGrad = p.grad!.detach().cpu().reshape(-1);
            for (int trial = 0; trial < 6; trial++)
            {
                long i = rng.NextInt64(p.numel());
                double analytic = flatGrad[i].item<double>();
                double numeric = Reference.CentralDifference(p, i, Loss, eps: 1e-6);
                Assert.True(Math.Abs(analytic - numeric) <= 1e-6 * Math.Max(1, Math.Abs(numeric)),
                    $"{method} d/d{key}[{i}]: autograd {analytic}, finite difference {numeric}");
            }
        }
    }

    [Fact]
    public void AbbaBothZeroInit_ReceivesExactlyZeroGradients()
    {
        using var abba = (AbbaLinear)Injector.Create(BaseLayer(CPU), new AbbaConfig(2, 3, 2.0, Init: AbbaInit.BothZero));
        using var x = Reference.ToTensor(Reference.Gaussian(5, N, 31));
        using var G = Reference.ToTensor(Reference.Gaussian(5, M, 32));
        using (var loss = (abba.forward(x) * G).sum()) loss.backward();
        foreach (var (key, p) in abba.AdapterParameters)
            Assert.True(p.grad!.abs().max().item<double>() == 0, $"{key} received a nonzero gradient");
    }

    [Fact]
    public void AbbaPaperInit_ReceivesNonzeroGradientsOnTheSecondPair()
    {
        using var abba = (AbbaLinear)Injector.Create(BaseLayer(CPU), new AbbaConfig(2, 3, 2.0));
        using var x = Reference.ToTensor(Reference.Gaussian(5, N, 31));
        using var G = Reference.ToTensor(Reference.Gaussian(5, M, 32));
        using (var loss = (abba.forward(x) * G).sum()) loss.backward();
        Assert.True(abba.B2.grad!.abs().max().item<double>() > 0);
    }

    [Fact]
    public void DoraDetachedNorm_GivesTheSameForwardAsTheExactNorm()
    {
        using var exact = (DoraLinear)Injector.Create(BaseLayer(CPU), new DoraConfig(3, 6, DetachNorm: false));
        using var detached = (DoraLinear)Injector.Create(BaseLayer(CPU), new DoraConfig(3, 6, DetachNorm: true));
        Randomise(exact, 41);
        Randomise(detached, 41);
        using var x = Reference.ToTensor(Reference.Gaussian(4, N, 42));
        Assert.True(exact.forward(x).allclose(detached.forward(x), rtol: 0, atol: 1e-12));
    }

    [Theory, MemberData(nameof(Cases))]
    public void Merge_ThenUnmerge_RestoresBaseWeightsExactly(string device, string method)
    {
        var d = Reference.DeviceOf(device);
        using var adapter = Injector.Create(BaseLayer(d), Config(method));
        Randomise(adapter, seed: 51);
        using var W0 = adapter.Base.weight!.detach().clone();
        using var x = Reference.ToTensor(Reference.Gaussian(4, N, 52), d);
        using var unmerged = adapter.forward(x);
        using var expectedMerged = W0 + adapter.DeltaWeight();
        adapter.Merge();
        Assert.True(adapter.Merged);
        Assert.True(adapter.Base.weight!.allclose(expectedMerged, rtol: 0, atol: 1e-12));
        using var merged = adapter.forward(x);
        Assert.True(merged.allclose(unmerged, rtol: 0, atol: 1e-10), $"{method}: merged forward differs");
        Assert.Throws<InvalidOperationException>(adapter.Merge);
        adapter.Unmerge();
        Assert.True(Reference.BitEqual(adapter.Base.weight!, W0), $"{method}: W0 not restored bit for bit");
        Assert.Throws<InvalidOperationException>(adapter.Unmerge);
    }

    [Theory]
    [InlineData(16, 16, 32.0, 64.0, 32.0)]   // r1 = r2 = 16, alpha = 32: paper s = 32^2/16 = 64, code s = 32
    [InlineData(32, 32, 32.0, 32.0, 32.0)]   // the released scripts' r1 = r2 = 32: both give 32
    [InlineData(4, 9, 3.0, 1.5, 3.0)]        // 9 / sqrt(36)
    public void AbbaScale_FollowsEachConvention(int r1, int r2, double alpha, double paper, double code)
    {
        Assert.Equal(paper, new AbbaConfig(r1, r2, alpha).Scale, 12);
        Assert.Equal(code, new AbbaConfig(r1, r2, alpha, AbbaScaling.OfficialCode).Scale, 12);
        Assert.Equal(0.7, new AbbaConfig(r1, r2, alpha, AbbaScaling.Explicit, 0.7).Scale);
        Assert.Equal(alpha / 8, new LoraConfig(8, alpha).Scale);
        Assert.Equal(alpha / Math.Sqrt(8), new LoraConfig(8, alpha, RankStabilised: true).Scale, 12);
    }

    [Theory]
    [InlineData("rank 0", "must be at least 1")]
    [InlineData("rank too big", "exceeds min(out, in)")]
    [InlineData("r1 r2 too big", "the largest rank any")]
    [InlineData("nan alpha", "must be finite")]
    [InlineData("explicit without scale", "must be finite")]
    public void InvalidConfigurations_AreRejectedWithAClearMessage(string what, string message)
    {
        AdapterConfig config = what switch
        {
            "rank 0" => new LoraConfig(0, 1),
            "rank too big" => new HiraConfig(10),
            "r1 r2 too big" => new AbbaConfig(2, 2, 1),
            "nan alpha" => new AbbaConfig(2, 2, double.NaN),
            _ => new AbbaConfig(2, 2, 1, AbbaScaling.Explicit),
        };
        var e = Assert.Throws<ArgumentException>(() => Injector.Create(BaseLayer(CPU, m: 3, n: 2), config));
        Assert.Contains(message, e.Message);
    }
}
