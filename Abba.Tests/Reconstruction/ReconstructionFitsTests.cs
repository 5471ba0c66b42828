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

    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    public void Abba_WarmStart_RMinus1By1_IsLoraRankRMinus1AtStepZero_AndCannotLeaveIt(int r)
    {
        // ABBA(r - 1, 1): B1 A1 = the rank-(r - 1) SVD, second pair all-ones. At step 0 its error is the Eckart-Young
        // tail energy at rank r - 1 (float64 MathNet SVD here); (B1 A1) ⊙ (b a^T) = diag(b) B1 A1 diag(a) has rank
        // r - 1 at most, so no step can take it below that bound.
        var A = Reference.Gaussian(40, 30, seed: 21);
        var s = A.Svd(computeVectors: false).S;
        double loraRMinus1 = s.Skip(r - 1).Sum(v => v * v) / s.Sum(v => v * v);
        using var M = Reference.ToTensor(A);
        var start = ReconstructionFits.Abba(M, r - 1, 1, new FitSettings(MaxSteps: 0), CPU, seed: 3);
        Assert.Equal(0, start.Steps);
        Assert.Equal(loraRMinus1, start.RelSqError, 1e-5);   // float32 factors, float64 error
        Assert.Equal((long)r * (40 + 30), start.Params);   // LoRA rank r's parameter count
        var fitted = ReconstructionFits.Abba(M, r - 1, 1, new FitSettings(MaxSteps: 200), CPU, seed: 3);
        Assert.InRange(fitted.RelSqError, loraRMinus1 - 1e-5, start.RelSqError + 1e-6);   // best float32 iterate kept
    }

    [Fact]
    public void Abba_RandomStart_HasTheStatedScale_AndIsSeeded()
    {
        // Update entries with RMS 0.1 of the (unit-RMS) target's, uncorrelated with it: error about 1 + 0.1^2 at step 0.
        using var M = MatrixGenerators.Generate(MatrixType.Random, 64, seed: 5);
        var a = ReconstructionFits.Abba(M, 4, 4, new FitSettings(MaxSteps: 0), CPU, seed: 9, start: AbbaStart.Random);
        var b = ReconstructionFits.Abba(M, 4, 4, new FitSettings(MaxSteps: 0), CPU, seed: 9, start: AbbaStart.Random);
        var c = ReconstructionFits.Abba(M, 4, 4, new FitSettings(MaxSteps: 0), CPU, seed: 10, start: AbbaStart.Random);
        Assert.InRange(a.RelSqError, 1.003, 1.03);
        Assert.Equal(a.RelSqError, b.RelSqError);
        Assert.NotEqual(a.RelSqError, c.RelSqError);
    }

    [Fact]
    public void Minimise_ReportsTheCap_OnlyWhenItStopsThereStillImproving()
    {
        using var M = MatrixGenerators.Generate(MatrixType.Orthogonal, 32, seed: 1);
        Assert.True(ReconstructionFits.Abba(M, 2, 2, new FitSettings(MaxSteps: 30), CPU, seed: 0).HitCap);
        // A rank-1 target is reached exactly by ABBA(1, 1) from its SVD start: the error plateaus and patience stops the fit.
        var v = Reference.ToTensor(Reference.Gaussian(32, 1, seed: 2));
        using var rankOne = v.matmul(v.T);
        var plateau = ReconstructionFits.Abba(rankOne, 1, 1, new FitSettings(MaxSteps: 500, Patience: 20), CPU, seed: 0);
        Assert.False(plateau.HitCap);
        Assert.True(plateau.Steps < 500, $"{plateau.Steps} steps");
    }
}
