using Abba.Core.Adapters;
using Abba.Experiments.Output;
using Abba.Experiments.Units;
using ScottPlot;

namespace Abba.Experiments.Mnist;

/// <summary>
/// One fine-tuning arm of Figure 1: its method's config (which gives its name, display label, colour and parameter
/// budget), whether it is the method the paper proposes (the one every paired effect compares), and whether the
/// "closer to the optimum" claim compares against it.
/// </summary>
/// <param name="Config">The method and its ranks.</param>
/// <param name="Proposed">The paper's method: every effect is this arm minus a baseline.</param>
/// <param name="InClosenessClaim">A baseline the closeness claim names (the paper says closer than LoRA and
/// HiRA).</param>
public sealed record MnistArm(AdapterConfig Config, bool Proposed = false, bool InClosenessClaim = false)
{
    /// <summary>The method's name in CSVs and unit identities.</summary>
    public string Method => Config.Method;

    /// <summary>The method's display name.</summary>
    public string Label => Config.DisplayName;

    /// <summary>The method's colour in every figure.</summary>
    public Color Colour => MethodStyle.Colour(Config);

    /// <summary>Full FT, LoRA r, HiRA r, ABBA r1 = r2 = r/2, in the paper's legend order reversed (baselines
    /// first).</summary>
    public static IReadOnlyList<MnistArm> All(MnistOptions o) =>
    [
        new(new FullFineTuneConfig()),
        new(new LoraConfig(o.Rank, o.Alpha), InClosenessClaim: true),
        new(new HiraConfig(o.Rank), InClosenessClaim: true),
        // On the 10 x H head r1 r2 = r^2/4 may exceed 10, the most any 10-row update can use: allowed (the budget,
        // not the rank, is matched).
        new(new AbbaConfig(o.Rank / 2, o.Rank / 2, o.Alpha, AllowRankAboveFull: true), Proposed: true),
    ];

    /// <summary>The arms in legend order, for figures and claims (labels and colours do not depend on the
    /// ranks).</summary>
    public static IReadOnlyList<MnistArm> Legend { get; } = All(MnistOptions.Quick);

    /// <summary>The proposed arm of <paramref name="arms"/>.</summary>
    public static MnistArm ProposedOf(IReadOnlyList<MnistArm> arms) => arms.Single(a => a.Proposed);

    /// <summary>The arms the proposed one is compared with, in legend order.</summary>
    public static IReadOnlyList<MnistArm> BaselinesOf(IReadOnlyList<MnistArm> arms) =>
        [.. arms.Where(a => !a.Proposed)];
}

/// <summary>
/// Seed identities. Every arm of a replicate shares the split, the pre-trained model and the fine-tuning batches;
/// only an arm's adapter initialisation names the arm (<see cref="Abba.Core.Training.MlpTransfer.FineTune"/> derives
/// each layer's start from it and the layer's name).
/// </summary>
public static class MnistSeeds
{
    /// <summary>The validation hold-out of the 8-9 training images (first seed).</summary>
    public static long Split(int seed) => UnitSeeds.Of(seed, "mnist/split");
    /// <summary>Pre-training on 0-7: initial weights and batch order.</summary>
    public static long Pretrain(int seed) => UnitSeeds.Of(seed, "mnist/pretrain");
    /// <summary>The batch order of every fine-tuning arm of replicate <paramref name="seed"/>.</summary>
    public static long FineTuneBatches(int seed) => UnitSeeds.Of(seed, "mnist/finetune/batches");
    /// <summary>The adapter initialisation of one fine-tuning arm.</summary>
    public static long FineTuneAdapters(string method, int seed) =>
        UnitSeeds.Of(seed, $"mnist/finetune/method={method}");
    /// <summary>The batch order of every run of the learning-rate sweep of replicate <paramref name="seed"/> (the
    /// first SweepSeeds seeds).</summary>
    public static long SweepBatches(int seed) => UnitSeeds.Of(seed, "mnist/sweep/batches");
    /// <summary>The adapter initialisation of one sweep run (the same for every rate of a method).</summary>
    public static long SweepAdapters(string method, int seed) => UnitSeeds.Of(seed, $"mnist/sweep/method={method}");
    /// <summary>The batch order of reference optimum <paramref name="index"/> (from the first seed's W0), shared with
    /// no arm.</summary>
    public static long Optimum(int seed, int index) => UnitSeeds.Of(seed, $"mnist/optimum/index={index}");
}
