using System.Diagnostics;
using System.Security.Cryptography;
using Abba.Core.Adapters;
using Abba.Core.Analysis;
using Abba.Core.Data;
using Abba.Core.Models;
using Abba.Core.Randomness;
using Abba.Core.Training;
using TorchSharp;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static TorchSharp.torch;

namespace Abba.Experiments.Arithmetic;

/// <summary>
/// The pre-training settings of the synthetic arithmetic stand-in (a Llama-style decoder pre-trained from scratch on
/// addition with a little subtraction); the experiments built on it (ablation, design) pre-train the same model from
/// the same settings and seed.
/// </summary>
/// <param name="Model">Decoder shapes.</param>
/// <param name="Digits">Operand digits.</param>
/// <param name="TestSize">Held-out problems per operation.</param>
/// <param name="ValidationSize">Further held-out problems per operation (rate choice).</param>
/// <param name="PretrainBatchSize">Problems per pre-training step.</param>
/// <param name="PretrainSteps">Pre-training steps.</param>
/// <param name="PretrainLearningRate">Peak pre-training learning rate.</param>
/// <param name="PretrainMix">Fraction of pre-training problems that are subtraction.</param>
public sealed record DecoderSetup(LlamaConfig Model, int Digits, int TestSize, int ValidationSize,
    int PretrainBatchSize, int PretrainSteps, double PretrainLearningRate, double PretrainMix);

/// <summary>What one fine-tuning run measured.</summary>
/// <param name="Validation">Scores on the validation split.</param>
/// <param name="Test">Scores on the test split.</param>
/// <param name="Losses">Training loss of every step.</param>
/// <param name="GradientNorms">Global gradient norm of the trainable parameters at every step, before clipping.</param>
/// <param name="Params">Trainable parameters.</param>
/// <param name="Seconds">Wall time of the training loop.</param>
/// <param name="BatchDigest">SHA-256 (12 hex digits) of every problem trained on, in order.</param>
/// <param name="Spectra">The singular spectrum of every learned projection update dW, by module name, when asked
/// for (empty otherwise).</param>
/// <param name="UpdateMoments">When asked for, the mean squared entry of dW (averaged over the adapted projections)
/// after every k-th step: the second moment an isotropic unit-variance input sees, per input dimension.</param>
public sealed record FineTuneOutcome(ArithmeticScore Validation, ArithmeticScore Test, double[] Losses,
    double[] GradientNorms, long Params, double Seconds, string BatchDigest,
    IReadOnlyDictionary<string, UpdateSpectrum> Spectra, double[] UpdateMoments);

/// <summary>
/// The pieces the arithmetic experiments share: pre-training from scratch, the pre-trained model's cache key, loading
/// it, and one fine-tuning run on subtraction with an adapter (or every parameter) from seeded generators only.
/// </summary>
public static class DecoderRuns
{
    /// <summary>The pre-training cache of <paramref name="setup"/> and <paramref name="seed"/> under
    /// <paramref name="outputDir"/> (the key's shape is part of the cache's identity: keep it).</summary>
    public static PretrainCache Cache(string outputDir, DecoderSetup setup, int seed, Device device)
    {
        var o = setup;
        var key = new
        {
            o.Model, o.Digits, o.TestSize, o.ValidationSize, o.PretrainBatchSize, o.PretrainSteps,
            o.PretrainLearningRate, o.PretrainMix, seed, device = device.type.ToString(), version = 3,
        };
        return new PretrainCache(outputDir, key, seed);
    }

