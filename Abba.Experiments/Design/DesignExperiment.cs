using System.CommandLine;
using Abba.Core.Adapters;
using Abba.Core.Analysis;
using Abba.Core.Data;
using Abba.Core.Models;
using Abba.Core.Randomness;
using Abba.Experiments.Arithmetic;
using Abba.Experiments.Protocol;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static System.FormattableString;
using static TorchSharp.torch;

namespace Abba.Experiments.Design;

/// <summary>
/// ABBA's own design choices ablated (paper Tables 3, 5, 7, 8, 9, Figs. 5-6, Theorem 2) on the ablation experiment's
/// synthetic stand-in: the same decoder, pre-trained model and task, ABBA on all seven projections. Six families, each
/// against one reference arm (the paper's init and scaling, r1 = r2 = r/2, the reference alpha): initialisation, scaling
/// of s (with gradient-norm curves, and Theorem 2's moments measured directly), alpha, the r1/r2 split, the total rank, and
/// chained ABBA. Under the comparison protocol: paired seeds (every arm of a seed sees the same batches; arms with the same
/// pair ranks start from the same random draws), held-out answer cross-entropy as the primary metric, 95% intervals, the
/// interval verdict rules. Learning rate: the paper tunes one rate per model and task and keeps it across its ablation
/// rows, so one rate is chosen here, for the reference arm, on the validation split, and every arm of every family uses it.
/// </summary>
public sealed partial class DesignExperiment : ILegacyExperiment
{
    /// <summary>Stated in the log, summary and figures: what this experiment is not.</summary>
    public const string Disclaimer = "SYNTHETIC STAND-IN for Mistral-7B on MetaMathQA -> GSM8K: the ablation experiment's small decoder, pre-trained " +
                                     "from scratch on addition (with a little subtraction) and fine-tuned on subtraction with ABBA on all seven projections.";

    /// <summary>
    /// Seed identities. The split and the pre-trained model are the ablation experiment's (same identities, same settings:
    /// the same model); the fine-tuning batches are shared by every arm of a seed; the adapters' random draws name only
    /// the pair ranks, so arms that differ in alpha, scaling or init start from the same draws.
    /// </summary>
    static class Units
    {
        public static long Split(int seed) => UnitSeeds.Of(seed, "ablation/split");
        public static long Pretrain(int seed) => UnitSeeds.Of(seed, "ablation/pretrain");
        public static long PretrainBatches(int seed) => UnitSeeds.Of(seed, "ablation/pretrain/batches");
        public static long FineTuneBatches(int seed) => UnitSeeds.Of(seed, "design/finetune/batches");
        public static long Adapters(Arm arm, int seed) => UnitSeeds.Of(seed, $"design/finetune/adapters/ranks={arm.Ranks}");
        public static long Moments(double exponent, int rank, int seed) => UnitSeeds.Of(seed, Invariant($"design/moments/e={exponent:R}/r={rank}"));
        public static string RunIdentity(Arm arm, double rate, int seed) => Invariant($"design/run/{arm.Variant}/lr={rate:R}/seed={seed}");
    }

    readonly Option<string?> families = new("--families") { Description = "families to run, comma-separated from init, scaling, alpha, split, rank, chained (default: all)" };
    readonly Option<int?> steps = new("--finetune-steps") { Description = "fine-tuning steps of every arm (default: the profile's)" };

    DesignOptions options = DesignOptions.Quick;

    /// <inheritdoc />
    public string Name => "design";
    /// <inheritdoc />
    public string Description => "ABBA's design choices ablated: init (Table 3), scaling and Theorem 2 (Fig. 5), alpha (Table 8), r1/r2 split (Table 5), total rank (Table 9), chained pairs (Table 7, Fig. 6) (synthetic arithmetic stand-in)";
    /// <inheritdoc />
    public string PaperArtefact => "Table 3";
    /// <summary>One, as the ablation: its decoders are too small for libtorch's threading to pay.</summary>
    public int PreferredCpuThreads => 1;
    /// <inheritdoc />
    public IReadOnlyList<Option> Options => [families, steps];
    /// <inheritdoc />
    public object Configuration => options;
    /// <inheritdoc />
    public IReadOnlyList<string> CsvNames => DesignFiles.Written;
    /// <inheritdoc />
    public IReadOnlyDictionary<string, SettingProvenance> Provenance => DesignOptions.Provenance;
    /// <inheritdoc />
    public IReadOnlyList<string> FigureNames => DesignFiles.FigureNames;

