using Abba.Core.Adapters;
using Abba.Core.Analysis;
using Abba.Core.Data;
using Abba.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Core.Training;

/// <summary>Shape of the MLP and how it is pre-trained.</summary>
/// <param name="Hidden">H, width of the hidden layer.</param>
/// <param name="Epochs">Passes over the pre-training data.</param>
/// <param name="BatchSize">Mini-batch size.</param>
/// <param name="LearningRate">Adam learning rate.</param>
public sealed record PretrainSettings(int Hidden, int Epochs, int BatchSize, double LearningRate);

/// <summary>One fine-tuning run: Adam (betas 0.9/0.999, no weight decay) for a fixed number of steps.</summary>
/// <param name="Steps">Optimiser steps.</param>
/// <param name="BatchSize">Mini-batch size.</param>
/// <param name="LearningRate">Adam learning rate (peak learning rate when <paramref name="CosineDecay"/>).</param>
/// <param name="Checkpoints">Number of evenly spaced checkpoints of the
/// effective parameters (0 = none); step 0 is always kept when any are.</param>
/// <param name="CosineDecay">Decay the learning rate to 0 along a
/// cosine (used for the long "target optimum" run only).</param>
public sealed record FineTuneSettings(
    int Steps, int BatchSize, double LearningRate, int Checkpoints = 0, bool CosineDecay = false);

/// <summary>What a fine-tuning run produced.</summary>
/// <param name="Model">The fine-tuned model (owned by the caller).</param>
/// <param name="StepLosses">Mini-batch training loss at each step, before that step's update.</param>
/// <param name="Checkpoints">(step, flattened effective parameters) pairs,
/// see <see cref="MlpLandscape.EffectiveParameters"/>.</param>
/// <param name="TrainableParameters">Number of trained parameters.</param>
public sealed record FineTuneResult(
    Mlp Model, float[] StepLosses, IReadOnlyList<(int Step, Tensor Parameters)> Checkpoints, long TrainableParameters)
    : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        Model.Dispose();
        foreach (var (_, p) in Checkpoints) p.Dispose();
    }
}

/// <summary>The paper's toy protocol (Figure 1): pre-train an
/// MLP on some digits, then fine-tune it on others.</summary>
public static class MlpTransfer
{
    /// <summary>The layers every method adapts: both.</summary>
    public static IReadOnlyList<string> Targets { get; } = ["fc1", "fc2"];

    /// <summary>A fresh <c>784 -> H -> 10</c> MLP, initialised from <paramref name="seed"/>.</summary>
    public static Mlp NewModel(int hidden, long seed = 0) => new(Mnist.Pixels, hidden, Mnist.Classes, seed);

    /// <summary>Pre-trains a fresh model on <paramref name="data"/>; the initial
    /// weights and the batch order come from <paramref name="seed"/>.</summary>
    public static Mlp Pretrain(MnistSplit data, PretrainSettings settings, long seed, Action<int>? onStep = null)
    {
        var model = NewModel(settings.Hidden, seed);
        using var optimizer = optim.Adam(model.parameters(), settings.LearningRate);
        using var sampler = new MinibatchSampler(data.Count, settings.BatchSize, seed);
        int steps = (int)(settings.Epochs * data.Count / settings.BatchSize);
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            var batch = sampler.Next();
            Classifier.Step(model, optimizer, data.Images.index_select(0, batch), data.Labels.index_select(0, batch));
            onStep?.Invoke(step);
        }
        return model;
    }

    /// <summary>
    /// Copies <paramref name="weights"/> into a fresh model, applies <paramref name="method"/> to both layers with
    /// <see cref="Injector.Inject"/> (adapter initialisation seeded from <paramref name="adapterSeed"/> and each
    /// layer's name), and trains it on <paramref name="data"/> with batches drawn from <paramref name="batchSeed"/>.
    /// Arms that share <paramref name="batchSeed"/> see the same
    /// batches in the same order, whatever their adapter seeds.
    /// </summary>
    public static FineTuneResult FineTune(IReadOnlyDictionary<string, Tensor> weights, int hidden, AdapterConfig method,
        MnistSplit data, FineTuneSettings settings, long batchSeed, long adapterSeed, Action<int>? onStep = null)
    {
        var model = NewModel(hidden);
        LoadWeights(model, weights);
        Injector.Inject(model, Targets, method, adapterSeed);
        var trainable = model.parameters().Where(p => p.requires_grad).ToArray();
        using var optimizer = optim.Adam(trainable, settings.LearningRate);
        using var sampler = new MinibatchSampler(data.Count, settings.BatchSize, batchSeed);
        var losses = new float[settings.Steps];
        var checkpoints = new List<(int, Tensor)>();
        var keep = CheckpointSteps(settings.Steps, settings.Checkpoints);
        for (int step = 0; step < settings.Steps; step++)
        {
            if (keep.Contains(step))
                checkpoints.Add((step, MlpLandscape.EffectiveParameters(model, Mnist.Pixels, hidden)));
            if (settings.CosineDecay)
                SetLearningRate(optimizer,
                    settings.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * step / settings.Steps)));
            using var scope = NewDisposeScope();
            var batch = sampler.Next();
            losses[step] = Classifier.Step(model, optimizer,
                data.Images.index_select(0, batch), data.Labels.index_select(0, batch));
            onStep?.Invoke(step);
        }
        if (keep.Contains(settings.Steps))
            checkpoints.Add((settings.Steps, MlpLandscape.EffectiveParameters(model, Mnist.Pixels, hidden)));
        return new FineTuneResult(model, losses, checkpoints, trainable.Sum(p => p.numel()));
    }

    /// <summary>The steps at which <paramref name="count"/> evenly spaced
    /// checkpoints fall, from 0 to <paramref name="steps"/> inclusive.</summary>
    public static IReadOnlySet<int> CheckpointSteps(int steps, int count) =>
        count <= 0 ? new HashSet<int>()
            : Enumerable.Range(0, count + 1).Select(i => (int)Math.Round((double)i * steps / count)).ToHashSet();

    /// <summary>Detached copies of the model's weights by name
    /// (<c>fc1.weight</c>, ...), for caching and re-use.</summary>
    public static Dictionary<string, Tensor> CopyWeights(Mlp model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    /// <summary>Copies <paramref name="weights"/> into <paramref name="model"/>;
    /// keys and shapes must match exactly.</summary>
    public static void LoadWeights(Mlp model, IReadOnlyDictionary<string, Tensor> weights)
    {
        var state = model.state_dict();
        if (!state.Keys.Order().SequenceEqual(weights.Keys.Order())
            || state.Any(kv => !kv.Value.shape.SequenceEqual(weights[kv.Key].shape)))
            throw new InvalidDataException($"weights [{string.Join(", ", weights.Keys.Order())}] " +
                                           $"do not fit the model [{string.Join(", ", state.Keys.Order())}].");
        using var _ = no_grad();
        foreach (var (name, t) in state) t.copy_(weights[name]);
    }

    static void SetLearningRate(optim.Optimizer optimizer, double rate)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
    }
}
