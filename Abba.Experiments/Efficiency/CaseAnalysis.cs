using Abba.Core.Efficiency;
using Abba.Core.Statistics;
using Abba.Experiments.Memory;

namespace Abba.Experiments.Efficiency;

/// <summary>One timed case: what it is, and whether it is a single layer (which has a floor).</summary>
/// <param name="Name">The CSV's case name.</param>
/// <param name="Kind">layer or decoder.</param>
/// <param name="InFeatures">n (the decoder's hidden size).</param>
/// <param name="OutFeatures">m (the decoder's vocabulary).</param>
/// <param name="Tokens">Tokens per step.</param>
/// <param name="Rank">LoRA-equivalent rank.</param>
public sealed record TimedCase(string Name, string Kind, int InFeatures, int OutFeatures, int Tokens, int Rank)
{
    /// <summary>Whether <see cref="StepCost"/> models this case (single layers only).</summary>
    public bool HasFloor => Kind == EfficiencyClaims.LayerKind;
}

/// <summary>One method's timed rounds on one case, as stored.</summary>
/// <param name="Method">The cost method's name.</param>
/// <param name="TrainableParams">Parameters its optimiser updates.</param>
/// <param name="Steps">Each round's step phases, in seconds.</param>
/// <param name="InferenceForwards">Each round's inference forward, in seconds.</param>
public sealed record MethodRounds(string Method, long TrainableParams, IReadOnlyList<PhaseTimes> Steps,
    IReadOnlyList<double> InferenceForwards);

/// <summary>The machine probe's rounds on one case (<see cref="MachineProbe"/>), as stored.</summary>
/// <param name="GemmFlops">Operations of one probe GEMM.</param>
/// <param name="CopyBytes">Bytes one probe copy reads and writes.</param>
/// <param name="GemmSeconds">Each round's GEMM time.</param>
/// <param name="CopySeconds">Each round's copy time.</param>
public sealed record ProbeRounds(double GemmFlops, double CopyBytes, IReadOnlyList<double> GemmSeconds,
    IReadOnlyList<double> CopySeconds);

/// <summary>
/// One timing case as its unit stores it: the raw rounds of every method and of the probe (the analysis runs on them
/// when the outputs are built, so a merge or resume applies today's analysis) and, for a layer, the forward anatomy.
/// </summary>
/// <param name="Case">What was timed.</param>
/// <param name="Methods">Every method's rounds, in row order.</param>
/// <param name="Probe">The machine probe's rounds.</param>
/// <param name="Anatomy">The pieces of ABBA's and LoRA's forward (layers only).</param>
public sealed record CaseTimings(TimedCase Case, IReadOnlyList<MethodRounds> Methods, ProbeRounds Probe,
    IReadOnlyList<AnatomyRow> Anatomy);

/// <summary>
/// Turns one case's interleaved rounds into its rows: per method the medians, the paired ratio to LoRA with its
/// interval, and the floor at the rates the machine probe reached in the same rounds; and the paired ratios the claims
/// read (every method over LoRA, the lean Khatri-Rao node over plain autograd, ABBA over the frozen base).
/// </summary>
public static class CaseAnalysis
{
    /// <summary>Bootstrap resamples of the rounds.</summary>
    public const int Resamples = 2000;

    /// <summary>
    /// The median over rounds of <paramref name="numerator"/>[k] / <paramref name="denominator"/>[k] (both timed in
    /// round k), with its 95% percentile bootstrap interval over rounds (seeded: the same times give the same
    /// interval).
    /// </summary>
    public static ConfidenceInterval PairedRatio(IReadOnlyList<double> numerator, IReadOnlyList<double> denominator)
    {
        if (numerator.Count != denominator.Count) throw new ArgumentException("the two need the same rounds");
        var ratios = numerator.Zip(denominator, (a, b) => a / b).ToArray();
        var ci = Bootstrap.Percentile(ratios.Length, rounds => InterleavedTiming.Median(rounds.Select(k => ratios[k])),
            Resamples, seed: 0);
        return ci with { Method = $"95% percentile bootstrap over {ratios.Length} rounds, {Resamples} resamples" };
    }

    /// <summary>The case's step rows and paired ratios from its stored rounds.</summary>
    public static (List<EfficiencyRow> Steps, List<PairedRatioRow> Ratios) Analyse(CaseTimings timings)
    {
        var c = timings.Case;
        var byName = timings.Methods.ToDictionary(m => m.Method);
        double[] Totals(string m) => [.. byName[m].Steps.Select(s => s.Total)];
        double Ms(IEnumerable<double> seconds, double q = 0.5) => 1e3 * InterleavedTiming.Quantile(seconds, q);
        var probe = timings.Probe;
        double gflops = InterleavedTiming.Median(probe.GemmSeconds.Select(t => probe.GemmFlops / t / 1e9));
        double bandwidth = InterleavedTiming.Median(probe.CopySeconds.Select(t => probe.CopyBytes / t / 1e9));
        string lora = CostArm.Lora.Name;
        double loraForward = Ms(byName[lora].InferenceForwards);
        double? baseStep = byName.ContainsKey(CostArm.Base.Name) ? Ms(Totals(CostArm.Base.Name)) : null;
        var steps = timings.Methods.Select(run =>
        {
            string m = run.Method;
            double[] totals = Totals(m);
            double step = Ms(totals), forward = Ms(run.InferenceForwards);
            var overLora = PairedRatio(totals, Totals(lora));
            var kernels = c.HasFloor
                ? StepCost.Kernels(CostArm.Of(m), c.InFeatures, c.OutFeatures, c.Tokens, c.Rank) : null;
            double? floor = kernels is null ? null : 1e3 * StepCost.FloorSeconds(kernels, gflops, bandwidth);
            return new EfficiencyRow(c.Name, c.Kind, c.InFeatures, c.OutFeatures, c.Tokens, m, run.TrainableParams,
                totals.Length, step, Ms(totals, 0.25), Ms(totals, 0.75), Ms(run.Steps.Select(s => s.Forward)),
                Ms(run.Steps.Select(s => s.Backward)), Ms(run.Steps.Select(s => s.Optimiser)), forward,
                overLora.Estimate, overLora.Low, overLora.High, step / baseStep, forward / loraForward,
                gflops, bandwidth, kernels?.Sum(k => k.Flops) / 1e9, kernels?.Sum(k => k.Bytes) / 1e6, floor,
                floor / step);
        }).ToList();
        var pairs = timings.Methods.Select(r => r.Method).Where(m => m != lora).Select(m => (m, lora))
            .Concat(new[] { (CostArm.AbbaLean.Name, CostArm.AbbaPlain.Name), (CostArm.AbbaLean.Name,
                CostArm.Base.Name) }.Where(p => byName.ContainsKey(p.Item1) && byName.ContainsKey(p.Item2)));
        var ratios = pairs.Select(p =>
        {
            var ci = PairedRatio(Totals(p.Item1), Totals(p.Item2));
            return new PairedRatioRow(c.Name, p.Item1, p.Item2, ci.N, ci.Estimate, ci.Low, ci.High,
                (ci.High - ci.Low) / 2 / ci.Estimate);
        }).ToList();
        return (steps, ratios);
    }
}
