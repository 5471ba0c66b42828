using Abba.Core.Analysis;
using Abba.Core.Native;
using Abba.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Abba.Tests.Analysis;

public class UpdateSpectrumTests
{
    public UpdateSpectrumTests() => TorchRuntime.Initialise();

    [Fact]
    public void Of_AGaussianMatrix_MatchesMathNetsSvd()
    {
        var A = Reference.Gaussian(24, 16, seed: 5);
        var s = A.Svd(computeVectors: false).S.ToArray();
        using var M = Reference.ToTensor(A);
        var spectrum = UpdateSpectrum.Of(M, budgetRank: 4);
        double energy = s.Sum(v => v * v);
        Assert.Equal(energy / (s[0] * s[0]), spectrum.StableRank, 9);
        Assert.Equal(s.Count(v => v > 0.01 * s[0]), spectrum.AboveOnePercent);
        Assert.Equal(s.Take(4).Sum(v => v * v) / energy, spectrum.TopEnergy, 9);
        Assert.Equal(s.Select(v => v / s[0]), spectrum.Normalised, (a, b) => Math.Abs(a - b) < 1e-9);
    }

    [Fact]
    public void Of_ARankThreeProductWithKnownSingularValues_GivesItsClosedForms()
    {
        // U diag(4, 2, 1) V^T with orthonormal U, V: stable rank (16 + 4 + 1) / 16, three values above 1%, and the
        // top two hold (16 + 4) / 21 of the energy
        var U = Reference.Gaussian(20, 3, seed: 1).QR().Q.SubMatrix(0, 20, 0, 3);
        var V = Reference.Gaussian(12, 3, seed: 2).QR().Q.SubMatrix(0, 12, 0, 3);
        var M = U * Matrix<double>.Build.DenseOfDiagonalArray([4.0, 2.0, 1.0]) * V.Transpose();
        using var t = Reference.ToTensor(M);
        var spectrum = UpdateSpectrum.Of(t, budgetRank: 2);
        Assert.Equal(21.0 / 16, spectrum.StableRank, 9);
        Assert.Equal(3, spectrum.AboveOnePercent);
        Assert.Equal(20.0 / 21, spectrum.TopEnergy, 9);
    }

    [Fact]
    public void FromSingularValues_OfZero_IsRankZeroWithAllEnergyInTheBudget()
    {
        var spectrum = UpdateSpectrum.FromSingularValues([0.0, 0.0, 0.0], budgetRank: 2);
        Assert.Equal(0, spectrum.StableRank);
        Assert.Equal(0, spectrum.AboveOnePercent);
        Assert.Equal(1, spectrum.TopEnergy);
    }
}
