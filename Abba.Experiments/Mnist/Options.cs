using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
namespace Abba.Experiments.Mnist;

/// <summary>Settings of the mnist experiment, recorded in the manifest. Every method gets the same optimiser, batch
/// size and steps.</summary>
public sealed record MnistOptions
{
    /// <summary>The MNIST files shipped beside abba.dll (found from any working directory and any host, e.g. a notebook
    /// kernel).</summary>
    public static string DefaultDataFolder => Path.Combine(ProgramFiles.Folder, "data", "mnist");

    /// <summary>Folder with the four MNIST IDX files.</summary>
    public string DataFolder { get; init; } = DefaultDataFolder;
    /// <summary>H in 784 -> H -> 10.</summary>
    public int Hidden { get; init; } = 256;
    /// <summary>Pre-training on digits 0-7: epochs, batch size, Adam learning rate (same in both profiles, so the cache
    /// is shared).</summary>
    public int PretrainEpochs { get; init; } = 5;
    /// <inheritdoc cref="PretrainEpochs"/>
    public int PretrainBatchSize { get; init; } = 128;
    /// <inheritdoc cref="PretrainEpochs"/>
    public double PretrainLearningRate { get; init; } = 1e-3;
    /// <summary>Test accuracy on 0-7 that pre-training must reach, or the run fails.</summary>
    public double PretrainMinimumAccuracy { get; init; } = 0.97;
    /// <summary>r: LoRA rank r, HiRA rank r, ABBA r1 = r2 = r/2 (equal parameter counts).</summary>
    public int Rank { get; init; } = 8;
    /// <summary>alpha: LoRA s = alpha/r; ABBA s = alpha^2/sqrt(r1 r2) (paper scaling); HiRA has no scale.</summary>
    public double Alpha { get; init; } = 16;
    /// <summary>The optimiser, in words.</summary>
    public string Optimiser { get; init; } =
        "Adam (betas 0.9/0.999, eps 1e-8, no weight decay), constant learning rate";
    /// <summary>Fine-tuning mini-batch size.</summary>
    public int BatchSize { get; init; } = 64;
    /// <summary>Fine-tuning steps (every method).</summary>
    public int Steps { get; init; } = 300;
    /// <summary>Seeds when --seeds is not given.</summary>
    public int Seeds { get; init; } = 1;
    /// <summary>Learning rates tried for each method on the validation split.</summary>
    public double[] SweepLearningRates { get; init; } = [];
    /// <summary>The first this many seeds run the sweep; each method gets the rate with the lowest mean validation loss
    /// over them.</summary>
    public int SweepSeeds { get; init; } = 2;
    /// <summary>Share of the 8-9 training images held out as the validation split for the sweep (never trained
    /// on).</summary>
    public double ValidationFraction { get; init; } = 0.1;
    /// <summary>Evenly spaced checkpoints per trajectory (plus the start).</summary>
    public int Checkpoints { get; init; } = 10;
    /// <summary>Reference optima, each full fine-tuning from the first seed's W0 with its own seed and batch order (the
    /// first anchors the landscape; the rest check the ordering).</summary>
    public int Optima { get; init; } = 2;
    /// <summary>An optimum's Adam steps stop once the full-batch training-loss gradient norm is below this (or at <see
    /// cref="OptimumMaxSteps"/>, recorded as not converged).</summary>
    public double OptimumGradientTolerance { get; init; } = 1e-3;
    /// <summary>Cap on an optimum's steps.</summary>
    public int OptimumMaxSteps { get; init; } = 20000;
    /// <summary>Steps between an optimum's full-batch gradient checks.</summary>
    public int OptimumCheckEvery { get; init; } = 100;
    /// <summary>An optimum's mini-batch size.</summary>
    public int OptimumBatchSize { get; init; } = 256;
    /// <summary>An optimum's constant Adam learning rate (fixed, not any arm's swept rate).</summary>
    public double OptimumLearningRate { get; init; } = 1e-3;
    /// <summary>Landscape grid points per axis.</summary>
    public int GridSize { get; init; } = 31;
    /// <summary>How the landscape plane is made.</summary>
    public string Plane { get; init; } =
        "through the shared start W0 and the first reference optimum: x = unit direction from W0 to it; " +
        "y = leading principal direction (PCA, not mean-centred) of the displacements from W0 " +
        "of every method's checkpoints (first seed) with their x component removed; " +
        "points are flattened effective parameters [W1, b1, W2, b2] (W = W0 + dW); " +
        "loss = mean cross-entropy on the 8-9 fine-tuning split at the plane's points";

