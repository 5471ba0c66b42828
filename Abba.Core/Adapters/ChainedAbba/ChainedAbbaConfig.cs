using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Core.Adapters;

/// <summary>How chained ABBA computes its forward pass.</summary>
public enum ChainedAbbaForward
{
    /// <summary>Per call, whichever of <see cref="KhatriRao"/> and
    /// <see cref="Dense"/> needs fewer multiply-adds for x's token count.</summary>
    Auto,
    /// <summary>k-way Khatri-Rao: s B_kr (A_kr x) with inner size R = Π r_i; never forms the m x n update.</summary>
    KhatriRao,
    /// <summary>Forms dW = s (B1 A1) ⊙ ... ⊙ (Bk Ak) explicitly.</summary>
    Dense,
}

/// <summary>
/// Chained ABBA (paper Table 7, Fig. 6): dW = s (B1 A1) ⊙ (B2 A2) ⊙ ... ⊙ (Bk Ak), k >= 2 pairs of ranks r_i;
/// Σ r_i (m + n) parameters, rank up to Π r_i. k = 2 is ABBA (same init draws, scale and values).
/// Scale: Eqs. 7-8 generalised, s = Π_i (alpha / sqrt(r_i)); k = 2 gives ABBA's alpha^2 / sqrt(r1 r2).
/// Init (the paper does not state it for k > 2): pair 1 is the rank-r1 truncated SVD of W0 (sqrt(Sigma) on each
/// side) and pair k is LoRA-style (Bk = 0, Ak Kaiming-uniform with a = 0), both as in ABBA, so dW = 0 at step 0.
/// Each middle pair passes the product through, B_i A_i = 1 (all ones), while leaving its spare ranks trainable:
/// B_i's first column is ones and the rest zero, A_i's first row is ones and the others Kaiming-uniform (a = 0).
/// All-ones factors throughout would also pass through, but their r_i columns would receive identical gradients
/// forever (rank 1); both-Kaiming middle pairs would multiply the update by a random mask.
/// Unlike ABBA, Π r_i above min(m, n) is allowed (the paper's 4 pairs of 8 give 4096 on 2048-wide layers): the rank
/// simply saturates, and the dense forward is then the cheaper one.
/// </summary>
/// <param name="Ranks">r_1 ... r_k, k >= 2.</param>
/// <param name="Alpha">alpha, shared by every pair.</param>
/// <param name="Forward">Khatri-Rao, dense, or the cheaper of the two per call.</param>
public sealed record ChainedAbbaConfig(
    IReadOnlyList<int> Ranks, double Alpha, ChainedAbbaForward Forward = ChainedAbbaForward.Auto) : AdapterConfig
{
    /// <summary>Pairs per update in the paper's Table 7 ("4 pairs (chained)", each of rank r/4).</summary>
    public const int PaperPairs = 4;

    /// <inheritdoc />
    public override string Method => "chained_abba";
    /// <inheritdoc />
    public override string DisplayName => $"chained ABBA (k = {Ranks.Count})";
    /// <inheritdoc />
    public override string Colour => "#e377c2";
    /// <inheritdoc />
    public override int BudgetRank => Ranks.Sum();
    /// <inheritdoc />
    public override AdapterConfig AtBudgetRank(int rank) => this with { Ranks = Split(rank, Ranks.Count) };

    /// <summary>k pairs of rank r/k each: the parameter count of LoRA at rank <paramref name="rank"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="rank"/>
    /// is not a multiple of <paramref name="pairs"/>.</exception>
    public static ChainedAbbaConfig AtBudget(int rank, double alpha, int pairs = PaperPairs) =>
        new(Split(rank, pairs), alpha);

    static int[] Split(int rank, int pairs) =>
        rank % pairs == 0 ? Enumerable.Repeat(rank / pairs, pairs).ToArray()
            : throw new ArgumentException(
                $"chained ABBA splits rank {rank} into {pairs} equal pairs: use a multiple of {pairs}.");

    /// <summary>k, the number of pairs.</summary>
    public int Pairs => Ranks.Count;

    /// <summary>R = Π r_i, the Khatri-Rao inner size and the largest rank the update can have.</summary>
    public long KhatriRaoSize => Ranks.Aggregate(1L, (p, r) => p * r);

    /// <summary>s = Π_i alpha / sqrt(r_i), computed as
    /// alpha^k / sqrt(Π r_i) (bit-identical to ABBA's for k = 2).</summary>
    public double Scale => Enumerable.Repeat(Alpha, Ranks.Count).Aggregate((p, a) => p * a)
        / Math.Sqrt(Ranks.Aggregate(1.0, (p, r) => p * r));

    /// <summary>
    /// The forward used for <paramref name="tokens"/> tokens on an m x n layer:
    /// under <see cref="ChainedAbbaForward.Auto"/>, Khatri-Rao when T R (m + n) + (k - 1) R (m + n) multiply-adds
    /// (thin products plus building the factors) do not exceed
    /// T m n + (Σ r_i + k - 1) m n (the dense product plus forming dW).
    /// </summary>
    public ChainedAbbaForward ForwardFor(long m, long n, long tokens)
    {
        if (Forward != ChainedAbbaForward.Auto) return Forward;
        double R = KhatriRaoSize, k = Pairs;
        double khatriRao = (tokens + k - 1) * R * (m + n), dense = (tokens + Ranks.Sum() + k - 1) * (double)m * n;
        return khatriRao <= dense ? ChainedAbbaForward.KhatriRao : ChainedAbbaForward.Dense;
    }

    /// <inheritdoc />
    public override AdapterLinear Wrap(Linear linear, Generator generator) =>
        new ChainedAbbaLinear(linear, this, generator);
    /// <inheritdoc />
    public override long TrainableParameters(long m, long n, bool bias = false) => Ranks.Sum() * (m + n);
    /// <inheritdoc />
    public override IReadOnlyList<string> CheckpointKeys(bool bias = false) =>
        [.. Enumerable.Range(1, Pairs).SelectMany(i => new[] { $"abba_A{i}", $"abba_B{i}" })];

    /// <inheritdoc />
    public override ProjectionMemory MemoryTerms(long m, long n, long tokens, bool inputNeedsGrad)
    {
        long T = tokens, mn = m * n, R = KhatriRaoSize, k = Pairs;
        long ifGrad(long elements) => inputNeedsGrad ? elements : 0;
        long unlessGrad(long elements) => inputNeedsGrad ? 0 : elements;
        long wrapper = ProjectionMemory.WrapperForward(m, T), gradients = ProjectionMemory.ActivationGradients(m, n, T);
        // each P_i = B_i A_i and each running product but the last
        if (ForwardFor(m, n, T) == ChainedAbbaForward.Dense)
            return new((2 * k - 2) * mn + ifGrad(mn), 0, Math.Max(unlessGrad(mn), 3 * mn),
                Math.Max(wrapper, gradients));
        // Autograd keeps B_kr, each partial Khatri-Rao product of more
        // than one pair (both sides), A_kr when x needs a gradient, and u.
        long partials = 0, size = Ranks[0];
        for (int i = 1; i < k - 1; i++) partials += size *= Ranks[i];
        return new(R * m + partials * (m + n) + ifGrad(R * n), T * R,
            Math.Max(unlessGrad(R * n), 2 * R * (m + n)), Math.Max(wrapper, gradients + T * R));
    }

    /// <inheritdoc />
    public override void Validate(long outFeatures, long inFeatures)
    {
        if (Ranks.Count < 2) throw new ArgumentException($"chained ABBA needs at least 2 pairs (got {Ranks.Count}).");
        for (int i = 0; i < Ranks.Count; i++) CheckRank($"chained ABBA r{i + 1}", Ranks[i], outFeatures, inFeatures);
        CheckFinite("chained ABBA alpha", Alpha);
    }
}
