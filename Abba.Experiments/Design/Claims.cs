using Abba.Core.Models;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Protocol;
using static Abba.Experiments.Design.DesignSummary;
using static System.FormattableString;

namespace Abba.Experiments.Design;

/// <summary>The report claims and deviations of the design experiment, judged from its CSVs by the shared
/// rules.</summary>
public static class DesignClaims
{
    /// <summary>Table 3: the paper's init against every other.</summary>
    static readonly ClaimSpec Init = new("Table 3",
        "The paper's init (B1 A1 = truncated SVD of W0, B2 = 0) beats every other init of Table 3", "",
        new ByInterval("CE(row) - CE(ours) per seed at the reference rate", +1, "row",
            "rows 2-4 use sign(W0) sqrt|W0| and sqrt|W0|, rows 1-4 keep the model unchanged at step 0 by a residual " +
            "base W0 - P0; with r1 = r2 and the same draws, row 5 is ours with the pairs relabelled (the same update " +
            "in exact arithmetic; only floating-point summation order differs), so no difference is expected there"));

    /// <summary>Table 3 (App. C): both pairs LoRA-style cannot train.</summary>
    static readonly ClaimSpec BothZero = new("Table 3",
        "Both pairs LoRA-style (B1 = B2 = 0) cannot train: every gradient is exactly zero",
        "\"training failure\" (App. C), no number",
        new ByCriterion("every step's gradient norm exactly 0 and the test CE exactly the pre-trained model's, " +
                        "on every seed"));

    /// <summary>Fig. 5: the paper's scaling keeps gradient norms lowest.</summary>
    static readonly ClaimSpec ScalingNorms = new("Figure 5",
        "s in Θ((r1 r2)^-1/2) keeps gradient norms lowest; the other scalings run higher", "",
        new ByInterval("mean pre-clip gradient norm over the second half of fine-tuning minus the paper's " +
                       "scaling's, per seed", +1, "scaling"));

    /// <summary>Fig. 5: the paper's scaling trains at least as well.</summary>
    static readonly ClaimSpec ScalingCe = new("Figure 5",
        "The paper's scaling trains at least as well as the alternatives (final metric)",
        "the paper's choice (Eqs. 7-8); Fig. 5 shows gradient norms only",
        new ByInterval("CE(other) - CE(paper's) per seed", +1, "scaling"));

    /// <summary>Theorem 2, measured on one layer.</summary>
    static readonly ClaimSpec Theorem = new("Theorem 2",
        "Theorem 2: only s in Θ(1/sqrt(r1 r2)) keeps the output and input-gradient second moments flat in r1 r2",
        "E[y^2] and E[(dL/dx)^2] proportional to s^2 r1 r2 (App. D): slope 0 at e = 1/2; " +
        "derived here 1/2, 2/3, 1 at e = 1/4, 1/6, 0",
        new ByCriterion(Invariant($"every slope's 95% interval within ±{SlopeTolerance} of its derived value ") +
                        "1 - 2e " +
                        "(i.i.d. N(0, 1) factors and signals, r1 = r2); partly when some are"));

    /// <summary>Table 8: alpha peaks in the middle, at the paper's GSM8K argmax among the alphas run.</summary>
    static ClaimSpec Alpha(string peak, IReadOnlyList<string> endpoints) => new("Table 8",
        $"alpha peaks in the middle: the paper's GSM8K peak ({peak}) beats the smallest alpha and those from 48 up", "",
        new ByInterval($"CE(alpha) - CE({peak}) per seed for {string.Join(", ", endpoints)}", +1, "alpha",
            $"{peak} is the paper's GSM8K argmax among the alphas run; the other alphas are in the comparisons CSV"));

    /// <summary>Table 5: the equal split wins.</summary>
    static readonly ClaimSpec Split = new("Table 5",
        "The equal split r1 = r2 beats every unequal split at the same r1 + r2", "",
        new ByInterval("CE(split) - CE(equal) per seed", +1, "unequal split"));

    /// <summary>Table 9: the reference rank beats larger ones.</summary>
    static readonly ClaimSpec Rank = new("Table 9",
        "The reference rank beats every larger total rank (r1 = r2 = r/2)", "",
        new ByInterval("CE(r) - CE(reference r) per seed", +1, "larger r",
            "the paper's r = 64 and 128 against its r = 32"));

