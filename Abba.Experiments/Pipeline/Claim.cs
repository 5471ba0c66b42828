using Abba.Core.Statistics;

namespace Abba.Experiments.Pipeline;

/// <summary>How a measurement compares with the paper's claim.</summary>
public enum Verdict
{
    /// <summary>The criterion holds (interval rules: the effect has the paper's sign and its interval excludes
    /// zero).</summary>
    Reproduced,
    /// <summary>Some parts hold and others do not (interval rules: multi-part claims only, naming the parts).</summary>
    Partly,
    /// <summary>The criterion fails (interval rules: the interval lies wholly on the other side of zero).</summary>
    NotReproduced,
    /// <summary>The results needed to judge are missing.</summary>
    NotRun,
    /// <summary>Interval rules: the interval includes zero (or there are too few seeds for one), so the data cannot
    /// decide.</summary>
    Inconclusive,
}

/// <summary>Which set of rules decided a claim's verdict.</summary>
public enum RuleSet
{
    /// <summary>The claim's own criterion, stated in its row: a threshold or a property, not a paired
    /// comparison.</summary>
    Criterion,
    /// <summary>The protocol's interval rules (<see cref="Verdicts.FromInterval"/>, <see
    /// cref="Verdicts.Combine"/>).</summary>
    Interval,
}

/// <summary>One paper claim that the harness tests, with the measured value and the verdict.</summary>
/// <param name="Artefact">Paper figure or table.</param>
/// <param name="Statement">The claim in words.</param>
/// <param name="PaperValue">What the paper reports.</param>
/// <param name="MeasuredValue">What this harness measured.</param>
/// <param name="Criterion">The rule that decides the verdict.</param>
/// <param name="Verdict">The outcome.</param>
/// <param name="Rules">Which rule set decided it.</param>
public sealed record Claim(string Artefact, string Statement, string PaperValue, string MeasuredValue, string Criterion,
    Verdict Verdict, RuleSet Rules = RuleSet.Criterion)
{
    /// <summary>Judged from the analytic memory model, not from a measurement: the report marks it
    /// "modelled".</summary>
    public bool Modelled { get; init; }
}

/// <summary>How a claim is decided: which rule set, and the comparison or criterion, in words.</summary>
public abstract record Decision
{
    /// <summary>The rule set this decision uses.</summary>
    public abstract RuleSet Rules { get; }

    /// <summary>The criterion column's text.</summary>
    public abstract string Describe();
}

/// <summary>
/// Interval rules on one effect per replicate (or one per part, for a multi-part claim).
/// </summary>
/// <param name="Effect">The effect as measured, e.g. "CE(baseline) - CE(ABBA) per seed at each arm's tuned
/// rate".</param>
/// <param name="PaperSign">+1 when the paper's claim predicts a positive effect, -1 for a negative one.</param>
/// <param name="PerPart">What the parts are ("baseline", "projection") for a multi-part claim; null for one
/// effect.</param>
/// <param name="Note">Anything the reader needs beside it (which runs count, what is left out), appended.</param>
public sealed record ByInterval(string Effect, int PaperSign, string? PerPart = null, string? Note = null) : Decision
{
    /// <inheritdoc />
    public override RuleSet Rules => RuleSet.Interval;

    /// <inheritdoc />
    public override string Describe()
    {
        string sign = PaperSign > 0 ? "positive" : "negative";
        string per = PerPart is null ? "" : $"per {PerPart}, ";
        string note = Note is null ? "" : $"; {Note}";
        return $"{per}{Effect}, {sign} as the paper says{note}{(PerPart is null ? "" : "; multi-part")}";
    }
}

/// <summary>Criterion rules: the claim's own threshold or property decides.</summary>
/// <param name="Criterion">The criterion in words.</param>
public sealed record ByCriterion(string Criterion) : Decision
{
    /// <inheritdoc />
    public override RuleSet Rules => RuleSet.Criterion;

    /// <inheritdoc />
    public override string Describe() => Criterion;
}

