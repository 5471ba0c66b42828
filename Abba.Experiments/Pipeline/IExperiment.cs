using System.CommandLine;

namespace Abba.Experiments.Pipeline;

/// <summary>One figure an experiment draws: its base name (saved as .png and .svg) and the paper artefact it
/// shows.</summary>
public sealed record FigureInfo(string Name, string Artefact);

/// <summary>What an experiment is, for the CLI, the report and the README: data only.</summary>
/// <param name="Name">Name on the command line and of the results folder.</param>
/// <param name="Description">One line saying what it measures.</param>
/// <param name="PaperArtefact">The paper figures or tables it reproduces, as one label.</param>
/// <param name="CsvNames">The CSVs every completed run writes.</param>
/// <param name="Figures">The figures every completed run writes.</param>
public sealed record ExperimentInfo(
    string Name, string Description, string PaperArtefact, IReadOnlyList<string> CsvNames,
    IReadOnlyList<FigureInfo> Figures)
{
    /// <summary>
    /// libtorch intra-op threads on the CPU when <c>--threads</c> is 0; 0 means libtorch's default. An explicit
    /// <c>--threads</c> always wins; the manifest records the count used.
    /// </summary>
    public int PreferredCpuThreads { get; init; }

    /// <summary>
    /// Folders of other experiments whose code this one uses (for example efficiency reuses memory's cost arms): their
    /// sources count among this experiment's in the manifest's source hashes. A test checks it against the code.
    /// </summary>
    public IReadOnlyList<string> UsesFolders { get; init; } = [];
}

/// <summary>
/// One runnable reproduction of a paper artefact. An experiment object holds no run state: <see cref="Configure"/>
/// turns options into an immutable <see cref="IPlannedRun"/>, whose units the runner loads or computes; figures and
/// claims read only what a run wrote into its folder.
/// </summary>
public interface IExperiment
{
    /// <summary>Name, description, artefact and the files a run writes.</summary>
    ExperimentInfo Info { get; }

    /// <summary>Options of this experiment alone, added to <c>abba run NAME</c>; <see cref="Configure"/> reads
    /// these.</summary>
    IReadOnlyList<Option> Options { get; }

    /// <summary>Where each property of the options record comes from (stated, inferred, chosen), by property
    /// name.</summary>
    IReadOnlyDictionary<string, SettingProvenance> Provenance { get; }

    /// <summary>Every way this reproduction departs from the paper's setting, in words.</summary>
    IReadOnlyList<string> Deviations { get; }

    /// <summary>Reads this experiment's options, checks them with the common settings, and plans the run.</summary>
    Configured Configure(OptionValues values, RunSettings settings);

    /// <summary>Redraws the figures from the files already in <paramref name="folder"/>; returns the files
    /// written.</summary>
    IReadOnlyList<string> Plot(string folder);

    /// <summary>The paper claims this experiment tests, judged from the files in <paramref name="folder"/>.</summary>
    /// <exception cref="FileNotFoundException">The experiment has not been run.</exception>
    IReadOnlyList<Claim> Claims(string folder);
}

/// <summary>A configured run: immutable options, the units it consists of, and the pipeline from units to
/// files.</summary>
public interface IPlannedRun
{
    /// <summary>The experiment's own settings as resolved, recorded in the manifest.</summary>
    object Options { get; }

    /// <summary>The settings that change a unit's result, hashed into every unit's identity.</summary>
    object UnitSettings => Options;

    /// <summary>The seeds the run uses, recorded in the manifest.</summary>
    IReadOnlyList<int> Seeds { get; }

    /// <summary>
    /// The run's units in run order. <see cref="Run"/> gets each result with <see cref="ExperimentContext.Unit{T}"/>;
    /// a shard computes only its share of this list; a merge needs all of it stored.
    /// </summary>
    IReadOnlyList<UnitPlan> Units { get; }

    /// <summary>Builds the outputs (CSVs, summary, figures) from the units, through the context.</summary>
    void Run(ExperimentContext context);
}

/// <summary>What <see cref="IExperiment.Configure"/> gives: a planned run, or the problems (one line each).</summary>
public sealed record Configured(IPlannedRun? Plan, IReadOnlyList<string> Problems)
{
    /// <summary>A valid configuration.</summary>
    public static Configured Ok(IPlannedRun plan) => new(plan, []);

    /// <summary>An invalid one: nothing may run.</summary>
    public static Configured Invalid(IReadOnlyList<string> problems) => new(null, problems);

    /// <summary><paramref name="plan"/> when <paramref name="problems"/> is empty, else the problems.</summary>
    public static Configured From(IReadOnlyList<string> problems, Func<IPlannedRun> plan) =>
        problems.Count == 0 ? Ok(plan()) : Invalid(problems);
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
