using Abba.Experiments.Memory;

namespace Abba.Experiments.Efficiency;

/// <summary>
/// One kernel of a training step: its floating-point operations and the float32 bytes it must move (each input read
/// once, each output written once). A GEMM C (M x N) = A (M x K) B (K x N) does 2 M K N operations.
/// </summary>
/// <param name="Name">What it computes, e.g. "dx = g W0".</param>
/// <param name="Flops">Floating-point operations.</param>
/// <param name="Bytes">Bytes read and written.</param>
public sealed record KernelCost(string Name, double Flops, double Bytes)
{
    const double Float = 4;

    /// <summary>C (M x N) = A (M x K) B (K x N).</summary>
    public static KernelCost Gemm(string name, double M, double K, double N) =>
        new(name, 2 * M * K * N, Float * (M * K + K * N + M * N));

    /// <summary>An elementwise or reducing kernel that reads <paramref name="read"/> values, writes
    /// <paramref name="written"/> and does <paramref name="flops"/> operations.</summary>
    public static KernelCost Elementwise(string name, double read, double written, double flops) =>
        new(name, flops, Float * (read + written));

    /// <summary>
    /// The time this kernel cannot beat on a machine that multiplies at <paramref name="gflops"/> and moves memory at
    /// <paramref name="gbPerSecond"/>: the larger of its compute time and its memory time (the roofline).
    /// </summary>
    public double FloorSeconds(double gflops, double gbPerSecond) =>
        Math.Max(Flops / (gflops * 1e9), Bytes / (gbPerSecond * 1e9));
}

/// <summary>
/// The least work one training step of a single m x n layer needs under each method, from the shapes alone: T tokens
/// in, a frozen W0 (the input still needs its gradient, as inside a network), forward, backward and one AdamW update
/// (read parameter, gradient and both moments, write parameter and both moments: 28 bytes per trainable parameter).
/// Thin methods (LoRA, ABBA's Khatri-Rao form) never form an m x n matrix. DoRA is LoRA's thin path scaled per row by
/// magnitude / ||W0 + s B A|| (the norm detached, as configured), whose norms need one product with W0 but no m x n
/// result. Methods whose update is an m x n matrix (HiRA, ABBA's dense form, full fine-tuning) are costed with the
/// merged weight W' = W0 + dW, one GEMM each way, which is the least they need. The Khatri-Rao form's plain-autograd
/// variant does the same mathematics, so it has the same floor. A step's floor is the sum of its kernels' floors.
/// </summary>
public static class StepCost
{
    /// <summary>The kernels of one step of <paramref name="arm"/> at LoRA-equivalent rank <paramref name="rank"/>
    /// (ABBA r1 = r2 = r/2), or null for an arm without a model (none today).</summary>
    public static IReadOnlyList<KernelCost>? Kernels(CostArm arm, double n, double m, double T, int rank)
    {
        double r = rank, r1 = rank / 2, r2 = rank / 2, R = r1 * r2;
        KernelCost[] frozen = [KernelCost.Gemm("y = x W0^T", T, n, m), KernelCost.Gemm("dx = g W0", T, m, n)];
        KernelCost[] merged =
        [
            KernelCost.Gemm("y = x W'^T", T, n, m), KernelCost.Gemm("dx = g W'", T, m, n),
            KernelCost.Gemm("dW' = g^T x", m, T, n),
        ];
        KernelCost[] sums =
        [
            KernelCost.Elementwise("y += adapter output", 2 * T * m, T * m, T * m),
            KernelCost.Elementwise("dx += adapter input gradient", 2 * T * n, T * n, T * n),
        ];
        if (arm == CostArm.Base) return frozen;
        if (arm == CostArm.FullFineTuning) return [.. merged, AdamW(n * m)];
        if (arm == CostArm.Lora) return [.. frozen, .. sums, .. LoraThin(T, n, m, r), AdamW(r * (n + m))];
        if (arm == CostArm.AbbaLean || arm == CostArm.AbbaPlain)
            return
            [
                .. frozen, .. sums,
                KhatriRao("A_kr = A1 * A2 (rows)", n, r1, r2), KhatriRao("B_kr = B1 * B2 (columns)", m, r1, r2),
                KernelCost.Gemm("u = x A_kr^T", T, n, R), KernelCost.Elementwise("s u", T * R, T * R, T * R),
                KernelCost.Gemm("B_kr (s u)", T, R, m),
                KhatriRao("B_kr again (backward)", m, r1, r2), KhatriRao("A_kr again (backward)", n, r1, r2),
                KernelCost.Gemm("du = g B_kr", T, m, R), KernelCost.Elementwise("s du", T * R, T * R, T * R),
                KernelCost.Gemm("dB_kr = g^T (s u)", m, T, R),
                Contraction("dB1, dB2 from dB_kr", m, r1, r2),
                KernelCost.Gemm("dx_A = (s du) A_kr", T, R, n), KernelCost.Gemm("dA_kr = x^T (s du)", n, T, R),
                Contraction("dA1, dA2 from dA_kr", n, r1, r2),
                AdamW((r1 + r2) * (n + m)),
            ];
        if (arm == CostArm.AbbaDense)
            return
            [
                .. merged,
                KernelCost.Gemm("P1 = B1 A1", m, r1, n), KernelCost.Gemm("P2 = B2 A2", m, r2, n),
                KernelCost.Elementwise("W' = W0 + s P1 * P2", 3 * m * n, m * n, 3 * m * n),
                KernelCost.Elementwise("dP1 = s dW' * P2, dP2 = s dW' * P1", 4 * m * n, 2 * m * n, 4 * m * n),
                KernelCost.Gemm("dB1 = dP1 A1^T", m, n, r1), KernelCost.Gemm("dA1 = B1^T dP1", r1, m, n),
                KernelCost.Gemm("dB2 = dP2 A2^T", m, n, r2), KernelCost.Gemm("dA2 = B2^T dP2", r2, m, n),
                AdamW((r1 + r2) * (n + m)),
            ];
        if (arm == CostArm.Hira)
            return
            [
                .. merged,
                KernelCost.Gemm("P = B A", m, r, n),
                KernelCost.Elementwise("W' = W0 * (1 + P)", 2 * m * n, m * n, 2 * m * n),
                KernelCost.Elementwise("dP = dW' * W0", 2 * m * n, m * n, m * n),
                KernelCost.Gemm("dB = dP A^T", m, n, r), KernelCost.Gemm("dA = B^T dP", r, m, n),
                AdamW(r * (n + m)),
            ];
        if (arm == CostArm.Dora)
            return
            [
                .. frozen, .. sums, .. LoraThin(T, n, m, r),
                // ||W0_i + s B_i A||^2 = ||W0_i||^2 + 2 s B_i (A W0_i^T) + s^2 B_i (A A^T) B_i^T: one product with W0
                KernelCost.Gemm("A W0^T (row norms of W0 + s B A)", r, n, m),
                KernelCost.Elementwise("row norms from A W0^T, A A^T and B", 2 * m * r, m, 4 * m * r),
                KernelCost.Elementwise("y * (magnitude / norm)", T * m + m, T * m, T * m),
                KernelCost.Elementwise("g * (magnitude / norm), d magnitude", 2 * T * m, T * m + m, 3 * T * m),
                AdamW(r * (n + m) + m),
            ];
        return null;
    }

