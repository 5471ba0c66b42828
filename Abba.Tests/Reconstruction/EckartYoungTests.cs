using Abba.Core.Native;
using Abba.Core.Reconstruction;
using Abba.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Abba.Tests.Reconstruction;

public class EckartYoungTests
{
    public EckartYoungTests() => TorchRuntime.Initialise();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(29)]
    [InlineData(30)]
    [InlineData(100)]
    public void Bound_EqualsMathNetTailEnergy(int k)
    {
        var A = Reference.Gaussian(40, 30, seed: 11);
        var s = A.Svd(computeVectors: false).S;
        double expected = s.Skip(k).Sum(v => v * v) / s.Sum(v => v * v);
        using var M = Reference.ToTensor(A);
        Assert.Equal(expected, EckartYoung.Bound(EckartYoung.SingularValues(M), k), 12);
    }

    [Fact]
    public void TruncatedSvd_MatchesMathNetBestRankApproximation()
    {
        var A = Reference.Gaussian(25, 35, seed: 3);
        var svd = A.Svd();
        int r = 6;
        var expected = svd.U.SubMatrix(0, 25, 0, r) * Matrix<double>.Build.DiagonalOfDiagonalVector(svd.S.SubVector(0, r)) * svd.VT.SubMatrix(0, r, 0, 35);
        using var M = Reference.ToTensor(A);
        using var target = new TargetSvd(M);
        using var Mr = target.Truncated(r);
        Assert.True(Reference.MaxAbsDiff(Reference.ToMatrix(Mr), expected) < 1e-10);
    }

    [Theory]
    [InlineData(MatrixType.Orthogonal, 8)]
    [InlineData(MatrixType.Orthogonal, 72)]
    [InlineData(MatrixType.LowRank, 8)]
    [InlineData(MatrixType.LowRank, 72)]
    public void LoraError_EqualsTheory(MatrixType type, int r)
    {
        const int n = 200;
        using var M = MatrixGenerators.Generate(type, n, seed: 1);
        using var svd = new TargetSvd(M);
        double theory = 1 - (double)r / (type == MatrixType.Orthogonal ? n : MatrixGenerators.LowRankRank);
        var lora = ReconstructionFits.Lora(M, svd, r);
        Assert.Equal(theory, lora.RelSqError, 10);
        Assert.Equal((long)r * 2 * n, lora.Params);
    }

    [Fact]
    public void RelativeSquaredError_MatchesHandComputation()
    {
        var A = Reference.Gaussian(5, 4, seed: 1);
        var B = Reference.Gaussian(5, 4, seed: 2);
        double expected = (A - B).FrobeniusNorm() * (A - B).FrobeniusNorm() / (A.FrobeniusNorm() * A.FrobeniusNorm());
        using var a = Reference.ToTensor(A);
        using var b = Reference.ToTensor(B);
        Assert.Equal(expected, EckartYoung.RelativeSquaredError(a, b), 12);
    }
}