    /// <inheritdoc />
    public IReadOnlyList<string> Configure(OptionValues values, RunSettings settings)
    {
        var o = settings.Preset(DesignOptions.Tiny, DesignOptions.Quick, DesignOptions.Paper);
        var errors = new List<string>();
        var chosen = ListOption.Names(values.Get(families), "--families", DesignOptions.AllFamilies, errors);
        if (chosen is { Length: 0 } && errors.Count == 0) errors.Add("--families: name at least one family");
        o = o with { Families = chosen is { Length: > 0 } ? chosen : o.Families, FinetuneSteps = values.Get(steps) ?? o.FinetuneSteps };
        if (o.FinetuneSteps < 10) errors.Add($"--finetune-steps must be at least 10 (got {o.FinetuneSteps})");
        options = o;
        if (errors.Count == 0)
            foreach (var arm in Arms(o))
                try { foreach (var (_, shape) in o.Model.ProjectionShapes()) arm.Config.Validate(shape.Out, shape.In); }
                catch (ArgumentException e) { errors.Add($"{arm.Family}/{arm.Name}: {e.Message}"); }
        return errors;
    }

    /// <summary>One arm: its family, its name there, whether it is the reference, and its adapter.</summary>
    sealed record Arm(string Family, string Name, bool Reference, AdapterConfig Config)
    {
        /// <summary>The pair ranks, "4/4" (or "2/2/2/2").</summary>
        public string Ranks => Config switch
        {
            AbbaConfig a => $"{a.Rank1}/{a.Rank2}",
            ChainedAbbaConfig c => string.Join('/', c.Ranks),
            _ => throw new InvalidOperationException("design arms are ABBA or chained ABBA"),
        };

        /// <summary>Every setting that changes the run: the unit identity (the reference arm is one run whatever its family).</summary>
        public string Variant => Config switch
        {
            AbbaConfig a => Invariant($"abba/ranks={Ranks}/alpha={a.Alpha:R}/scale={a.Scale:R}/init={a.Init}"),
            ChainedAbbaConfig c => Invariant($"chained_abba/ranks={Ranks}/alpha={c.Alpha:R}/scale={c.Scale:R}"),
            _ => "",
        };

        /// <summary>s.</summary>
        public double Scale => Config switch { AbbaConfig a => a.Scale, ChainedAbbaConfig c => c.Scale, _ => double.NaN };

        /// <summary>alpha.</summary>
        public double Alpha => Config switch { AbbaConfig a => a.Alpha, ChainedAbbaConfig c => c.Alpha, _ => double.NaN };
    }

    /// <summary>The arm names of the init family, in Table 3's order, and their inits.</summary>
    public static readonly IReadOnlyList<(string Name, AbbaInit Init)> InitRows =
    [
        ("row1", AbbaInit.SecondPairOnes), ("row2", AbbaInit.SqrtTopTop), ("row3", AbbaInit.SqrtTopNext), ("row4", AbbaInit.SqrtNextTop),
        ("row5", AbbaInit.SecondPairSvd), ("both_zero", AbbaInit.BothZero), ("ours", AbbaInit.Paper),
    ];

    /// <summary>The name of the scaling arm of exponent <paramref name="e"/>.</summary>
    public static string ScalingName(double e) => Invariant($"e={Math.Round(e, 4)}");

