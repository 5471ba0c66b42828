using static TorchSharp.torch;

namespace Abba.Core.Adapters;

/// <summary>Initialisations shared by the adapters.</summary>
public static class Initialisers
{
    /// <summary>PEFT's LoRA/HiRA choice for A: a = sqrt(5), i.e. U(-1/sqrt(fanIn), 1/sqrt(fanIn)).</summary>
    public static readonly double PeftKaimingA = Math.Sqrt(5);

    /// <summary>
    /// torch's Kaiming-uniform for a (rows x fanIn) matrix: U(-b, b), b = sqrt(2 / (1 + a^2)) * sqrt(3 / fanIn).
    /// a = sqrt(5) (PEFT's LoRA default) gives b = 1 / sqrt(fanIn); a = 0 (the ABBA code's A2) gives
    /// b = sqrt(6 / fanIn). Draws on the CPU from <paramref name="generator"/> only
    /// (never torch's global generator), then moves to <paramref name="device"/>.
    /// </summary>
    public static Tensor KaimingUniform(
        long rows, long fanIn, double a, ScalarType dtype, Device device, Generator generator)
    {
        double bound = Math.Sqrt(2 / (1 + a * a)) * Math.Sqrt(3.0 / fanIn);
        using var u = rand(rows, fanIn, dtype: ScalarType.Float64, generator: generator);   // U(0, 1) on the CPU
        using var scaled = u.mul(2 * bound).sub(bound);                                      // U(-b, b)
        return scaled.to(dtype, device);
    }

    /// <summary>
    /// The best rank-r approximation of W (Eckart-Young-Mirsky) split as B = U_r sqrt(S_r), A = sqrt(S_r) V_r^T,
    /// computed by a full SVD on W's device, in float64 for float64 weights and float32 otherwise (TorchSharp has no
    /// svd_lowrank). Rows
    /// <paramref name="skip"/>..skip+r-1 of the spectrum are taken, so skip = r1 gives the "next r" components.
    /// </summary>
    public static (Tensor B, Tensor A) TruncatedSvd(Tensor W, int r, int skip = 0)
    {
        using var scope = NewDisposeScope();
        var dtype = W.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        var (U, S, Vh) = linalg.svd(W.detach().to(dtype), fullMatrices: false);
        var sqrtS = S.narrow(0, skip, r).sqrt();
        var B = U.narrow(1, skip, r) * sqrtS.unsqueeze(0);
        var A = sqrtS.unsqueeze(1) * Vh.narrow(0, skip, r);
        return (B.MoveToOuterDisposeScope(), A.MoveToOuterDisposeScope());
    }
}
