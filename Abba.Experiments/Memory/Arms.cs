using Abba.Core.Efficiency;

namespace Abba.Experiments.Memory;

/// <summary>
/// One method as the cost experiments (memory, efficiency) run it: its CSV name and the roles the code asks of it
/// (the comparison reference, ABBA's default forward and its plain-autograd twin). Rows read back from a CSV are
/// mapped to an arm with <see cref="Of"/>, so claims compare arms, not names.
/// </summary>
/// <param name="Name">The CSV name (a <see cref="CostMethod"/> name).</param>
/// <param name="PaperName">The name of the paper's Figure 4 row for this method, or null when the paper has none
/// (ABBA's Khatri-Rao form is the paper's "abba"; dense ABBA is not in the paper).</param>
public sealed record CostArm(string Name, string? PaperName)
{
    /// <summary>ABBA's default forward: the lean Khatri-Rao node.</summary>
    public static readonly CostArm AbbaLean = Named("abba_kr", paperName: "abba");
    /// <summary>ABBA's Khatri-Rao forward through plain autograd.</summary>
    public static readonly CostArm AbbaPlain = Named("abba_kr_plain");
    /// <summary>ABBA with its dense update.</summary>
    public static readonly CostArm AbbaDense = Named("abba_dense", paperName: null);
    /// <summary>LoRA at the same parameter count: every ratio's reference.</summary>
    public static readonly CostArm Lora = Named("lora");
    /// <summary>DoRA.</summary>
    public static readonly CostArm Dora = Named("dora");
    /// <summary>HiRA.</summary>
    public static readonly CostArm Hira = Named("hira");
    /// <summary>Full fine-tuning.</summary>
    public static readonly CostArm FullFineTuning = Named("full_ft");
    /// <summary>The frozen base layer alone (nothing trained).</summary>
    public static readonly CostArm Base = Named("base");

    static readonly CostArm[] Known = [AbbaLean, AbbaPlain, AbbaDense, Lora, Dora, Hira, FullFineTuning, Base];

    /// <summary>The training methods, in Abba.Core's figure order.</summary>
    public static readonly IReadOnlyList<CostArm> Training = [.. CostMethod.TrainingMethodNames.Select(Of)];

    /// <summary>The frozen base first, then the training methods (the single-layer timing cases).</summary>
    public static readonly IReadOnlyList<CostArm> WithBase = [Base, .. Training];

    /// <summary>The method at LoRA-equivalent rank <paramref name="rank"/>.</summary>
    public CostMethod At(int rank) => CostMethod.ByName(Name, rank);

    /// <summary>One of the ABBA forwards or HiRA: the arms whose step time is logged beside LoRA's.</summary>
    public bool LoggedBesideLora => this == AbbaLean || this == AbbaPlain || this == AbbaDense || this == Hira;

    /// <summary>The arm whose CSV name is <paramref name="name"/>.</summary>
    public static CostArm Of(string name) => Known.FirstOrDefault(a => a.Name == name) ?? new CostArm(name, name);

    // ByName throws for a name Abba.Core does not know, so a renamed cost method fails here at start-up.
    static CostArm Named(string name) => Named(name, paperName: name);

    static CostArm Named(string name, string? paperName) => new(CostMethod.ByName(name).Name, paperName);

    /// <inheritdoc />
    public override string ToString() => Name;
}
