using Abba.Experiments.Efficiency;
using Abba.Experiments.Memory;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Tests.Support;

namespace Abba.Tests.Experiments;

/// <summary>
/// The efficiency experiment's analysis against closed forms: each method's GEMM work from the shapes, AdamW's bytes
/// from the parameter count, the roofline of one kernel, the paired ratio of rounds, and the Table 10 verdict at the
/// paper's 1.04.
/// </summary>
public class EfficiencyAnalysisTests : IDisposable
{
    const double T = 256, N = 4096, M = 14336;
    const int Rank = 32;
    readonly TempFolder folder = new();

    static IReadOnlyList<KernelCost> Of(CostArm arm) => StepCost.Kernels(arm, N, M, T, Rank)!;

    [Fact]
    public void TheFrozenBase_DoesTwoProducts_ForwardAndTheInputGradient()
    {
        var kernels = Of(CostArm.Base);
        Assert.Equal(2, kernels.Count);
        Assert.Equal(4 * T * N * M, kernels.Sum(k => k.Flops));
        Assert.Equal(2 * 4 * (T * N + N * M + T * M), kernels.Sum(k => k.Bytes));
    }

    [Fact]
    public void LoraAndAbba_AddTheirThinProducts_AndUpdateTheSameNumberOfParameters()
    {
        double lora = Of(CostArm.Lora).Where(k => k.Name != "AdamW update" && !k.Name.Contains('+') &&
            !k.Name.StartsWith("s ", StringComparison.Ordinal)).Sum(k => k.Flops);
        Assert.Equal(4 * T * N * M + 6 * T * Rank * (N + M), lora);           // three thin products of inner size r each side
        double r1r2 = Rank / 2.0 * (Rank / 2.0);
        double abbaProducts = Of(CostArm.AbbaLean).Where(k => k.Name.Contains("= x", StringComparison.Ordinal)
            || k.Name.Contains("= g", StringComparison.Ordinal) || k.Name.StartsWith("B_kr (", StringComparison.Ordinal)
            || k.Name.StartsWith("dx_A", StringComparison.Ordinal)).Sum(k => k.Flops);
        Assert.Equal(4 * T * N * M + 6 * T * r1r2 * (N + M), abbaProducts);   // three products of inner size r1 r2 each side
        double Adam(CostArm arm) => Of(arm).Single(k => k.Name == "AdamW update").Bytes;
        Assert.Equal(28 * Rank * (N + M), Adam(CostArm.Lora));
        Assert.Equal(Adam(CostArm.Lora), Adam(CostArm.AbbaLean));
        Assert.Equal(28 * N * M, Adam(CostArm.FullFineTuning));
        Assert.Equal(Of(CostArm.AbbaLean), Of(CostArm.AbbaPlain));             // the same mathematics
        string[] merged = ["y = x W'^T", "dx = g W'", "dW' = g^T x"];               // HiRA: three full products
        Assert.Equal(6 * T * N * M, Of(CostArm.Hira).Where(k => merged.Contains(k.Name)).Sum(k => k.Flops));
    }

    [Fact]
    public void AKernelsFloor_IsTheSlowerOfItsComputeAndItsMemoryTime()
    {
        var gemm = KernelCost.Gemm("square", 2048, 2048, 2048);
        Assert.Equal(2.0 * 2048 * 2048 * 2048 / 100e9, gemm.FloorSeconds(100, 10), 12);  // compute-bound
        var copy = KernelCost.Elementwise("add", 2e6, 1e6, 1e6);
        Assert.Equal(12e6 / 10e9, copy.FloorSeconds(100, 10), 12);                    // memory-bound
        Assert.Equal(gemm.FloorSeconds(100, 10) + copy.FloorSeconds(100, 10),
            StepCost.FloorSeconds([gemm, copy], 100, 10), 12);
    }

    [Fact]
    public void APairedRatio_IsTheMedianOfPerRoundRatios_WithABootstrapIntervalAroundIt()
    {
        double[] lora = [1, 2, 4, 8, 16], abba = [1.1, 2.2, 4.4, 8.8, 17.6];   // slow spells hit both alike
        var same = CaseAnalysis.PairedRatio(abba, lora);
        Assert.Equal(1.1, same.Estimate, 12);
        Assert.Equal(1.1, same.Low, 12);
        Assert.Equal(1.1, same.High, 12);
        double[] noisy = [1.0, 2.4, 4.0, 9.6, 16];                              // ratios 1.0, 1.2, 1.0, 1.2, 1.0
        var ci = CaseAnalysis.PairedRatio(noisy, lora);
        Assert.Equal(1.0, ci.Estimate, 12);
        Assert.InRange(ci.Low, 1.0, 1.0);
        Assert.InRange(ci.High, 1.0, 1.2);
        Assert.Equal(ci, CaseAnalysis.PairedRatio(noisy, lora));                // seeded
    }

    [Theory]
    [InlineData(1.01, 1.00, 1.03, Verdict.Reproduced)]
    [InlineData(1.10, 1.06, 1.15, Verdict.NotReproduced)]
    [InlineData(1.03, 1.01, 1.06, Verdict.Inconclusive)]
    public void Table10_IsJudgedAtThePapersUpperValue(double ratio, double low, double high, Verdict expected)
    {
        string layer = "4096x4096", decoder = "llama-3.2-1b x2 decoder";
        CsvFiles.Write(Path.Combine(folder.Path, EfficiencyFiles.Ratios), new[] { layer, decoder }.Select(c =>
            new PairedRatioRow(c, CostArm.AbbaLean.Name, CostArm.Lora.Name, 40, ratio, low, high,
                (high - low) / 2 / ratio)));
        CsvFiles.Write(Path.Combine(folder.Path, EfficiencyFiles.StepTime), new[]
        {
            Row(layer, EfficiencyClaims.LayerKind), Row(decoder, EfficiencyClaims.DecoderKind),
        });
        var claim = Assert.Single(EfficiencyClaims.Judge(folder.Path));
        Assert.Equal(expected, claim.Verdict);
        Assert.Contains($"{layer} {ratio:0.000} [{low:0.000}, {high:0.000}] (40 rounds)", claim.MeasuredValue);
    }

    static EfficiencyRow Row(string name, string kind) => new(name, kind, 4096, 4096, 256, CostArm.AbbaLean.Name, 1,
        40, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, null, 1, 100, 10, null, null, null, null);

    public void Dispose() => folder.Dispose();
}