    /// <summary>
    /// Pre-trains a decoder (initialised from <paramref name="modelSeed"/>, batches from <paramref name="batchSeed"/>)
    /// and returns its weights on the CPU, the loss of every step and held-out exact match per operation at about 20
    /// checkpoints.
    /// </summary>
    public static (Dictionary<string, Tensor> State, double[] Losses,
        List<(int Step, ArithmeticOperation Operation, double Accuracy)> Accuracy) Pretrain(
        ExperimentContext ctx, DecoderSetup o, ArithmeticTask task, ArithmeticSplit split, long modelSeed,
        long batchSeed)
    {
        var rng = UnitSeed.NewRandom(batchSeed);
        using var model = new LlamaDecoder(o.Model, modelSeed);
        model.to(ctx.Device);
        var accuracy = new List<(int, ArithmeticOperation, double)>();
        int every = Math.Max(1, o.PretrainSteps / 20);
        using var progress = ctx.Progress.Start("pre-training on addition (and a little subtraction)", o.PretrainSteps);
        var losses = LanguageModelTrainer.Train(model, _ => task.Batch(PretrainBatch(o, split, rng), ctx.Device),
            new TrainingSchedule(o.PretrainSteps, o.PretrainLearningRate), (step, _) =>
            {
                progress.Advance();
                if ((step + 1) % every != 0 && step != 0) return;
                foreach (var op in Enum.GetValues<ArithmeticOperation>())
                    accuracy.Add((step + 1, op, task.Accuracy(model, split.Test(op), ctx.Device)));
                model.train();
            }, ctx.Cancel);
        var state = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().clone());
        return (state, losses, accuracy);
    }

    /// <summary>A pre-training batch: each problem subtraction with probability
    /// <see cref="DecoderSetup.PretrainMix"/>, else addition.</summary>
    static ArithmeticProblem[] PretrainBatch(DecoderSetup o, ArithmeticSplit split, Random rng) =>
        [.. Enumerable.Range(0, o.PretrainBatchSize).Select(_ => split.SampleTraining(
            rng.NextDouble() < o.PretrainMix ? ArithmeticOperation.Subtract : ArithmeticOperation.Add, 1, rng)[0])];

    /// <summary>A decoder of shape <paramref name="model"/> holding <paramref name="state"/>, on
    /// <paramref name="device"/>, in eval mode.</summary>
    public static LlamaDecoder Load(LlamaConfig model, Dictionary<string, Tensor> state, Device device)
    {
        var decoder = new LlamaDecoder(model);
        decoder.load_state_dict(state);
        decoder.to(device);
        decoder.eval();
        return decoder;
    }

    /// <summary>
    /// Fine-tunes the pre-trained model on subtraction: <paramref name="config"/> on the projections
    /// <paramref name="targets"/> (adapters drawn from <paramref name="adapterSeed"/>), or every parameter when the
    /// config trains the base weights; batches from <paramref name="batchSeed"/> (the same for every arm of a seed).
    /// Scores the validation and test splits; with <paramref name="spectrumRank"/>, also the singular spectrum of
    /// every learned update (energy of the top <paramref name="spectrumRank"/>); with <paramref name="momentEvery"/>,
    /// the adapters' mean squared update entry after every that-many steps.
    /// </summary>
    public static FineTuneOutcome FineTune(ExperimentContext ctx, LlamaConfig modelConfig, ArithmeticTask task,
        ArithmeticSplit split, Dictionary<string, Tensor> pretrained, IReadOnlyList<string> targets,
        AdapterConfig config, long adapterSeed, long batchSeed, int steps, int batchSize, double rate,
        int? spectrumRank = null, int momentEvery = 0)
    {
        using var model = Load(modelConfig, pretrained, ctx.Device);
        var rng = UnitSeed.NewRandom(batchSeed);
        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (config.TrainsBaseWeights) foreach (var p in model.parameters()) p.requires_grad = true;
        else Injector.Inject(model, targets, config, adapterSeed);
        long trainable = Injector.TrainableParameterCount(model);
        var norms = new List<double>();
        var clock = Stopwatch.StartNew();
        ArithmeticProblem[] Batch() =>
            Recorded(split.SampleTraining(ArithmeticOperation.Subtract, batchSize, rng), digest);
        var moments = new List<double>();
        void Probe(int step, double _)
        {
            if (momentEvery > 0 && (step + 1) % momentEvery == 0) moments.Add(MeanSquaredUpdate(model));
        }
        var losses = LanguageModelTrainer.Train(model, _ => task.Batch(Batch(), ctx.Device),
            new TrainingSchedule(steps, rate), Probe, ctx.Cancel, gradientNorms: norms);
        double seconds = clock.Elapsed.TotalSeconds;
        var validation = task.Score(model, split.Validation(ArithmeticOperation.Subtract), ctx.Device);
        var test = task.Score(model, split.Test(ArithmeticOperation.Subtract), ctx.Device);
        string batches = Convert.ToHexStringLower(digest.GetHashAndReset())[..12];
        var spectra = spectrumRank is { } r
            ? UpdateSpectrum.OfLearnedUpdates(model, pretrained, LlamaConfig.ProjectionNames, r)
            : new Dictionary<string, UpdateSpectrum>();
        return new FineTuneOutcome(validation, test, losses, [.. norms], trainable, seconds, batches, spectra,
            [.. moments]);
    }

    /// <summary>The mean over the injected adapters of the mean squared entry of their update dW.</summary>
    static double MeanSquaredUpdate(nn.Module model)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var adapters = Injector.Adapters(model);
        return adapters.Count == 0 ? 0
            : adapters.Values.Average(a => a.DeltaWeight().to(float64).square().mean().item<double>());
    }

    /// <summary>Adds <paramref name="problems"/> to <paramref name="digest"/> (the record of what a run trained on) and
    /// returns them.</summary>
    static ArithmeticProblem[] Recorded(ArithmeticProblem[] problems, IncrementalHash digest)
    {
        foreach (var p in problems)
            digest.AppendData(System.Text.Encoding.ASCII.GetBytes($"{p.A},{p.B},{(int)p.Operation};"));
        return problems;
    }
}
