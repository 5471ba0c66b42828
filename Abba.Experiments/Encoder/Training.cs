using System.Diagnostics;
using System.Security.Cryptography;
using Abba.Core.Adapters;
using Abba.Core.Analysis;
using Abba.Core.Data;
using Abba.Core.Memory;
using Abba.Core.Models;
using Abba.Core.Pretrained;
using Abba.Core.Training;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Experiments.Encoder;

/// <summary>The result of one fine-tuning run (a unit's payload): scores on the validation and test prefixes, and what
/// the run cost.</summary>
/// <param name="Arm">The arm's label.</param>
/// <param name="Rate">Peak learning rate.</param>
/// <param name="Seed">Replicate seed.</param>
/// <param name="Params">Trainable parameters (the classifier head included).</param>
/// <param name="Validation">Scores on the validation prefix.</param>
/// <param name="Test">Scores on the test prefix.</param>
/// <param name="FinalLoss">Mean training loss of the last 10 steps.</param>
/// <param name="Steps">Training steps.</param>
/// <param name="Seconds">Wall time of the training loop.</param>
/// <param name="TokensPerSecond">Real (unpadded) training tokens per second of the training loop.</param>
/// <param name="PaddedShare">Fraction of the training batches' token slots that are padding.</param>
/// <param name="PeakExtraBytes">Growth of the process's resident memory during training (0 where the kernel cannot
/// report it). Not reported as a method's peak: after the first run of a process the allocator reuses memory freed by
/// earlier runs, so it is 0 for most runs; a per-method peak needs a fresh process per measurement, as the memory
/// experiment does.</param>
/// <param name="BatchDigest">SHA-256 (12 hex digits) of every training example index, in order: equal for all arms
/// of a seed (paired data).</param>
public sealed record EncoderRunResult(string Arm, double Rate, int Seed, long Params, TextScore Validation,
    TextScore Test, double FinalLoss, int Steps, double Seconds, double TokensPerSecond, double PaddedShare,
    long PeakExtraBytes, string BatchDigest, IReadOnlyDictionary<string, UpdateSpectrum>? Spectra = null)
{
    /// <summary>The run in one log line.</summary>
    public string OneLine() =>
        FormattableString.Invariant($"{Arm} (lr {Rate}, seed {Seed}, {Params} params): ") +
        FormattableString.Invariant($"validation CE {Validation.CrossEntropy:0.0000}, ") +
        FormattableString.Invariant($"test CE {Test.CrossEntropy:0.0000}, accuracy {100 * Test.Accuracy:0.0}%, ") +
        FormattableString.Invariant($"{Seconds:0.0}s ({TokensPerSecond:0} tokens/s)");
}

/// <summary>
/// Seed identities. The training batches and the classifier head's initial weights are shared by every arm of a
/// replicate (paired seeds); only an arm's adapter initialisation names the arm. The encoder is the same pre-trained
/// all-MiniLM-L6-v2 in every replicate: there is no pre-training to vary.
/// </summary>
static class EncoderSeeds
{
    public static long Batches(int seed) => UnitSeeds.Of(seed, "encoder/batches");
    public static long Head(int seed) => UnitSeeds.Of(seed, "encoder/head");
    public static long Adapters(EncoderArm arm, int seed) => UnitSeeds.Of(seed, $"encoder/adapters/arm={arm.Label}");

    /// <summary>A run's unit identity; the rate is left out of its seeds, so the rates of a sweep start
    /// alike.</summary>
    public static string RunIdentity(EncoderArm arm, double rate, int seed) =>
        FormattableString.Invariant($"encoder/run/arm={arm.Label}/lr={rate:R}/seed={seed}");
}

/// <summary>The supersense splits as WordPiece ids, tokenized once per process and kept.</summary>
sealed class EncodedSplits
{
    static readonly Lock Gate = new();
    static readonly Dictionary<int, EncodedSplits> Cache = [];

