using Abba.Core.Adapters;
using Abba.Core.Models;
using Abba.Experiments.Output;
using Abba.Experiments.Protocol;
using ScottPlot;
using static System.FormattableString;

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
/// <param name="Name">The CSV name: the config's <see cref="AdapterConfig.Method"/> for the four methods, a variant's
/// own name otherwise (lora_r2, abba_released, abba_dense).</param>
/// <param name="Build">The method's configuration at a budget.</param>
/// <param name="LegendNote">Appended to the method's display name in legends.</param>
/// <param name="TextName">The method's name in running text, when not its display name.</param>
/// <param name="Copies">The method whose adapter initialisation and chosen rate this one takes instead of its own
/// (the noise twin: ABBA's); null for every other method.</param>
public sealed record AblationMethod(string Name, Func<Budget, AdapterConfig> Build, string LegendNote = "",
    string? TextName = null, string? Copies = null)
{
    /// <summary>Whether the method sweeps its own rate.</summary>
    public bool OwnSweep => Copies is null;

    /// <summary>The name its adapter initialisation is seeded by: its own, or the copied method's.</summary>
    public string SeedName => Copies ?? Name;

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

    /// <summary>
    /// ABBA as the released scripts run it: r1 = r2 = r and s = alpha (twice LoRA rank r's parameters); r1 r2 may
    /// exceed a layer's narrow side, as it does there.
    /// </summary>
    public static readonly AblationMethod AbbaReleased = new("abba_released",
        b => new AbbaConfig(b.Rank, b.Rank, b.AbbaAlpha, AbbaScaling.OfficialCode, AllowRankAboveFull: true),
        " r1 = r2 = r, s = alpha (released code: 2x budget)", "ABBA (released code's setting)");

    /// <summary>
    /// The noise twin: ABBA exactly as <see cref="Abba"/> (same factors, initial values, scale, rate and batches), with
    /// the update formed densely instead of through the Khatri-Rao node. The two are one function in exact arithmetic;
    /// what separates them is floating-point summation order, amplified by training: the measured noise floor.
    /// </summary>
    public static readonly AblationMethod AbbaDense = new("abba_dense",
        b => new AbbaConfig(b.Rank / 2, b.Rank / 2, b.AbbaAlpha, Forward: AbbaForward.Dense),
        " (dense forward: the noise twin)", "ABBA (dense forward)", Copies: "abba");

    /// <summary>LoRA on all seven at rank <paramref name="rank"/> (the rank curve); rank r is
    /// <see cref="Lora"/>.</summary>
    public static AblationMethod LoraAt(int rank) => new($"lora_r{rank}", b => new LoraConfig(rank, b.LoraAlpha),
        Invariant($" r = {rank}"), Invariant($"LoRA r = {rank}"));

    /// <summary>The adapter methods run on single projections (--methods chooses among these).</summary>
    public static readonly IReadOnlyList<AblationMethod> Adapters = [Abba, Lora, Hira];

    /// <summary>The four methods in legend order.</summary>
    public static readonly IReadOnlyList<AblationMethod> All = [.. Adapters, FullFineTune];

    /// <summary>The adapter methods by CSV name, for --methods.</summary>
    public static readonly IReadOnlyDictionary<string, AblationMethod> ByName = All.ToDictionary(m => m.Name);

    /// <summary>The legend label: the config's display name and the note.</summary>
    public string Label => Style.DisplayName + LegendNote;

    /// <summary>The method's name in running text ("LoRA", "full FT").</summary>
    public string InText => TextName ?? Style.DisplayName;

    /// <summary>The method's colour in every figure.</summary>
    public Color Colour => MethodStyle.Colour(Style);

    /// <summary>The config's method (abba, lora, hira, full_ft): which rate grid the method sweeps.</summary>
    public string Family => Style.Method;

    AdapterConfig Style => Build(new Budget(4, 1, 1));
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

    /// <summary>ABBA in the released code's setting, on all seven.</summary>
    public static readonly Arm Released = new(AblationMethod.AbbaReleased, Target.All);

    /// <summary>ABBA's noise twin on all seven: <see cref="AbbaAll"/> under another summation order.</summary>
    public static readonly Arm NoiseTwin = new(AblationMethod.AbbaDense, Target.All);

    /// <summary>What the released code's setting is compared with, of the arms in <paramref name="rows"/>: LoRA r
    /// (the paper's budget) and the LoRA of its own parameter count (2r), when they ran.</summary>
    public static IReadOnlyList<Arm> ReleasedAgainst(IReadOnlyList<AblationRow> rows)
    {
        var released = rows.FirstOrDefault(Released.Matches);
        if (released is null) return [];
        var curve = RankCurveIn(rows);
        return [.. curve.Where(a => a.Method == AblationMethod.Lora
                                    || rows.Any(r => a.Matches(r) && r.Params == released.Params))];
    }

    static bool IsLora(string method) =>
        method == AblationMethod.Lora.Name || method.StartsWith("lora_r", StringComparison.Ordinal);

    /// <summary>LoRA's rank curve among the arms in <paramref name="rows"/>, ascending in rank.</summary>
    public static IReadOnlyList<Arm> RankCurveIn(IReadOnlyList<AblationRow> rows) =>
        [.. rows.Where(r => r.Target == Target.All.Name && IsLora(r.Method))
            .GroupBy(r => r.Method).OrderBy(g => g.First().Rank)
            .Select(g => g.Key == AblationMethod.Lora.Name ? new Arm(AblationMethod.Lora, Target.All)
                : new Arm(AblationMethod.LoraAt(g.First().Rank), Target.All))];

    /// <summary>The arms on all seven or on every parameter among <paramref name="rows"/>, the noise twin left out
    /// (it repeats ABBA): what the effective-rank tracking ranks.</summary>
    public static IReadOnlyList<Arm> WholeModelIn(IReadOnlyList<AblationRow> rows)
    {
        var fixedArms = new[] { AbbaAll, Released, Baselines[1], Baselines[2] };
        return [.. RankCurveIn(rows), .. fixedArms.Where(a => rows.Any(a.Matches))];
    }

    /// <summary>
    /// The arms of a run: the per-component methods on each projection in the paper's order, every adapter method on
    /// all seven, full fine-tuning, LoRA's rank curve, ABBA in the released code's setting and ABBA's noise twin; only
    /// LoRA's rank curve under --rank-curve-only.
    /// </summary>
    public static IReadOnlyList<Arm> Of(AblationOptions o) => o.RankCurveOnly ? RankCurve(o) :
    [
        .. from name in o.PerComponentMethods
           from t in Target.PaperOrder
           select new Arm(AblationMethod.ByName[name], t),
        .. AblationMethod.Adapters.Select(m => new Arm(m, Target.All)),
        new(AblationMethod.FullFineTune, Target.Model),
        .. RankCurve(o).Where(a => a.Method != AblationMethod.Lora),
        new(AblationMethod.AbbaReleased, Target.All),
        new(AblationMethod.AbbaDense, Target.All),
    ];

    /// <summary>LoRA on all seven at every rank of the curve, ascending (rank r is the LoRA arm itself).</summary>
    public static IReadOnlyList<Arm> RankCurve(AblationOptions o) =>
        [.. o.CurveRanks.Select(r =>
            new Arm(r == o.Rank ? AblationMethod.Lora : AblationMethod.LoraAt(r), Target.All))];
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
