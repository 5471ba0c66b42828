using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Abba.Core.Adapters;
using Abba.Core.Data;
using Abba.Core.IO;
using Abba.Core.Models;
using Abba.Core.Training;
using Abba.Experiments.Output;
using TorchSharp;
using CsvHelper;
using static TorchSharp.torch;

namespace Abba.Experiments.Experiments;

/// <summary>Settings of the component ablation (paper Fig. 3) on a synthetic arithmetic stand-in.</summary>
/// <param name="Model">Decoder shapes.</param>
/// <param name="Digits">Operand digits of the arithmetic task.</param>
/// <param name="TestSize">Held-out problems per operation (the accuracy set).</param>
/// <param name="PretrainBatchSize">Problems per pre-training step.</param>
/// <param name="PretrainSteps">Steps of pre-training on task P (addition) from scratch.</param>
/// <param name="PretrainLearningRate">Peak learning rate of pre-training.</param>
/// <param name="FinetuneSteps">Steps of fine-tuning on task F (subtraction), the same for every arm.</param>
/// <param name="LearningRate">Peak fine-tuning learning rate, the same for every arm.</param>
/// <param name="FinetuneBatchSize">Problems per fine-tuning step.</param>
/// <param name="Rank">LoRA and HiRA rank r; ABBA uses r1 = r2 = r/2 (the paper's equal-budget rule).</param>
/// <param name="AbbaAlpha">ABBA alpha; s = alpha^2 / sqrt(r1 r2) (paper scaling).</param>
/// <param name="LoraAlpha">LoRA alpha; s = alpha / r.</param>
/// <param name="PerComponentMethods">Methods run on each projection type alone (ABBA always; LoRA and HiRA on request).</param>
/// <param name="DefaultSeeds">Fine-tuning seeds when --seeds is not given.</param>
public sealed record AblationOptions(
    LlamaConfig Model, int Digits, int TestSize, int PretrainBatchSize, int PretrainSteps, double PretrainLearningRate,
    int FinetuneSteps, double LearningRate, int FinetuneBatchSize, int Rank, double AbbaAlpha, double LoraAlpha,
    IReadOnlyList<string> PerComponentMethods, int DefaultSeeds)
{
    /// <summary>CPU minutes: 2-digit operands, a 2-block decoder, one seed.</summary>
    public static AblationOptions Quick => new(LlamaConfig.Quick(ArithmeticTask.VocabSize), Digits: 2, TestSize: 500,
        PretrainBatchSize: 128, PretrainSteps: 1000, PretrainLearningRate: 1e-3,
        FinetuneSteps: 1000, LearningRate: 3e-3, FinetuneBatchSize: 64, Rank: 8, AbbaAlpha: 16, LoraAlpha: 16,
        PerComponentMethods: ["abba"], DefaultSeeds: 1);

    /// <summary>3-digit operands, a 4-block decoder, three seeds (the paper averages three).</summary>
    public static AblationOptions Paper => Quick with
    {
        Model = LlamaConfig.Paper(ArithmeticTask.VocabSize), Digits = 3, TestSize = 1000, PretrainSteps = 1200, DefaultSeeds = 3,
    };

    /// <summary>Seconds: the smoke test's preset (a one-block decoder of width 16, a few steps).</summary>
    public static AblationOptions Tiny => Quick with
    {
        Model = new LlamaConfig(ArithmeticTask.VocabSize, HiddenSize: 16, IntermediateSize: 32, Layers: 1, Heads: 2, KvHeads: 1, HeadDim: 8, MaxPositions: 16, InitStd: 0.05),
        TestSize = 40, PretrainBatchSize = 16, PretrainSteps = 20, FinetuneSteps = 10, FinetuneBatchSize = 16, Rank = 4,
    };
}

