using Abba.Core.Adapters;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Core.Reconstruction;

/// <summary>One reconstruction: the relative squared error (float64) and what it cost.</summary>
/// <param name="RelSqError">||M - M_hat||_F^2 / ||M||_F^2, computed in float64.</param>
/// <param name="Params">Trainable parameters of the factorisation.</param>
/// <param name="Steps">Optimiser steps (0 for the closed-form truncated SVD).</param>
/// <param name="Seconds">Wall time of the fit.</param>
/// <param name="HitCap">An iterative fit stopped at its step cap while
/// still improving (false for closed forms and plateaus).</param>
public readonly record struct ReconstructionResult(
    double RelSqError, long Params, int Steps, double Seconds, bool HitCap = false);

/// <summary>Where an ABBA reconstruction fit starts.</summary>
public enum AbbaStart
{
    /// <summary>B1 A1 = the rank-r1 truncated SVD of M, B2 A2 = all-ones
    /// (+ small noise on the other r2 - 1 columns): LoRA-r1's error.</summary>
    SvdOnes,
    /// <summary>All four factors Gaussian from the fit's seed, scaled so the update's entries
    /// have RMS <see cref="ReconstructionFits.RandomStartRms"/> of the target's.</summary>
    Random,
}

/// <summary>
/// Best approximations of a target M by each adapter's update, using the shared adapters' own parameters and
/// <c>DeltaWeight()</c>: LoRA in closed form (truncated SVD, Eckart-Young), ABBA and HiRA by <see cref="IterativeFit"/>
/// in float32 on the given device. The target is scaled to unit RMS entries before fitting (the relative error is
/// scale-free; Adam's step size is not); the reported error is recomputed in float64 against the unscaled M.
/// </summary>
public static class ReconstructionFits
{
    /// <summary>Relative size of the symmetry-breaking noise on ABBA's second pair (see <see cref="Abba"/>).</summary>
    public const double SecondPairNoise = 0.01;

    /// <summary>RMS of the update's entries at a <see cref="AbbaStart.Random"/> start,
    /// relative to the target's (error about 1 + this squared).</summary>
    public const double RandomStartRms = 0.1;

