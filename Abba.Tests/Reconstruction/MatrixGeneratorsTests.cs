using Abba.Core.Native;
using Abba.Core.Reconstruction;
using Abba.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Abba.Tests.Reconstruction;

public class MatrixGeneratorsTests
{
    public MatrixGeneratorsTests() => TorchRuntime.Initialise();

    static Matrix<double> Generate(MatrixType type, int n, int seed = 0)
    {
        using var M = MatrixGenerators.Generate(type, n, seed);
        return Reference.ToMatrix(M);
    }

    [Fact]
    public void Orthogonal_HasOrthonormalColumnsAndRows()
    {
        var Q = Generate(MatrixType.Orthogonal, 96);
        var I = Matrix<double>.Build.DenseIdentity(96);
        Assert.True(Reference.MaxAbsDiff(Q.TransposeThisAndMultiply(Q), I) < 1e-12);
        Assert.True(Reference.MaxAbsDiff(Q.TransposeAndMultiply(Q), I) < 1e-12);
    }

    [Fact]
    public void LowRank_HasExactRank128WithFlatSpectrum()
    {
        var s = Generate(MatrixType.LowRank, 160).Svd(computeVectors: false).S;   // MathNet, float64, descending
        Assert.All(s.Take(MatrixGenerators.LowRankRank), v => Assert.InRange(v, 1 - 1e-10, 1 + 1e-10));
        Assert.All(s.Skip(MatrixGenerators.LowRankRank), v => Assert.True(v < 1e-10, $"singular value {v} beyond rank 128"));
    }

    [Fact]
    public void Sparse_HasTenPercentNonzerosUniformOnUnitInterval()
    {
        var M = Generate(MatrixType.Sparse, 300);
        var nonzero = M.Enumerate().Where(v => v != 0).ToArray();
        double density = nonzero.Length / (300.0 * 300);
        Assert.InRange(density, 0.095, 0.105);   // binomial sd 0.001
        Assert.All(nonzero, v => Assert.InRange(v, 0, 1));
        Assert.InRange(nonzero.Average(), 0.49, 0.51);   // uniform mean 1/2, sd of the mean ~0.001
    }

    [Fact]
    public void Random_IsUniformOnUnitInterval()
    {
        var v = Generate(MatrixType.Random, 200).Enumerate().ToArray();
        Assert.All(v, x => Assert.True(x is >= 0 and < 1));
        Assert.InRange(v.Average(), 0.495, 0.505);
        Assert.InRange(v.Select(x => (x - 0.5) * (x - 0.5)).Average(), 1 / 12.0 - 0.002, 1 / 12.0 + 0.002);
    }

    [Fact]
    public void Generate_SameSeedSameMatrix_OtherSeedOtherMatrix()
    {
        Assert.Equal(Generate(MatrixType.Sparse, 32, seed: 5), Generate(MatrixType.Sparse, 32, seed: 5));
        Assert.NotEqual(Generate(MatrixType.Sparse, 32, seed: 5), Generate(MatrixType.Sparse, 32, seed: 6));
    }

    [Fact]
    public void Generate_LowRankBelow128_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => MatrixGenerators.Generate(MatrixType.LowRank, 64, 0));

    [Theory]
    [InlineData("orthogonal", MatrixType.Orthogonal)]
    [InlineData("low_rank", MatrixType.LowRank)]
    [InlineData("sparse", MatrixType.Sparse)]
    [InlineData("random", MatrixType.Random)]
    public void Name_RoundTripsThroughParse(string name, MatrixType type)
    {
        Assert.Equal(name, type.Name());
        Assert.Equal(type, MatrixGenerators.Parse(name));
    }
}
