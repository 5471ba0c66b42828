using System.CommandLine;
using System.Diagnostics;
using Abba.Core.Adapters;
using Abba.Core.Analysis;
using Abba.Core.Data;
using Abba.Core.IO;
using Abba.Core.Models;
using Abba.Core.Training;
using Abba.Experiments.Output;
using CsvHelper;
using static TorchSharp.torch;

namespace Abba.Experiments.Experiments;

/// <summary>Settings of the mnist experiment, recorded in the manifest. Every method gets the same optimiser, batch size and steps.</summary>
public sealed record MnistOptions
{
    /// <summary>Folder with the four MNIST IDX files.</summary>
    public required string DataFolder { get; init; }
    /// <summary>H in 784 -> H -> 10.</summary>
    public int Hidden { get; init; } = 256;
    /// <summary>Pre-training on digits 0-7: epochs, batch size, Adam learning rate (same in both profiles, so the cache is shared).</summary>
    public int PretrainEpochs { get; init; } = 5;
    /// <inheritdoc cref="PretrainEpochs"/>
    public int PretrainBatchSize { get; init; } = 128;
    /// <inheritdoc cref="PretrainEpochs"/>
    public double PretrainLearningRate { get; init; } = 1e-3;
    /// <summary>Test accuracy on 0-7 that pre-training must reach, or the run fails.</summary>
    public double PretrainMinimumAccuracy { get; init; } = 0.97;
    /// <summary>r: LoRA rank r, HiRA rank r, ABBA r1 = r2 = r/2 (equal parameter counts).</summary>
    public int Rank { get; init; } = 8;
    /// <summary>alpha: LoRA s = alpha/r; ABBA s = alpha^2/sqrt(r1 r2) (paper scaling); HiRA has no scale.</summary>
    public double Alpha { get; init; } = 16;
    /// <summary>The optimiser, in words.</summary>
    public string Optimiser { get; init; } = "Adam (betas 0.9/0.999, eps 1e-8, no weight decay), constant learning rate";
    /// <summary>Fine-tuning mini-batch size.</summary>
    public int BatchSize { get; init; } = 64;
    /// <summary>Fine-tuning steps (every method).</summary>
    public int Steps { get; init; } = 300;
    /// <summary>Seeds when --seeds is not given.</summary>
    public int Seeds { get; init; } = 1;
    /// <summary>Learning rates tried for each method on the validation split (first seed).</summary>
    public double[] SweepLearningRates { get; init; } = [];
    /// <summary>Share of the 8-9 training images held out as the validation split for the sweep (never trained on).</summary>
    public double ValidationFraction { get; init; } = 0.1;
    /// <summary>Evenly spaced checkpoints per trajectory (plus the start).</summary>
    public int Checkpoints { get; init; } = 10;
    /// <summary>Steps of the "target optimum": full fine-tuning at its swept rate with cosine decay to 0.</summary>
    public int TargetSteps { get; init; } = 2000;
    /// <summary>Landscape grid points per axis.</summary>
    public int GridSize { get; init; } = 31;
    /// <summary>How the landscape plane is made.</summary>
    public string Plane { get; init; } =
        "through the shared start W0 and the target optimum: x = unit direction from W0 to the target; y = leading principal " +
        "direction (PCA, not mean-centred) of the displacements from W0 of every method's checkpoints (first seed) with their x " +
        "component removed; points are flattened effective parameters [W1, b1, W2, b2] (W = W0 + dW); " +
        "loss = mean cross-entropy on the 8-9 fine-tuning split at the plane's points";

    /// <summary>CPU-friendly: one seed, 300 steps, a 5-point sweep.</summary>
    public static MnistOptions Quick(string data) => new() { DataFolder = data, Steps = 300, Seeds = 1, SweepLearningRates = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1], TargetSteps = 2000, GridSize = 31 };

    /// <summary>Seconds-long settings for the smoke test: a narrow MLP, one pre-training epoch, a few steps, a coarse grid.</summary>
    public static MnistOptions Tiny(string data) => new()
    {
        DataFolder = data, Hidden = 32, PretrainEpochs = 1, PretrainMinimumAccuracy = 0.9, Steps = 20, Seeds = 1,
        SweepLearningRates = [1e-2, 3e-2], Checkpoints = 4, TargetSteps = 40, GridSize = 5,
    };

    /// <summary>Three seeds, 1000 steps, a 7-point sweep, a finer landscape.</summary>
    public static MnistOptions Paper(string data) => new() { DataFolder = data, Steps = 1000, Seeds = 3, SweepLearningRates = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1], TargetSteps = 5000, GridSize = 41 };
}