    /// <summary>Table 7: two pairs beat four chained pairs.</summary>
    static readonly ClaimSpec ChainedCe = new("Table 7", "Two pairs beat four chained pairs at the same budget", "",
        new ByInterval("CE(4 pairs) - CE(2 pairs) per seed at the reference rate", +1));

    /// <summary>Fig. 6: four chained pairs run at higher gradient norms.</summary>
    static readonly ClaimSpec ChainedNorms = new("Figure 6", "Four chained pairs run at higher gradient norms than two",
        "", new ByInterval("late gradient norm (4 pairs) - (2 pairs) per seed", +1));

    /// <summary>The claims judged from the CSVs in <paramref name="folder"/>, the paper's values from
    /// <c>reference/</c> under <paramref name="referenceBase"/>.</summary>
    /// <exception cref="FileNotFoundException">The experiment has not been run, or did not finish.</exception>
    public static IReadOnlyList<Claim> Claims(string folder, string referenceBase)
    {
        var rows = CsvFiles.Read<DesignRow>(Path.Combine(folder, DesignFiles.Runs));
        if (!rows.Any(r => r.IsPretrained()))
            throw new FileNotFoundException(
                $"{folder}/{DesignFiles.Runs} lacks the pre-trained row: the run did not finish.");
        var summary = Summarise(rows);
        var paper = PaperValues(referenceBase);
        var tests = Compare(rows, paper);
        var slopes = CsvFiles.Read<SlopeRow>(Path.Combine(folder, DesignFiles.Slopes));
        string label = Profiles.LabelOf(folder);
        var model = Manifest.SettingOf<LlamaConfig>(folder, "model");
        string Paper(string artefact, string metric = "gsm8k") => string.Join(", ",
            paper.Where(p => p.Artefact == artefact && p.Metric == metric)
                .Select(p => Invariant($"{p.Setting} {p.Value}")));
        string Describe(DesignFamily family, string arm, DesignMetric metric) =>
            $"{arm} {Cell(summary, family, arm, metric)}" +
            (family == DesignFamily.Rank ? RankNote(rows, arm, model) : "");
        // Arms that end above the pre-trained model's CE on average did not train at the shared rate: said beside the
        // verdict, so that a verdict carried by divergence is not read as a small difference in quality.
        double floorCe = rows.Single(r => r.IsPretrained()).TestCe;
        string Diverged(DesignFamily family, IEnumerable<string> arms)
        {
            var above = arms.Where(a => Summary(summary, family, a, DesignMetric.TestCe).Mean > floorCe).ToArray();
            if (above.Length == 0) return "";
            return Invariant($"; mean test CE above the pre-trained model's {floorCe:0.000} ") +
                   $"(did not train at the shared rate): {string.Join(", ", above)}";
        }
        Claim Interval(ClaimSpec spec, string paperValue, DesignFamily family, DesignMetric metric,
            Func<ComparisonRow, bool>? keep = null)
        {
            spec = spec with { Paper = paperValue };
            var parts = tests.Where(t => t.Artefact == spec.Artefact && t.Metric == metric.Name &&
                                         t.Comparison.Contains($"({family}/", StringComparison.Ordinal) &&
                                         (keep?.Invoke(t) ?? true)).ToArray();
            if (parts.Length == 0) return spec.NotRun($"not run (family {family} not in --families)");
            var arms = ArmsOf(rows, family);
            string best = arms.Where(a => a != DesignFamily.BothZeroArm)
                .OrderBy(a => Summary(summary, family, a, metric).Mean).First();
            string measured = $"lowest mean here: {best}; {metric.Label}: " +
                              string.Join(", ", arms.Select(a => Describe(family, a, metric))) + "; paired " +
                              string.Join("; ", parts.Select(p => $"{p.Comparison}: " +
                                  $"{Comparisons.Format(p.Estimate, p.CiLow, p.CiHigh)} " +
                                  p.Verdict.Replace('_', ' '))) +
                              Diverged(family, arms);
            return spec.Judge(measured, Verdicts.Combine([.. parts.Select(Comparisons.VerdictOf)]), label);
        }
        bool alphaRan = rows.Ran(DesignFamily.Alpha);
        string peak = alphaRan ? PeakAlpha(rows, paper) : "alpha=24";
        var endpoints = alphaRan ? AlphaEndpoints(rows, peak) : [];
        var ce = DesignMetric.TestCe;
        var norm = DesignMetric.GradNormPlateau;
        string Plateau(string artefact) => Paper(artefact, norm.Name) + " (plateau, digitised)";
        return
        [
            Interval(Init, Paper("Table 3"), DesignFamily.Init, ce),
            BothZeroClaim(rows, label),
            Interval(ScalingNorms, Plateau("Figure 5"), DesignFamily.Scaling, norm),
            Interval(ScalingCe, ScalingCe.Paper, DesignFamily.Scaling, ce),
            TheoremClaim(slopes, label),
            Interval(Alpha(peak, endpoints), Paper("Table 8"), DesignFamily.Alpha, ce,
                t => endpoints.Any(e => t.Comparison == $"{ce.Short}(alpha/{e}) - {ce.Short}(alpha/{peak})")),
            Interval(Split, Paper("Table 5") + " (r1 at r1 + r2 = 32)", DesignFamily.Split, ce),
            Interval(Rank, Paper("Table 9"), DesignFamily.Rank, ce),
            Interval(ChainedCe, Paper("Table 7"), DesignFamily.Chained, ce),
            Interval(ChainedNorms, Plateau("Figure 6"), DesignFamily.Chained, norm),
        ];
    }