    /// <summary>LoRA of rank r: the truncated SVD, LoRA's exact
    /// optimum (the time excludes the shared SVD itself).</summary>
    public static ReconstructionResult Lora(Tensor M, TargetSvd svd, int r)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var Mr = svd.Truncated(r);
        double error = EckartYoung.RelativeSquaredError(M, Mr);
        return new(error, new LoraConfig(r, r).TrainableParameters(M.shape[0], M.shape[1]), 0,
            clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// ABBA (B1 A1) ⊙ (B2 A2) with s = 1, fitted by Adam. Start: B1 A1 = the rank-r1 truncated SVD of M (sqrt(Sigma)
    /// on each side, the paper's own init helper), B2 A2 = the all-ones matrix (first column of B2 and first row of A2
    /// equal to 1) plus small Gaussian noise on the other r2 - 1 columns/rows to break their symmetry. That start is
    /// exactly the paper's argument that ABBA is never worse than LoRA (§2.4): it begins at LoRA-rank-r1's error and
    /// the fit keeps its best iterate.
    /// </summary>
    /// <param name="M">Target, m x n (any dtype/device).</param>
    /// <param name="r1">Rank of the first pair.</param>
    /// <param name="r2">Rank of the second pair.</param>
    /// <param name="settings">Adam schedule and stopping rule.</param>
    /// <param name="device">Where to fit (float32).</param>
    /// <param name="seed">Seed of the start's noise (drawn on the CPU, so every device starts alike).</param>
    /// <param name="cancel">Checked every step.</param>
    /// <param name="start">Where the fit starts; with <paramref name="r2"/> = 1 the default start is exactly LoRA rank
    /// r1 (the rank-r1 SVD times the all-ones matrix), and stays within
    /// rank r1: (B1 A1) ⊙ (b a^T) = diag(b) B1 A1 diag(a).</param>
    public static ReconstructionResult Abba(Tensor M, int r1, int r2, FitSettings settings, Device device, long seed,
        CancellationToken cancel = default, AbbaStart start = AbbaStart.SvdOnes)
    {
        long m = M.shape[0], n = M.shape[1];
        var (T, rms) = UnitRms(M, device);
        using var _ = T;
        using var zeroBase = ZeroLinear(m, n, device);
        var config = new AbbaConfig(r1, r2, Alpha: 1, AbbaScaling.Explicit, ExplicitScale: 1, AbbaInit.BothZero,
            AbbaForward.Dense, AllowRankAboveFull: true);
        using var abba = (AbbaLinear)Injector.Create(zeroBase, config, seed);
        if (start == AbbaStart.Random) StartRandom(abba, seed);
        else StartAbba(abba, T, seed);
        var fit = IterativeFit.Minimise(T, [abba.B1, abba.A1, abba.B2, abba.A2], abba.DeltaWeight, settings, cancel);
        return new(ErrorOf(M, abba, rms), abba.TrainableParameterCount, fit.Steps, fit.Seconds, fit.HitCap);
    }

    /// <summary>
    /// HiRA W0 ⊙ (B A) fitted by Adam against a fixed <paramref name="W0"/>. Start: B A = c X1 with X1 the rank-r
    /// truncated SVD of W0 ⊙ M (the negative gradient at B A = 0) and c the exact line-search step along it.
    /// </summary>
    /// <param name="M">Target, m x n.</param>
    /// <param name="W0">The frozen "pretrained" weight HiRA multiplies, m x n.</param>
    /// <param name="r">HiRA rank.</param>
    /// <param name="settings">Adam schedule and stopping rule.</param>
    /// <param name="device">Where to fit (float32).</param>
    /// <param name="cancel">Checked every step.</param>
    public static ReconstructionResult Hira(
        Tensor M, Tensor W0, int r, FitSettings settings, Device device, CancellationToken cancel = default)
    {
        var (T, rms) = UnitRms(M, device);
        using var _ = T;
        using var baseLayer = nn.Linear(W0.shape[1], W0.shape[0], hasBias: false, device: device, dtype: float32);
        // overwrites the native default init (torch's global generator)
        using (no_grad()) baseLayer.weight!.copy_(W0);
        using var hira = (HiraLinear)Injector.Create(baseLayer, new HiraConfig(r));
        StartHira(hira, T);
        var fit = IterativeFit.Minimise(T, [hira.B, hira.A], hira.DeltaWeight, settings, cancel);
        return new(ErrorOf(M, hira, rms), hira.TrainableParameterCount, fit.Steps, fit.Seconds, fit.HitCap);
    }

    static (Tensor T, double Rms) UnitRms(Tensor M, Device device)
    {
        using var scope = NewDisposeScope();
        var M64 = M.to(float64);
        double rms = Math.Sqrt(M64.square().mean().item<double>());
        return ((M64 / rms).to(float32, device).MoveToOuterDisposeScope(), rms);
    }

    static TorchSharp.Modules.Linear ZeroLinear(long m, long n, Device device)
    {
        var linear = nn.Linear(n, m, hasBias: false, device: device, dtype: float32);
        // overwrites the native default init (torch's global generator)
        using (no_grad()) linear.weight!.zero_();
        return linear;
    }

    static void StartAbba(AbbaLinear abba, Tensor T, long seed)
    {
        using var scope = NewDisposeScope();
        var (B1, A1) = Initialisers.TruncatedSvd(T, (int)abba.B1.shape[1]);
        using var g = new Generator((ulong)seed, CPU);
        var B2 = randn(abba.B2.shape, generator: g) * SecondPairNoise;    // (m, r2)
        var A2 = randn(abba.A2.shape, generator: g) * SecondPairNoise;    // (r2, n)
        B2[.., 0] = 1;
        A2[0] = 1;
        using var noGrad = no_grad();
        abba.B1.copy_(B1);
        abba.A1.copy_(A1);
        abba.B2.copy_(B2);
        abba.A2.copy_(A2);
    }

    /// <summary>
    /// Every factor N(0, s^2) with s = (rho^2 / (r1 r2))^(1/8): an entry of (B1 A1) ⊙ (B2 A2) is a sum of r1 r2
    /// products of four independent factors, so its variance is r1 r2 s^8 = rho^2,
    /// rho = <see cref="RandomStartRms"/> (the target has unit RMS).
    /// </summary>
    static void StartRandom(AbbaLinear abba, long seed)
    {
        using var scope = NewDisposeScope();
        long r1 = abba.B1.shape[1], r2 = abba.B2.shape[1];
        double s = Math.Pow(RandomStartRms * RandomStartRms / (r1 * r2), 1.0 / 8);
        using var g = new Generator((ulong)seed, CPU);
        var factors = new[] { abba.B1, abba.A1, abba.B2, abba.A2 }
            .Select(p => randn(p.shape, generator: g) * s).ToArray();
        using var noGrad = no_grad();
        abba.B1.copy_(factors[0]);
        abba.A1.copy_(factors[1]);
        abba.B2.copy_(factors[2]);
        abba.A2.copy_(factors[3]);
    }

    static void StartHira(HiraLinear hira, Tensor T)
    {
        using var scope = NewDisposeScope();
        var W0 = hira.Base.weight!.detach();
        var (B, A) = Initialisers.TruncatedSvd(W0 * T, (int)hira.B.shape[1]);   // B A ~ -gradient at 0
        var D = W0 * B.matmul(A);
        double c = (T * D).sum().item<float>() / D.square().sum().item<float>();
        using var noGrad = no_grad();
        hira.B.copy_(B * Math.Sqrt(c));
        hira.A.copy_(A * Math.Sqrt(c));
    }

    static double ErrorOf(Tensor M, AdapterLinear adapter, double rms)
    {
        using var noGrad = no_grad();
        using var dW = adapter.DeltaWeight();
        return EckartYoung.RelativeSquaredError(M, dW.to(float64) * rms);
    }
}
