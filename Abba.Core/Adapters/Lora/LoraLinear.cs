using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Core.Adapters;

/// <summary>
/// LoRA (Hu et al. 2021): dW = s B A, B (m x r) = 0, A (r x n) Kaiming-uniform with a = sqrt(5) as in PEFT;
/// s = alpha / r, or alpha / sqrt(r) for rsLoRA. The forward never forms the m x n update.
/// </summary>
public sealed class LoraLinear : AdapterLinear
{
    readonly LoraConfig config;
    // Field names equal the registered names, so TorchSharp's device moves keep them current.
    Parameter lora_A, lora_B;

    /// <summary>Wraps <paramref name="baseLayer"/>; A is drawn from <paramref name="generator"/>.</summary>
    public LoraLinear(Linear baseLayer, LoraConfig config, Generator generator) : base("LoraLinear", baseLayer)
    {
        config.Validate(OutFeatures, InFeatures);
        this.config = config;
        (lora_A, lora_B) = NewLowRankPair(config.Rank, generator);
        RegisterAdapterParameters();
    }

    /// <summary>A, r x n.</summary>
    public Parameter A => lora_A;

    /// <summary>B, m x r.</summary>
    public Parameter B => lora_B;

    /// <summary>s.</summary>
    public double Scale => config.Scale;

    /// <inheritdoc />
    public override AdapterConfig Config => config;

    /// <inheritdoc />
    public override IReadOnlyList<(string Key, Parameter Value)> AdapterParameters => [("lora_A", A), ("lora_B", B)];

    /// <inheritdoc />
    public override Tensor DeltaWeight() => Scaled(B.matmul(A), Scale);

    /// <inheritdoc />
    protected override Tensor AdaptedForward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = Base.forward(x) + Scaled(nn.functional.linear(nn.functional.linear(x, A), B), Scale);   // (..., m)
        return y.MoveToOuterDisposeScope();
    }
}
