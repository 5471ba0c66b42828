using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using Abba.Core.Adapters;
using Abba.Core.Data;
using Abba.Core.Models;
using Abba.Core.Randomness;
using Abba.Core.Training;
using Abba.Experiments.Arithmetic;
using Abba.Experiments.Protocol;
using Abba.Experiments.Output;
using TorchSharp;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static TorchSharp.torch;

namespace Abba.Experiments.Ablation;

/// <summary>
/// Paper Fig. 3: ABBA on one projection type at a time (all layers) versus all seven, with LoRA, HiRA and full
/// fine-tuning as baselines (Table 2's comparison). Synthetic stand-in: a Llama-style decoder pre-trained from scratch on
/// addition (P) with a little subtraction (F), then fine-tuned on F, instead of Mistral-7B on MetaMathQA -> GSM8K.
/// Under the comparison protocol: each (method, target) at its own learning rate, chosen on a validation split; paired
/// seeds; held-out answer cross-entropy as the primary metric; 95% intervals; the interval verdict rules.
/// </summary>
public sealed partial class AblationExperiment : ILegacyExperiment
{
    /// <summary>Stated in the log, summary and figure: what this experiment is not.</summary>
    public const string Disclaimer = "SYNTHETIC STAND-IN for MetaMathQA -> GSM8K: a small Llama-style decoder pre-trained from scratch on " +
                                     "addition (with a little subtraction) and fine-tuned on subtraction; no LLM weights or datasets are used.";

    static readonly string[] KnownMethods = ["abba", "lora", "hira"];

    /// <summary>
    /// Seed identities. The split, the pre-trained model and the fine-tuning batches are shared by every arm of a
    /// replicate (paired seeds: arms differ per seed only in what they adapt and how); only an arm's adapter
    /// initialisation names the arm.
    /// </summary>
    static class Units
    {
        public static long Split(int seed) => UnitSeeds.Of(seed, "ablation/split");
        public static long Pretrain(int seed) => UnitSeeds.Of(seed, "ablation/pretrain");
        public static long PretrainBatches(int seed) => UnitSeeds.Of(seed, "ablation/pretrain/batches");
        public static long FineTuneBatches(int seed) => UnitSeeds.Of(seed, "ablation/finetune/batches");
        public static long Adapters(Arm arm, int seed) => UnitSeeds.Of(seed, $"ablation/finetune/method={arm.Method}/target={arm.Target}");
        /// <summary>A run's unit identity; its adapter seed leaves the rate out, so the arms of a sweep start from the same adapters.</summary>
        public static string RunIdentity(Arm arm, double rate, int seed) =>
            FormattableString.Invariant($"ablation/run/method={arm.Method}/target={arm.Target}/lr={rate:R}/seed={seed}");
    }

    readonly Option<string> methods = new("--methods") { Description = "methods run on each projection type alone, comma-separated from abba, lora, hira (ABBA is always included)", DefaultValueFactory = _ => "abba" };
    readonly Option<int?> rank = new("--rank") { Description = "LoRA/HiRA rank r; ABBA r1 = r2 = r/2 (default: the profile's)" };
    readonly Option<int?> steps = new("--finetune-steps") { Description = "fine-tuning steps of every arm (default: the profile's)" };
    readonly Option<double?> learningRate = new("--lr") { Description = "one fine-tuning learning rate for every arm, no sweep (default: a rate per method and target, chosen on the validation split)" };
    readonly Option<double?> pretrainMix = new("--pretrain-mix") { Description = "fraction of pre-training problems that are subtraction (task F), 0-0.5 (default: the profile's)" };

    AblationOptions options = AblationOptions.Quick;

    /// <inheritdoc />
    public string Name => "ablation";
    /// <inheritdoc />
    public string Description => "which projections to adapt: ABBA on each of q/k/v/o/gate/up/down alone vs all (synthetic arithmetic stand-in)";
    /// <inheritdoc />
    public string PaperArtefact => "Figure 3";