/// <summary>One fine-tuning run (or the pre-trained model before fine-tuning) scored on the held-out F set.</summary>
[CsvRecord]
public partial record AblationRow
{
    /// <summary>abba, lora, hira, full_ft, or pretrained (no fine-tuning).</summary>
    [CsvColumn("method")] public string Method { get; init; } = "";
    /// <summary>Projection type adapted in every layer, all (the seven), model (every parameter) or none.</summary>
    [CsvColumn("target")] public string Target { get; init; } = "";
    /// <summary>r (ABBA: r1 + r2); 0 for full fine-tuning.</summary>
    [CsvColumn("rank")] public int Rank { get; init; }
    /// <summary>Trainable parameters.</summary>
    [CsvColumn("params")] public long Params { get; init; }
    /// <summary>Fine-tuning seed (pre-training seed for the pretrained row).</summary>
    [CsvColumn("seed")] public int Seed { get; init; }
    /// <summary>Exact-match accuracy of greedy answers on the held-out subtraction problems.</summary>
    [CsvColumn("accuracy")] public double Accuracy { get; init; }
    /// <summary>Mean training loss of the last 10 steps (pretrained row: answer loss on the held-out F set).</summary>
    [CsvColumn("final_loss")] public double FinalLoss { get; init; }
    /// <summary>Fine-tuning steps.</summary>
    [CsvColumn("steps")] public int Steps { get; init; }
    /// <summary>Wall time of the training loop (timing column: varies between runs).</summary>
    [CsvColumn("seconds")] public double Seconds { get; init; }
}

/// <summary>Training loss of one pre-training step.</summary>
[CsvRecord]
public partial record PretrainLossRow
{
    /// <summary>Step, from 1.</summary>
    [CsvColumn("step")] public int Step { get; init; }
    /// <summary>Answer-token cross-entropy of the step's batch.</summary>
    [CsvColumn("loss")] public double Loss { get; init; }
}

