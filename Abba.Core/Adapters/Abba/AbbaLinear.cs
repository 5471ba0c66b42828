using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Core.Adapters;

/// <summary>
/// ABBA (arXiv 2505.14238, Eq. 3): dW = s (B1 A1) ⊙ (B2 A2), B1 (m x r1), A1 (r1 x n), B2 (m x r2), A2 (r2 x n).
/// Parameters (r1 + r2)(m + n); rank(dW) &lt;= r1 r2.
/// Forward (Theorem 1, Khatri-Rao): (B1 A1) ⊙ (B2 A2) = B_kr A_kr with B_kr[:, i r2 + j] = B1[:, i] ⊙ B2[:, j] and
/// A_kr[i r2 + j, :] = A1[i, :] ⊙ A2[j, :], so dW x = s B_kr (A_kr x): inner size r1 r2, no m x n matrix. By default
/// (<see cref="AbbaForward.KhatriRaoLean"/>) one hand-derived autograd node computes it and keeps only x and A_kr x
/// until backward; <see cref="AbbaForward.KhatriRao"/> leaves it to autograd, which keeps B_kr and A_kr.
/// Scale: the paper's s = alpha^2 / sqrt(r1 r2) by default; the released code's s = alpha on request.
/// Init (Eqs. 4-5): B1 A1 = rank-r1 truncated SVD of W0 with sqrt(Sigma) on each side, B2 = 0, A2 Kaiming-uniform
/// with a = 0 as in the released code; W0 is not modified. Unlike the released code, r1 != r2 is supported. The init
/// ablation's rows that start with a non-zero product (<see cref="AbbaConfig.StartsNonZero"/>) replace W0 by W0 - P0.
/// </summary>
public sealed class AbbaLinear : AdapterLinear
{
    readonly AbbaConfig config;
    // Field names equal the registered names, so TorchSharp's device moves keep them current.
    Parameter abba_A1, abba_B1, abba_A2, abba_B2;

    /// <summary>Wraps <paramref name="baseLayer"/> and initialises both pairs per
    /// <see cref="AbbaConfig.Init"/>, drawing from <paramref name="generator"/>.</summary>
    public AbbaLinear(Linear baseLayer, AbbaConfig config, Generator generator) : base("AbbaLinear", baseLayer)
    {
        config.Validate(OutFeatures, InFeatures);
        this.config = config;
        Scale = config.Scale;
        var (B1, A1, B2, A2) = Initialise(baseLayer.weight!, config, generator);
        abba_A1 = NewParameter(A1);
        abba_B1 = NewParameter(B1);
        abba_A2 = NewParameter(A2);
        abba_B2 = NewParameter(B2);
        foreach (var t in new[] { B1, A1, B2, A2 }) t.Dispose();
        RegisterAdapterParameters();
        if (config.StartsNonZero)
        {
            // Table 3 rows 1-4 start with P0 != 0: the frozen base becomes
            // the residual W0 - P0, so the layer still computes W0 x.
            using var _ = no_grad();
            InitialProduct = DeltaWeight().detach();
            baseLayer.weight!.sub_(InitialProduct);
        }
    }

    /// <summary>
    /// P0 = s (B1 A1) ⊙ (B2 A2) at construction when <see cref="AbbaConfig.StartsNonZero"/> (then <c>Base.weight</c>
    /// is W0 - P0, and the update relative to W0 is <see cref="DeltaWeight"/> - P0);
    /// null for the inits that start at dW = 0.
    /// </summary>
    public Tensor? InitialProduct { get; }

    /// <summary>A1, r1 x n.</summary>
    public Parameter A1 => abba_A1;

    /// <summary>B1, m x r1.</summary>
    public Parameter B1 => abba_B1;

    /// <summary>A2, r2 x n.</summary>
    public Parameter A2 => abba_A2;

    /// <summary>B2, m x r2.</summary>
    public Parameter B2 => abba_B2;

    /// <summary>s.</summary>
    public double Scale { get; }

    /// <inheritdoc />
    public override AdapterConfig Config => config;

    /// <inheritdoc />
    public override IReadOnlyList<(string Key, Parameter Value)> AdapterParameters =>
        [("abba_A1", abba_A1), ("abba_B1", abba_B1), ("abba_A2", abba_A2), ("abba_B2", abba_B2)];

