using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Core.Adapters;

/// <summary>How ABBA's scale s is set.</summary>
public enum AbbaScaling
{
    /// <summary>The paper's rank-stable choice (Eqs. 7-8): s = alpha^2 / sqrt(r1 r2).</summary>
    Paper,
    /// <summary>The released code: s = sqrt(alpha1) * sqrt(alpha2) = alpha, with no rank normalisation.</summary>
    OfficialCode,
    /// <summary>s is <see cref="AbbaConfig.ExplicitScale"/>.</summary>
    Explicit,
    /// <summary>
    /// s = alpha^2 (r1 r2)^-e with e = <see cref="AbbaConfig.RankExponent"/>: the family of the paper's Fig. 5
    /// (e = 1/2 is <see cref="Paper"/>; 1/4, 1/6 and 0, i.e. s in Θ(1), are the alternatives it plots).
    /// </summary>
    RankPower,
}

/// <summary>
/// How ABBA's two pairs start (the paper's Table 3 rows). Paper, SecondPairSvd and BothZero give dW = 0 at step 0. The
/// other rows start with a non-zero product P0 = s (B1 A1) ⊙ (B2 A2); the adapter then replaces the frozen base
/// weight by the residual W0 - P0 (as PiSSA does), so the adapted layer computes exactly W0 x at step 0 and the model
/// is unchanged (<see cref="AbbaLinear.InitialProduct"/> records P0). Their factors are scaled so that P0 approximates
/// W0 (rows 2-4) or W0's best rank-r1 approximation (row 1), which keeps the residual small whatever s is.
/// </summary>
public enum AbbaInit
{
    /// <summary>The paper's: B1 A1 = best rank-r1 approximation of W0
    /// (sqrt(Sigma) on each side), B2 = 0, A2 Kaiming-uniform.</summary>
    Paper,
    /// <summary>The paper's init ablation row (5): B2 A2 from the
    /// truncated SVD of W0, B1 = 0, A1 Kaiming-uniform.</summary>
    SecondPairSvd,
    /// <summary>Both pairs LoRA-style (B = 0, A Kaiming): every gradient
    /// is exactly zero, so training cannot start (paper App. C).</summary>
    BothZero,
    /// <summary>
    /// Table 3 row (1): B1 A1 = rank-r1 truncated SVD of W0, B2 and A2 all ones "scaled": every entry 1/sqrt(s r2),
    /// so that B2 A2 = J/s (J all ones) and P0 = s (B1 A1) ⊙ (J/s)
    /// is W0's best rank-r1 approximation; the base holds W0 - P0.
    /// </summary>
    SecondPairOnes,
    /// <summary>
    /// Table 3 row (2): both pairs from the top of the truncated SVD of a square root of W0. W0 has signed entries,
    /// so its root is split: pair 1 from R_s = sign(W0) ⊙ sqrt|W0| (top r1 components), pair 2 from R = sqrt|W0|
    /// (top r2), so that R_s ⊙ R = W0; each factor is multiplied by s^(-1/4),
    /// so P0 = (B1 A1 ⊙ B2 A2) s ≈ W0. The base holds W0 - P0.
    /// </summary>
    SqrtTopTop,
    /// <summary>Table 3 row (3): as <see cref="SqrtTopTop"/>, with pair 2
    /// from the next r2 components of sqrt|W0| (r2 + 1 ... 2 r2).</summary>
    SqrtTopNext,
    /// <summary>Table 3 row (4): as <see cref="SqrtTopTop"/>, with pair 1 from
    /// the next r1 components of sign(W0) sqrt|W0| (r1 + 1 ... 2 r1).</summary>
    SqrtNextTop,
}

/// <summary>How ABBA computes its forward pass.</summary>
public enum AbbaForward
{
    /// <summary>
    /// Khatri-Rao factorised (Theorem 1) through plain autograd: two thin matmuls of inner size r1 r2, never the m x n
    /// update; autograd keeps B_kr (m x r1 r2) and A_kr (r1 r2 x n) alive until backward.
    /// </summary>
    KhatriRao,
    /// <summary>
    /// The same maths as <see cref="KhatriRao"/> as one hand-derived autograd node
    /// (<see cref="KhatriRaoLeanFunction"/>): keeps only x and u = x A_kr^T (T x r1 r2)
    /// and rebuilds B_kr and A_kr in backward, so ABBA's memory nears LoRA's.
    /// </summary>
    KhatriRaoLean,
    /// <summary>Forms dW = s (B1 A1) ⊙ (B2 A2) explicitly; the reference,
    /// and the naive form for the memory comparison.</summary>
    Dense,
}

