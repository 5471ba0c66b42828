using System.CommandLine;
using System.Diagnostics;
using Abba.Core.Adapters;
using Abba.Core.Data;
using Abba.Core.Models;
using Abba.Core.Randomness;
using Abba.Core.Training;
using Abba.Experiments.Output;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Experiments.Experiments.Ablation;

/// <summary>
/// Paper Fig. 3: ABBA on one projection type at a time (all layers) versus all seven, with LoRA, HiRA and full
/// fine-tuning as baselines. Synthetic stand-in: a Llama-style decoder pre-trained from scratch on addition (P) and
/// fine-tuned on subtraction (F), instead of Mistral-7B on MetaMathQA -> GSM8K.
/// </summary>
public sealed partial class AblationExperiment : IExperiment
{
    /// <summary>Stated in the log, summary and figure: what this experiment is not.</summary>
    public const string Disclaimer = "SYNTHETIC STAND-IN for MetaMathQA -> GSM8K: a small Llama-style decoder pre-trained from scratch on " +
                                     "addition and fine-tuned on subtraction; no LLM weights or datasets are used.";

    static readonly string[] KnownMethods = ["abba", "lora", "hira"];

    /// <summary>
    /// Seed identities. The split, the pre-trained model and the fine-tuning batches are shared by every arm of a
    /// replicate; only an arm's adapter initialisation names the arm.
    /// </summary>
    static class Units
    {
        public static long Split(int seed) => UnitSeeds.Of(seed, "ablation/split");
        public static long Pretrain(int seed) => UnitSeeds.Of(seed, "ablation/pretrain");
        public static long PretrainBatches(int seed) => UnitSeeds.Of(seed, "ablation/pretrain/batches");
        public static long FineTuneBatches(int seed) => UnitSeeds.Of(seed, "ablation/finetune/batches");
        public static long Adapters(Arm arm, int seed) => UnitSeeds.Of(seed, $"ablation/finetune/method={arm.Method}/target={arm.Target}");
    }

