using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Core.Reconstruction;

/// <summary>The four target matrices of the paper's Figure 2
/// (panel titles Orthogonal, Low-Rank, Sparse, Random).</summary>
public enum MatrixType
{
    /// <summary>Q of the QR decomposition of an n x n Gaussian matrix (all singular values 1).</summary>
    Orthogonal,
    /// <summary>Q1 Q2^T with orthonormal n x 128 factors: rank 128, flat spectrum.</summary>
    LowRank,
    /// <summary>About 10% of entries nonzero, nonzeros uniform on [0, 1).</summary>
    Sparse,
    /// <summary>Every entry uniform on [0, 1).</summary>
    Random,
}

/// <summary>
/// Generates the reconstruction targets (float64, CPU). Sizes and distributions are not in the paper; these are the
/// generators whose LoRA curves match the digitised ones (docs/reconstruction-generators.md): 1 - r/n, 1 - r/128,
/// and the Marchenko-Pastur-like slopes of the sparse and random panels.
/// </summary>
public static class MatrixGenerators
{
    /// <summary>Rank of the <see cref="MatrixType.LowRank"/> target.</summary>
    public const int LowRankRank = 128;

    /// <summary>Fraction of nonzero entries of the <see cref="MatrixType.Sparse"/> target.</summary>
    public const double SparseDensity = 0.1;

    /// <summary>Snake-case name used in CSVs and on the command line (orthogonal, low_rank, sparse, random).</summary>
    public static string Name(this MatrixType type) => type switch
    {
        MatrixType.Orthogonal => "orthogonal",
        MatrixType.LowRank => "low_rank",
        MatrixType.Sparse => "sparse",
        MatrixType.Random => "random",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>The type called <paramref name="name"/>, or null when no type has that name.</summary>
    public static MatrixType? Parse(string name) =>
        Enum.GetValues<MatrixType>().Cast<MatrixType?>().FirstOrDefault(t => t!.Value.Name() == name);

    /// <summary>The smallest n the type can be generated at.</summary>
    public static int MinimumSize(MatrixType type) => type == MatrixType.LowRank ? LowRankRank : 1;

    /// <summary>An n x n float64 CPU matrix of <paramref name="type"/>,
    /// drawn from a generator seeded with <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">n is below <see cref="MinimumSize"/>.</exception>
    public static Tensor Generate(MatrixType type, int n, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(seed);
        if (n < MinimumSize(type))
            throw new ArgumentOutOfRangeException(nameof(n), $"{type.Name()} needs n >= {MinimumSize(type)}.");
        using var g = new Generator((ulong)seed, CPU);
        return type switch
        {
            MatrixType.Orthogonal => Orthonormal(n, n, g),
            // (n, 128) (128, n)
            MatrixType.LowRank => Orthonormal(n, LowRankRank, g).matmul(Orthonormal(n, LowRankRank, g).T),
            MatrixType.Sparse => rand(n, n, float64, generator: g).lt(SparseDensity).to(float64)
                * rand(n, n, float64, generator: g),
            MatrixType.Random => rand(n, n, float64, generator: g),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
    }

    /// <summary>
    /// A fixed Gaussian stand-in for a pretrained weight (entries N(0, 1/n)), for HiRA, whose update W0 ⊙ (B A) needs
    /// one. Drawn from its own stream, so it is independent of the target generated from the same seed.
    /// </summary>
    public static Tensor GaussianBase(int n, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(seed);
        using var g = new Generator((ulong)seed + 0x9E3779B97F4A7C15UL, CPU);
        return randn(n, n, float64, generator: g) / Math.Sqrt(n);
    }

    /// <summary>An n x k matrix with orthonormal columns, Haar-distributed
    /// (QR of a Gaussian with the signs of diag(R) fixed).</summary>
    static Tensor Orthonormal(int n, int k, Generator g)
    {
        using var scope = NewDisposeScope();
        var (Q, R) = linalg.qr(randn(n, k, float64, generator: g));   // Q: (n, k), R: (k, k)
        return (Q * R.diagonal().sign()).MoveToOuterDisposeScope();
    }
}