    /// <summary>Every arm of every chosen family, the reference arm once in each family.</summary>
    static List<Arm> Arms(DesignOptions o)
    {
        int smallest = o.Model.ProjectionShapes().Values.Min(s => Math.Min(s.In, s.Out));
        AbbaConfig Abba(int r1, int r2) => new(r1, r2, o.Alpha, AllowRankAboveFull: r1 * r2 > smallest);
        var reference = Abba(o.Rank / 2, o.Rank / 2);
        var arms = new List<Arm>();
        foreach (string family in o.Families)
            switch (family)
            {
                case "init":
                    arms.AddRange(InitRows.Select(r => new Arm(family, r.Name, r.Init == AbbaInit.Paper, reference with { Init = r.Init })));
                    break;
                case "scaling":
                    arms.AddRange(o.ScalingExponents.Select(e => new Arm(family, ScalingName(e), e == 0.5,
                        e == 0.5 ? reference : reference with { Scaling = AbbaScaling.RankPower, RankExponent = e })));
                    break;
                case "alpha":
                    arms.AddRange(o.Alphas.Select(a => new Arm(family, Invariant($"alpha={a}"), a == o.Alpha, reference with { Alpha = a })));
                    break;
                case "split":
                    arms.AddRange(o.SplitFirstRanks.Select(r1 => new Arm(family, $"r1={r1}", 2 * r1 == o.Rank, Abba(r1, o.Rank - r1))));
                    break;
                case "rank":
                    arms.AddRange(o.TotalRanks.Select(r => new Arm(family, $"r={r}", r == o.Rank, Abba(r / 2, r / 2))));
                    break;
                case "chained":
                    arms.Add(new Arm(family, "pairs=2", true, reference));
                    arms.Add(new Arm(family, $"pairs={o.ChainedPairs}", false, ChainedAbbaConfig.AtBudget(o.Rank, o.Alpha, o.ChainedPairs)));
                    break;
            }
        return arms;
    }