/// <summary>Held-out accuracy of the model being pre-trained, at a checkpoint.</summary>
[CsvRecord]
public partial record PretrainAccuracyRow
{
    /// <summary>Step, from 1.</summary>
    [CsvColumn("step")] public int Step { get; init; }
    /// <summary>add (task P) or subtract (task F).</summary>
    [CsvColumn("task")] public string Task { get; init; } = "";
    /// <summary>Exact-match accuracy on the held-out problems.</summary>
    [CsvColumn("accuracy")] public double Accuracy { get; init; }
}

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

    readonly Option<string> methods = new("--methods") { Description = "methods run on each projection type alone, comma-separated from abba, lora, hira (ABBA is always included)", DefaultValueFactory = _ => "abba" };
    readonly Option<int?> rank = new("--rank") { Description = "LoRA/HiRA rank r; ABBA r1 = r2 = r/2 (default: the profile's)" };
    readonly Option<int?> steps = new("--finetune-steps") { Description = "fine-tuning steps of every arm (default: the profile's)" };
    readonly Option<double?> learningRate = new("--lr") { Description = "fine-tuning learning rate of every arm (default: the profile's)" };

    AblationOptions options = AblationOptions.Quick;

    /// <summary>Replaces the profile's preset (the smoke test uses <see cref="AblationOptions.Tiny"/>); command-line options still apply.</summary>
    public AblationOptions? Preset { get; init; }

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
    public IReadOnlyList<string> Configure(OptionValues values, RunSettings settings)
    {
        var o = Preset ?? (settings.Profile == Profile.Paper ? AblationOptions.Paper : AblationOptions.Quick);
        var errors = new List<string>();
        var chosen = values.Get(methods).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Prepend("abba").Distinct().ToArray();
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
        var o = options;
        var seeds = ctx.Seeds(o.DefaultSeeds);
        ctx.Log.Info(Disclaimer);
        var task = new ArithmeticTask(o.Digits);
        var split = new ArithmeticSplit(task, o.TestSize, seed: seeds[0]);
        var pretrained = Pretrain(ctx, task, split, seeds[0]);       // cached under cache/, keyed by settings and seed
        var rows = new List<AblationRow> { BeforeFineTuning(ctx, task, split, pretrained, seeds[0]) };
        var arms = Arms(o);
        using (var progress = ctx.Progress.Start("fine-tuning arms", arms.Count * seeds.Count))
            foreach (int seed in seeds)
                foreach (var arm in arms)
                {
                    ctx.ThrowIfCancelled();
                    rows.Add(FineTune(ctx, task, split, pretrained, arm, seed));
                    ctx.WriteCsv("ablation.csv", rows);                  // rewritten after each arm: an interrupted run keeps its finished arms
                    ctx.Log.Info(Describe(rows[^1]));
                    progress.Advance();
                }
        ctx.WriteCsv("ablation_summary.csv", Summarise(rows));
        string text = SummaryText(ctx.OutputDir);
        AtomicFile.WriteText(ctx.PathOf("summary.txt"), text);
        ctx.Record("summary.txt");
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries)) ctx.Log.Info(line);
        ctx.Record(Plot(ctx.OutputDir));
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

    /// <summary>Pre-trains on addition from scratch, or loads the cached result; writes the pre-training CSVs either way.</summary>
    Dictionary<string, Tensor> Pretrain(ExperimentContext ctx, ArithmeticTask task, ArithmeticSplit split, int seed)
    {
        string key = CacheKey(seed, ctx.Device);
        string cache = Path.Combine(ctx.OutputDir, "cache", $"pretrain-{Hash(key)}-seed{seed}");
        if (File.Exists(cache + ".safetensors") && SafeTensors.Load(cache + ".safetensors") is var (tensors, meta) && meta.GetValueOrDefault("key") == key)
        {
            ctx.Log.Info($"pre-trained model loaded from {Path.GetRelativePath(ctx.OutputDir, cache)}.safetensors (delete it to pre-train again)");
            ctx.WriteCsv("pretrain_loss.csv", CsvFiles.Read<PretrainLossRow>(cache + "-loss.csv"));
            ctx.WriteCsv("pretrain_accuracy.csv", CsvFiles.Read<PretrainAccuracyRow>(cache + "-accuracy.csv"));
            return tensors;
        }
        var (state, losses, accuracy) = PretrainFromScratch(ctx, task, split, seed);
        Directory.CreateDirectory(Path.GetDirectoryName(cache)!);
        CsvFiles.Write(cache + "-loss.csv", losses);
        CsvFiles.Write(cache + "-accuracy.csv", accuracy);
        SafeTensors.Save(cache + ".safetensors", state, new Dictionary<string, string> { ["key"] = key });
        ctx.WriteCsv("pretrain_loss.csv", losses);
        ctx.WriteCsv("pretrain_accuracy.csv", accuracy);
        return state;
    }

    (Dictionary<string, Tensor> State, List<PretrainLossRow> Losses, List<PretrainAccuracyRow> Accuracy) PretrainFromScratch(
        ExperimentContext ctx, ArithmeticTask task, ArithmeticSplit split, int seed)
    {
        var o = options;
        var rng = ExperimentContext.SeedAll(seed);
        using var model = new LlamaDecoder(o.Model);
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
        var rng = ExperimentContext.SeedAll(seed);                  // adapter init and batches depend on the seed only
        if (arm.Config is FullFineTuneConfig) foreach (var p in model.parameters()) p.requires_grad = true;
        else Injector.Inject(model, arm.Target == "all" ? LlamaConfig.ProjectionNames : [arm.Target], arm.Config);
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

    /// <summary>Everything the pre-trained weights depend on; its hash names the cache file.</summary>
    string CacheKey(int seed, Device device)
    {
        var o = options;
        var what = new { o.Model, o.Digits, o.TestSize, o.PretrainBatchSize, o.PretrainSteps, o.PretrainLearningRate, seed, device = device.type.ToString(), version = 1 };
        return JsonSerializer.Serialize(what);
    }

    static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];

    static string TaskName(ArithmeticOperation op) => op == ArithmeticOperation.Add ? "add" : "subtract";

    static string Describe(AblationRow r) =>
        FormattableString.Invariant($"{r.Method} on {r.Target} (seed {r.Seed}, {r.Params} params): accuracy {100 * r.Accuracy:0.0}%, final loss {r.FinalLoss:0.0000}, {r.Seconds:0.0}s");
}
