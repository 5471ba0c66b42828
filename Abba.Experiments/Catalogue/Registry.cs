using Abba.Experiments.Ablation;
using Abba.Experiments.Design;
using Abba.Experiments.Efficiency;
using Abba.Experiments.Encoder;
using Abba.Experiments.Memory;
using Abba.Experiments.Mnist;
using Abba.Experiments.Output;
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
        new ReconstructionExperiment(),
        new MnistExperiment(),
        new AblationExperiment(),
        new DesignExperiment(),
        new EncoderExperiment(),
        new MemoryExperiment(),
        new EfficiencyExperiment(),
    ];

    /// <summary>
    /// The experiments that time steps or measure memory: <c>abba all</c> runs them one at a time with nothing beside
    /// them, after the ones it may run side by side.
    /// </summary>
    public static IReadOnlySet<string> RunsAlone { get; } =
        new HashSet<string> { new MemoryExperiment().Info.Name, new EfficiencyExperiment().Info.Name };

    /// <summary>Experiment names in registry order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. CreateAll().Select(e => e.Info.Name)];

    /// <summary>
    /// The source folder of <paramref name="experiment"/> inside Abba.Experiments: the last part of its namespace
    /// (one folder and namespace per experiment).
    /// </summary>
    public static string SourceFolderOf(IExperiment experiment)
    {
        var type = experiment.GetType();
        return type.Namespace![(type.Namespace!.LastIndexOf('.') + 1)..];
    }

    /// <summary>The source folders of every registered experiment.</summary>
    public static IReadOnlyList<string> SourceFolders { get; } = [.. CreateAll().Select(SourceFolderOf)];

    /// <summary>The hashes of the sources <paramref name="experiment"/>'s results depend on, in this build.</summary>
    public static SourceHashes SourcesOf(IExperiment experiment) =>
        SourceHashes.For(SourceFolderOf(experiment), SourceFolders, experiment.Info.UsesFolders);

    /// <summary>A fresh instance of <paramref name="name"/>, or null when no experiment has that name.</summary>
    public static IExperiment? TryCreate(string name) => CreateAll().FirstOrDefault(e => e.Info.Name == name);
}