/// <summary>One fine-tuning run (one seed, one method).</summary>
[CsvRecord]
public sealed partial record MnistRunRow(
    [CsvColumn("seed")] int Seed, [CsvColumn("method")] string Method, [CsvColumn("rank")] int Rank, [CsvColumn("params")] long Params,
    [CsvColumn("learning_rate")] double LearningRate, [CsvColumn("final_loss")] double FinalLoss, [CsvColumn("acc_8_9")] double Acc89,
    [CsvColumn("acc_0_7")] double Acc07, [CsvColumn("acc_all")] double AccAll, [CsvColumn("seconds")] double Seconds);

/// <summary>Per method: means (and standard deviations) over seeds, beside the paper's final loss.</summary>
[CsvRecord]
public sealed partial record MnistSummaryRow(
    [CsvColumn("method")] string Method, [CsvColumn("rank")] int Rank, [CsvColumn("params")] long Params,
    [CsvColumn("learning_rate")] double LearningRate, [CsvColumn("seeds")] int Seeds,
    [CsvColumn("final_loss")] double FinalLoss, [CsvColumn("final_loss_std")] double FinalLossStd,
    [CsvColumn("acc_8_9")] double Acc89, [CsvColumn("acc_8_9_std")] double Acc89Std,
    [CsvColumn("acc_0_7")] double Acc07, [CsvColumn("acc_0_7_std")] double Acc07Std,
    [CsvColumn("acc_all")] double AccAll, [CsvColumn("acc_all_std")] double AccAllStd,
    [CsvColumn("seconds")] double Seconds, [CsvColumn("paper_final_loss")] double? PaperFinalLoss);

/// <summary>Mini-batch training loss at one step.</summary>
[CsvRecord]
public sealed partial record MnistCurveRow([CsvColumn("seed")] int Seed, [CsvColumn("method")] string Method, [CsvColumn("step")] int Step, [CsvColumn("loss")] double Loss);

/// <summary>One learning rate tried for one method, scored on the validation split.</summary>
[CsvRecord]
public sealed partial record MnistSweepRow(
    [CsvColumn("method")] string Method, [CsvColumn("learning_rate")] double LearningRate, [CsvColumn("seed")] int Seed,
    [CsvColumn("val_loss")] double ValLoss, [CsvColumn("val_acc")] double ValAcc, [CsvColumn("chosen")] bool Chosen);

/// <summary>
/// A checkpoint projected onto the landscape plane. loss: at the checkpoint's own weights; off_plane: distance to the
/// plane / distance to the start; distance_to_target: Euclidean distance to the target optimum in the full parameter space.
/// </summary>
[CsvRecord]
public sealed partial record MnistTrajectoryRow(
    [CsvColumn("method")] string Method, [CsvColumn("checkpoint")] int Checkpoint, [CsvColumn("step")] int Step,
    [CsvColumn("x")] double X, [CsvColumn("y")] double Y, [CsvColumn("loss")] double Loss, [CsvColumn("off_plane")] double OffPlane,
    [CsvColumn("distance_to_target")] double DistanceToTarget);

/// <summary>Loss at one point of the landscape grid.</summary>
[CsvRecord]
public sealed partial record MnistLandscapeRow([CsvColumn("x")] double X, [CsvColumn("y")] double Y, [CsvColumn("loss")] double Loss);

/// <summary>The landscape plane: share of the checkpoints' squared displacement from W0 along each axis.</summary>
[CsvRecord]
public sealed partial record MnistPlaneRow([CsvColumn("explained_x")] double ExplainedX, [CsvColumn("explained_y")] double ExplainedY, [CsvColumn("points")] int Points);

/// <summary>Pre-training result per seed.</summary>
[CsvRecord]
public sealed partial record MnistPretrainRow([CsvColumn("seed")] int Seed, [CsvColumn("test_acc_0_7")] double TestAcc07, [CsvColumn("test_loss_0_7")] double TestLoss07);

/// <summary>A row of the paper's reference table (reference/fig1_mnist.csv).</summary>
[CsvRecord]
public sealed partial record PaperLossRow([CsvColumn("method")] string Method, [CsvColumn("final_loss")] double FinalLoss, [CsvColumn("source")] string Source);

