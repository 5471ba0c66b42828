using System.CommandLine;
using System.Diagnostics;
using Abba.Core.Adapters;
using Abba.Core.Data;
using Abba.Core.Statistics;
using Abba.Core.Training;
using Abba.Experiments.Protocol;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static TorchSharp.torch;
using MnistData = Abba.Core.Data.Mnist;   // the simple name Mnist is this experiment's namespace

namespace Abba.Experiments.Mnist;

/// <summary>Paper Figure 1 (right): pre-train an MLP on digits 0-7, fine-tune on 8-9 with Full FT, LoRA, HiRA and ABBA.</summary>
public sealed partial class MnistExperiment : ILegacyExperiment
{
    readonly Option<string> data = new("--data") { Description = "folder with the four MNIST IDX files (.gz or raw)", DefaultValueFactory = _ => MnistOptions.DefaultDataFolder };
    readonly Option<int?> steps = new("--steps") { Description = "fine-tuning steps per method (default: the profile's)" };
    readonly Option<int?> rank = new("--rank") { Description = "r: LoRA/HiRA rank; ABBA uses r1 = r2 = r/2 (even, 2-10; default 8)" };
    readonly Option<int?> hidden = new("--hidden") { Description = "hidden width H of the 784 -> H -> 10 MLP (default 256)" };
    MnistOptions? options;

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
    public IReadOnlyList<string> CsvNames => MnistFiles.Written;
    /// <inheritdoc />
    public IReadOnlyDictionary<string, SettingProvenance> Provenance => MnistOptions.Provenance;
    /// <inheritdoc />
    public IReadOnlyList<string> FigureNames => [MnistFiles.LossFigure, MnistFiles.LandscapeFigure, MnistFiles.AccuracyFigure];

    /// <summary>
    /// Seed identities. Every arm of a replicate shares the split, the pre-trained model and the fine-tuning batches;
    /// only an arm's adapter initialisation names the arm (<see cref="MlpTransfer.FineTune"/> derives each layer's start
    /// from it and the layer's name).
    /// </summary>
    public static class Units
    {
        /// <summary>The validation hold-out of the 8-9 training images (first seed).</summary>
        public static long Split(int seed) => UnitSeeds.Of(seed, "mnist/split");
        /// <summary>Pre-training on 0-7: initial weights and batch order.</summary>
        public static long Pretrain(int seed) => UnitSeeds.Of(seed, "mnist/pretrain");
        /// <summary>The batch order of every fine-tuning arm of replicate <paramref name="seed"/>.</summary>
        public static long FineTuneBatches(int seed) => UnitSeeds.Of(seed, "mnist/finetune/batches");
        /// <summary>The adapter initialisation of one fine-tuning arm.</summary>
        public static long FineTuneAdapters(string method, int seed) => UnitSeeds.Of(seed, $"mnist/finetune/method={method}");
        /// <summary>The batch order of every run of the learning-rate sweep of replicate <paramref name="seed"/> (the first SweepSeeds seeds).</summary>
        public static long SweepBatches(int seed) => UnitSeeds.Of(seed, "mnist/sweep/batches");
        /// <summary>The adapter initialisation of one sweep run (the same for every rate of a method).</summary>
        public static long SweepAdapters(string method, int seed) => UnitSeeds.Of(seed, $"mnist/sweep/method={method}");
        /// <summary>The batch order of reference optimum <paramref name="index"/> (from the first seed's W0), shared with no arm.</summary>
        public static long Optimum(int seed, int index) => UnitSeeds.Of(seed, $"mnist/optimum/index={index}");
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Configure(OptionValues values, RunSettings settings)
    {
        string folder = values.Get(data);
        var o = settings.Preset(MnistOptions.Tiny, MnistOptions.Quick, MnistOptions.Paper);
        o = o with { DataFolder = folder, Steps = values.Get(steps) ?? o.Steps, Rank = values.Get(rank) ?? o.Rank, Hidden = values.Get(hidden) ?? o.Hidden };
        var problems = new List<string>();
        var missing = Directory.Exists(folder) ? MnistData.MissingFiles(folder) : [$"{Path.GetFullPath(folder)} (no such folder)"];
        if (missing.Count > 0)
            problems.Add($"--data: MNIST files not found: looked for {string.Join("; ", missing)}. Point --data at the folder holding the four MNIST IDX files (default {MnistOptions.DefaultDataFolder}).");
        if (o.Steps < o.Checkpoints) problems.Add($"--steps must be at least {o.Checkpoints} (got {o.Steps})");
        if (o.Rank is < 2 or > MnistData.Classes || o.Rank % 2 != 0) problems.Add($"--rank must be even and between 2 and {MnistData.Classes} (the 10-way head limits it; got {o.Rank})");
        if (o.Hidden < o.Rank) problems.Add($"--hidden must be at least the rank {o.Rank} (got {o.Hidden})");
        options = o;
        return problems;
    }

