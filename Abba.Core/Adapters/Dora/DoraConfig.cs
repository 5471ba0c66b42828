using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Core.Adapters;

/// <summary>DoRA: W = m ⊙ (W0 + s B A) / ||W0 + s B A||
/// (norm per output row), m starting at the row norms of W0.</summary>
/// <param name="Rank">r.</param>
/// <param name="Alpha">alpha; s = alpha / r.</param>
/// <param name="DetachNorm">Treat the norm as a constant in backward,
/// as the DoRA paper (Sec. 4.3) and PEFT do to save memory.</param>
public sealed record DoraConfig(int Rank, double Alpha, bool DetachNorm = true) : LowRankConfig(Rank)
{
    /// <inheritdoc />
    public override string Method => "dora";
    /// <inheritdoc />
    public override string DisplayName => "DoRA";
    /// <inheritdoc />
    public override string Colour => "#9467bd";
    /// <inheritdoc />
    public override AdapterLinear Wrap(Linear linear, Generator generator) => new DoraLinear(linear, this, generator);
    /// <inheritdoc />
    public override long TrainableParameters(long m, long n, bool bias = false) =>
        base.TrainableParameters(m, n, bias) + m;
    /// <inheritdoc />
    public override IReadOnlyList<string> CheckpointKeys(bool bias = false) =>
        ["lora_A", "lora_B", "lora_magnitude_vector"];
    /// <inheritdoc />
    public override ProjectionMemory MemoryTerms(long m, long n, long tokens, bool inputNeedsGrad) =>
        new(0, tokens * (m + Rank), 3 * m * n,
            Math.Max(ProjectionMemory.WrapperForward(m, tokens), ProjectionMemory.ActivationGradients(m, n, tokens)));

    /// <summary>The scale s = alpha / r.</summary>
    public double Scale => Alpha / Rank;

    /// <inheritdoc />
    public override void Validate(long outFeatures, long inFeatures)
    {
        CheckRank("DoRA rank", Rank, outFeatures, inFeatures);
        CheckFinite("DoRA alpha", Alpha);
    }
}
