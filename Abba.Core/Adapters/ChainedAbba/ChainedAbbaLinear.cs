using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Core.Adapters;

/// <summary>
/// Chained ABBA (paper Table 7): dW = s (B1 A1) ⊙ ... ⊙ (Bk Ak), B_i (m x r_i), A_i (r_i x n); see
/// <see cref="ChainedAbbaConfig"/> for the scale and the init. Forward (Theorem 1 applied k - 1 times):
/// ⊙_i (B_i A_i) = B_kr A_kr with B_kr[:, (i1, ..., ik)] = Π_j B_j[:, i_j] and A_kr[(i1, ..., ik), :] = Π_j
/// A_j[i_j, :] (row-major multi-index, so k = 2 is ABBA's i r2 + j), inner size R = Π r_i; or dense when that is
/// cheaper (<see cref="ChainedAbbaConfig.ForwardFor"/>). Parameters are looked up by their registered names
/// (abba_A1, abba_B1, ...), so device and dtype moves keep them current.
/// </summary>
public sealed class ChainedAbbaLinear : AdapterLinear
{
    readonly ChainedAbbaConfig config;
    readonly string[] keys;

    /// <summary>Wraps <paramref name="baseLayer"/> and initialises every pair as
    /// <see cref="ChainedAbbaConfig"/> describes, drawing from <paramref name="generator"/>.</summary>
    public ChainedAbbaLinear(Linear baseLayer, ChainedAbbaConfig config, Generator generator)
        : base("ChainedAbbaLinear", baseLayer)
    {
        config.Validate(OutFeatures, InFeatures);
        this.config = config;
        Scale = config.Scale;
        keys = [.. config.CheckpointKeys()];
        var pairs = Initialise(baseLayer.weight!, config, generator);
        for (int i = 0; i < pairs.Length; i++)
        {
            register_parameter($"abba_A{i + 1}", NewParameter(pairs[i].A));
            register_parameter($"abba_B{i + 1}", NewParameter(pairs[i].B));
            pairs[i].A.Dispose();
            pairs[i].B.Dispose();
        }
    }

    /// <summary>A_i (r_i x n), i from 1 to k.</summary>
    public Parameter A(int i) => get_parameter($"abba_A{i}")!;

    /// <summary>B_i (m x r_i), i from 1 to k.</summary>
    public Parameter B(int i) => get_parameter($"abba_B{i}")!;

    /// <summary>s.</summary>
    public double Scale { get; }

    /// <summary>The forward the last unmerged call used (Khatri-Rao or dense); null before the first call.</summary>
    public ChainedAbbaForward? LastForward { get; private set; }

    /// <inheritdoc />
    public override AdapterConfig Config => config;

    /// <inheritdoc />
    public override IReadOnlyList<(string Key, Parameter Value)> AdapterParameters =>
        [.. keys.Select(k => (k, get_parameter(k)!))];

    /// <inheritdoc />
    public override Tensor DeltaWeight()
    {
        using var scope = NewDisposeScope();
        var product = Enumerable.Range(2, config.Pairs)
            .Aggregate(B(1).matmul(A(1)), (p, i) => i > config.Pairs ? p : p.mul(B(i).matmul(A(i))));
        return Scaled(product, Scale).MoveToOuterDisposeScope();
    }

    /// <summary>The k-way Khatri-Rao factors (B_kr, A_kr): m x R and R x n, with B_kr A_kr = ⊙_i (B_i A_i).</summary>
    public (Tensor Bkr, Tensor Akr) KhatriRaoFactors()
    {
        using var scope = NewDisposeScope();
        Tensor Bkr = B(1), Akr = A(1);
        for (int i = 2; i <= config.Pairs; i++)
        {
            Bkr = (Bkr.unsqueeze(2) * B(i).unsqueeze(1)).reshape(OutFeatures, -1);   // (m, R_{i-1}, r_i) -> (m, R_i)
            Akr = (Akr.unsqueeze(1) * A(i).unsqueeze(0)).reshape(-1, InFeatures);    // (R_{i-1}, r_i, n) -> (R_i, n)
        }
        return (Bkr.MoveToOuterDisposeScope(), Akr.MoveToOuterDisposeScope());
    }

    /// <inheritdoc />
    protected override Tensor AdaptedForward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long tokens = x.numel() / InFeatures;
        LastForward = config.ForwardFor(OutFeatures, InFeatures, tokens);
        Tensor update;
        if (LastForward == ChainedAbbaForward.KhatriRao)
        {
            var (Bkr, Akr) = KhatriRaoFactors();
            update = Scaled(nn.functional.linear(nn.functional.linear(x, Akr), Bkr), Scale);   // (..., R) -> (..., m)
        }
        else
            update = nn.functional.linear(x, DeltaWeight());                                  // forms the m x n update
        return (Base.forward(x) + update).MoveToOuterDisposeScope();
    }

    /// <summary>(B_i, A_i) for i = 1..k: SVD pair, pass-through middle pairs,
    /// LoRA-style last pair; draws the last pair's A first.</summary>
    static (Tensor B, Tensor A)[] Initialise(Tensor W0, ChainedAbbaConfig c, Generator generator)
    {
        long m = W0.shape[0], n = W0.shape[1];
        int k = c.Pairs;
        var pairs = new (Tensor B, Tensor A)[k];
        pairs[0] = Initialisers.TruncatedSvd(W0, c.Ranks[0]);
        pairs[k - 1] = (zeros(m, c.Ranks[k - 1], W0.dtype, W0.device),
            Initialisers.KaimingUniform(c.Ranks[k - 1], n, a: 0, W0.dtype, W0.device, generator));
        for (int i = 1; i < k - 1; i++) pairs[i] = PassThrough(m, n, c.Ranks[i], W0, generator);
        return pairs;
    }

    /// <summary>B = [1 | 0] (m x r), A = [1; Kaiming-uniform] (r x n):
    /// B A = 1, and the spare ranks are trainable.</summary>
    static (Tensor B, Tensor A) PassThrough(long m, long n, int r, Tensor W0, Generator generator)
    {
        var B = zeros(m, r, W0.dtype, W0.device);
        var A = Initialisers.KaimingUniform(r, n, a: 0, W0.dtype, W0.device, generator);
        using var _ = no_grad();
        B[TensorIndex.Colon, 0] = 1.0;
        A[0] = 1.0;
        return (B, A);
    }
}