/// <summary>Paper Figure 1 (right): pre-train an MLP on digits 0-7, fine-tune on 8-9 with Full FT, LoRA, HiRA and ABBA.</summary>
public sealed partial class MnistExperiment : IExperiment
{
    readonly Option<string> data = new("--data") { Description = "folder with the four MNIST IDX files (.gz or raw)", DefaultValueFactory = _ => DefaultDataFolder };
    readonly Option<int?> steps = new("--steps") { Description = "fine-tuning steps per method (default: the profile's)" };
    readonly Option<int?> rank = new("--rank") { Description = "r: LoRA/HiRA rank; ABBA uses r1 = r2 = r/2 (even, 2-10; default 8)" };
    readonly Option<int?> hidden = new("--hidden") { Description = "hidden width H of the 784 -> H -> 10 MLP (default 256)" };
    MnistOptions? options;

    /// <summary>Replaces the profile's preset (the smoke test uses <see cref="MnistOptions.Tiny"/>); command-line options still apply.</summary>
    public Func<string, MnistOptions>? Preset { get; init; }

    /// <summary>The MNIST files shipped with the program.</summary>
    public static string DefaultDataFolder => Path.Combine(AppContext.BaseDirectory, "data", "mnist");

    /// <inheritdoc />
    public string Name => "mnist";
    /// <inheritdoc />
    public string Description => "MLP pre-trained on digits 0-7, fine-tuned on 8-9: loss curves, loss landscape, forgetting";
    /// <inheritdoc />
    public string PaperArtefact => "Figure 1 (right)";
    /// <inheritdoc />
    public IReadOnlyList<Option> Options => [data, steps, rank, hidden];
    /// <inheritdoc />
    public object Configuration => options ?? (object)"not configured";

    /// <inheritdoc />
    public IReadOnlyList<string> Configure(OptionValues values, RunSettings settings)
    {
        string folder = values.Get(data);
        var o = Preset?.Invoke(folder) ?? (settings.Profile == Profile.Paper ? MnistOptions.Paper(folder) : MnistOptions.Quick(folder));
        o = o with { Steps = values.Get(steps) ?? o.Steps, Rank = values.Get(rank) ?? o.Rank, Hidden = values.Get(hidden) ?? o.Hidden };
        var problems = new List<string>();
        var missing = Directory.Exists(folder) ? Mnist.MissingFiles(folder) : [$"{Path.GetFullPath(folder)} (no such folder)"];
        if (missing.Count > 0)
            problems.Add($"--data: MNIST files not found: looked for {string.Join("; ", missing)}. Point --data at the folder holding the four MNIST IDX files (default {DefaultDataFolder}).");
        if (o.Steps < o.Checkpoints) problems.Add($"--steps must be at least {o.Checkpoints} (got {o.Steps})");
        if (o.Rank is < 2 or > Mnist.Classes || o.Rank % 2 != 0) problems.Add($"--rank must be even and between 2 and {Mnist.Classes} (the 10-way head limits it; got {o.Rank})");
        if (o.Hidden < o.Rank) problems.Add($"--hidden must be at least the rank {o.Rank} (got {o.Hidden})");
        options = o;
        return problems;
    }

    /// <inheritdoc />
    public void Run(ExperimentContext ctx)
    {
        var o = options ?? throw new InvalidOperationException("Configure the experiment before running it.");
        var seeds = ctx.Seeds(o.Seeds);
        using var split = TransferData.Load(o, seeds[0]);
        ctx.Log.Info($"data: pre-train on {split.Pretrain.Count} images of 0-7; fine-tune on {split.FineTune.Count} of 8-9 ({split.Validation.Count} held out for the sweep); test {split.Test89.Count} / {split.Test07.Count}");
        var pretrained = seeds.ToDictionary(s => s, s => PretrainOrLoad(ctx, o, split, s));
        ctx.WriteCsv("mnist_pretrain.csv", seeds.Select(s => Pretrained(o, split, s, pretrained[s])));
        var rates = SweepLearningRates(ctx, o, split, pretrained[seeds[0]], seeds[0]);
        var runs = new List<MnistRunRow>();
        var curves = new List<MnistCurveRow>();
        var trajectories = new Dictionary<string, IReadOnlyList<(int Step, Tensor Parameters)>>();
        using (var task = ctx.Progress.Start("fine-tuning", seeds.Count * Methods(o).Count * o.Steps))
            foreach (int seed in seeds)
                foreach (var method in Methods(o))
                {
                    ctx.ThrowIfCancelled();
                    var run = FineTuneAndEvaluate(o, split, pretrained[seed], method, rates[method.Method], seed, seed == seeds[0], task);
                    runs.Add(run.Row);
                    curves.AddRange(run.Losses.Select((l, i) => new MnistCurveRow(seed, method.Method, i + 1, l)));
                    if (run.Checkpoints is { } c) trajectories[method.Method] = c;
                    ctx.Log.Info($"seed {seed} {method.Method,-7} lr {run.Row.LearningRate:g3}: final loss {run.Row.FinalLoss:0.0000}, acc 8-9 {run.Row.Acc89:P1}, 0-7 {run.Row.Acc07:P1}, all {run.Row.AccAll:P1} ({run.Row.Seconds:0.0}s)");
                }
        ctx.WriteCsv("mnist_runs.csv", runs);
        ctx.WriteCsv("mnist_curves.csv", curves);
        ctx.WriteCsv("mnist_summary.csv", Summarise(runs, ReadPaperLosses()));
        WriteLandscape(ctx, o, split, pretrained[seeds[0]], trajectories, rates["full_ft"], seeds[0]);
        foreach (var t in trajectories.Values.SelectMany(c => c)) t.Parameters.Dispose();
        ctx.Record(Plot(ctx.OutputDir));
    }

