using Abba.Core.Adapters;
using Abba.Tests.Support;
using MathNet.Numerics.LinearAlgebra;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Tests.Adapters;

/// <summary>Builds float64 adapters with known, seeded values so tests can redo their maths in MathNet.</summary>
static class AdapterTestKit
{
    public const int M = 12, N = 9;

    /// <summary>A named adapter configuration for an M x N layer and its trainable-parameter count in closed form.</summary>
    public sealed record Case(string Name, AdapterConfig Config, long ClosedFormCount);

    /// <summary>Every wrapping method (ABBA with r1 != r2 and its three forwards; the default is the lean Khatri-Rao node), as a plain table.</summary>
    public static readonly IReadOnlyList<Case> Cases =
    [
        new("lora", new LoraConfig(3, 6), 3 * (M + N)),
        new("rslora", new LoraConfig(3, 6, RankStabilised: true), 3 * (M + N)),
        new("hira", new HiraConfig(3), 3 * (M + N)),
        new("abba_kr", new AbbaConfig(2, 2, 2.0), (2 + 2) * (M + N)),
        new("abba_kr_unequal", new AbbaConfig(2, 3, 2.0), (2 + 3) * (M + N)),
        new("abba_kr_plain", new AbbaConfig(3, 2, 2.0, Forward: AbbaForward.KhatriRao), (3 + 2) * (M + N)),
        new("abba_dense", new AbbaConfig(2, 3, 2.0, Forward: AbbaForward.Dense), (2 + 3) * (M + N)),
        new("dora", new DoraConfig(3, 6, DetachNorm: false), 3 * (M + N) + M),
        new("chained_abba_k3", new ChainedAbbaConfig([2, 3, 2], 1.5, ChainedAbbaForward.KhatriRao), (2 + 3 + 2) * (M + N)),
        new("chained_abba_k4_dense", new ChainedAbbaConfig([2, 1, 2, 2], 1.5, ChainedAbbaForward.Dense), (2 + 1 + 2 + 2) * (M + N)),
    ];

    public static IEnumerable<object[]> Methods(string device) => Cases.Select(c => new object[] { device, c.Name });

    public static IEnumerable<object[]> AllMethodsOnAllDevices() =>
        Reference.Devices().SelectMany(d => Methods((string)d[0]));

    public static AdapterConfig Config(string method) =>
        Cases.SingleOrDefault(c => c.Name == method)?.Config ?? throw new ArgumentException($"no test case '{method}'");

    /// <summary>A float64 Linear (n -> m) with Gaussian weights and bias from a .NET seed.</summary>
    public static Linear BaseLayer(Device device, int seed = 1, int m = M, int n = N)
    {
        var layer = nn.Linear(n, m, hasBias: true, device: device, dtype: ScalarType.Float64);
        using var _ = no_grad();
        using var w = Reference.ToTensor(Reference.Gaussian(m, n, seed), device);
        using var b = Reference.ToTensor(Reference.Gaussian(m, 1, seed + 100), device).reshape(m);
        layer.weight!.copy_(w);
        layer.bias!.copy_(b);
        return layer;
    }

    /// <summary>Sets every adapter parameter to seeded Gaussian values times <paramref name="scale"/> (DoRA's magnitude stays positive).</summary>
    public static void Randomise(AdapterLinear adapter, int seed, double scale = 0.3)
    {
        using var _ = no_grad();
        int k = 0;
        foreach (var (key, p) in adapter.AdapterParameters)
        {
            var shape = p.shape;
            int rows = (int)shape[0], cols = shape.Length > 1 ? (int)shape[1] : 1;
            using var values = Reference.ToTensor(Reference.Gaussian(rows, cols, seed + 17 * ++k) * scale, p.device).reshape(shape);
            p.copy_(key == "lora_magnitude_vector" ? values.abs() + 1 : values);
        }
    }

    public static Matrix<double> Param(AdapterLinear a, string key) => Reference.ToMatrix(a.AdapterParameters.Single(p => p.Key == key).Value);

    /// <summary>The update dW of <paramref name="a"/> computed independently in MathNet float64 from its parameters.</summary>
    public static Matrix<double> ReferenceDelta(AdapterLinear a)
    {
        var W0 = Reference.ToMatrix(a.Base.weight!);
        switch (a)
        {
            case LoraLinear l:
                return Param(a, "lora_B") * Param(a, "lora_A") * l.Scale;
            case HiraLinear:
                return W0.PointwiseMultiply(Param(a, "hira_B") * Param(a, "hira_A"));
            case AbbaLinear abba:
                var P1 = Param(a, "abba_B1") * Param(a, "abba_A1");
                var P2 = Param(a, "abba_B2") * Param(a, "abba_A2");
                return P1.PointwiseMultiply(P2) * abba.Scale;
            case ChainedAbbaLinear chained:
                var product = Enumerable.Range(1, ((ChainedAbbaConfig)chained.Config).Pairs)
                    .Select(i => Param(a, $"abba_B{i}") * Param(a, $"abba_A{i}")).Aggregate((p, q) => p.PointwiseMultiply(q));
                return product * chained.Scale;
            case DoraLinear d:
                var V = W0 + Param(a, "lora_B") * Param(a, "lora_A") * d.Scale;
                var mag = Reference.ToMatrix(d.Magnitude.unsqueeze(1));
                var W = Matrix<double>.Build.Dense(V.RowCount, V.ColumnCount, (i, j) => mag[i, 0] * V[i, j] / V.Row(i).L2Norm());
                return W - W0;
            default:
                throw new ArgumentException(a.GetType().Name);
        }
    }
}
