using System.Text.Json;
using Abba.Experiments.Experiments.Ablation;
using Abba.Experiments.Experiments.Efficiency;
using Abba.Experiments.Experiments.Memory;
using Abba.Experiments.Experiments.Mnist;
using Abba.Experiments.Experiments.Reconstruction;

// Like the registry, this table names every experiment's options, so it sits in the catalogue namespace above them.
namespace Abba.Experiments.Experiments.Catalogue;

/// <summary>
/// For every property of every experiment's options record: stated by the paper, inferred from it, or chosen here.
/// The manifest writes it beside the configuration (<c>configuration_provenance</c>, so unit hashes do not change) and
/// the report renders it per experiment. Kept in one table rather than as attributes so that the options records stay
/// as they are; a test checks that every property has an entry and no entry is stale.
/// </summary>
public static class SettingSources
{
    static SettingProvenance S(string note) => new(SettingSource.Stated, note);
    static SettingProvenance I(string note) => new(SettingSource.Inferred, note);
    static SettingProvenance C(string note) => new(SettingSource.Chosen, note);

    const string Silent = "the paper does not say";

    /// <summary>Options type to (property name to provenance).</summary>
    public static IReadOnlyDictionary<Type, IReadOnlyDictionary<string, SettingProvenance>> All { get; } =
        new Dictionary<Type, IReadOnlyDictionary<string, SettingProvenance>>
        {
            [typeof(ReconstructionOptions)] = new Dictionary<string, SettingProvenance>
            {
                ["N"] = I("the paper gives no size; its orthogonal LoRA curve is 1 - r/n with n about 1000"),
                ["Ranks"] = S("Figure 2's x axis, r = 8, 16, ..., 72"),
                ["MatrixTypes"] = S("the panel titles; the generators behind them are inferred (docs/reconstruction-generators.md in the repository)"),
                ["Budgets"] = S("equal (r1 = r2 = r/2) is the caption's; doubled (r1 = r2 = r) follows the released code, added here"),
                ["Extras"] = C("beyond the figure: HiRA and unequal splits"),
                ["SplitRank"] = C("the r1 + r2 = 32 of the paper's Table 5, applied to reconstruction here"),
                ["SplitFirstRanks"] = C("Table 5's r1 values, applied to reconstruction here"),
                ["Seeds"] = C(Silent),
                ["Steps"] = C("the paper names no optimiser or step count; 1500 Adam steps reach its values at r1 = r2 = r"),
                ["LearningRate"] = C(Silent),
                ["Patience"] = C("early stop, " + Silent),
                ["MinImprovement"] = C("early stop, " + Silent),
                ["FitMethod"] = C("the paper says only \"iterative methods such as gradient descent\""),
            },
            [typeof(MnistOptions)] = new Dictionary<string, SettingProvenance>
            {
                ["DataFolder"] = C("where the shipped MNIST copy lies; not a result setting"),
                ["Hidden"] = C("the paper states a 2-layer MLP, not its width"),
                ["PretrainEpochs"] = C(Silent),
                ["PretrainBatchSize"] = C(Silent),
                ["PretrainLearningRate"] = C(Silent),
                ["PretrainMinimumAccuracy"] = C("a sanity check of pre-training"),
                ["Rank"] = C("ranks are not stated for the toy; r = 8, ABBA r1 = r2 = r/2 (the paper's equal-budget rule)"),
                ["Alpha"] = C(Silent),
                ["Optimiser"] = C(Silent),
                ["BatchSize"] = C(Silent),
                ["Steps"] = C(Silent),
                ["Seeds"] = C("the paper shows one run; 5 paired seeds in the paper profile, so that each arm's final loss and each paired difference has a 95% interval"),
                ["SweepLearningRates"] = C("a per-method learning-rate sweep; the paper gives no rates for the toy"),
                ["SweepSeeds"] = C("the comparison protocol: the rate with the lowest mean validation loss over at least two seeds"),
                ["ValidationFraction"] = C(Silent),
                ["Checkpoints"] = I("the figure's trajectories carry about 9-10 markers"),
                ["Optima"] = C("the paper does not say what its star is; two independent optima check that the ordering does not hinge on one"),
                ["OptimumGradientTolerance"] = C("the optimum's stopping rule is chosen here (the paper states none)"),
                ["OptimumMaxSteps"] = C("a cap on the optimum's training; reaching it is recorded as not converged"),
                ["OptimumCheckEvery"] = C(Silent),
                ["OptimumBatchSize"] = C(Silent),
                ["OptimumLearningRate"] = C("fixed, so that the optimum does not share any arm's swept rate"),
                ["GridSize"] = C(Silent),
                ["Plane"] = C("the paper does not say how its 2-D projection was made"),
            },
            [typeof(AblationOptions)] = new Dictionary<string, SettingProvenance>
            {
                ["Model"] = C("a small decoder standing in for Mistral-7B (no LLM weights here)"),
                ["Digits"] = C("synthetic arithmetic standing in for MetaMathQA -> GSM8K"),
                ["TestSize"] = C("synthetic task"),
                ["ValidationSize"] = C("the comparison protocol: rates are chosen on a validation split, never the test split"),
                ["PretrainBatchSize"] = C("synthetic task"),
                ["PretrainSteps"] = C("synthetic task"),
                ["PretrainLearningRate"] = C("synthetic task"),
                ["PretrainMix"] = C("calibrated so that the pre-trained model starts above zero on the fine-tuning task, as Mistral-7B does on GSM8K"),
                ["FinetuneSteps"] = C("calibrated so that no arm sits at the floor or the ceiling; the paper: one epoch of 20K examples at effective batch 32"),
                ["FinetuneBatchSize"] = C("the paper: batch 1 with 32 accumulation steps"),
                ["Rank"] = C("the paper uses r = 32 (r1 = r2 = 16); the r1 = r2 = r/2 rule is the paper's"),
                ["AbbaAlpha"] = C("the paper's Mistral-7B alpha is inferred as 24 (Table 8); this decoder is far smaller"),
                ["LoraAlpha"] = C(Silent),
                ["PerComponentMethods"] = S("Figure 3 adapts each projection with ABBA"),
                ["RateGrids"] = I("the paper tunes the learning rate per method; the grids are chosen here"),
                ["SharedRate"] = C("the shared-rate sensitivity rows"),
                ["FixedRate"] = C("set only by --lr: one rate for every arm, no sweep"),
                ["SweepSeeds"] = C("the comparison protocol: rates are chosen on at least two seeds"),
                ["DefaultSeeds"] = C("the comparison protocol asks for at least 5 paired seeds; the paper reports means over 3"),
            },
            [typeof(MemoryOptions)] = new Dictionary<string, SettingProvenance>
            {
                ["Models"] = S("Figure 4's four models"),
                ["Layers"] = C("reduced depth, to fit a CPU; full scale is modelled"),
                ["WidthDivisor"] = C("reduced widths for smoke tests only (1: the real widths)"),
                ["Vocab"] = C("reduced vocabulary, to fit a CPU"),
                ["WarmupSteps"] = C(Silent),
                ["MeasuredSteps"] = C(Silent),
                ["SequenceLength"] = S("batch size 1, sequence length 256"),
                ["Rank"] = I("not stated for Figure 4; r = 32 as in the main tables"),
                ["BFloat16Models"] = C("a check of the modelled bf16 byte sizes"),
                ["BFloat16Methods"] = C("a check of the modelled bf16 byte sizes"),
                ["Tolerance"] = C("how far the analytic model may be from the reduced measurements"),
                ["ChildTimeoutSeconds"] = C("a time limit, not a result setting"),
                ["FullScaleSetting"] = I("dtype and optimiser are not stated for Figure 4; bf16 and AdamW as in the main runs"),
            },
            [typeof(EfficiencyOptions)] = new Dictionary<string, SettingProvenance>
            {
                ["Layers"] = C("the paper times whole GPU runs; these are its models' projection shapes"),
                ["Tokens"] = C("256, Figure 4's sequence length; Table 10 states no batch shape"),
                ["Rank"] = I("not stated for Table 10; r = 32 as in the main tables"),
                ["Warmup"] = C("timing rounds"),
                ["Repeats"] = C("timing rounds"),
                ["DecoderModel"] = C("a reduced Llama-3.2-1B, one of Table 10's models"),
                ["DecoderLayers"] = C("reduced depth, to fit a CPU"),
                ["DecoderVocab"] = C("reduced vocabulary, to fit a CPU"),
                ["DecoderRepeats"] = C("timing rounds"),
            },
        };

