using Abba.Core.Adapters;
using Abba.Core.Models;

namespace Abba.Experiments.Encoder;

/// <summary>How an arm trains the encoder: not at all (head only), through adapters, or every parameter.</summary>
public enum EncoderTraining
{
    /// <summary>The encoder is frozen; only the classifier head trains (the linear-probe floor).</summary>
    HeadOnly,
    /// <summary>Adapters on the arm's projections; the encoder's own weights stay frozen.</summary>
    Adapters,
    /// <summary>Every encoder parameter trains (full fine-tuning).</summary>
    Full,
}

/// <summary>What an arm is for in the comparisons.</summary>
[Flags]
public enum ArmRole
{
    /// <summary>No comparison uses it on its own.</summary>
    None = 0,
    /// <summary>A method at the shared budget (or full fine-tuning) that ABBA on all projections is compared
    /// with.</summary>
    Baseline = 1,
    /// <summary>A point of the LoRA rank curve.</summary>
    RankCurve = 2,
    /// <summary>ABBA on one projection kind alone (Figure 3's question).</summary>
    SingleProjection = 4,
}

/// <summary>
/// One arm of the encoder experiment: a method, what it adapts, and the budget it is built at. Every arm trains the
/// classifier head too.
/// </summary>
/// <param name="Label">Unique CSV and unit name, e.g. <c>lora</c> (rank r), <c>lora_quarter</c> (r/4),
/// <c>abba_query</c>.</param>
/// <param name="Method">The method's CSV name (lora, hira, dora, abba, full_ft, head_only).</param>
/// <param name="Target">A projection kind (<see cref="BertConfig.ProjectionKinds"/>), all, model or none.</param>
/// <param name="Kinds">The projection kinds the adapters go on (empty unless <see cref="Training"/> is
/// adapters).</param>
/// <param name="Rank">LoRA-equivalent rank (ABBA: r1 + r2); 0 for full fine-tuning and the head alone.</param>
/// <param name="Training">How the encoder trains.</param>
/// <param name="Config">The adapter configuration (null unless <see cref="Training"/> is adapters).</param>
/// <param name="Roles">Which comparisons use it.</param>
/// <param name="Display">The arm in figures and text.</param>
public sealed record EncoderArm(string Label, string Method, string Target, IReadOnlyList<string> Kinds, int Rank,
    EncoderTraining Training, AdapterConfig? Config, ArmRole Roles, string Display)
{
    /// <summary>The arm label of ABBA on all projections: the arm every claim compares with.</summary>
    public const string AbbaAllLabel = "abba_all";

    /// <summary>Colour in figures: the method's own (full fine-tuning brown, the head alone grey).</summary>
    public string Colour => Config?.Colour ?? (Training == EncoderTraining.Full ? "#8c564b" : "#7f7f7f");

    /// <summary>The short name of a projection kind (<c>attention.output.dense</c> is <c>attn_out</c>).</summary>
    public static string ShortKind(string kind) => ShortKinds.GetValueOrDefault(kind, kind);

    static readonly Dictionary<string, string> ShortKinds = new()
    {
        ["attention.output.dense"] = "attn_out", ["intermediate.dense"] = "ffn_in", ["output.dense"] = "ffn_out",
    };

    /// <summary>
    /// Every arm of <paramref name="o"/>: the frozen encoder's head, full fine-tuning, LoRA, HiRA, DoRA and ABBA at
    /// rank r on every projection kind, the LoRA rank curve (r/4, r, 4r), and ABBA on each kind alone, in figure
    /// order; those named by <see cref="EncoderOptions.Arms"/>.
    /// </summary>
    public static IReadOnlyList<EncoderArm> All(EncoderOptions o) =>
        [.. Candidates(o).Where(a => o.Arms.Contains(a.Label))];

    /// <summary>Every arm label <c>--arms</c> can name (labels do not depend on the rank).</summary>
    public static IReadOnlyList<string> Labels { get; } = [.. Candidates(EncoderOptions.Paper).Select(a => a.Label)];

    static List<EncoderArm> Candidates(EncoderOptions o)
    {
        var kinds = BertConfig.ProjectionKinds;
        EncoderArm Adapter(string label, AdapterConfig config, IReadOnlyList<string> on, string target, ArmRole roles,
            string display) => new(label, config.Method, target, on, config.BudgetRank, EncoderTraining.Adapters,
            config, roles, display);
        int r = o.Rank;
        var arms = new List<EncoderArm>
        {
            new("head_only", "head_only", "none", [], 0, EncoderTraining.HeadOnly, null, ArmRole.Baseline,
                "Head only (frozen encoder)"),
            new("full_ft", "full_ft", "model", [], 0, EncoderTraining.Full, null, ArmRole.Baseline,
                "Full fine-tuning"),
            Adapter(AbbaAllLabel, AbbaConfig.AtBudget(r, o.AbbaAlpha), kinds, "all", ArmRole.None,
                $"ABBA r1 = r2 = {r / 2}"),
            Adapter("lora", new LoraConfig(r, o.LoraScale * r), kinds, "all", ArmRole.Baseline | ArmRole.RankCurve,
                $"LoRA r = {r}"),
            Adapter("hira", new HiraConfig(r), kinds, "all", ArmRole.Baseline, $"HiRA r = {r}"),
            Adapter("dora", new DoraConfig(r, o.LoraScale * r), kinds, "all", ArmRole.Baseline, $"DoRA r = {r}"),
            Adapter("lora_quarter", new LoraConfig(Math.Max(1, r / 4), o.LoraScale * Math.Max(1, r / 4)), kinds,
                "all", ArmRole.RankCurve, $"LoRA r = {Math.Max(1, r / 4)}"),
            Adapter("lora_quadruple", new LoraConfig(4 * r, o.LoraScale * 4 * r), kinds, "all", ArmRole.RankCurve,
                $"LoRA r = {4 * r}"),
        };
        arms.AddRange(kinds.Select(kind => Adapter($"abba_{ShortKind(kind)}", AbbaConfig.AtBudget(r, o.AbbaAlpha),
            [kind], kind, ArmRole.SingleProjection, $"ABBA on {ShortKind(kind)} only")));
        return arms;
    }
}
