using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Core.Adapters;

/// <summary>
/// HiRA (Huang et al., ICLR 2025): dW = W0 ⊙ (B A), B (m x r) = 0, A (r x n) Kaiming-uniform (a = sqrt(5)), no scale.
/// HiRA is multiplicative in W0: its update depends on the pretrained weight, so it cannot be converted to an
/// additive low-rank adapter, and its rank can reach rank(W0) * r. The forward forms the m x n matrix
/// W0 ⊙ (B A + 1), as the official code and PEFT do; that temporary is part of HiRA's training-memory cost.
/// </summary>
public sealed class HiraLinear : AdapterLinear
{
    readonly HiraConfig config;
    // Field names equal the registered names, so TorchSharp's device moves keep them current.
    Parameter hira_A, hira_B;

    /// <summary>Wraps <paramref name="baseLayer"/>; A is drawn from <paramref name="generator"/>.</summary>
    public HiraLinear(Linear baseLayer, HiraConfig config, Generator generator) : base("HiraLinear", baseLayer)
    {
        config.Validate(OutFeatures, InFeatures);
        this.config = config;
        (hira_A, hira_B) = NewLowRankPair(config.Rank, generator);
        RegisterAdapterParameters();
    }

    /// <summary>A, r x n.</summary>
    public Parameter A => hira_A;

    /// <summary>B, m x r.</summary>
    public Parameter B => hira_B;

    /// <inheritdoc />
    public override AdapterConfig Config => config;

    /// <inheritdoc />
    public override IReadOnlyList<(string Key, Parameter Value)> AdapterParameters => [("hira_A", A), ("hira_B", B)];

    /// <inheritdoc />
    public override Tensor DeltaWeight() => W0 * B.matmul(A);

    /// <inheritdoc />
    protected override Tensor AdaptedForward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var W = W0 * (B.matmul(A) + 1);                       // (m, n), materialised
        return nn.functional.linear(x, W, Base.bias).MoveToOuterDisposeScope();
    }
}
