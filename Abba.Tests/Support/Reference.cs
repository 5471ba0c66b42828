using MathNet.Numerics.LinearAlgebra;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Tests.Support;

/// <summary>Moves values between TorchSharp and MathNet float64 matrices for independent reference maths.</summary>
public static class Reference
{
    /// <summary>
    /// The central difference (L(t + eps e_i) - L(t - eps e_i)) / 2 eps of <paramref name="loss"/> along the flat element
    /// <paramref name="flatIndex"/> of <paramref name="t"/>, which is changed in place and restored.
    /// </summary>
    public static double CentralDifference(Tensor t, long flatIndex, Func<double> loss, double eps = 1e-6)
    {
        using var _ = no_grad();
        using var flat = t.view(-1);
        double original = flat[flatIndex].item<double>();
        flat[flatIndex] = original + eps;
        double up = loss();
        flat[flatIndex] = original - eps;
        double down = loss();
        flat[flatIndex] = original;
        return (up - down) / (2 * eps);
    }

    /// <summary>A 2-D tensor as a float64 MathNet matrix.</summary>
    public static Matrix<double> ToMatrix(Tensor t)
    {
        using var cpu = t.detach().to(ScalarType.Float64).cpu().contiguous();
        long rows = cpu.shape[0], cols = cpu.shape[1];
        double[] data = cpu.data<double>().ToArray();
        return Matrix<double>.Build.Dense((int)rows, (int)cols, (i, j) => data[i * cols + j]);
    }

    /// <summary>A MathNet matrix as a float64 tensor on <paramref name="device"/>.</summary>
    public static Tensor ToTensor(Matrix<double> m, Device? device = null)
    {
        var data = new double[m.RowCount * m.ColumnCount];
        for (int i = 0; i < m.RowCount; i++)
            for (int j = 0; j < m.ColumnCount; j++) data[i * m.ColumnCount + j] = m[i, j];
        return tensor(data, [m.RowCount, m.ColumnCount], ScalarType.Float64, device ?? CPU);
    }

    /// <summary>A Gaussian MathNet matrix from a seeded .NET generator (independent of torch's RNG).</summary>
    public static Matrix<double> Gaussian(int rows, int cols, int seed) =>
        Matrix<double>.Build.Random(rows, cols, new MathNet.Numerics.Distributions.Normal(0, 1, new Random(seed)));

    /// <summary>Same shape, dtype and every element identical.</summary>
    public static bool BitEqual(Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();

    /// <summary>Largest absolute entry of a - b.</summary>
    public static double MaxAbsDiff(Matrix<double> a, Matrix<double> b) => (a - b).Enumerate().Max(Math.Abs);

    /// <summary>Numerical rank: singular values above tol * largest.</summary>
    public static int Rank(Matrix<double> m, double tol = 1e-9)
    {
        var s = m.Svd(computeVectors: false).S;
        return s.Count(v => v > tol * s[0]);
    }

    /// <summary>The devices tests run on: the CPU always, CUDA when a device is present.</summary>
    public static IEnumerable<object[]> Devices()
    {
        Abba.Core.Native.TorchRuntime.Initialise();
        yield return ["cpu"];
        if (cuda.is_available()) yield return ["cuda"];
    }

    /// <summary>Device from its name.</summary>
    public static Device DeviceOf(string name) => name == "cuda" ? CUDA : CPU;
}

/// <summary>A fact that runs only when a CUDA device is present and is reported as skipped otherwise.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when there is no CUDA device.</summary>
    public CudaFactAttribute()
    {
        Abba.Core.Native.TorchRuntime.Initialise();
        if (!cuda.is_available()) Skip = "no CUDA device: the CUDA rows of the device theories were not generated";
    }
}