    EncodedSplits(SupersenseDataset data, int maxTokens)
    {
        var tokenizer = MiniLm.Tokenizer();
        int[][] Encode(IReadOnlyList<(string Text, int Label)> items) =>
            [.. items.Select(i => tokenizer.Encode(i.Text, maxTokens).ToArray())];
        Classes = data.Classes;
        PadId = tokenizer.PadId;
        (Train, TrainLabels) = (Encode(data.Train), [.. data.Train.Select(i => i.Label)]);
        (Validation, ValidationLabels) = (Encode(data.Validation), [.. data.Validation.Select(i => i.Label)]);
        (Test, TestLabels) = (Encode(data.Test), [.. data.Test.Select(i => i.Label)]);
    }

    /// <summary>The shipped dataset's splits at <paramref name="maxTokens"/>.</summary>
    public static EncodedSplits Of(int maxTokens)
    {
        lock (Gate)
        {
            if (!Cache.TryGetValue(maxTokens, out var splits))
                Cache[maxTokens] = splits = new EncodedSplits(SupersenseDataset.Load(DataPath), maxTokens);
            return splits;
        }
    }

    /// <summary>The shipped supersense file beside the program.</summary>
    public static string DataPath => Path.Combine(ProgramFiles.Folder, "data", "supersense", "supersense.tsv.gz");

    public IReadOnlyList<string> Classes { get; }
    public int PadId { get; }
    public int[][] Train { get; }
    public int[] TrainLabels { get; }
    public int[][] Validation { get; }
    public int[] ValidationLabels { get; }
    public int[][] Test { get; }
    public int[] TestLabels { get; }

    /// <summary>Examples <paramref name="indices"/> of (<paramref name="ids"/>, <paramref name="labels"/>) padded to
    /// their longest, on <paramref name="device"/>.</summary>
    public TextBatch Batch(int[][] ids, int[] labels, IReadOnlyList<int> indices, Device device) =>
        Pad(ids, labels, indices, PadId, device);

    /// <summary>Examples <paramref name="indices"/> of (<paramref name="ids"/>, <paramref name="labels"/>) padded to
    /// their longest with <paramref name="padId"/>, on <paramref name="device"/>.</summary>
    public static TextBatch Pad(int[][] ids, int[] labels, IReadOnlyList<int> indices, int padId, Device device)
    {
        int length = indices.Max(i => ids[i].Length);
        var tokens = new long[indices.Count * length];
        var mask = new long[indices.Count * length];
        for (int b = 0; b < indices.Count; b++)
        {
            var row = ids[indices[b]];
            for (int t = 0; t < length; t++)
            {
                tokens[b * length + t] = t < row.Length ? row[t] : padId;
                mask[b * length + t] = t < row.Length ? 1 : 0;
            }
        }
        long[] shape = [indices.Count, length];
        return new TextBatch(tensor(tokens, shape, device: device), tensor(mask, shape, device: device),
            tensor([.. indices.Select(i => (long)labels[i])], device: device));
    }

    /// <summary>The first <paramref name="count"/> examples of a split, in length order (scoring pads
    /// little).</summary>
    public static int[] PrefixByLength(int[][] ids, int count) =>
        [.. Enumerable.Range(0, Math.Min(count, ids.Length)).OrderBy(i => ids[i].Length).ThenBy(i => i)];
}

/// <summary>One fine-tuning run of an arm: the classifier built on a fresh copy of the pre-trained encoder, the arm's
/// adapters injected, trained on the seed's batches, scored on the validation and test prefixes.</summary>
static class EncoderFineTuning
{
    /// <summary>Glosses per scoring batch.</summary>
    const int ScoringBatch = 128;