    /// <summary>Where r1 r2 exceeds the layers' widths: the update's rank is then capped by min(m, n), not
    /// r1 r2.</summary>
    static string RankNote(IReadOnlyList<DesignRow> rows, string arm, LlamaConfig? model)
    {
        if (model is null) return "";
        var widths = model.ProjectionShapes().ToDictionary(kv => kv.Key, kv => Math.Min(kv.Value.In, kv.Value.Out));
        var ranks = PairRanks(FirstOf(rows, DesignFamily.Rank, arm));
        int product = ranks[0] * ranks[1];
        var over = widths.Where(w => product > w.Value).ToArray();
        var capped = over.Select(w => w.Key.Replace("_proj", "", StringComparison.Ordinal)).ToArray();
        return capped.Length == 0 ? "" : capped.Length == widths.Count
            ? Invariant($" (r1 r2 = {product} > every layer's min(m, n) <= {widths.Values.Max()})")
            : Invariant($" (r1 r2 = {product} > min(m, n) = {over.Max(w => w.Value)} ") +
              $"of {string.Join("/", capped)})";
    }

    static Claim BothZeroClaim(IReadOnlyList<DesignRow> rows, string label)
    {
        var zero = rows.Where(r => r.Of(DesignFamily.Init) && r.Arm == DesignFamily.BothZeroArm).ToList();
        if (zero.Count == 0) return BothZero.NotRun("not run (family init not in --families)");
        var floor = rows.Single(r => r.IsPretrained());
        double maxGrad = zero.Max(r => r.GradNormMax), maxDiff = zero.Max(r => Math.Abs(r.TestCe - floor.TestCe));
        string measured =
            Invariant($"largest pre-clip gradient norm over every step of {zero.Count} seeds: {maxGrad:G3}; ") +
            Invariant($"|test CE - the pre-trained model's| at most {maxDiff:G3} (test CE {floor.TestCe:0.0000})");
        return BothZero.Judge(measured, Verdicts.Judge([maxGrad == 0, maxDiff == 0]), label);
    }

    static Claim TheoremClaim(IReadOnlyList<SlopeRow> slopes, string label)
    {
        if (slopes.Count == 0) return Theorem.NotRun("not run (family scaling not in --families)");
        string measured = "log-log slope vs r1 r2 (mean [95% t] over seeds): " + string.Join("; ", slopes.Select(s =>
            Invariant($"e = {s.Exponent:0.###} {(s.Moment == "output" ? "output" : "grad")} ") +
            Invariant($"{Comparisons.Format(s.Slope, s.CiLow, s.CiHigh)} (expected {s.ExpectedSlope:0.###})")));
        return Theorem.Judge(measured, Verdicts.Judge(slopes.Select(s => s.WithinTolerance)), label);
    }

