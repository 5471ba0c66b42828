using Abba.Core.Adapters;
using Abba.Core.Models;
using Abba.Experiments.Output;
using Abba.Experiments.Protocol;
using ScottPlot;

namespace Abba.Experiments.Ablation;

/// <summary>What an arm adapts: one projection type in every layer, all seven, or every parameter.</summary>
/// <param name="Name">The CSV name: a projection (q_proj), all, or model.</param>
/// <param name="Projections">The projections the adapters go on (full fine-tuning ignores them).</param>
/// <param name="Tick">The figure's label for this target.</param>
public sealed record Target(string Name, IReadOnlyList<string> Projections, string Tick)
{
    /// <summary>The name without the _proj suffix (q, k, ..., all, model).</summary>
    public string Short => Name.Replace("_proj", "", StringComparison.Ordinal);

    /// <summary>Every layer's projection of one type.</summary>
    public static Target Single(string projection) =>
        new(projection, [projection], projection.Replace("_proj", "", StringComparison.Ordinal));

    /// <summary>All seven projection types.</summary>
    public static readonly Target All = new("all", LlamaConfig.ProjectionNames, "All seven");

    /// <summary>Every parameter (full fine-tuning).</summary>
    public static readonly Target Model = new("model", ["model"], "Full FT");

    /// <summary>The seven projection types in the paper's Fig. 3 order (ascending GSM8K accuracy).</summary>
    public static readonly IReadOnlyList<Target> PaperOrder =
        [.. new[] { "k_proj", "q_proj", "v_proj", "o_proj", "up_proj", "gate_proj", "down_proj" }.Select(Single)];

    /// <summary>The figure's groups: the seven in the paper's order, all seven, every parameter.</summary>
    public static readonly IReadOnlyList<Target> Groups = [.. PaperOrder, All, Model];

    /// <summary>The single projection of this name.</summary>
    public static Target Projection(string name) => PaperOrder.Single(t => t.Name == name);
}

/// <summary>The budget every adapter arm shares: the rank r and the alphas.</summary>
/// <param name="Rank">LoRA and HiRA rank r; ABBA r1 = r2 = r/2.</param>
/// <param name="AbbaAlpha">ABBA alpha.</param>
/// <param name="LoraAlpha">LoRA alpha.</param>
public sealed record Budget(int Rank, double AbbaAlpha, double LoraAlpha)
{
    /// <summary>The budget of <paramref name="o"/>.</summary>
    public static Budget Of(AblationOptions o) => new(o.Rank, o.AbbaAlpha, o.LoraAlpha);
}

/// <summary>A fine-tuning method of the ablation: how the budget configures it and how figures draw it.</summary>
/// <param name="Name">The CSV name: the config's <see cref="AdapterConfig.Method"/>.</param>
/// <param name="Build">The method's configuration at a budget.</param>
/// <param name="LegendNote">Appended to the method's display name in legends.</param>
/// <param name="TextName">The method's name in running text, when not its display name.</param>
public sealed record AblationMethod(
    string Name, Func<Budget, AdapterConfig> Build, string LegendNote = "", string? TextName = null)
{
    static AblationMethod Of(Func<Budget, AdapterConfig> build, string note = "", string? text = null) =>
        new(build(new Budget(2, 1, 1)).Method, build, note, text);

    /// <summary>ABBA with r1 = r2 = r/2 (the paper's equal-budget rule).</summary>
    public static readonly AblationMethod Abba = Of(b => new AbbaConfig(b.Rank / 2, b.Rank / 2, b.AbbaAlpha));

    /// <summary>LoRA of rank r.</summary>
    public static readonly AblationMethod Lora = Of(b => new LoraConfig(b.Rank, b.LoraAlpha));

    /// <summary>HiRA of rank r.</summary>
    public static readonly AblationMethod Hira = Of(b => new HiraConfig(b.Rank));

    /// <summary>Full fine-tuning of every parameter.</summary>
    public static readonly AblationMethod FullFineTune =
        Of(_ => new FullFineTuneConfig(), " (every parameter)", "full FT");

    /// <summary>The adapter methods, in the order their arms run (--methods chooses among these).</summary>
    public static readonly IReadOnlyList<AblationMethod> Adapters = [Abba, Lora, Hira];

    /// <summary>Every method in legend order.</summary>
    public static readonly IReadOnlyList<AblationMethod> All = [.. Adapters, FullFineTune];

    /// <summary>The adapter methods by CSV name, for --methods.</summary>
    public static readonly IReadOnlyDictionary<string, AblationMethod> ByName = All.ToDictionary(m => m.Name);

    /// <summary>The legend label: the config's display name and the note.</summary>
    public string Label => MethodStyle.Label(Name) + LegendNote;

    /// <summary>The method's name in running text ("LoRA", "full FT").</summary>
    public string InText => TextName ?? MethodStyle.Label(Name);

    /// <summary>The method's colour in every figure.</summary>
    public Color Colour => MethodStyle.Colour(Name);
}