    /// <summary>CPU-friendly: two seeds, 300 steps, a 5-point sweep.</summary>
    public static MnistOptions Quick => new()
    {
        Steps = 300, Seeds = 2, SweepLearningRates = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1], GridSize = 31,
    };

    /// <summary>Seconds-long settings for the smoke test: a narrow MLP, one pre-training epoch, a few steps, a coarse
    /// grid.</summary>
    public static MnistOptions Tiny => new()
    {
        Hidden = 32, PretrainEpochs = 1, PretrainMinimumAccuracy = 0.9, Steps = 20, Seeds = 1,
        SweepLearningRates = [1e-2, 3e-2], SweepSeeds = 1, Checkpoints = 4,
        OptimumMaxSteps = 40, OptimumCheckEvery = 20, GridSize = 5,
    };

    /// <summary>Five seeds, 1000 steps, a 7-point sweep on two seeds, a finer landscape.</summary>
    public static MnistOptions Paper => new() { Steps = 1000, Seeds = 5,
        SweepLearningRates = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1], GridSize = 41 };

    /// <summary>Where each setting comes from: stated by the paper, inferred from it, or chosen here (one entry per
    /// property; a test fails when a property has none). Written to the manifest as
    /// <c>configuration_provenance</c>.</summary>
    public static IReadOnlyDictionary<string, SettingProvenance> Provenance { get; } =
        new Dictionary<string, SettingProvenance>
    {
        ["DataFolder"] = SettingProvenance.Chosen("where the shipped MNIST copy lies; not a result setting"),
        ["Hidden"] = SettingProvenance.Chosen("the paper states a 2-layer MLP, not its width"),
        ["PretrainEpochs"] = SettingProvenance.Chosen(SettingProvenance.Silent),
        ["PretrainBatchSize"] = SettingProvenance.Chosen(SettingProvenance.Silent),
        ["PretrainLearningRate"] = SettingProvenance.Chosen(SettingProvenance.Silent),
        ["PretrainMinimumAccuracy"] = SettingProvenance.Chosen("a sanity check of pre-training"),
        ["Rank"] = SettingProvenance.Chosen("ranks are not stated for the toy; r = 8, ABBA r1 = r2 = r/2 (the " +
            "paper's equal-budget rule)"),
        ["Alpha"] = SettingProvenance.Chosen(SettingProvenance.Silent),
        ["Optimiser"] = SettingProvenance.Chosen(SettingProvenance.Silent),
        ["BatchSize"] = SettingProvenance.Chosen(SettingProvenance.Silent),
        ["Steps"] = SettingProvenance.Chosen(SettingProvenance.Silent),
        ["Seeds"] = SettingProvenance.Chosen("the paper shows one run; 5 paired seeds in the paper profile, so that " +
            "each arm's final loss and each paired difference has a 95% interval"),
        ["SweepLearningRates"] = SettingProvenance.Chosen("a per-method learning-rate sweep; the paper gives no " +
            "rates for the toy"),
        ["SweepSeeds"] = SettingProvenance.Chosen("the comparison protocol: the rate with the lowest mean " +
            "validation loss over at least two seeds"),
        ["ValidationFraction"] = SettingProvenance.Chosen(SettingProvenance.Silent),
        ["Checkpoints"] = SettingProvenance.Inferred("the figure's trajectories carry about 9-10 markers"),
        ["Optima"] = SettingProvenance.Chosen("the paper does not say what its star is; two independent optima " +
            "check that the ordering does not hinge on one"),
        ["OptimumGradientTolerance"] = SettingProvenance.Chosen("the optimum's stopping rule is chosen here (the " +
            "paper states none)"),
        ["OptimumMaxSteps"] = SettingProvenance.Chosen("a cap on the optimum's training; reaching it is recorded as " +
            "not converged"),
        ["OptimumCheckEvery"] = SettingProvenance.Chosen(SettingProvenance.Silent),
        ["OptimumBatchSize"] = SettingProvenance.Chosen(SettingProvenance.Silent),
        ["OptimumLearningRate"] = SettingProvenance.Chosen("fixed, so that the optimum does not share any arm's " +
            "swept rate"),
        ["GridSize"] = SettingProvenance.Chosen(SettingProvenance.Silent),
        ["Plane"] = SettingProvenance.Chosen("the paper does not say how its 2-D projection was made"),
    };
}