    /// <summary>Full FT, LoRA r, HiRA r, ABBA r1 = r2 = r/2, in the paper's legend order reversed (baselines first).</summary>
    public static IReadOnlyList<AdapterConfig> Methods(MnistOptions o) =>
        [new FullFineTuneConfig(), new LoraConfig(o.Rank, o.Alpha), new HiraConfig(o.Rank),
         // On the 10 x H head r1 r2 = r^2/4 may exceed 10, the most any 10-row update can use: allowed (the budget, not the rank, is matched).
         new AbbaConfig(o.Rank / 2, o.Rank / 2, o.Alpha, AllowRankAboveFull: true)];

    Dictionary<string, Tensor> PretrainOrLoad(ExperimentContext ctx, MnistOptions o, TransferData split, int seed)
    {
        string path = ctx.PathOf(Path.Combine("cache", $"pretrain-h{o.Hidden}-e{o.PretrainEpochs}-b{o.PretrainBatchSize}-lr{o.PretrainLearningRate:g}-seed{seed}.safetensors"));
        if (File.Exists(path))
        {
            ctx.Log.Info($"seed {seed}: re-using pre-trained weights from {path}");
            return SafeTensors.Load(path).Tensors;
        }
        var settings = new PretrainSettings(o.Hidden, o.PretrainEpochs, o.PretrainBatchSize, o.PretrainLearningRate);
        int total = (int)(o.PretrainEpochs * split.Pretrain.Count / o.PretrainBatchSize);
        using var task = ctx.Progress.Start($"pre-training on 0-7 (seed {seed})", total);
        using var model = MlpTransfer.Pretrain(split.Pretrain, settings, seed, _ => task.Advance());
        double accuracy = Classifier.Accuracy(model, split.Test07.Images, split.Test07.Labels);
        if (accuracy < o.PretrainMinimumAccuracy)
            throw new InvalidOperationException($"pre-training reached {accuracy:P2} test accuracy on 0-7, below the required {o.PretrainMinimumAccuracy:P0}; raise the pre-training epochs.");
        var weights = MlpTransfer.CopyWeights(model);
        SafeTensors.Save(path, weights, new Dictionary<string, string> { ["seed"] = $"{seed}", ["settings"] = settings.ToString(), ["test_acc_0_7"] = $"{accuracy:R}" });
        ctx.Log.Info($"seed {seed}: pre-trained to {accuracy:P2} on 0-7 test; cached at {path}");
        return weights;
    }

    static MnistPretrainRow Pretrained(MnistOptions o, TransferData split, int seed, IReadOnlyDictionary<string, Tensor> weights)
    {
        using var model = MlpTransfer.NewModel(o.Hidden);
        MlpTransfer.LoadWeights(model, weights);
        return new MnistPretrainRow(seed, Classifier.Accuracy(model, split.Test07.Images, split.Test07.Labels),
            Classifier.MeanLoss(model, split.Test07.Images, split.Test07.Labels));
    }

