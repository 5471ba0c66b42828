namespace Abba.Experiments.Protocol;

/// <summary>
/// One metric of a row type: the name it has in the CSVs (<c>test_ce</c>), how the report writes it, whether lower is
/// better, and how to read it from a row. Experiments declare their metrics once and pass these values around instead
/// of their names.
/// </summary>
/// <typeparam name="TRow">The row the metric is read from.</typeparam>
/// <param name="Name">The name in CSV columns and rows.</param>
/// <param name="Label">The name in text and figures ("test CE").</param>
/// <param name="LowerIsBetter">True for losses and errors, false for accuracies.</param>
/// <param name="Of">Reads the metric from a row.</param>
public sealed record Metric<TRow>(string Name, string Label, bool LowerIsBetter, Func<TRow, double> Of)
{
    /// <summary>The sign of "better" for this metric: -1 when lower is better, +1 otherwise.</summary>
    public int BetterSign => LowerIsBetter ? -1 : 1;

    /// <inheritdoc />
    public override string ToString() => Name;
}
