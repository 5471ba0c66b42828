using System.CommandLine;

namespace Abba.Experiments.Experiments;

/// <summary>One runnable reproduction of a paper artefact.</summary>
public interface IExperiment
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

    /// <summary>The experiment's own settings as resolved by <see cref="Configure"/>, recorded in the manifest.</summary>
    object Configuration { get; }

    /// <summary>
    /// The configured run's units in run order (<see cref="Configure"/> first). <see cref="Run"/> gets each result with
    /// <see cref="ExperimentContext.Unit{T}"/>; a shard computes only its share of this list; a merge needs all of it stored.
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
    /// Where each property of the options record comes from (stated, inferred, chosen), by property name; kept beside the
    /// options in <c>&lt;Name&gt;/Options.cs</c>. A test checks it covers every property of every registered experiment.
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

/// <summary>Values of an experiment's own options: parsed ones where given, defaults otherwise.</summary>
public sealed class OptionValues(ParseResult? parse)
{
    /// <summary>No options were given: every option takes its default.</summary>
    public static OptionValues Defaults { get; } = new(null);

    /// <summary>The value of <paramref name="option"/>.</summary>
    public T Get<T>(Option<T> option)
    {
        if (parse?.GetResult(option) is { } result && !result.Implicit) return parse.GetValue(option)!;
        return option.DefaultValueFactory is { } make ? make(null!) : default!;
    }
}
