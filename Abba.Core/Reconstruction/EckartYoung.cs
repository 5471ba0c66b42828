using static TorchSharp.torch;

namespace Abba.Core.Reconstruction;

/// <summary>
/// Relative squared Frobenius error ||M - M_hat||_F^2 / ||M||_F^2 and its Eckart-Young lower bound: no matrix of rank
/// at most k gets closer to M than the truncated SVD, whose error is sum_{i>k} sigma_i^2 / sum_i sigma_i^2.
/// LoRA of rank r is that truncated SVD (its exact optimum); ABBA's update has rank at most r1 r2, so its bound is
/// the same expression at k = r1 r2. All of it in float64.
/// </summary>
public static class EckartYoung
{
    /// <summary>Singular values of <paramref name="M"/>, descending, computed in float64.</summary>
    public static double[] SingularValues(Tensor M)
    {
        using var scope = NewDisposeScope();
        return linalg.svdvals(M.to(float64)).cpu().data<double>().ToArray();
    }

    /// <summary>The smallest relative squared error any matrix
    /// of rank at most <paramref name="k"/> can reach.</summary>
    /// <param name="sigma">Singular values of the target (any order).</param>
    /// <param name="k">Maximal rank; values at or above the number of singular values give 0.</param>
    public static double Bound(IReadOnlyList<double> sigma, long k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        var energy = sigma.Select(s => s * s).OrderDescending().ToArray();
        double total = energy.Sum();
        return total == 0 ? 0 : energy.Skip((int)Math.Min(k, energy.Length)).Sum() / total;
    }

    /// <summary>||M - M_hat||_F^2 / ||M||_F^2, computed in float64 whatever the inputs' precision or device.</summary>
    public static double RelativeSquaredError(Tensor M, Tensor Mhat)
    {
        using var scope = NewDisposeScope();
        var target = M.to(float64);
        var residual = target - Mhat.to(float64).to(target.device);
        return residual.square().sum().item<double>() / target.square().sum().item<double>();
    }
}

/// <summary>The float64 SVD of a target, computed once and truncated at any rank.</summary>
public sealed class TargetSvd : IDisposable
{
    readonly Tensor U, S, Vh;   // (m, k), (k), (k, n)

    /// <summary>Decomposes <paramref name="M"/> (copied to float64 on its device).</summary>
    public TargetSvd(Tensor M)
    {
        using var scope = NewDisposeScope();
        var (u, s, vh) = linalg.svd(M.to(float64), fullMatrices: false);
        (U, S, Vh) = (u.MoveToOuterDisposeScope(), s.MoveToOuterDisposeScope(), vh.MoveToOuterDisposeScope());
        SingularValues = S.cpu().data<double>().ToArray();
    }

    /// <summary>Singular values, descending.</summary>
    public IReadOnlyList<double> SingularValues { get; }

    /// <summary>The rank-<paramref name="r"/> truncated SVD U_r Sigma_r
    /// V_r^T (float64), the best rank-r approximation.</summary>
    public Tensor Truncated(int r)
    {
        using var scope = NewDisposeScope();
        long keep = Math.Min(r, S.shape[0]);
        return (U[.., ..(int)keep] * S[..(int)keep]).matmul(Vh[..(int)keep]).MoveToOuterDisposeScope();
    }

    /// <summary>The Eckart-Young bound at rank <paramref name="k"/>.</summary>
    public double Bound(long k) => EckartYoung.Bound(SingularValues, k);

    /// <inheritdoc />
    public void Dispose()
    {
        U.Dispose();
        S.Dispose();
        Vh.Dispose();
    }
}