    Dictionary<string, double> SweepLearningRates(ExperimentContext ctx, MnistOptions o, TransferData split, IReadOnlyDictionary<string, Tensor> weights, int seed)
    {
        var rows = new List<MnistSweepRow>();
        using var task = ctx.Progress.Start("learning-rate sweep (validation split)", Methods(o).Count * o.SweepLearningRates.Length * o.Steps);
        foreach (var method in Methods(o))
            foreach (double rate in o.SweepLearningRates)
            {
                ctx.ThrowIfCancelled();
                using var run = MlpTransfer.FineTune(weights, o.Hidden, method, split.FineTune, new FineTuneSettings(o.Steps, o.BatchSize, rate), seed, _ => task.Advance());
                double loss = Classifier.MeanLoss(run.Model, split.Validation.Images, split.Validation.Labels);
                rows.Add(new MnistSweepRow(method.Method, rate, seed, double.IsFinite(loss) ? loss : double.PositiveInfinity,
                    Classifier.Accuracy(run.Model, split.Validation.Images, split.Validation.Labels), Chosen: false));
            }
        var chosen = rows.GroupBy(r => r.Method).ToDictionary(g => g.Key, g => g.MinBy(r => r.ValLoss)!);
        foreach (var (method, best) in chosen)
        {
            bool edge = best.LearningRate == o.SweepLearningRates.Min() || best.LearningRate == o.SweepLearningRates.Max();
            ctx.Log.Info($"sweep: {method} -> lr {best.LearningRate:g3} (validation loss {best.ValLoss:0.0000}){(edge ? " [at the edge of the grid]" : "")}");
        }
        ctx.WriteCsv("mnist_lr_sweep.csv", rows.Select(r => r with { Chosen = ReferenceEquals(chosen[r.Method], r) }));
        return chosen.ToDictionary(kv => kv.Key, kv => kv.Value.LearningRate);
    }

    sealed record RunOutcome(MnistRunRow Row, float[] Losses, IReadOnlyList<(int Step, Tensor Parameters)>? Checkpoints);

    static RunOutcome FineTuneAndEvaluate(MnistOptions o, TransferData split, IReadOnlyDictionary<string, Tensor> weights,
        AdapterConfig method, double rate, int seed, bool keepCheckpoints, IProgressTask task)
    {
        var clock = Stopwatch.StartNew();
        var settings = new FineTuneSettings(o.Steps, o.BatchSize, rate, keepCheckpoints ? o.Checkpoints : 0);
        var run = MlpTransfer.FineTune(weights, o.Hidden, method, split.FineTune, settings, seed, _ => task.Advance());
        using (run.Model)
        {
            var m = run.Model;
            var row = new MnistRunRow(seed, method.Method, RankOf(method), run.TrainableParameters, rate,
                Classifier.MeanLoss(m, split.FineTune.Images, split.FineTune.Labels),
                Classifier.Accuracy(m, split.Test89.Images, split.Test89.Labels), Classifier.Accuracy(m, split.Test07.Images, split.Test07.Labels),
                Classifier.Accuracy(m, split.TestAll.Images, split.TestAll.Labels), clock.Elapsed.TotalSeconds);
            return new RunOutcome(row, run.StepLosses, keepCheckpoints ? run.Checkpoints : null);
        }
    }

    static int RankOf(AdapterConfig method) => method switch
    {
        LoraConfig c => c.Rank,
        HiraConfig c => c.Rank,
        AbbaConfig c => c.Rank1 + c.Rank2,
        _ => 0,
    };

    static List<PaperLossRow> ReadPaperLosses() =>
        CsvFiles.Read<PaperLossRow>(Path.Combine(AppContext.BaseDirectory, "reference", "fig1_mnist.csv"));

    /// <summary>Mean and sample standard deviation over seeds per method (std 0 for one seed).</summary>
    public static IEnumerable<MnistSummaryRow> Summarise(IReadOnlyList<MnistRunRow> runs, IReadOnlyList<PaperLossRow> paper) =>
        runs.GroupBy(r => r.Method).Select(g =>
        {
            var first = g.First();
            (double Mean, double Std) S(Func<MnistRunRow, double> f) => MeanStd(g.Select(f).ToArray());
            var (loss, lossStd) = S(r => r.FinalLoss);
            var (a89, a89s) = S(r => r.Acc89);
            var (a07, a07s) = S(r => r.Acc07);
            var (all, alls) = S(r => r.AccAll);
            return new MnistSummaryRow(g.Key, first.Rank, first.Params, first.LearningRate, g.Count(), loss, lossStd, a89, a89s, a07, a07s,
                all, alls, S(r => r.Seconds).Mean, paper.FirstOrDefault(p => p.Method == g.Key)?.FinalLoss);
        });

    static (double Mean, double Std) MeanStd(double[] xs)
    {
        double mean = xs.Average();
        return (mean, xs.Length > 1 ? Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Length - 1)) : 0);
    }
}