    /// <inheritdoc />
    public override Tensor DeltaWeight() => Scaled(B1.matmul(A1).mul(B2.matmul(A2)), Scale);

    /// <summary>The Khatri-Rao factors (B_kr, A_kr): m x r1 r2 and
    /// r1 r2 x n, with B_kr A_kr = (B1 A1) ⊙ (B2 A2).</summary>
    public (Tensor Bkr, Tensor Akr) KhatriRaoFactors()
    {
        return (KhatriRaoLeanFunction.BKr(B1, B2), KhatriRaoLeanFunction.AKr(A1, A2));
    }

    /// <inheritdoc />
    protected override Tensor AdaptedForward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var update = config.Forward switch
        {
            // (..., m), already scaled
            AbbaForward.KhatriRaoLean => KhatriRaoLeanFunction.Apply(x, A1, A2, B1, B2, Scale),
            AbbaForward.KhatriRao => Scaled(KhatriRaoUpdate(x), Scale),
            // forms the m x n product
            _ => Scaled(nn.functional.linear(x, B1.matmul(A1).mul(B2.matmul(A2))), Scale),
        };
        return (Base.forward(x) + update).MoveToOuterDisposeScope();
    }

    Tensor KhatriRaoUpdate(Tensor x)
    {
        var (Bkr, Akr) = KhatriRaoFactors();
        return nn.functional.linear(nn.functional.linear(x, Akr), Bkr);   // (..., r1 r2) -> (..., m)
    }

    static (Tensor B1, Tensor A1, Tensor B2, Tensor A2) Initialise(Tensor W0, AbbaConfig c, Generator generator)
    {
        long m = W0.shape[0], n = W0.shape[1];
        Tensor Zeros(int r) => zeros(m, r, W0.dtype, W0.device);
        Tensor Kaiming(int r) => Initialisers.KaimingUniform(r, n, a: 0, W0.dtype, W0.device, generator);
        switch (c.Init)
        {
            case AbbaInit.Paper:
            {
                var (B1, A1) = Initialisers.TruncatedSvd(W0, c.Rank1);
                return (B1, A1, Zeros(c.Rank2), Kaiming(c.Rank2));
            }
            case AbbaInit.SecondPairSvd:
            {
                var (B2, A2) = Initialisers.TruncatedSvd(W0, c.Rank2);
                return (Zeros(c.Rank1), Kaiming(c.Rank1), B2, A2);
            }
            case AbbaInit.SecondPairOnes:
            {
                var (B1, A1) = Initialisers.TruncatedSvd(W0, c.Rank1);
                double entry = 1 / Math.Sqrt(c.Scale * c.Rank2);                    // B2 A2 = r2 entry^2 J = J / s
                return (B1, A1, full(m, c.Rank2, entry, W0.dtype, W0.device),
                    full(c.Rank2, n, entry, W0.dtype, W0.device));
            }
            case AbbaInit.SqrtTopTop or AbbaInit.SqrtTopNext or AbbaInit.SqrtNextTop:
            {
                using var scope = NewDisposeScope();
                var magnitude = W0.detach().abs().sqrt();        // R = sqrt|W0|
                var signed = W0.detach().sign().mul(magnitude);  // R_s = sign(W0) sqrt|W0|; R_s ⊙ R = W0
                var (B1, A1) = Initialisers.TruncatedSvd(signed, c.Rank1,
                    skip: c.Init == AbbaInit.SqrtNextTop ? c.Rank1 : 0);
                var (B2, A2) = Initialisers.TruncatedSvd(magnitude, c.Rank2,
                    skip: c.Init == AbbaInit.SqrtTopNext ? c.Rank2 : 0);
                double factor = Math.Pow(c.Scale, -0.25);        // four factors: s P0 = (B1 A1) ⊙ (B2 A2) unscaled
                Tensor Shrunk(Tensor t) => t.mul(factor).to(W0.dtype).MoveToOuterDisposeScope();
                return (Shrunk(B1), Shrunk(A1), Shrunk(B2), Shrunk(A2));
            }
            default:
                return (Zeros(c.Rank1), Kaiming(c.Rank1), Zeros(c.Rank2), Kaiming(c.Rank2));
        }
    }
}