/// <summary>One fine-tuning arm: a method on a target.</summary>
public sealed record Arm(AblationMethod Method, Target Target)
{
    /// <summary>The arm's adapter configuration under <paramref name="o"/>.</summary>
    public AdapterConfig Config(AblationOptions o) => Method.Build(Budget.Of(o));

    /// <summary>The rank column: r (ABBA r1 + r2), 0 for full fine-tuning.</summary>
    public int Rank(AblationOptions o) => Config(o).BudgetRank;

    /// <summary>"abba/q" as the comparisons name it.</summary>
    public string Label => $"{Method.Name}/{Target.Short}";

    /// <summary>Whether <paramref name="row"/> is a run of this arm.</summary>
    public bool Matches(AblationRow row) => row.Method == Method.Name && row.Target == Target.Name;

    /// <summary>Whether <paramref name="row"/> summarises this arm.</summary>
    public bool Matches(ArmSummaryRow row) => row.Method == Method.Name && row.Target == Target.Name;

    /// <summary>ABBA on all seven projections: what every baseline is compared with.</summary>
    public static readonly Arm AbbaAll = new(AblationMethod.Abba, Target.All);

    /// <summary>The baselines of Table 2: LoRA and HiRA on all seven, full fine-tuning.</summary>
    public static readonly IReadOnlyList<Arm> Baselines =
    [
        new(AblationMethod.Lora, Target.All), new(AblationMethod.Hira, Target.All),
        new(AblationMethod.FullFineTune, Target.Model),
    ];

    /// <summary>
    /// The arms of a run: the per-component methods on each projection in the paper's order, then every adapter method
    /// on all seven, then full fine-tuning.
    /// </summary>
    public static IReadOnlyList<Arm> Of(AblationOptions o) =>
    [
        .. from name in o.PerComponentMethods
           from t in Target.PaperOrder
           select new Arm(AblationMethod.ByName[name], t),
        .. AblationMethod.Adapters.Select(m => new Arm(m, Target.All)),
        new(AblationMethod.FullFineTune, Target.Model),
    ];
}

/// <summary>The metrics every run reports, as typed values: the primary one first.</summary>
public static class AblationMetrics
{
    /// <summary>Primary: held-out answer-token cross-entropy, lower is better.</summary>
    public static readonly Metric<AblationRow> TestCe = new("test_ce", "test CE", true, r => r.TestCe);

    /// <summary>Per-digit accuracy of the greedy answer.</summary>
    public static readonly Metric<AblationRow> DigitAccuracy =
        new("digit_accuracy", "digit accuracy", false, r => r.DigitAccuracy);

    /// <summary>Exact match of the greedy answer.</summary>
    public static readonly Metric<AblationRow> ExactMatch = new("exact_match", "exact match", false, r => r.ExactMatch);

    /// <summary>Every metric, the primary first.</summary>
    public static readonly IReadOnlyList<Metric<AblationRow>> All = [TestCe, DigitAccuracy, ExactMatch];
}

/// <summary>The rate_choice column's values.</summary>
public static class RateChoice
{
    /// <summary>The rate chosen on the validation split: the headline.</summary>
    public const string Tuned = "tuned";
    /// <summary>--lr: every arm at one rate.</summary>
    public const string Fixed = "fixed";
    /// <summary>The shared-rate sensitivity rows (sweep seeds only).</summary>
    public const string Shared = "shared";
    /// <summary>The pre-trained model, not fine-tuned.</summary>
    public const string None = "none";
}