/// <summary>ABBA: dW = s (B1 A1) ⊙ (B2 A2).</summary>
/// <param name="Rank1">r1.</param>
/// <param name="Rank2">r2.</param>
/// <param name="Alpha">alpha (shared by both pairs).</param>
/// <param name="Scaling">Which convention sets s.</param>
/// <param name="ExplicitScale">s when <paramref name="Scaling"/> is Explicit.</param>
/// <param name="Init">How the pairs start.</param>
/// <param name="Forward">Khatri-Rao (lean or plain autograd) or dense forward.</param>
/// <param name="AllowRankAboveFull">Accept r1 r2 > min(m, n)
/// (a rank no m x n update can have), e.g. for reconstruction sweeps.</param>
/// <param name="RankExponent">e of <see cref="AbbaScaling.RankPower"/>:
/// s = alpha^2 (r1 r2)^-e (ignored by the other scalings).</param>
public sealed record AbbaConfig(
    int Rank1, int Rank2, double Alpha,
    AbbaScaling Scaling = AbbaScaling.Paper, double? ExplicitScale = null,
    AbbaInit Init = AbbaInit.Paper, AbbaForward Forward = AbbaConfig.DefaultForward,
    bool AllowRankAboveFull = false, double RankExponent = 0.5) : AdapterConfig
{
    /// <summary>
    /// The default forward: measured at 4096 x 4096, 256 tokens (efficiency experiment, both Khatri-Rao paths
    /// interleaved in one run), the lean node is no slower than plain autograd and keeps far less until backward.
    /// </summary>
    public const AbbaForward DefaultForward = AbbaForward.KhatriRaoLean;

    /// <inheritdoc />
    public override string Method => "abba";
    /// <inheritdoc />
    public override string DisplayName => Forward switch
    {
        DefaultForward => "ABBA",
        AbbaForward.Dense => "ABBA (dense)",
        AbbaForward.KhatriRao => "ABBA (Khatri-Rao, plain autograd)",
        _ => "ABBA (Khatri-Rao, lean)",
    };
    /// <inheritdoc />
    public override string Colour => Forward switch
    {
        DefaultForward => "#d62728",
        AbbaForward.Dense => "#ff9896",
        _ => "#8c2d04",
    };
    /// <inheritdoc />
    public override int BudgetRank => Rank1 + Rank2;
    /// <inheritdoc />
    public override AdapterConfig AtBudgetRank(int rank) => this with { Rank1 = Half(rank), Rank2 = Half(rank) };

    /// <summary>ABBA at LoRA-equivalent rank <paramref name="rank"/>:
    /// r1 = r2 = r/2, the same parameter count as LoRA at rank r.</summary>
    /// <exception cref="ArgumentException"><paramref name="rank"/> is odd.</exception>
    public static AbbaConfig AtBudget(
        int rank, double alpha, AbbaInit init = AbbaInit.Paper, AbbaForward forward = DefaultForward) =>
        new(Half(rank), Half(rank), alpha, Init: init, Forward: forward);

    static int Half(int rank) =>
        rank % 2 == 0 ? rank / 2
            : throw new ArgumentException($"ABBA splits rank {rank} into r1 = r2 = r/2: use an even rank.");

    /// <inheritdoc />
    public override AdapterLinear Wrap(Linear linear, Generator generator) => new AbbaLinear(linear, this, generator);
    /// <inheritdoc />
    public override long TrainableParameters(long m, long n, bool bias = false) => (long)(Rank1 + Rank2) * (m + n);
    /// <inheritdoc />
    public override IReadOnlyList<string> CheckpointKeys(bool bias = false) =>
        ["abba_A1", "abba_B1", "abba_A2", "abba_B2"];
    /// <inheritdoc />
    public override ProjectionMemory MemoryTerms(long m, long n, long tokens, bool inputNeedsGrad)
    {
        long T = tokens, mn = m * n, r12 = (long)Rank1 * Rank2;
        long ifGrad(long elements) => inputNeedsGrad ? elements : 0;
        long unlessGrad(long elements) => inputNeedsGrad ? 0 : elements;
        long wrapper = ProjectionMemory.WrapperForward(m, T), gradients = ProjectionMemory.ActivationGradients(m, n, T);
        if (Forward == AbbaForward.Dense)
            return new(2 * mn + ifGrad(mn), 0, Math.Max(unlessGrad(mn), 3 * mn), Math.Max(wrapper, gradients));
        if (Forward == AbbaForward.KhatriRaoLean)
            return new(
                // x is the projection's input, already alive as an activation; only s u = s x A_kr^T is extra
                SavedWeightLike: 0,
                SavedTokenLike: T * r12,
                // forward: A_kr, then B_kr; backward: rebuilt B_kr, then dB_kr (m x r1 r2), then rebuilt A_kr,
                // then dA_kr (n x r1 r2), one at a time, each reduced to the factors' gradients by batched products
                TransientWeightLike: r12 * Math.Max(m, n),
                TransientTokenLike: Math.Max(wrapper + T * r12, gradients + T * r12));
        return new(
            SavedWeightLike: r12 * m + ifGrad(r12 * n),
            SavedTokenLike: T * r12,
            // backward: dB_kr and dA_kr, each expanded once against the other pair to reduce to dB1, dB2, dA1, dA2
            TransientWeightLike: Math.Max(unlessGrad(r12 * n), 2 * r12 * (m + n)),
            TransientTokenLike: Math.Max(wrapper, gradients + T * r12));
    }

    /// <summary>Whether <see cref="Init"/> starts the product non-zero
    /// (Table 3 rows 1-4): the base then holds the residual W0 - P0.</summary>
    public bool StartsNonZero =>
        Init is AbbaInit.SecondPairOnes or AbbaInit.SqrtTopTop or AbbaInit.SqrtTopNext or AbbaInit.SqrtNextTop;

    /// <summary>The scale s under <see cref="Scaling"/>.</summary>
    public double Scale => Scaling switch
    {
        AbbaScaling.Paper => Alpha * Alpha / Math.Sqrt((double)Rank1 * Rank2),
        AbbaScaling.OfficialCode => Math.Sqrt(Alpha) * Math.Sqrt(Alpha),
        AbbaScaling.RankPower => Alpha * Alpha * Math.Pow((double)Rank1 * Rank2, -RankExponent),
        _ => ExplicitScale ?? throw new ArgumentException("ABBA scaling Explicit needs ExplicitScale."),
    };

    /// <inheritdoc />
    public override void Validate(long outFeatures, long inFeatures)
    {
        CheckRank("ABBA r1", Rank1, outFeatures, inFeatures);
        CheckRank("ABBA r2", Rank2, outFeatures, inFeatures);
        CheckFinite("ABBA alpha", Alpha);
        if (Scaling == AbbaScaling.Explicit) CheckFinite("ABBA explicit scale", ExplicitScale ?? double.NaN);
        if (Scaling == AbbaScaling.RankPower) CheckFinite("ABBA rank exponent", RankExponent);
        if (StartsNonZero && !(Scale > 0))
            throw new ArgumentException(
                $"ABBA init {Init} scales its factors by s, which must be positive (got {Scale}).");
        long skip = Init switch { AbbaInit.SqrtTopNext => 2L * Rank2, AbbaInit.SqrtNextTop => 2L * Rank1, _ => 0 };
        if (skip > Math.Min(outFeatures, inFeatures))
            throw new ArgumentException(
                $"ABBA init {Init} takes the next components of the root's SVD: 2 r = {skip} exceeds " +
                $"min(out, in) = {Math.Min(outFeatures, inFeatures)}.");
        long full = Math.Min(outFeatures, inFeatures);
        if ((long)Rank1 * Rank2 > full && !AllowRankAboveFull)
            throw new ArgumentException(
                $"ABBA r1 * r2 = {(long)Rank1 * Rank2} exceeds min(out, in) = {full}, the largest rank any " +
                $"{outFeatures} x {inFeatures} update can have; use smaller ranks or set AllowRankAboveFull.");
    }
}