    /// <inheritdoc />
    public object UnitConfiguration => options is { } o ? o with { DataFolder = "" } : "not configured";   // where MNIST lies does not change a result

    /// <inheritdoc />
    public void Run(ExperimentContext ctx)
    {
        var o = options ?? throw new InvalidOperationException("Configure the experiment before running it.");
        var seeds = ctx.Seeds(o.Seeds);
        var plan = Plan(ctx.Settings);
        ctx.Log.Info($"data: pre-train on digits 0-7; fine-tune on 8-9 ({o.ValidationFraction:P0} held out for the sweep); test on 8-9, 0-7 and all");
        ctx.WriteCsv(MnistFiles.Pretrain, plan.Pretrain.Values.Select(ctx.Unit<MnistPretrainRow>));
        var sweep = plan.Sweep.Select(ctx.Unit<MnistSweepRow>).ToList();
        var chosen = Chosen(sweep);
        foreach (var (method, rate) in chosen)
        {
            string edge = RateSweep.AtEdge(rate, o.SweepLearningRates) ? " [at the edge of the grid]" : "";
            double mean = sweep.Where(r => r.Method == method && r.LearningRate == rate).Average(r => r.ValLoss);
            ctx.Log.Info($"sweep: {method} -> lr {rate:g3} (mean validation loss {mean:0.0000} over {sweep.Select(r => r.Seed).Distinct().Count()} seed(s)){edge}");
        }
        ctx.WriteCsv(MnistFiles.Sweep, sweep.Select(r => r with { Chosen = chosen[r.Method] == r.LearningRate }));
        var runs = new List<MnistRunRow>();
        var curves = new List<MnistCurveRow>();
        using (var task = ctx.Progress.Start("fine-tuning arms", plan.Arms.Count))
            foreach (var arm in plan.Arms)
            {
                var run = ctx.Unit<ArmUnit>(arm);
                runs.Add(run.Row);
                curves.AddRange(run.Losses.Select((l, i) => new MnistCurveRow(run.Row.Seed, run.Row.Method, i + 1, l)));
                ctx.Log.Info($"seed {run.Row.Seed} {run.Row.Method,-7} lr {run.Row.LearningRate:g3}: train loss {run.Row.TrainLoss:0.0000}, test loss {run.Row.TestLoss:0.0000}, acc 8-9 {run.Row.Acc89:P1}, 0-7 {run.Row.Acc07:P1}, all {run.Row.AccAll:P1} ({run.Row.Seconds:0.0}s)");
                task.Advance();
            }
        ctx.WriteCsv(MnistFiles.Runs, runs);
        ctx.WriteCsv(MnistFiles.Curves, curves);
        ctx.WriteCsv(MnistFiles.Summary, Summarise(runs, ReferenceData.Read<PaperLossRow>(MnistFiles.PaperReference)));
        var landscape = ctx.Unit<LandscapeUnit>(plan.Landscape);
        ctx.WriteCsv(MnistFiles.Trajectories, landscape.Trajectories);
        ctx.WriteCsv(MnistFiles.Plane, [landscape.Plane]);
        ctx.WriteCsv(MnistFiles.Landscape, landscape.Grid);
        ctx.WriteCsv(MnistFiles.Optima, landscape.Optima);
        ctx.WriteCsv(MnistFiles.Closeness, landscape.Closeness);
        ctx.WriteCsv(MnistFiles.Comparisons, [.. LossEffects(runs), .. SpeedEffects(curves), .. landscape.Effects]);
        foreach (var m in landscape.Optima)
            ctx.Log.Info($"optimum {m.Optimum}: {(m.Converged ? "converged" : "NOT converged")} after {m.Steps} steps, |grad| {m.GradientNorm:g3}, train loss {m.TrainLoss:0.00000}, test loss {m.TestLoss:0.0000}");
        ctx.Log.Info($"landscape plane: x (towards optimum 1) {landscape.Plane.ExplainedX:P1}, y {landscape.Plane.ExplainedY:P1} of the squared displacement");
        ctx.Record(Plot(ctx.OutputDir));
    }