    readonly Option<string> methods = new("--methods") { Description = "methods run on each projection type alone, comma-separated from abba, lora, hira (ABBA is always included)", DefaultValueFactory = _ => "abba" };
    readonly Option<int?> rank = new("--rank") { Description = "LoRA/HiRA rank r; ABBA r1 = r2 = r/2 (default: the profile's)" };
    readonly Option<int?> steps = new("--finetune-steps") { Description = "fine-tuning steps of every arm (default: the profile's)" };
    readonly Option<double?> learningRate = new("--lr") { Description = "fine-tuning learning rate of every arm (default: the profile's)" };

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
    public IReadOnlyList<Option> Options => [methods, rank, steps, learningRate];
    /// <inheritdoc />
    public object Configuration => options;
    /// <inheritdoc />
    public IReadOnlyList<string> CsvNames => AblationFiles.Written;
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
            Rank = values.Get(rank) ?? o.Rank, FinetuneSteps = values.Get(steps) ?? o.FinetuneSteps, LearningRate = values.Get(learningRate) ?? o.LearningRate,
        };
        int smallest = o.Model.ProjectionShapes().Values.Min(s => Math.Min(s.In, s.Out));
        if (o.Rank < 2 || o.Rank % 2 != 0 || o.Rank > smallest || (o.Rank / 2) * (o.Rank / 2) > smallest)
            errors.Add($"--rank must be even, at least 2, and fit the narrowest projection ({smallest}): r <= {smallest} and ABBA's r1 r2 = (r/2)^2 <= {smallest} (got {o.Rank})");
        if (o.FinetuneSteps < 10) errors.Add($"--finetune-steps must be at least 10 (got {o.FinetuneSteps})");
        if (!(o.LearningRate > 0 && o.LearningRate < 1)) errors.Add($"--lr must be in (0, 1) (got {o.LearningRate})");
        options = o;
        return errors;
    }

    /// <inheritdoc />
    public void Run(ExperimentContext ctx)
    {
        var seeds = ctx.Seeds(options.DefaultSeeds);
        ctx.Log.Info(Disclaimer);
        var plans = PlanUnits(ctx.Settings);
        var pretraining = ctx.Unit<PretrainUnit>(plans[0]);
        ctx.WriteCsv(AblationFiles.PretrainLoss, pretraining.Losses);
        ctx.WriteCsv(AblationFiles.PretrainAccuracy, pretraining.Accuracy);
        var rows = new List<AblationRow> { pretraining.BeforeFineTuning };
        using (var progress = ctx.Progress.Start("fine-tuning arms", plans.Count - 1))
            foreach (var arm in plans.Skip(1))
            {
                rows.Add(ctx.Unit<AblationRow>(arm));          // stored at once: an interrupted run resumes after its last arm
                ctx.Log.Info(OneLine(rows[^1]));
                progress.Advance();
            }
        ctx.WriteCsv(AblationFiles.Runs, rows);
        ctx.WriteCsv(AblationFiles.Summary, Summarise(rows));
        string text = SummaryText(ctx.OutputDir);
        AtomicFile.WriteText(ctx.PathOf(AblationFiles.SummaryText), text);
        ctx.Record(AblationFiles.SummaryText);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries)) ctx.Log.Info(line);
        ctx.Record(Plot(ctx.OutputDir));
    }

    /// <summary>The pre-training's stored result: its curves and the pre-trained model's score on the fine-tuning task.</summary>
    public sealed record PretrainUnit(IReadOnlyList<PretrainLossRow> Losses, IReadOnlyList<PretrainAccuracyRow> Accuracy, AblationRow BeforeFineTuning);

    /// <inheritdoc />
    /// <remarks>
    /// The pre-training (first seed), then one unit per (seed, arm), costed in steps. An arm needs the pre-trained
    /// weights: from memory, the file cache, or pre-trained again (deterministically) by whichever shard lacks them.
    /// </remarks>
    public IReadOnlyList<UnitPlan> PlanUnits(RunSettings settings)
    {
        var o = options;
        var seeds = settings.SeedList(o.DefaultSeeds);
        var task = new ArithmeticTask(o.Digits);
        var split = new Lazy<ArithmeticSplit>(() => new ArithmeticSplit(task, o.TestSize, seed: Units.Split(seeds[0])));
        var pretrain = new UnitPlan($"ablation/pretrain/seed={seeds[0]}", o.PretrainSteps, ctx =>
        {
            var (losses, accuracy) = Pretrained(ctx, task, split.Value, seeds[0]);
            return new PretrainUnit(losses, accuracy, BeforeFineTuning(ctx, task, split.Value, Weights(ctx, task, split.Value, seeds[0]), seeds[0]));
        });
        return [pretrain, .. from seed in seeds from arm in Arms(o)
                             select new UnitPlan($"ablation/finetune/method={arm.Method}/target={arm.Target}/seed={seed}", o.FinetuneSteps,
                                 ctx => FineTune(ctx, task, split.Value, Weights(ctx, task, split.Value, seeds[0]), arm, seed))];
    }

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

    PretrainCache Cache(ExperimentContext ctx, int seed)
    {
        var o = options;
        var key = new { o.Model, o.Digits, o.TestSize, o.PretrainBatchSize, o.PretrainSteps, o.PretrainLearningRate, seed, device = ctx.Device.type.ToString(), version = 2 };
        return new PretrainCache(ctx.OutputDir, key, seed);
    }

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
        var o = options;
        var rng = UnitSeed.NewRandom(Units.PretrainBatches(seed));
        using var model = new LlamaDecoder(o.Model, Units.Pretrain(seed));
        model.to(ctx.Device);
        var accuracy = new List<PretrainAccuracyRow>();
        int every = Math.Max(1, o.PretrainSteps / 20);
        using var progress = ctx.Progress.Start("pre-training on addition", o.PretrainSteps);
        var losses = LanguageModelTrainer.Train(model, _ => task.Batch(split.SampleTraining(ArithmeticOperation.Add, o.PretrainBatchSize, rng), ctx.Device),
            new TrainingSchedule(o.PretrainSteps, o.PretrainLearningRate), (step, _) =>
            {
                progress.Advance();
                if ((step + 1) % every != 0 && step != 0) return;
                foreach (var op in Enum.GetValues<ArithmeticOperation>())
                    accuracy.Add(new PretrainAccuracyRow { Step = step + 1, Task = TaskName(op), Accuracy = task.Accuracy(model, split.Test(op), ctx.Device) });
                model.train();
            }, ctx.Cancel);
        var state = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().clone());
        return (state, losses.Select((l, i) => new PretrainLossRow { Step = i + 1, Loss = l }).ToList(), accuracy);
    }

    /// <summary>The pre-trained model on the F test set: the floor every arm starts from.</summary>
    AblationRow BeforeFineTuning(ExperimentContext ctx, ArithmeticTask task, ArithmeticSplit split, Dictionary<string, Tensor> pretrained, int seed)
    {
        using var model = Load(pretrained, ctx.Device);
        var test = split.Test(ArithmeticOperation.Subtract);
        double loss;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var (inputs, targets) = task.Batch(test, ctx.Device);
            loss = LanguageModelTrainer.Loss(model.call(inputs), targets).item<float>();
        }
        return new AblationRow { Method = "pretrained", Target = "none", Seed = seed, Accuracy = task.Accuracy(model, test, ctx.Device), FinalLoss = loss };
    }

    AblationRow FineTune(ExperimentContext ctx, ArithmeticTask task, ArithmeticSplit split, Dictionary<string, Tensor> pretrained, Arm arm, int seed)
    {
        using var model = Load(pretrained, ctx.Device);
        var rng = UnitSeed.NewRandom(Units.FineTuneBatches(seed));          // the same batches for every arm of this seed
        if (arm.Config.TrainsBaseWeights) foreach (var p in model.parameters()) p.requires_grad = true;
        else Injector.Inject(model, arm.Target == "all" ? LlamaConfig.ProjectionNames : [arm.Target], arm.Config, Units.Adapters(arm, seed));
        long trainable = Injector.TrainableParameterCount(model);
        var clock = Stopwatch.StartNew();
        var losses = LanguageModelTrainer.Train(model, _ => task.Batch(split.SampleTraining(ArithmeticOperation.Subtract, options.FinetuneBatchSize, rng), ctx.Device),
            new TrainingSchedule(options.FinetuneSteps, options.LearningRate), cancel: ctx.Cancel);
        double seconds = clock.Elapsed.TotalSeconds;
        return new AblationRow
        {
            Method = arm.Method, Target = arm.Target, Rank = arm.Rank, Params = trainable, Seed = seed, Steps = options.FinetuneSteps, Seconds = seconds,
            Accuracy = task.Accuracy(model, split.Test(ArithmeticOperation.Subtract), ctx.Device), FinalLoss = losses.TakeLast(10).Average(),
        };
    }

    LlamaDecoder Load(Dictionary<string, Tensor> state, Device device)
    {
        var model = new LlamaDecoder(options.Model);
        model.load_state_dict(state);
        model.to(device);
        model.eval();
        return model;
    }

    static string TaskName(ArithmeticOperation op) => op == ArithmeticOperation.Add ? "add" : "subtract";

    static string OneLine(AblationRow r) =>
        FormattableString.Invariant($"{r.Method} on {r.Target} (seed {r.Seed}, {r.Params} params): accuracy {100 * r.Accuracy:0.0}%, final loss {r.FinalLoss:0.0000}, {r.Seconds:0.0}s");
}