    /// <summary>Fine-tunes <paramref name="arm"/> at <paramref name="rate"/> on the batches of
    /// <paramref name="seed"/>.</summary>
    public static EncoderRunResult FineTune(
        ExperimentContext ctx, EncoderOptions o, EncoderArm arm, double rate, int seed)
    {
        var data = EncodedSplits.Of(o.MaxTokens);
        var plan = LengthBuckets.Plan([.. data.Train.Select(t => t.Length)], o.BatchSize, o.Steps, o.BucketBatches,
            EncoderSeeds.Batches(seed));
        using var model = Build(ctx.Device, arm, seed, data.Classes.Count);
        long parameters = Injector.TrainableParameterCount(model);
        using var probe = ResidentMemoryProbe.TryCreate(out _);
        long before = probe?.CurrentBytes() ?? 0;
        probe?.ResetPeak();
        var clock = Stopwatch.StartNew();
        // The head trains at one rate in every arm, so arms differ in how they adapt the encoder, not in how fast
        // their heads learn; the head alone trains at its own swept rate.
        Parameter[]? head = arm.Training == EncoderTraining.HeadOnly ? null : [.. model.Classifier.parameters()];
        var losses = TextClassifierTrainer.Train(model, step => data.Batch(data.Train, data.TrainLabels, plan[step],
            ctx.Device), new TrainingSchedule(o.Steps, rate), head, o.HeadRate, ctx.Cancel);
        double seconds = clock.Elapsed.TotalSeconds;
        long peak = probe is null ? 0 : Math.Max(0, probe.PeakBytes() - before);
        long real = plan.Sum(b => b.Sum(i => (long)data.Train[i].Length));
        long slots = plan.Sum(b => (long)b.Length * b.Max(i => data.Train[i].Length));
        TextScore Score(int[][] ids, int[] labels, int count)
        {
            var order = EncodedSplits.PrefixByLength(ids, count);
            return TextClassifierTrainer.Evaluate(model, order.Length, ScoringBatch,
                idx => data.Batch(ids, labels, [.. idx.Select(k => order[k])], ctx.Device), data.Classes.Count);
        }
        return new EncoderRunResult(arm.Label, rate, seed, parameters,
            Score(data.Validation, data.ValidationLabels, o.ValidationSize),
                Score(data.Test, data.TestLabels, o.TestSize),
            losses.TakeLast(10).Average(), o.Steps, seconds, real / seconds, 1 - (double)real / slots, peak,
            Digest(plan), Spectra(model, arm, o.Rank));
    }

    /// <summary>The spectrum of every update the encoder learned (an adapter's dW, or W - W0 of every projection
    /// under full fine-tuning), with the energy share of the top <paramref name="rank"/>; none for the head
    /// alone.</summary>
    static IReadOnlyDictionary<string, UpdateSpectrum> Spectra(BertClassifier model, EncoderArm arm, int rank)
    {
        if (arm.Training == EncoderTraining.HeadOnly) return new Dictionary<string, UpdateSpectrum>();
        var modules = BertConfig.ProjectionKinds.SelectMany(model.Encoder.Config.ModulesOf).ToArray();
        return UpdateSpectrum.OfLearnedUpdates(model.Encoder, PretrainedWeights.Value, modules, rank);
    }

    /// <summary>The pre-trained encoder's weights on the CPU, read once per process.</summary>
    static readonly Lazy<Dictionary<string, Tensor>> PretrainedWeights = new(() =>
    {
        using var encoder = MiniLm.LoadEncoder(CPU);
        return encoder.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
    });

    /// <summary>The classifier of <paramref name="arm"/>: pre-trained encoder, seeded head, and what trains.</summary>
    internal static BertClassifier Build(Device device, EncoderArm arm, int seed, int classes)
    {
        var encoder = MiniLm.LoadEncoder(device);
        using var generator = Core.Randomness.UnitSeed.NewGenerator(EncoderSeeds.Head(seed));
        var model = new BertClassifier(encoder, classes, generator);
        model.to(device);
        foreach (var p in encoder.parameters()) p.requires_grad = arm.Training == EncoderTraining.Full;
        if (arm.Config is { } config)
        {
            var targets = arm.Kinds.SelectMany(encoder.Config.ModulesOf).ToArray();
            Injector.Inject(encoder, targets, config, EncoderSeeds.Adapters(arm, seed));
        }
        foreach (var p in model.Classifier.parameters()) p.requires_grad = true;
        return model;
    }

    static string Digest(IReadOnlyList<int[]> plan)
    {
        var bytes = plan.SelectMany(b => b).SelectMany(BitConverter.GetBytes).ToArray();
        return Convert.ToHexStringLower(SHA256.HashData(bytes))[..12];
    }
}