/// <summary>
/// A claim as an experiment declares it: the artefact, the statement, the paper's numbers and how it is decided. The
/// measurement and the verdict are added by <see cref="Judge"/>; the report's long text comes from these parts.
/// </summary>
/// <param name="Artefact">Paper figure or table.</param>
/// <param name="Statement">The claim in words.</param>
/// <param name="Paper">What the paper reports.</param>
/// <param name="Decision">Which comparison or criterion decides it, under which rule set.</param>
public sealed record ClaimSpec(string Artefact, string Statement, string Paper, Decision Decision)
{
    /// <summary>
    /// The claim with what was measured and its verdict; <paramref name="label"/> (for example " (quick profile)") is
    /// appended to the criterion.
    /// </summary>
    public Claim Judge(string measured, Verdict verdict, string label = "") =>
        new(Artefact, Statement, Paper, measured, Decision.Describe() + label, verdict, Decision.Rules);

    /// <summary>The claim when the results it needs are missing.</summary>
    public Claim NotRun(string why) => Judge(why, Verdict.NotRun);
}

/// <summary>The rules that turn checks into verdicts, written once: the per-point criterion rule and the interval
/// rules.</summary>
public static class Verdicts
{
    /// <summary>The report's legend: both rule sets, and which claims use which.</summary>
    public const string Legend =
        "Verdicts follow one of two rule sets, named in each claim's `rules` column. " +
        "**interval** (the comparison protocol: paired seeds, tuned learning rates, 95% intervals): " +
        "**reproduced** when the measured effect has the paper's sign and its interval excludes zero; " +
        "**not reproduced** when the interval lies wholly on the other side of zero; " +
        "**inconclusive** when it includes zero (or fewer than two seeds give no interval), or when the effect's " +
        "size is within the measured noise floor (where one is measured: the largest effect that two mathematically " +
        "identical arms show, from floating-point summation order alone); " +
        "**partly** only for multi-part claims where some parts are reproduced and others are not, naming which. " +
        "**criterion** (claims decided by a stated threshold or property rather than a paired comparison): " +
        "the claim's own criterion column decides; **reproduced** when it holds, **partly** " +
        "when it holds for some points or in direction only, **not reproduced** when it fails. " +
        "**not run**: the results needed are missing.";

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

    /// <summary>
    /// Interval rule for one effect whose paper sign is <paramref name="paperSign"/> (+1 or -1): reproduced when the
    /// interval excludes zero on the paper's side, not reproduced when it lies wholly on the other side, inconclusive
    /// when it includes zero or does not exist, and inconclusive whatever its interval when the effect's size is
    /// within <paramref name="noiseFloor"/> (the largest effect two mathematically identical arms showed, where one is
    /// measured).
    /// </summary>
    public static Verdict FromInterval(ConfidenceInterval effect, int paperSign, double noiseFloor = 0)
    {
        if (paperSign is not (1 or -1))
            throw new ArgumentOutOfRangeException(nameof(paperSign), paperSign, "the paper's sign is +1 or -1");
        ArgumentOutOfRangeException.ThrowIfNegative(noiseFloor);
        if (Math.Abs(effect.Estimate) <= noiseFloor) return Verdict.Inconclusive;
        int sign = effect.SignExcludingZero;
        return sign == 0 ? Verdict.Inconclusive : sign == paperSign ? Verdict.Reproduced : Verdict.NotReproduced;
    }

    /// <summary>
    /// Interval rule for a claim of several parts, each judged by <see cref="FromInterval"/>: every part reproduced
    /// gives
    /// reproduced; some reproduced and the others not (or inconclusive) give partly; none reproduced but some not
    /// reproduced gives not reproduced (one refuted part refutes the claim); all inconclusive gives inconclusive.
    /// </summary>
    public static Verdict Combine(IReadOnlyCollection<Verdict> parts)
    {
        if (parts.Contains(Verdict.Partly))
            throw new ArgumentException("each part is one effect, judged by FromInterval", nameof(parts));
        var judged = parts.Where(p => p != Verdict.NotRun).ToArray();   // parts without data do not count
        if (judged.Length == 0) return Verdict.NotRun;
        if (judged.All(p => p == Verdict.Reproduced)) return Verdict.Reproduced;
        if (judged.Contains(Verdict.Reproduced)) return Verdict.Partly;
        return judged.Contains(Verdict.NotReproduced) ? Verdict.NotReproduced : Verdict.Inconclusive;
    }
}
