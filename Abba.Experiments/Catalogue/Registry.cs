using Abba.Experiments.Ablation;
using Abba.Experiments.Design;
using Abba.Experiments.Efficiency;
using Abba.Experiments.Memory;
using Abba.Experiments.Mnist;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Reconstruction;

// The registry names every experiment, so it sits above them: its own namespace keeps the experiments' namespaces
// depending on the contract (Abba.Experiments.Pipeline) and never the other way round.
namespace Abba.Experiments.Catalogue;

/// <summary>Every experiment the CLI knows, in the order <c>abba all</c> runs them.</summary>
public static class Registry
{
    /// <summary>A fresh instance of every experiment, in registry order (the CLI makes one set and keeps it).</summary>
    public static IReadOnlyList<IExperiment> CreateAll() =>
    [
        new LegacyExperiment(new ReconstructionExperiment()),
        new LegacyExperiment(new MnistExperiment()),
        new LegacyExperiment(new AblationExperiment()),
        new LegacyExperiment(new DesignExperiment()),
        new LegacyExperiment(new MemoryExperiment()),
        new LegacyExperiment(new EfficiencyExperiment()),
    ];

    /// <summary>Experiment names in registry order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. CreateAll().Select(e => e.Info.Name)];

    /// <summary>A fresh instance of <paramref name="name"/>, or null when no experiment has that name.</summary>
    public static IExperiment? TryCreate(string name) => CreateAll().FirstOrDefault(e => e.Info.Name == name);
}