    /// <summary>Every way this reproduction departs from the paper's setting, in words.</summary>
    public static IReadOnlyList<string> Deviations
    {
        get
        {
            DesignOptions p = DesignOptions.Paper;
            return
            [
                DesignExperiment.Disclaimer + " The paper ablates on Mistral-7B (MetaMathQA -> GSM8K / MATH).",
                Invariant($"Reference arm r = {p.Rank} (r1 = r2 = {p.Rank / 2}, alpha {p.Alpha}) on layers ") +
                    Invariant($"32-176 wide, against r = 32 (r1 = r2 = 16, alpha 24 inferred) on layers ") +
                    Invariant($"1024-14336 wide; Table 5's splits keep its ratios (r1 / (r1 + r2) = 1/8 ... 1/2); ") +
                    Invariant($"Table 9's ranks are r = {string.Join(", ", p.TotalRanks)} here (paper 16-128), ") +
                    Invariant($"and r1 r2 exceeds the k/v projections' width 32 from r = 16 on, the 64-wide ones ") +
                    Invariant($"from r = 32 on."),
                Invariant($"One learning rate for every arm, the reference arm's lowest mean validation CE ") +
                    Invariant($"over {p.SweepSeeds} seeds (grid ") +
                    Invariant($"{string.Join(", ", p.RateGrid.Select(v => Invariant($"{v}")))}): the paper keeps ") +
                    Invariant($"one tuned rate across its ablation rows; arms whose scale differs (alpha, ") +
                    Invariant($"scaling, chained) therefore also differ in their effective step size, as in the ") +
                    Invariant($"paper."),
                "Table 3 rows 1-4 start with a non-zero product P0; the paper does not say how it " +
                    "keeps the model unchanged. Here the frozen base becomes W0 - P0 (PiSSA-style " +
                    "residual), row 1's all-ones pair is scaled so that P0 is W0's best rank-r1 " +
                    "approximation, and rows 2-4 take sign(W0) sqrt|W0| for pair 1 and sqrt|W0| for " +
                    "pair 2 (their Hadamard product is W0), each factor scaled by s^-1/4 so that P0 " +
                    "approximates W0.",
                "Table 3 row 5 (the pairs swapped) with r1 = r2 and the same random draws is ours " +
                    "with the pairs relabelled: the Hadamard product is symmetric, so both compute the " +
                    "same update at every step in exact arithmetic and differ only by floating-point " +
                    "summation order (amplified over training); the paper's 66.19 vs 66.26 is " +
                    "consistent with that.",
                Invariant($"Scale, not alpha, sets the effective step: s = alpha^2 / sqrt(r1 r2) is 4x the ") +
                    Invariant($"paper's at the same alpha here (r1 r2 = {p.Rank / 2 * (p.Rank / 2)} against 256), ") +
                    Invariant($"so this sweep's alpha a matches the paper's 2a in s; at the shared rate the ") +
                    Invariant($"largest-scale arms can end above the pre-trained model's CE (they did not train), ") +
                    Invariant($"which then carries a verdict: each claim names such arms."),
                "Scaling arms: s = alpha^2 (r1 r2)^-e with the reference alpha for e = 1/2, 1/4, " +
                    "1/6, 0 (the paper gives the orders Θ(.), not the constants). Chained ABBA uses " +
                    "the harness's s = Π alpha / sqrt(r_i) (ChainedAbbaConfig).",
                Invariant($"Gradient norms: the global pre-clip L2 norm of the adapter gradients (clipped to ") +
                    Invariant($"1 before the step, as in the paper's trainer), {p.FinetuneSteps} steps instead of ") +
                    Invariant($"about 625; the plateau is the mean over the second half."),
                "Theorem 2 is checked directly on one ABBA layer with i.i.d. N(0, 1) factors, " +
                    "inputs and output gradients (the theorem's assumptions), not on a trained model; " +
                    "the paper gives the proof only.",
                "Seeds vary fine-tuning only (adapter draws and batch order, paired across arms); " +
                    "the pre-trained model and test set come from the first seed, so intervals cover " +
                    "fine-tuning variation. Primary metric: held-out answer-token cross-entropy; exact " +
                    "match beside it (GSM8K and MATH score final answers after free generation).",
            ];
        }
    }
}
