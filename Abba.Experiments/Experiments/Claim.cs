namespace Abba.Experiments.Experiments;

/// <summary>How a measurement compares with the paper's claim.</summary>
public enum Verdict
{
    /// <summary>The criterion holds.</summary>
    Reproduced,
    /// <summary>The criterion holds for some points or in direction only.</summary>
    Partly,
    /// <summary>The criterion fails.</summary>
    NotReproduced,
    /// <summary>The results needed to judge are missing.</summary>
    NotRun,
}

/// <summary>One paper claim that the harness tests, with the measured value and the verdict.</summary>
/// <param name="Artefact">Paper figure or table.</param>
/// <param name="Statement">The claim in words.</param>
/// <param name="PaperValue">What the paper reports.</param>
/// <param name="MeasuredValue">What this harness measured.</param>
/// <param name="Criterion">The rule that decides the verdict.</param>
/// <param name="Verdict">The outcome.</param>
public sealed record Claim(string Artefact, string Statement, string PaperValue, string MeasuredValue, string Criterion, Verdict Verdict);

/// <summary>An experiment that can judge the paper's claims from the CSVs in its results folder.</summary>
public interface IClaimSource
{
    /// <summary>The claims this experiment tests, judged from the CSVs in <paramref name="folder"/>.</summary>
    /// <exception cref="FileNotFoundException">The experiment has not been run.</exception>
    IReadOnlyList<Claim> Claims(string folder);

    /// <summary>Every way this reproduction departs from the paper's setting, in words.</summary>
    IReadOnlyList<string> Deviations { get; }
}

/// <summary>The one rule that turns per-point checks into a verdict.</summary>
public static class Verdicts
{
    /// <summary>
    /// Reproduced when every judged point holds, partly when some do, not reproduced when none do, and not run when no
    /// point could be judged (null entries are points without the data to judge them).
    /// </summary>
    public static Verdict Judge(IEnumerable<bool?> holds)
    {
        var judged = holds.Where(h => h is not null).Select(h => h!.Value).ToArray();
        if (judged.Length == 0) return Verdict.NotRun;
        return judged.All(h => h) ? Verdict.Reproduced : judged.Any(h => h) ? Verdict.Partly : Verdict.NotReproduced;
    }

    /// <inheritdoc cref="Judge(IEnumerable{bool?})"/>
    public static Verdict Judge(IEnumerable<bool> holds) => Judge(holds.Select(h => (bool?)h));
}
