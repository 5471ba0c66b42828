using Abba.Core.Statistics;
using Abba.Experiments.Units;

namespace Abba.Experiments.Pipeline;

/// <summary>How a measurement compares with the paper's claim.</summary>
public enum Verdict
{
    /// <summary>The criterion holds (interval rules: the effect has the paper's sign and its interval excludes zero).</summary>
    Reproduced,
    /// <summary>Some parts hold and others do not (interval rules: multi-part claims only, naming the parts).</summary>
    Partly,
    /// <summary>The criterion fails (interval rules: the interval lies wholly on the other side of zero).</summary>
    NotReproduced,
    /// <summary>The results needed to judge are missing.</summary>
    NotRun,
    /// <summary>Interval rules: the interval includes zero (or there are too few seeds for one), so the data cannot decide.</summary>
    Inconclusive,
}

/// <summary>Which set of rules decided a claim's verdict.</summary>
public enum RuleSet
{
    /// <summary>The claim's own criterion, stated in its row (experiments not yet converted to the protocol).</summary>
    Criterion,
    /// <summary>The protocol's interval rules (<see cref="Verdicts.FromInterval"/>, <see cref="Verdicts.Combine"/>).</summary>
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
public sealed record Claim(string Artefact, string Statement, string PaperValue, string MeasuredValue, string Criterion, Verdict Verdict,
    RuleSet Rules = RuleSet.Criterion);

/// <summary>The rules that turn checks into verdicts, written once: the per-point criterion rule and the interval rules.</summary>
public static class Verdicts
{
    /// <summary>The report's legend: both rule sets, and which claims use which.</summary>
    public const string Legend =
        "Verdicts follow one of two rule sets, named in each claim's `rules` column. " +
        "**interval** (the comparison protocol: paired seeds, tuned learning rates, 95% intervals): **reproduced** when the measured effect has the paper's sign " +
        "and its interval excludes zero; **not reproduced** when the interval lies wholly on the other side of zero; **inconclusive** when it includes zero " +
        "(or fewer than two seeds give no interval); **partly** only for multi-part claims where some parts are reproduced and others are not, naming which. " +
        "**criterion** (experiments not yet converted to the protocol): the claim's own criterion column decides; **reproduced** when it holds, **partly** " +
        "when it holds for some points or in direction only, **not reproduced** when it fails. **not run**: the results needed are missing.";

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
    /// when it includes zero or does not exist.
    /// </summary>
    public static Verdict FromInterval(ConfidenceInterval effect, int paperSign)
    {
        if (paperSign is not (1 or -1)) throw new ArgumentOutOfRangeException(nameof(paperSign), paperSign, "the paper's sign is +1 or -1");
        int sign = effect.SignExcludingZero;
        return sign == 0 ? Verdict.Inconclusive : sign == paperSign ? Verdict.Reproduced : Verdict.NotReproduced;
    }

    /// <summary>
    /// Interval rule for a claim of several parts, each judged by <see cref="FromInterval"/>: every part reproduced gives
    /// reproduced; some reproduced and the others not (or inconclusive) give partly; none reproduced but some not
    /// reproduced gives not reproduced (one refuted part refutes the claim); all inconclusive gives inconclusive.
    /// </summary>
    public static Verdict Combine(IReadOnlyCollection<Verdict> parts)
    {
        if (parts.Contains(Verdict.Partly)) throw new ArgumentException("each part is one effect, judged by FromInterval", nameof(parts));
        var judged = parts.Where(p => p != Verdict.NotRun).ToArray();   // parts without data do not count
        if (judged.Length == 0) return Verdict.NotRun;
        if (judged.All(p => p == Verdict.Reproduced)) return Verdict.Reproduced;
        if (judged.Contains(Verdict.Reproduced)) return Verdict.Partly;
        return judged.Contains(Verdict.NotReproduced) ? Verdict.NotReproduced : Verdict.Inconclusive;
    }
}
