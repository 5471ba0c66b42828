using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Core.Adapters;

/// <summary>HiRA: dW = W0 ⊙ (B A); no scale (the official code ignores its alpha).</summary>
/// <param name="Rank">r.</param>
public sealed record HiraConfig(int Rank) : LowRankConfig(Rank)
{
    /// <inheritdoc />
    public override string Method => "hira";
    /// <inheritdoc />
    public override string DisplayName => "HiRA";
    /// <inheritdoc />
    public override string Colour => "#2ca02c";
    /// <inheritdoc />
    public override AdapterLinear Wrap(Linear linear, Generator generator) => new HiraLinear(linear, this, generator);
    /// <inheritdoc />
    public override IReadOnlyList<string> CheckpointKeys(bool bias = false) => ["hira_A", "hira_B"];
    /// <inheritdoc />
    public override ProjectionMemory MemoryTerms(long m, long n, long tokens, bool inputNeedsGrad) =>
        new(inputNeedsGrad ? m * n : 0, 0, 2 * m * n + (inputNeedsGrad ? 0 : m * n),
            ProjectionMemory.ActivationGradients(m, n, tokens));

    /// <inheritdoc />
    public override void Validate(long outFeatures, long inFeatures) =>
        CheckRank("HiRA rank", Rank, outFeatures, inFeatures);
}
