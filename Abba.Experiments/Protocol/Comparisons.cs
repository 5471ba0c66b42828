using System.Globalization;
using Abba.Core.Statistics;
using CsvHelper;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Protocol;

/// <summary>Mean and interval over seeds of one metric of one arm.</summary>
[CsvRecord]
public partial record ArmSummaryRow
{
    /// <summary>Method.</summary>
    [CsvColumn("method")] public string Method { get; init; } = "";
    /// <summary>What it adapts.</summary>
    [CsvColumn("target")] public string Target { get; init; } = "";
    /// <summary>How the learning rate was set: tuned (per method and target, on validation), shared (one rate for all),
    /// none.</summary>
    [CsvColumn("rate_choice")] public string RateChoice { get; init; } = "";
    /// <summary>The learning rate used.</summary>
    [CsvColumn("rate")] public double Rate { get; init; }
    /// <summary>Trainable parameters.</summary>
    [CsvColumn("params")] public long Params { get; init; }
    /// <summary>test_ce, digit_accuracy or exact_match.</summary>
    [CsvColumn("metric")] public string Metric { get; init; } = "";
    /// <summary>Seeds.</summary>
    [CsvColumn("n")] public int N { get; init; }
    /// <summary>Mean over seeds.</summary>
    [CsvColumn("mean")] public double Mean { get; init; }
    /// <summary>Sample standard deviation over seeds.</summary>
    [CsvColumn("std")] public double Std { get; init; }
    /// <summary>Lower bound of the interval (empty: fewer than two seeds).</summary>
    [CsvColumn("ci_low")] public double CiLow { get; init; }
    /// <summary>Upper bound of the interval.</summary>
    [CsvColumn("ci_high")] public double CiHigh { get; init; }
    /// <summary>How the interval was made.</summary>
    [CsvColumn("interval")] public string Interval { get; init; } = "";
}

/// <summary>One tested effect of a claim: its estimate, interval and verdict under the interval rules.</summary>
[CsvRecord]
public partial record ComparisonRow
{
    /// <summary>The paper artefact the claim belongs to.</summary>
    [CsvColumn("artefact")] public string Artefact { get; init; } = "";
    /// <summary>What is compared, e.g. "ce(lora/all) - ce(abba/all)".</summary>
    [CsvColumn("comparison")] public string Comparison { get; init; } = "";
    /// <summary>The metric (test_ce for differences, spearman_rho for the ordering).</summary>
    [CsvColumn("metric")] public string Metric { get; init; } = "";
    /// <summary>+1 or -1: the sign the paper's claim predicts.</summary>
    [CsvColumn("paper_sign")] public int PaperSign { get; init; }
    /// <summary>Seeds.</summary>
    [CsvColumn("n")] public int N { get; init; }
    /// <summary>The estimate.</summary>
    [CsvColumn("estimate")] public double Estimate { get; init; }
    /// <summary>Lower bound of the interval.</summary>
    [CsvColumn("ci_low")] public double CiLow { get; init; }
    /// <summary>Upper bound of the interval.</summary>
    [CsvColumn("ci_high")] public double CiHigh { get; init; }
    /// <summary>How the interval was made.</summary>
    [CsvColumn("interval")] public string Interval { get; init; } = "";
    /// <summary>reproduced, not_reproduced or inconclusive.</summary>
    [CsvColumn("verdict")] public string Verdict { get; init; } = "";
}

/// <summary>The protocol's summaries: per-arm intervals and per-effect comparisons, judged by the interval
/// rules.</summary>
public static class Comparisons
{
    /// <summary>The row of one arm's metric: mean, standard deviation and 95% t interval over <paramref
    /// name="values"/>.</summary>
    public static ArmSummaryRow Summarise(string method, string target, string rateChoice, double rate, long parameters,
        string metric, IReadOnlyList<double> values)
    {
        var ci = Intervals.StudentTMean(values);
        return new ArmSummaryRow
        {
            Method = method, Target = target, RateChoice = rateChoice, Rate = rate, Params = parameters,
            Metric = metric, N = ci.N, Mean = ci.Estimate, Std = Describe.SampleStd(values), CiLow = ci.Low,
            CiHigh = ci.High, Interval = ci.Method,
        };
    }

    /// <summary>One effect as a row, with its verdict under <see cref="Verdicts.FromInterval"/> (inconclusive within
    /// <paramref name="noiseFloor"/>, when one is measured).</summary>
    public static ComparisonRow Row(string artefact, string comparison, string metric, int paperSign,
        ConfidenceInterval effect, double noiseFloor = 0) => new()
    {
        Artefact = artefact, Comparison = comparison, Metric = metric, PaperSign = paperSign, N = effect.N,
        Estimate = effect.Estimate, CiLow = effect.Low, CiHigh = effect.High, Interval = effect.Method,
        Verdict = Word(Verdicts.FromInterval(effect, paperSign, noiseFloor)),
    };

    /// <summary>The noise floor a twin comparison measures: the largest effect size inside the 95% interval of the
    /// paired difference between two arms that compute the same function in exact arithmetic (0 when the twin did not
    /// run or has no interval).</summary>
    public static double Floor(ComparisonRow? twin) =>
        twin is { } f && !double.IsNaN(f.CiLow) ? Math.Max(Math.Abs(f.CiLow), Math.Abs(f.CiHigh)) : 0;

    /// <summary>The verdict a row stores.</summary>
    public static Verdict VerdictOf(ComparisonRow row) => row.Verdict switch
    {
        "reproduced" => Verdict.Reproduced,
        "not_reproduced" => Verdict.NotReproduced,
        _ => Verdict.Inconclusive,
    };

    static string Word(Verdict v) => v switch
    {
        Verdict.Reproduced => "reproduced",
        Verdict.NotReproduced => "not_reproduced",
        _ => "inconclusive",
    };

    /// <summary>"0.123 [0.100, 0.146]" (or "0.123 (no interval)"), each value times <paramref name="scale"/>.</summary>
    public static string Format(double estimate, double low, double high, string format = "0.000", double scale = 1)
    {
        string F(double v) => (scale * v).ToString(format, CultureInfo.InvariantCulture);
        return double.IsNaN(low) ? $"{F(estimate)} (no interval)" : $"{F(estimate)} [{F(low)}, {F(high)}]";
    }
}