    /// <summary>
    /// One: the decoders are tiny (2-4 blocks of width 64), so libtorch's per-op threading costs more than it saves; on a 2-core
    /// CPU a paper-profile arm took 22 s on one thread against 52 s on two.
    /// </summary>
    public int PreferredCpuThreads => 1;
    /// <inheritdoc />
    public IReadOnlyList<Option> Options => [methods, rank, steps, learningRate, pretrainMix];
    /// <inheritdoc />
    public object Configuration => options;
    /// <inheritdoc />
    public IReadOnlyList<string> CsvNames => AblationFiles.Written;
    /// <inheritdoc />
    public IReadOnlyDictionary<string, SettingProvenance> Provenance => AblationOptions.Provenance;
    /// <inheritdoc />
    public IReadOnlyList<string> FigureNames => [AblationFiles.ComponentsFigure, AblationFiles.PretrainingFigure];

    /// <inheritdoc />
    public IReadOnlyList<string> Configure(OptionValues values, RunSettings settings)
    {
        var o = settings.Preset(AblationOptions.Tiny, AblationOptions.Quick, AblationOptions.Paper);
        var errors = new List<string>();
        var chosen = ListOption.Items(values.Get(methods))!.Prepend("abba").Distinct().ToArray();
        errors.AddRange(chosen.Where(m => !KnownMethods.Contains(m)).Select(m => $"--methods: unknown method '{m}' (valid: {string.Join(", ", KnownMethods)})"));
        o = o with
        {
            PerComponentMethods = KnownMethods.Where(chosen.Contains).ToArray(),
            Rank = values.Get(rank) ?? o.Rank, FinetuneSteps = values.Get(steps) ?? o.FinetuneSteps, FixedRate = values.Get(learningRate) ?? o.FixedRate,
            PretrainMix = values.Get(pretrainMix) ?? o.PretrainMix,
        };
        int smallest = o.Model.ProjectionShapes().Values.Min(s => Math.Min(s.In, s.Out));
        if (o.Rank < 2 || o.Rank % 2 != 0 || o.Rank > smallest || (o.Rank / 2) * (o.Rank / 2) > smallest)
            errors.Add($"--rank must be even, at least 2, and fit the narrowest projection ({smallest}): r <= {smallest} and ABBA's r1 r2 = (r/2)^2 <= {smallest} (got {o.Rank})");
        if (o.FinetuneSteps < 10) errors.Add($"--finetune-steps must be at least 10 (got {o.FinetuneSteps})");
        if (o.FixedRate is { } lr && !(lr > 0 && lr < 1)) errors.Add($"--lr must be in (0, 1) (got {lr})");
        if (!(o.PretrainMix >= 0 && o.PretrainMix <= 0.5)) errors.Add($"--pretrain-mix must be in [0, 0.5] (got {o.PretrainMix})");
        options = o;
        return errors;
    }

