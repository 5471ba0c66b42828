namespace Abba.Experiments.Report;

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
