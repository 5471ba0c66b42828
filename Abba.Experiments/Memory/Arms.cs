using Abba.Core.Efficiency;

namespace Abba.Experiments.Memory;

/// <summary>
/// One method as the cost experiments (memory, efficiency) run it: its CSV name and the roles the code asks of it
/// (the comparison reference, ABBA's default forward and its plain-autograd twin). Rows read back from a CSV are
/// mapped to an arm with <see cref="Of"/>, so claims compare arms, not names.
/// </summary>
/// <param name="Name">The CSV name (a <see cref="CostMethod"/> name).</param>
public sealed record CostArm(string Name)
{
    /// <summary>ABBA's default forward: the lean Khatri-Rao node.</summary>
    public static readonly CostArm AbbaLean = new(CostMethod.TrainingMethodNames[0]);
    /// <summary>ABBA's Khatri-Rao forward through plain autograd.</summary>
    public static readonly CostArm AbbaPlain = new(CostMethod.TrainingMethodNames[1]);
    /// <summary>ABBA with its dense update.</summary>
    public static readonly CostArm AbbaDense = new(CostMethod.TrainingMethodNames[2]);
    /// <summary>LoRA at the same parameter count: every ratio's reference.</summary>
    public static readonly CostArm Lora = new(CostMethod.TrainingMethodNames[3]);
    /// <summary>HiRA.</summary>
    public static readonly CostArm Hira = new(CostMethod.TrainingMethodNames[5]);
    /// <summary>Full fine-tuning.</summary>
    public static readonly CostArm FullFineTuning = new(CostMethod.TrainingMethodNames[6]);
    /// <summary>The frozen base layer alone (nothing trained).</summary>
    public static readonly CostArm Base = new(CostMethod.ByName("base").Name);

    /// <summary>The training methods, in figure order.</summary>
    public static readonly IReadOnlyList<CostArm> Training = [.. CostMethod.TrainingMethodNames.Select(n => new
        CostArm(n))];

    /// <summary>The frozen base first, then the training methods (the single-layer timing cases).</summary>
    public static readonly IReadOnlyList<CostArm> WithBase = [Base, .. Training];

    /// <summary>The method at LoRA-equivalent rank <paramref name="rank"/>.</summary>
    public CostMethod At(int rank) => CostMethod.ByName(Name, rank);

    /// <summary>One of the ABBA forwards or HiRA: the arms whose step time is logged beside LoRA's.</summary>
    public bool LoggedBesideLora => this == AbbaLean || this == AbbaPlain || this == AbbaDense || this == Hira;

    /// <summary>The arm whose CSV name is <paramref name="name"/>.</summary>
    public static CostArm Of(string name) => WithBase.FirstOrDefault(a => a.Name == name) ?? new CostArm(name);

    /// <inheritdoc />
    public override string ToString() => Name;
}
