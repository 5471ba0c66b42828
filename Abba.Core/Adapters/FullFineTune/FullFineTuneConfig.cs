using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Core.Adapters;

/// <summary>Full fine-tuning: the targeted Linear layers are unfrozen instead of wrapped.</summary>
public sealed record FullFineTuneConfig : AdapterConfig
{
    /// <inheritdoc />
    public override string Method => "full_ft";
    /// <inheritdoc />
    public override string DisplayName => "Full FT";
    /// <inheritdoc />
    public override string Colour => "#555555";
    /// <inheritdoc />
    public override int BudgetRank => 0;
    /// <inheritdoc />
    public override AdapterConfig AtBudgetRank(int rank) => this;
    /// <inheritdoc />
    public override bool TrainsBaseWeights => true;
    /// <inheritdoc />
    public override AdapterLinear? Wrap(Linear linear, Generator generator) => null;
    /// <inheritdoc />
    public override long TrainableParameters(long m, long n, bool bias = false) => m * n + (bias ? m : 0);
    /// <inheritdoc />
    public override IReadOnlyList<string> CheckpointKeys(bool bias = false) => bias ? ["weight", "bias"] : ["weight"];
    /// <inheritdoc />
    public override ProjectionMemory MemoryTerms(long m, long n, long tokens, bool inputNeedsGrad) =>
        ProjectionMemory.Plain(m, n, tokens);
}