    /// <summary>Full FT, LoRA r, HiRA r, ABBA r1 = r2 = r/2, in the paper's legend order reversed (baselines first).</summary>
    public static IReadOnlyList<AdapterConfig> Methods(MnistOptions o) =>
        [new FullFineTuneConfig(), new LoraConfig(o.Rank, o.Alpha), new HiraConfig(o.Rank),
         // On the 10 x H head r1 r2 = r^2/4 may exceed 10, the most any 10-row update can use: allowed (the budget, not the rank, is matched).
         new AbbaConfig(o.Rank / 2, o.Rank / 2, o.Alpha, AllowRankAboveFull: true)];

    /// <summary>Per method, the rate with the lowest mean validation loss over the sweep seeds (ties: the smaller rate).</summary>
    static Dictionary<string, double> Chosen(IEnumerable<MnistSweepRow> sweep) =>
        sweep.GroupBy(r => r.Method).ToDictionary(g => g.Key, g => g.GroupBy(r => r.LearningRate)
            .OrderBy(r => r.Average(x => x.ValLoss)).ThenBy(r => r.Key).First().Key);

    /// <summary>One fine-tuning arm's row, its per-step losses, and (when kept) its checkpoints.</summary>
    public sealed record ArmResult(MnistRunRow Row, float[] Losses, IReadOnlyList<(int Step, Tensor Parameters)>? Checkpoints);

    /// <summary>One unit of work: fine-tunes <paramref name="method"/> from <paramref name="weights"/> for replicate <paramref name="seed"/> and scores it.</summary>
    public static ArmResult FineTuneArm(MnistOptions o, TransferData split, IReadOnlyDictionary<string, Tensor> weights,
        AdapterConfig method, double rate, int seed, bool keepCheckpoints, IProgressTask? task = null)
    {
        var clock = Stopwatch.StartNew();
        var settings = new FineTuneSettings(o.Steps, o.BatchSize, rate, keepCheckpoints ? o.Checkpoints : 0);
        var run = MlpTransfer.FineTune(weights, o.Hidden, method, split.FineTune, settings, Units.FineTuneBatches(seed), Units.FineTuneAdapters(method.Method, seed), _ => task?.Advance());
        using (run.Model)
        {
            var m = run.Model;
            var row = new MnistRunRow(seed, method.Method, method.BudgetRank, run.TrainableParameters, rate,
                Classifier.MeanLoss(m, split.FineTune.Images, split.FineTune.Labels), Classifier.MeanLoss(m, split.Test89.Images, split.Test89.Labels),
                Classifier.Accuracy(m, split.Test89.Images, split.Test89.Labels), Classifier.Accuracy(m, split.Test07.Images, split.Test07.Labels),
                Classifier.Accuracy(m, split.TestAll.Images, split.TestAll.Labels), clock.Elapsed.TotalSeconds);
            return new ArmResult(row, run.StepLosses, keepCheckpoints ? run.Checkpoints : null);
        }
    }


    /// <summary>Mean and sample standard deviation over seeds per method (std 0 for one seed); 95% t intervals of the losses (NaN for one seed).</summary>
    public static IEnumerable<MnistSummaryRow> Summarise(IReadOnlyList<MnistRunRow> runs, IReadOnlyList<PaperLossRow> paper) =>
        runs.GroupBy(r => r.Method).Select(g =>
        {
            var first = g.First();
            (double Mean, double Std) S(Func<MnistRunRow, double> f) => Describe.MeanStd(g.Select(f));
            var train = Intervals.StudentTMean([.. g.Select(r => r.TrainLoss)]);
            var test = Intervals.StudentTMean([.. g.Select(r => r.TestLoss)]);
            var (a89, a89s) = S(r => r.Acc89);
            var (a07, a07s) = S(r => r.Acc07);
            var (all, alls) = S(r => r.AccAll);
            return new MnistSummaryRow(g.Key, first.Rank, first.Params, first.LearningRate, g.Count(),
                train.Estimate, S(r => r.TrainLoss).Std, train.Low, train.High, test.Estimate, S(r => r.TestLoss).Std, test.Low, test.High, a89, a89s, a07, a07s,
                all, alls, S(r => r.Seconds).Mean, paper.FirstOrDefault(p => p.Method == g.Key)?.FinalLoss);
        });
}
