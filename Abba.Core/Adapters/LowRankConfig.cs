namespace Abba.Core.Adapters;

/// <summary>
/// A method with one low-rank pair B (m x r), A (r x n) — LoRA, HiRA, DoRA: r(m + n) trainable parameters per layer,
/// LoRA-equivalent rank r.
/// </summary>
/// <param name="Rank">r.</param>
public abstract record LowRankConfig(int Rank) : AdapterConfig
{
    /// <inheritdoc />
    public override int BudgetRank => Rank;

    /// <inheritdoc />
    public override AdapterConfig AtBudgetRank(int rank) => this with { Rank = rank };

    /// <inheritdoc />
    public override long TrainableParameters(long m, long n, bool bias = false) => Rank * (m + n);
}