    /// <summary>LoRA's thin path: x A^T, then B on the scaled result, and the four products of its backward.</summary>
    static KernelCost[] LoraThin(double T, double n, double m, double r) =>
    [
        KernelCost.Gemm("v = x A^T", T, n, r), KernelCost.Elementwise("s v", T * r, T * r, T * r),
        KernelCost.Gemm("B (s v)", T, r, m),
        KernelCost.Gemm("dB = g^T (s v)", m, T, r), KernelCost.Gemm("dv = g B", T, m, r),
        KernelCost.Elementwise("s dv", T * r, T * r, T * r),
        KernelCost.Gemm("dA = (s dv)^T x", r, T, n), KernelCost.Gemm("dx_A = (s dv) A", T, r, n),
    ];

    /// <summary>The floor of a step, in seconds: the sum of its kernels' floors.</summary>
    public static double FloorSeconds(IEnumerable<KernelCost> kernels, double gflops, double gbPerSecond) =>
        kernels.Sum(k => k.FloorSeconds(gflops, gbPerSecond));

    /// <summary>Rows of one factor pair's Khatri-Rao product: (r1 + r2) rows of length d read, r1 r2 written.</summary>
    static KernelCost KhatriRao(string name, double d, double r1, double r2) =>
        KernelCost.Elementwise(name, (r1 + r2) * d, r1 * r2 * d, r1 * r2 * d);

    /// <summary>dF1[:, i] = sum_j dKR[:, i, j] F2[:, j] and dF2 likewise: dKR (d x r1 r2) read once for both.</summary>
    static KernelCost Contraction(string name, double d, double r1, double r2) =>
        KernelCost.Elementwise(name, d * (r1 * r2 + r1 + r2), d * (r1 + r2), 4 * d * r1 * r2);

    /// <summary>AdamW on <paramref name="parameters"/> values: about 12 operations each.</summary>
    static KernelCost AdamW(double parameters) =>
        KernelCost.Elementwise("AdamW update", 4 * parameters, 3 * parameters, 12 * parameters);
}
