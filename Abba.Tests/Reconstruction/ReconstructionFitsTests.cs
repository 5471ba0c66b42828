using Abba.Core.Native;
using Abba.Core.Reconstruction;
using Abba.Tests.Support;
using static TorchSharp.torch;

namespace Abba.Tests.Reconstruction;

public class ReconstructionFitsTests
{
    public ReconstructionFitsTests() => TorchRuntime.Initialise();

    [Fact]
    public void Abba_EqualBudget_BeatsLora_OnOrthogonal64()
    {
        // LoRA r = 8 on a 64 x 64 orthogonal matrix: 1 - 8/64 = 0.875. ABBA r1 = r2 = 4 (same parameter count) has
        // rank up to 16, so it can go as low as 1 - 16/64 = 0.75 and never below.
        using var M = MatrixGenerators.Generate(MatrixType.Orthogonal, 64, seed: 0);
        using var svd = new TargetSvd(M);
        var lora = ReconstructionFits.Lora(M, svd, 8);
        var abba = ReconstructionFits.Abba(M, 4, 4, new FitSettings(MaxSteps: 400), CPU, seed: 0);
        Assert.Equal(lora.Params, abba.Params);
        Assert.True(abba.RelSqError < lora.RelSqError - 0.05, $"ABBA {abba.RelSqError} vs LoRA {lora.RelSqError}");
        Assert.True(abba.RelSqError >= svd.Bound(16) - 1e-9, $"ABBA {abba.RelSqError} below the Eckart-Young bound {svd.Bound(16)}");
        Assert.InRange(abba.Steps, 1, 400);
    }

    [Fact]
    public void Hira_RecoversTargetOfItsOwnForm()
    {
        // M = W0 ⊙ (B A) with rank-2 B A is exactly representable by HiRA r = 2 against the same W0.
        const int n = 32;
        using var W0 = MatrixGenerators.GaussianBase(n, seed: 4);
        var B = Reference.ToTensor(Reference.Gaussian(n, 2, seed: 5));
        var A = Reference.ToTensor(Reference.Gaussian(2, n, seed: 6));
        using var M = W0 * B.matmul(A);
        var hira = ReconstructionFits.Hira(M, W0, 2, new FitSettings(MaxSteps: 1500, LearningRate: 1e-2), CPU);
        Assert.True(hira.RelSqError < 1e-3, $"HiRA error {hira.RelSqError} after {hira.Steps} steps");
    }

    [Fact]
    public void Hira_AgainstUnrelatedBase_StaysBelowOne_FromLineSearchStart()
    {
        // The start is the best multiple of a rank-r matrix, so the error is below 1 from step 0 and the best iterate is kept.
        using var M = MatrixGenerators.Generate(MatrixType.Orthogonal, 48, seed: 2);
        using var W0 = MatrixGenerators.GaussianBase(48, seed: 2);
        var hira = ReconstructionFits.Hira(M, W0, 4, new FitSettings(MaxSteps: 50), CPU);
        Assert.InRange(hira.RelSqError, 0, 1);
    }
}
