using System.CommandLine;
using Abba.Experiments.Units;

namespace Abba.Experiments.Pipeline;

/// <summary>The earlier, stateful experiment shape: configured in place, then run. <see cref="LegacyExperiment"/>
/// adapts it.</summary>
public interface ILegacyExperiment
{
    /// <summary>Name used on the command line and as the results folder.</summary>
    string Name { get; }

    /// <summary>One line saying what it measures.</summary>
    string Description { get; }

    /// <summary>The paper figure or table it reproduces.</summary>
    string PaperArtefact { get; }

    /// <summary>Options of this experiment alone, added to <c>abba run NAME</c>.</summary>
    IReadOnlyList<Option> Options { get; }

    /// <summary>Reads this experiment's options and checks them together with the common settings.</summary>
    /// <returns>One message per problem; empty when the configuration is valid.</returns>
    IReadOnlyList<string> Configure(OptionValues values, RunSettings settings);

    /// <summary>The experiment's own settings as resolved by <see cref="Configure"/>, recorded in the
    /// manifest.</summary>
    object Configuration { get; }

    /// <summary>
    /// The configured run's units in run order (<see cref="Configure"/> first). <see cref="Run"/> gets each result with
    /// <see cref="ExperimentContext.Unit{T}"/>; a shard computes only its share of this list; a merge needs all of it
    /// stored.
    /// </summary>
    IReadOnlyList<UnitPlan> PlanUnits(RunSettings settings);

    /// <summary>
    /// The settings that change a unit's result, hashed into every unit's identity: <see cref="Configuration"/> unless
    /// it holds things that do not (input folders, for example).
    /// </summary>
    object UnitConfiguration => Configuration;

    /// <summary>Runs the experiment, writing CSVs and figures through the context.</summary>
    void Run(ExperimentContext context);

    /// <summary>The CSVs every completed run writes, by file name.</summary>
    IReadOnlyList<string> CsvNames { get; }

    /// <summary>
    /// Where each property of the options record comes from (stated, inferred, chosen), by property name; kept beside
    /// the
    /// options in <c>&lt;Name&gt;/Options.cs</c>. A test checks it covers every property of every registered
    /// experiment.
    /// </summary>
    IReadOnlyDictionary<string, SettingProvenance> Provenance => new Dictionary<string, SettingProvenance>();

    /// <summary>The figures every completed run writes, by base name (each saved as .png and .svg).</summary>
    IReadOnlyList<string> FigureNames { get; }

    /// <summary>Redraws the figures from the CSVs already in <paramref name="folder"/>.</summary>
    /// <returns>The files written.</returns>
    IReadOnlyList<string> Plot(string folder);

    /// <summary>
    /// libtorch intra-op threads this experiment runs with on the CPU when <c>--threads</c> is 0; 0 means libtorch's
    /// default. An explicit <c>--threads</c> always wins; the manifest records the count used.
    /// </summary>
    int PreferredCpuThreads => 0;
}

/// <summary>An experiment that can judge the paper's claims from the CSVs in its results folder.</summary>
public interface IClaimSource
{
    /// <summary>The claims this experiment tests, judged from the CSVs in <paramref name="folder"/>.</summary>
    /// <exception cref="FileNotFoundException">The experiment has not been run.</exception>
    IReadOnlyList<Claim> Claims(string folder);

    /// <summary>Every way this reproduction departs from the paper's setting, in words.</summary>
    IReadOnlyList<string> Deviations { get; }
}

/// <summary>Adapts an <see cref="ILegacyExperiment"/> (configured in place) to <see cref="IExperiment"/>.</summary>
public sealed class LegacyExperiment(ILegacyExperiment inner) : IExperiment
{
    /// <summary>The adapted experiment.</summary>
    public ILegacyExperiment Inner => inner;

    /// <inheritdoc />
    public ExperimentInfo Info { get; } = new(inner.Name, inner.Description, inner.PaperArtefact, inner.CsvNames,
        [.. inner.FigureNames.Select(f => new FigureInfo(f, inner.PaperArtefact))]) { PreferredCpuThreads = inner.PreferredCpuThreads };
    /// <inheritdoc />
    public IReadOnlyList<Option> Options => inner.Options;
    /// <inheritdoc />
    public IReadOnlyDictionary<string, SettingProvenance> Provenance => inner.Provenance;
    /// <inheritdoc />
    public IReadOnlyList<string> Deviations => ((IClaimSource)inner).Deviations;
    /// <inheritdoc />
    public IReadOnlyList<Claim> Claims(string folder) => ((IClaimSource)inner).Claims(folder);
    /// <inheritdoc />
    public IReadOnlyList<string> Plot(string folder) => inner.Plot(folder);

    /// <inheritdoc />
    public Configured Configure(OptionValues values, RunSettings settings) =>
        Configured.From(inner.Configure(values, settings), () => new Run(inner, settings));

    sealed class Run(ILegacyExperiment inner, RunSettings settings) : IPlannedRun
    {
        public object Options { get; } = inner.Configuration;
        public object UnitSettings { get; } = inner.UnitConfiguration;
        public IReadOnlyList<int> Seeds => [];
        public IReadOnlyList<UnitPlan> Units { get; } = inner.PlanUnits(settings);
        void IPlannedRun.Run(ExperimentContext context) => inner.Run(context);
    }
}
