namespace Abba.Core.Adapters;

/// <summary>A fine-tuning method the harness knows.</summary>
/// <param name="Id">Method id, equal to <see cref="AdapterConfig.Method"/> of
/// its configurations: lora, hira, abba, dora, full_ft, chained_abba.</param>
/// <param name="AtBudget">The method at LoRA-equivalent rank r with scale alpha, i.e. the
/// parameter count of LoRA at rank r (ABBA: r1 = r2 = r/2; chained ABBA: 4 pairs of r/4).</param>
/// <param name="Example">A small configuration that fits a 12 x 9 layer,
/// used by the contract tests (ABBA with r1 != r2).</param>
public sealed record RegisteredMethod(string Id, Func<int, double, AdapterConfig> AtBudget, AdapterConfig Example);

/// <summary>
/// Every fine-tuning method, as one explicit list. Adding a method is one folder under Adapters/ (its config and its
/// layer) and one line here; the contract tests then run it through the same checks as every other method.
/// </summary>
public static class MethodRegistry
{
    /// <summary>The registered methods, in the order figures list them.</summary>
    public static readonly IReadOnlyList<RegisteredMethod> All =
    [
        new("lora", (r, alpha) => new LoraConfig(r, alpha), new LoraConfig(3, 6)),
        new("hira", (r, _) => new HiraConfig(r), new HiraConfig(3)),
        new("abba", (r, alpha) => AbbaConfig.AtBudget(r, alpha), new AbbaConfig(2, 3, 2.0)),
        new("dora", (r, alpha) => new DoraConfig(r, alpha), new DoraConfig(3, 6, DetachNorm: false)),
        new("full_ft", (_, _) => new FullFineTuneConfig(), new FullFineTuneConfig()),
        new("chained_abba", (r, alpha) => ChainedAbbaConfig.AtBudget(r, alpha), new ChainedAbbaConfig([2, 2, 3], 2.0)),
    ];

    /// <summary>The ids of <see cref="All"/>, in order.</summary>
    public static IReadOnlyList<string> Ids => [.. All.Select(m => m.Id)];

    /// <summary>The method with id <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentException">No method has that id; the message lists the ids.</exception>
    public static RegisteredMethod ById(string id) =>
        All.SingleOrDefault(m => m.Id == id)
        ?? throw new ArgumentException($"unknown method '{id}'; expected one of {string.Join(", ", Ids)}");
}
