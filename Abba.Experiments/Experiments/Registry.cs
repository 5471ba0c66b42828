using Abba.Experiments.Experiments.Ablation;
using Abba.Experiments.Experiments.Design;
using Abba.Experiments.Experiments.Efficiency;
using Abba.Experiments.Experiments.Memory;
using Abba.Experiments.Experiments.Mnist;
using Abba.Experiments.Experiments.Reconstruction;

// The registry names every experiment, so it sits above them: its own namespace keeps the experiments' namespaces
// depending on the contract (Abba.Experiments.Experiments) and never the other way round.
namespace Abba.Experiments.Experiments.Catalogue;

/// <summary>Every experiment the CLI knows, in the order <c>abba all</c> runs them. Each call makes a fresh instance.</summary>
public static class Registry
{
    static readonly (string Name, Func<IExperiment> Create)[] Entries =
    [
        ("reconstruction", () => new ReconstructionExperiment()),
        ("mnist", () => new MnistExperiment()),
        ("ablation", () => new AblationExperiment()),
        ("design", () => new DesignExperiment()),
        ("memory", () => new MemoryExperiment()),
        ("efficiency", () => new EfficiencyExperiment()),
    ];

    /// <summary>Experiment names in registry order.</summary>
    public static IReadOnlyList<string> Names => Entries.Select(e => e.Name).ToArray();

    /// <summary>A fresh instance of every experiment, in registry order.</summary>
    public static IReadOnlyList<IExperiment> CreateAll() => Entries.Select(e => e.Create()).ToArray();

    /// <summary>A fresh instance of <paramref name="name"/>, or null when no experiment has that name.</summary>
    public static IExperiment? TryCreate(string name) =>
        Entries.FirstOrDefault(e => e.Name == name).Create?.Invoke();
}
