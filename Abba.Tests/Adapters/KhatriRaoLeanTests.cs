using Abba.Core.Adapters;
using Abba.Tests.Support;
using static TorchSharp.torch;
using static Abba.Tests.Adapters.AdapterTestKit;

namespace Abba.Tests.Adapters;

/// <summary>ABBA's lean Khatri-Rao node (hand-derived backward) against plain autograd and finite differences, in float64.</summary>
public class KhatriRaoLeanTests
{
    /// <summary>An ABBA layer on the shared base layer with seeded factors, using <paramref name="forward"/>.</summary>
    static AbbaLinear Abba(int r1, int r2, AbbaForward forward)
    {
        var abba = (AbbaLinear)Injector.Create(BaseLayer(CPU), new AbbaConfig(r1, r2, 2.0, Forward: forward), seed: 3);
        Randomise(abba, seed: 41);
        return abba;
    }

    /// <summary>y and the gradients of x, A1, B1, A2, B2 for loss = Σ y ⊙ G.</summary>
    static Tensor[] OutputAndGradients(AbbaLinear abba, long[] xShape, bool xNeedsGrad)
    {
        using var generator = new Generator(7);
        var x = randn(xShape, dtype: ScalarType.Float64, generator: generator).requires_grad_(xNeedsGrad);
        using var G = randn([.. xShape[..^1], M], dtype: ScalarType.Float64, generator: generator);
        var y = abba.forward(x);
        using (var loss = (y * G).sum()) loss.backward();
        Tensor[] grads = [abba.A1.grad!.clone(), abba.B1.grad!.clone(), abba.A2.grad!.clone(), abba.B2.grad!.clone()];
        return [y.detach(), .. xNeedsGrad ? new[] { x.grad!.clone() } : [], .. grads];
    }

    [Theory]
    [InlineData(2, 3, false, true)]
    [InlineData(3, 2, false, true)]
    [InlineData(2, 2, true, true)]
    [InlineData(3, 2, true, false)]
    public void Lean_GivesThePlainAutogradOutputAndGradients(int r1, int r2, bool batched, bool xNeedsGrad)
    {
        long[] shape = batched ? [2, 3, N] : [5, N];
        using var lean = Abba(r1, r2, AbbaForward.KhatriRaoLean);
        using var plain = Abba(r1, r2, AbbaForward.KhatriRao);
        var a = OutputAndGradients(lean, shape, xNeedsGrad);
        var b = OutputAndGradients(plain, shape, xNeedsGrad);
        Assert.Equal(b.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal(b[i].shape, a[i].shape);
            double diff = (a[i] - b[i]).abs().max().item<double>();
            Assert.True(diff <= 1e-12, $"tensor {i} differs from plain autograd by {diff}");
        }
    }

    [Fact]
    public void Lean_InputGradientOfBatchedInput_MatchesCentralFiniteDifferences()
    {
        using var abba = Abba(3, 2, AbbaForward.KhatriRaoLean);
        using var generator = new Generator(8);
        using var x = randn([2, 3, N], dtype: ScalarType.Float64, generator: generator).requires_grad_(true);
        using var G = randn([2, 3, M], dtype: ScalarType.Float64, generator: generator);
        double Loss() { using var _ = no_grad(); using var y = abba.forward(x); return (y * G).sum().item<double>(); }
        using (var loss = (abba.forward(x) * G).sum()) loss.backward();
        using var input = x.detach();
        using var grad = x.grad!.reshape(-1);
        foreach (long i in new long[] { 0, 7, 20, 33, 53 })
        {
            double numeric = Reference.CentralDifference(input, i, Loss), analytic = grad[i].item<double>();
            Assert.True(Math.Abs(analytic - numeric) <= 1e-6 * Math.Max(1, Math.Abs(numeric)), $"dx[{i}]: {analytic} vs {numeric}");
        }
    }

    [Fact]
    public void Lean_IsTheDefaultForward()
    {
        Assert.Equal(AbbaForward.KhatriRaoLean, new AbbaConfig(2, 2, 1).Forward);
        Assert.Equal(AbbaForward.KhatriRaoLean, AbbaConfig.AtBudget(8, 16).Forward);
    }
}
