using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Core.Adapters;

/// <summary>LoRA: dW = s B A with s = alpha / r, or alpha / sqrt(r) for rsLoRA.</summary>
/// <param name="Rank">r.</param>
/// <param name="Alpha">alpha.</param>
/// <param name="RankStabilised">Use rsLoRA's alpha / sqrt(r).</param>
public sealed record LoraConfig(int Rank, double Alpha, bool RankStabilised = false) : LowRankConfig(Rank)
{
    /// <inheritdoc />
    public override string Method => "lora";
    /// <inheritdoc />
    public override string DisplayName => RankStabilised ? "rsLoRA" : "LoRA";
    /// <inheritdoc />
    public override string Colour => "#1f77b4";
    /// <inheritdoc />
    public override AdapterLinear Wrap(Linear linear, Generator generator) => new LoraLinear(linear, this, generator);
    /// <inheritdoc />
    public override IReadOnlyList<string> CheckpointKeys(bool bias = false) => ["lora_A", "lora_B"];
    /// <inheritdoc />
    public override ProjectionMemory MemoryTerms(long m, long n, long tokens, bool inputNeedsGrad) =>
        new(0, tokens * Rank, 0,
            Math.Max(ProjectionMemory.WrapperForward(m, tokens), ProjectionMemory.ActivationGradients(m, n, tokens)));

    /// <summary>The scale s.</summary>
    public double Scale => RankStabilised ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;

    /// <inheritdoc />
    public override void Validate(long outFeatures, long inFeatures)
    {
        CheckRank("LoRA rank", Rank, outFeatures, inFeatures);
        CheckFinite("LoRA alpha", Alpha);
    }
}