    /// <inheritdoc />
    public void Run(ExperimentContext ctx)
    {
        var seeds = ctx.Seeds(options.DefaultSeeds);
        ctx.Log.Info(Disclaimer);
        var plan = Plan(ctx.Settings);
        var floor = ctx.Unit<DesignRow>(plan.Pretrain);
        var sweep = new List<RunResult>();
        using (var progress = ctx.Progress.Start("learning-rate sweep (reference arm)", plan.Sweep.Count))
            foreach (var unit in plan.Sweep) { sweep.Add(ctx.Unit<RunResult>(unit)); ctx.Log.Info(OneLine(sweep[^1])); progress.Advance(); }
        ctx.WriteCsv(DesignFiles.LrSweep, RateSweep.MarkChosen([.. sweep.Select(SweepRow)]));
        var results = new Dictionary<(string Variant, int Seed), RunResult>();
        using (var progress = ctx.Progress.Start("fine-tuning arms", plan.Finals.Count))
            foreach (var (variant, seed, unit) in plan.Finals)
            {
                results[(variant, seed)] = ctx.Unit<RunResult>(unit);
                ctx.Log.Info(OneLine(results[(variant, seed)]));
                progress.Advance();
            }
        var arms = Arms(options);
        List<DesignRow> rows = [floor, .. from arm in arms from seed in seeds select Row(arm, results[(arm.Variant, seed)])];
        ctx.WriteCsv(DesignFiles.Runs, rows);
        ctx.WriteCsv(DesignFiles.GradNorms,
            from arm in arms where arm.Family is "scaling" or "chained"
            from seed in seeds
            let r = results[(arm.Variant, seed)]
            from step in Enumerable.Range(0, r.GradientNorms.Length)
            select new GradNormRow { Family = arm.Family, Arm = arm.Name, Seed = seed, Step = step + 1, GradNorm = r.GradientNorms[step], Loss = r.Losses[step] });
        var moments = plan.Moments.SelectMany(ctx.Unit<List<MomentRow>>).ToList();
        ctx.WriteCsv(DesignFiles.Moments, moments);
        ctx.WriteCsv(DesignFiles.Slopes, Slopes(moments));
        ctx.WriteCsv(DesignFiles.Summary, Summarise(rows));
        ctx.WriteCsv(DesignFiles.Comparisons, Compare(rows, PaperValues(ProgramFiles.Folder)));
        string text = SummaryText(ctx.OutputDir);
        AtomicFile.WriteText(ctx.PathOf(DesignFiles.SummaryText), text);
        ctx.Record(DesignFiles.SummaryText);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries)) ctx.Log.Info(line);
        ctx.Record(Plot(ctx.OutputDir));
    }

    /// <summary>The result of one fine-tuning run (a unit's payload).</summary>
    public sealed record RunResult(string Variant, double Rate, int Seed, long Params, ArithmeticScore Validation, ArithmeticScore Test,
        double[] Losses, double[] GradientNorms, double Seconds, string BatchDigest);

    /// <summary>The run's units: pre-training, the reference arm's sweep, one final run per (variant, seed), one moment unit per seed.</summary>
    sealed record UnitList(UnitPlan Pretrain, IReadOnlyList<UnitPlan> Sweep, IReadOnlyList<(string Variant, int Seed, UnitPlan Unit)> Finals, IReadOnlyList<UnitPlan> Moments);

    /// <inheritdoc />
    /// <remarks>
    /// The pre-training (first seed; the ablation's model); the reference arm at every grid rate on the sweep seeds; one
    /// final unit per (distinct arm, seed), which picks the rate with the lowest mean validation cross-entropy of the
    /// reference arm and runs the arm at it (re-using a sweep run where it is the same run); with the scaling family, one
    /// unit per seed measuring Theorem 2's moments.
    /// </remarks>
    public IReadOnlyList<UnitPlan> PlanUnits(RunSettings settings)
    {
        var plan = Plan(settings);
        return [plan.Pretrain, .. plan.Sweep, .. plan.Finals.Select(f => f.Unit), .. plan.Moments];
    }

    Dictionary<string, Tensor>? weights;

    UnitList Plan(RunSettings settings)
    {
        var o = options;
        var seeds = settings.SeedList(o.DefaultSeeds);
        var sweepSeeds = seeds.Take(o.SweepSeeds).ToArray();
        var task = new ArithmeticTask(o.Digits);
        var setup = new DecoderSetup(o.Model, o.Digits, o.TestSize, o.ValidationSize, o.PretrainBatchSize, o.PretrainSteps, o.PretrainLearningRate, o.PretrainMix);
        var split = new Lazy<ArithmeticSplit>(() => new ArithmeticSplit(task, o.TestSize, seed: Units.Split(seeds[0]), o.ValidationSize));
        Dictionary<string, Tensor> Weights(ExperimentContext ctx)
        {
            if (weights is not null) return weights;
            var cache = DecoderRuns.Cache(ctx.OutputDir, setup, seeds[0], ctx.Device);
            if (cache.TryLoad() is { } cached) return weights = cached;
            var (state, _, _) = DecoderRuns.Pretrain(ctx, setup, task, split.Value, Units.Pretrain(seeds[0]), Units.PretrainBatches(seeds[0]));
            cache.Save(state);
            return weights = state;
        }
        var pretrain = new UnitPlan($"design/pretrain/seed={seeds[0]}", o.PretrainSteps, ctx =>
        {
            using var model = DecoderRuns.Load(o.Model, Weights(ctx), ctx.Device);
            var score = task.Score(model, split.Value.Test(ArithmeticOperation.Subtract), ctx.Device);
            return new DesignRow { Family = "pretrained", Arm = "none", Variant = "none", Seed = seeds[0], TestCe = score.CrossEntropy, DigitAccuracy = score.DigitAccuracy, ExactMatch = score.ExactMatch };
        });
        UnitPlan RunPlan(Arm arm, double rate, int seed) => new(Units.RunIdentity(arm, rate, seed), o.FinetuneSteps, ctx =>
        {
            var run = DecoderRuns.FineTune(ctx, o.Model, task, split.Value, Weights(ctx), LlamaConfig.ProjectionNames, arm.Config,
                Units.Adapters(arm, seed), Units.FineTuneBatches(seed), o.FinetuneSteps, o.FinetuneBatchSize, rate);
            return new RunResult(arm.Variant, rate, seed, run.Params, run.Validation, run.Test, run.Losses, run.GradientNorms, run.Seconds, run.BatchDigest);
        });
        var arms = Arms(o);
        var reference = arms.First(a => a.Reference);
        UnitPlan[] sweep = [.. from seed in sweepSeeds from rate in o.RateGrid select RunPlan(reference, rate, seed)];
        var distinct = arms.DistinctBy(a => a.Variant).ToArray();
        var finals = (from seed in seeds
                      from arm in distinct
                      select (arm.Variant, seed, new UnitPlan($"design/final/{arm.Variant}/seed={seed}", sweepSeeds.Contains(seed) && arm == reference ? 1 : o.FinetuneSteps, ctx =>
                      {
                          double rate = RateSweep.Choose(from s in sweepSeeds from r in o.RateGrid select SweepRow(ctx.Unit<RunResult>(RunPlan(reference, r, s))))[("abba", "reference")];
                          return ctx.Unit<RunResult>(RunPlan(arm, rate, seed));
                      }))).ToList();
        var moments = !o.Families.Contains("scaling") ? [] : seeds.Select(seed => new UnitPlan($"design/moments/seed={seed}", 1, _ => Moments(o, seed))).ToList();
        return new UnitList(pretrain, sweep, finals, moments);
    }

    /// <summary>Theorem 2's moments at every (scaling, r1 = r2) for one seed, each from its own generator.</summary>
    static List<MomentRow> Moments(DesignOptions o, int seed) =>
        [.. from e in o.ScalingExponents
            from r in o.MomentRanks
            let config = new AbbaConfig(r, r, Alpha: 1, AbbaScaling.RankPower, AllowRankAboveFull: true, RankExponent: e)
            let generator = UnitSeed.NewGenerator(Units.Moments(e, r, seed))
            let draws = Enumerable.Range(0, o.MomentDraws).Select(_ => RankStability.Measure(config, o.MomentWidth, o.MomentWidth, o.MomentTokens, generator)).ToArray()
            let expected = RankStability.Expected(config, o.MomentWidth, o.MomentWidth)
            select new MomentRow
            {
                Exponent = e, R1 = r, R2 = r, Seed = seed, OutputMoment = draws.Average(d => d.Output), GradientMoment = draws.Average(d => d.InputGradient),
                ExpectedOutput = expected.Output, ExpectedGradient = expected.InputGradient,
            }];

    static LrSweepRow SweepRow(RunResult r) => new()
    {
        Method = "abba", Target = "reference", Rate = r.Rate, Seed = r.Seed, ValidationCe = r.Validation.CrossEntropy, ValidationExactMatch = r.Validation.ExactMatch,
    };

    static DesignRow Row(Arm arm, RunResult r)
    {
        int half = r.GradientNorms.Length / 2;
        return new DesignRow
        {
            Family = arm.Family, Arm = arm.Name, Reference = arm.Reference, Variant = arm.Variant, Ranks = arm.Ranks, Alpha = arm.Alpha, Scale = arm.Scale,
            Rate = r.Rate, Params = r.Params, Seed = r.Seed, TestCe = r.Test.CrossEntropy, DigitAccuracy = r.Test.DigitAccuracy, ExactMatch = r.Test.ExactMatch,
            FinalLoss = r.Losses.TakeLast(10).Average(), GradNormPlateau = r.GradientNorms.Skip(half).Average(), GradNormMax = r.GradientNorms.Max(),
            Seconds = r.Seconds, BatchDigest = r.BatchDigest,
        };
    }

    static string OneLine(RunResult r) =>
        Invariant($"{r.Variant} (lr {r.Rate}, seed {r.Seed}, {r.Params} params): validation CE {r.Validation.CrossEntropy:0.0000}, test CE {r.Test.CrossEntropy:0.0000}, exact match {100 * r.Test.ExactMatch:0.0}%, late grad norm {r.GradientNorms.Skip(r.GradientNorms.Length / 2).Average():0.000}, {r.Seconds:0.0}s");
}