    /// <summary>The provenance of <paramref name="configuration"/>'s properties, by their manifest (snake_case) names; null for an unknown type.</summary>
    public static IReadOnlyDictionary<string, SettingProvenance>? ForManifest(object configuration) =>
        All.TryGetValue(configuration.GetType(), out var entries)
            ? entries.ToDictionary(e => JsonNamingPolicy.SnakeCaseLower.ConvertName(e.Key), e => e.Value)
            : null;

    /// <summary>The options record of each experiment, by experiment name.</summary>
    public static IReadOnlyDictionary<string, Type> OptionsOf { get; } = new Dictionary<string, Type>
    {
        ["reconstruction"] = typeof(ReconstructionOptions), ["mnist"] = typeof(MnistOptions), ["ablation"] = typeof(AblationOptions),
        ["memory"] = typeof(MemoryOptions), ["efficiency"] = typeof(EfficiencyOptions),
    };

    /// <summary>The provenance of <paramref name="experiment"/>'s settings in declaration order, with their manifest names; empty when unknown.</summary>
    public static IReadOnlyList<(string Name, string ManifestName, SettingProvenance Provenance)> Of(string experiment) =>
        OptionsOf.TryGetValue(experiment, out var type) && All.TryGetValue(type, out var entries)
            ? [.. entries.Select(e => (e.Key, JsonNamingPolicy.SnakeCaseLower.ConvertName(e.Key), e.Value))]
            : [];
}
