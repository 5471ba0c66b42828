using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Core.Adapters;

/// <summary>
/// DoRA (Liu et al. 2024): W = m ⊙ V / ||V||, V = W0 + s B A, the norm taken per output row (PyTorch's (out, in)
/// layout, as PEFT does), magnitude m (size out) starting at the row norms of W0; s = alpha / r; B = 0, A Kaiming
/// (a = sqrt 5). Forming V needs an m x n temporary in every forward: part of DoRA's memory cost. By default the
/// norm is detached in backward, as the DoRA paper (Sec. 4.3) and PEFT do.
/// </summary>
public sealed class DoraLinear : AdapterLinear
{
    readonly DoraConfig config;
    // Field names equal the registered names, so TorchSharp's device moves keep them current.
    Parameter lora_A, lora_B, lora_magnitude_vector;

    /// <summary>Wraps <paramref name="baseLayer"/>; A is drawn from <paramref name="generator"/>.</summary>
    public DoraLinear(Linear baseLayer, DoraConfig config, Generator generator) : base("DoraLinear", baseLayer)
    {
        config.Validate(OutFeatures, InFeatures);
        this.config = config;
        (lora_A, lora_B) = NewLowRankPair(config.Rank, generator);
        using (no_grad()) lora_magnitude_vector = NewParameter(linalg.vector_norm(baseLayer.weight!, dims: [1]));
        RegisterAdapterParameters();
    }

    /// <summary>A, r x n.</summary>
    public Parameter A => lora_A;

    /// <summary>B, m x r.</summary>
    public Parameter B => lora_B;

    /// <summary>Magnitude m, one entry per output feature.</summary>
    public Parameter Magnitude => lora_magnitude_vector;

    /// <summary>The scale s = alpha / r.</summary>
    public double Scale => config.Scale;

    /// <inheritdoc />
    public override AdapterConfig Config => config;

    /// <inheritdoc />
    public override IReadOnlyList<(string Key, Parameter Value)> AdapterParameters =>
        [("lora_A", lora_A), ("lora_B", lora_B), ("lora_magnitude_vector", lora_magnitude_vector)];

    /// <inheritdoc />
    public override Tensor DeltaWeight()
    {
        using var scope = NewDisposeScope();
        var V = W0 + Scaled(B.matmul(A), config.Scale);                                        // (m, n)
        var W = Magnitude.unsqueeze(1) * V / RowNorm(V).unsqueeze(1);
        return (W - W0).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    protected override Tensor AdaptedForward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var V = W0 + Scaled(B.matmul(A), config.Scale);                                        // (m, n) temporary
        var ratio = Magnitude / RowNorm(V);                                             // (m)
        // m/||V|| ⊙ (W0 x + s B A x): the low-rank path stays thin, only the norm needs V.
        var lowRank = Scaled(nn.functional.linear(nn.functional.linear(x, A), B), config.Scale);
        var y = (nn.functional.linear(x, W0) + lowRank) * ratio;
        if (Base.bias is { } b) y = y + b;
        return y.MoveToOuterDisposeScope();
    }

    Tensor RowNorm(Tensor V)
    {
        var norm = linalg.vector_norm(V, dims: [1]);
        return config.DetachNorm ? norm.detach() : norm;
    }
}