    /// <inheritdoc />
    public void Run(ExperimentContext ctx)
    {
        ctx.Seeds(options.DefaultSeeds);
        ctx.Log.Info(Disclaimer);
        var plan = Plan(ctx.Settings);
        var pretraining = ctx.Unit<PretrainUnit>(plan.Pretrain);
        ctx.WriteCsv(AblationFiles.PretrainLoss, pretraining.Losses);
        ctx.WriteCsv(AblationFiles.PretrainAccuracy, pretraining.Accuracy);
        var sweep = RunAll(ctx, "learning-rate sweep", plan.Sweep);
        ctx.WriteCsv(AblationFiles.LrSweep, RateSweep.MarkChosen([.. sweep.Select(SweepRow)]));
        var finals = RunAll(ctx, "fine-tuning arms", plan.Finals);
        var headline = options.FixedRate is null ? "tuned" : "fixed";
        List<AblationRow> rows = [pretraining.BeforeFineTuning, .. finals.Select(r => Row(r, headline)),
                                  .. sweep.Where(r => r.Rate == options.SharedRate).Select(r => Row(r, "shared"))];
        ctx.WriteCsv(AblationFiles.Runs, rows);
        ctx.WriteCsv(AblationFiles.Summary, Summarise(rows));
        ctx.WriteCsv(AblationFiles.Comparisons, Compare(rows, PaperComponents(ProgramFiles.Folder)));
        string text = SummaryText(ctx.OutputDir);
        AtomicFile.WriteText(ctx.PathOf(AblationFiles.SummaryText), text);
        ctx.Record(AblationFiles.SummaryText);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries)) ctx.Log.Info(line);
        ctx.Record(Plot(ctx.OutputDir));
    }

    List<RunResult> RunAll(ExperimentContext ctx, string what, IReadOnlyList<UnitPlan> plans)
    {
        var results = new List<RunResult>();
        using var progress = ctx.Progress.Start(what, plans.Count);
        foreach (var unit in plans)
        {
            results.Add(ctx.Unit<RunResult>(unit));          // stored at once: an interrupted run resumes after its last unit
            ctx.Log.Info(OneLine(results[^1]));
            progress.Advance();
        }
        return results;
    }

    /// <summary>The pre-training's stored result: its curves and the pre-trained model's score on the fine-tuning task.</summary>
    public sealed record PretrainUnit(IReadOnlyList<PretrainLossRow> Losses, IReadOnlyList<PretrainAccuracyRow> Accuracy, AblationRow BeforeFineTuning);

    /// <summary>The result of one fine-tuning run (a unit's payload): scores on the validation and test splits.</summary>
    public sealed record RunResult(string Method, string Target, double Rate, int Seed, int Rank, long Params,
        ArithmeticScore Validation, ArithmeticScore Test, double FinalLoss, int Steps, double Seconds, string BatchDigest);

    /// <summary>The run's units: the pre-training, the sweep runs (sweep seeds x arms x grid), the final runs (seeds x arms).</summary>
    sealed record UnitList(UnitPlan Pretrain, IReadOnlyList<UnitPlan> Sweep, IReadOnlyList<UnitPlan> Finals);

    /// <inheritdoc />
    /// <remarks>
    /// The pre-training (first seed); one unit per (seed, method, target, rate) sweep run on the sweep seeds; one unit
    /// per (seed, arm) final run. A final run asks for its arm's sweep runs (stored, or computed by whichever shard lacks
    /// them), picks the rate with the lowest mean validation cross-entropy, and runs it, or re-uses the sweep run at that
    /// rate for a sweep seed. Every run needs the pre-trained weights: from memory, the file cache, or pre-trained again.
    /// </remarks>
    public IReadOnlyList<UnitPlan> PlanUnits(RunSettings settings)
    {
        var plan = Plan(settings);
        return [plan.Pretrain, .. plan.Sweep, .. plan.Finals];
    }

    UnitList Plan(RunSettings settings)
    {
        var o = options;
        var seeds = settings.SeedList(o.DefaultSeeds);
        var sweepSeeds = seeds.Take(o.SweepSeeds).ToArray();
        var task = new ArithmeticTask(o.Digits);
        var split = new Lazy<ArithmeticSplit>(() => new ArithmeticSplit(task, o.TestSize, seed: Units.Split(seeds[0]), o.ValidationSize));
        var pretrain = new UnitPlan($"ablation/pretrain/seed={seeds[0]}", o.PretrainSteps, ctx =>
        {
            var (losses, accuracy) = Pretrained(ctx, task, split.Value, seeds[0]);
            return new PretrainUnit(losses, accuracy, BeforeFineTuning(ctx, task, split.Value, Weights(ctx, task, split.Value, seeds[0]), seeds[0]));
        });
        UnitPlan RunPlan(Arm arm, double rate, int seed) => new(Units.RunIdentity(arm, rate, seed), o.FinetuneSteps,
            ctx => FineTune(ctx, task, split.Value, Weights(ctx, task, split.Value, seeds[0]), arm, rate, seed));
        var arms = Arms(o);
        UnitPlan[] sweep = o.FixedRate is not null ? [] :
            [.. from seed in sweepSeeds from arm in arms from rate in o.RateGrids[arm.Method] select RunPlan(arm, rate, seed)];
        var finals = from seed in seeds
                     from arm in arms
                     select new UnitPlan($"ablation/final/method={arm.Method}/target={arm.Target}/seed={seed}",
                         o.FixedRate is null && sweepSeeds.Contains(seed) ? 1 : o.FinetuneSteps, ctx =>
                         {
                             double rate = o.FixedRate ?? RateSweep.Choose(
                                 from s in sweepSeeds from r in o.RateGrids[arm.Method] select SweepRow(ctx.Unit<RunResult>(RunPlan(arm, r, s))))[(arm.Method, arm.Target)];
                             return ctx.Unit<RunResult>(RunPlan(arm, rate, seed));
                         });
        return new UnitList(pretrain, sweep, [.. finals]);
    }

    static LrSweepRow SweepRow(RunResult r) => new()
    {
        Method = r.Method, Target = r.Target, Rate = r.Rate, Seed = r.Seed, ValidationCe = r.Validation.CrossEntropy, ValidationExactMatch = r.Validation.ExactMatch,
    };

    static AblationRow Row(RunResult r, string rateChoice) => new()
    {
        Method = r.Method, Target = r.Target, RateChoice = rateChoice, Rate = r.Rate, Rank = r.Rank, Params = r.Params, Seed = r.Seed,
        TestCe = r.Test.CrossEntropy, DigitAccuracy = r.Test.DigitAccuracy, ExactMatch = r.Test.ExactMatch, FinalLoss = r.FinalLoss,
        Steps = r.Steps, Seconds = r.Seconds, BatchDigest = r.BatchDigest,
    };

    /// <summary>One fine-tuning arm: a method, the projections it adapts, and its adapter configuration.</summary>
    sealed record Arm(string Method, string Target, int Rank, AdapterConfig Config);

    /// <summary>ABBA (and --methods) per component in the paper's order, then every method on all seven, then full fine-tuning.</summary>
    static List<Arm> Arms(AblationOptions o)
    {
        AdapterConfig Config(string method) => method switch
        {
            "abba" => new AbbaConfig(o.Rank / 2, o.Rank / 2, o.AbbaAlpha),
            "lora" => new LoraConfig(o.Rank, o.LoraAlpha),
            _ => new HiraConfig(o.Rank),
        };
        var arms = o.PerComponentMethods.SelectMany(m => PaperOrder.Select(t => new Arm(m, t, o.Rank, Config(m)))).ToList();
        arms.AddRange(KnownMethods.Select(m => new Arm(m, "all", o.Rank, Config(m))));
        arms.Add(new Arm("full_ft", "model", 0, new FullFineTuneConfig()));
        return arms;
    }

    Dictionary<string, Tensor>? weights;
    (List<PretrainLossRow> Losses, List<PretrainAccuracyRow> Accuracy)? curves;

    /// <summary>The pre-trained weights: in memory, in the cache under cache/ (keyed by settings and seed), or pre-trained now.</summary>
    Dictionary<string, Tensor> Weights(ExperimentContext ctx, ArithmeticTask task, ArithmeticSplit split, int seed)
    {
        if (weights is not null) return weights;
        var cache = Cache(ctx, seed);
        if (cache.TryLoad() is { } cached)
        {
            ctx.Log.Info($"pre-trained model loaded from {Path.GetRelativePath(ctx.OutputDir, cache.WeightsPath)} (delete it, or run with --fresh, to pre-train again)");
            return weights = cached;
        }
        var (state, losses, accuracy) = PretrainFromScratch(ctx, task, split, seed);
        cache.Save(state);
        curves = (losses, accuracy);
        return weights = state;
    }

    /// <summary>The pre-training settings, shared with the other arithmetic experiments.</summary>
    static DecoderSetup Setup(AblationOptions o) =>
        new(o.Model, o.Digits, o.TestSize, o.ValidationSize, o.PretrainBatchSize, o.PretrainSteps, o.PretrainLearningRate, o.PretrainMix);

    PretrainCache Cache(ExperimentContext ctx, int seed) => DecoderRuns.Cache(ctx.OutputDir, Setup(options), seed, ctx.Device);

    /// <summary>The pre-training curves: pre-trains (and caches the weights) unless this process just did.</summary>
    (List<PretrainLossRow> Losses, List<PretrainAccuracyRow> Accuracy) Pretrained(ExperimentContext ctx, ArithmeticTask task, ArithmeticSplit split, int seed)
    {
        if (curves is { } known) return known;
        var (state, losses, accuracy) = PretrainFromScratch(ctx, task, split, seed);
        Cache(ctx, seed).Save(state);
        weights ??= state;
        return (curves = (losses, accuracy)).Value;
    }

    (Dictionary<string, Tensor> State, List<PretrainLossRow> Losses, List<PretrainAccuracyRow> Accuracy) PretrainFromScratch(
        ExperimentContext ctx, ArithmeticTask task, ArithmeticSplit split, int seed)
    {
        var (state, losses, accuracy) = DecoderRuns.Pretrain(ctx, Setup(options), task, split, Units.Pretrain(seed), Units.PretrainBatches(seed));
        return (state, losses.Select((l, i) => new PretrainLossRow { Step = i + 1, Loss = l }).ToList(),
                accuracy.Select(a => new PretrainAccuracyRow { Step = a.Step, Task = TaskName(a.Operation), Accuracy = a.Accuracy }).ToList());
    }

    /// <summary>The pre-trained model on the F test set: the floor every arm starts from.</summary>
    AblationRow BeforeFineTuning(ExperimentContext ctx, ArithmeticTask task, ArithmeticSplit split, Dictionary<string, Tensor> pretrained, int seed)
    {
        using var model = Load(pretrained, ctx.Device);
        var score = task.Score(model, split.Test(ArithmeticOperation.Subtract), ctx.Device);
        return new AblationRow
        {
            Method = "pretrained", Target = "none", RateChoice = "none", Seed = seed,
            TestCe = score.CrossEntropy, DigitAccuracy = score.DigitAccuracy, ExactMatch = score.ExactMatch,
        };
    }

    RunResult FineTune(ExperimentContext ctx, ArithmeticTask task, ArithmeticSplit split, Dictionary<string, Tensor> pretrained, Arm arm, double rate, int seed)
    {
        var run = DecoderRuns.FineTune(ctx, options.Model, task, split, pretrained, arm.Target == "all" ? LlamaConfig.ProjectionNames : [arm.Target], arm.Config,
            Units.Adapters(arm, seed), Units.FineTuneBatches(seed), options.FinetuneSteps, options.FinetuneBatchSize, rate);   // the same batches for every arm of this seed
        return new RunResult(arm.Method, arm.Target, rate, seed, arm.Rank, run.Params, run.Validation, run.Test,
            run.Losses.TakeLast(10).Average(), options.FinetuneSteps, run.Seconds, run.BatchDigest);
    }

    LlamaDecoder Load(Dictionary<string, Tensor> state, Device device) => DecoderRuns.Load(options.Model, state, device);

    static string TaskName(ArithmeticOperation op) => op == ArithmeticOperation.Add ? "add" : "subtract";

    static string OneLine(RunResult r) =>
        FormattableString.Invariant($"{r.Method} on {r.Target} (lr {r.Rate}, seed {r.Seed}, {r.Params} params): validation CE {r.Validation.CrossEntropy:0.0000}, test CE {r.Test.CrossEntropy:0.0000}, exact match {100 * r.Test.ExactMatch:0.0}%, {r.Seconds:0.0}s");
}
