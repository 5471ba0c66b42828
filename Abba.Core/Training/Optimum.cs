using Abba.Core.Analysis;
using Abba.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Core.Training;

/// <summary>How a reference optimum is trained: full fine-tuning
/// with Adam until the full-batch gradient is small.</summary>
/// <param name="MaxSteps">Cap on optimiser steps; a run that reaches it is recorded as not converged.</param>
/// <param name="BatchSize">Mini-batch size of the optimiser steps.</param>
/// <param name="LearningRate">Constant Adam learning rate.</param>
/// <param name="GradientTolerance">Converged when the L2 norm of the
/// full-batch training-loss gradient (every weight) falls below this.</param>
/// <param name="CheckEvery">Steps between full-batch gradient checks.</param>
public sealed record OptimumSettings(
    int MaxSteps, int BatchSize, double LearningRate, double GradientTolerance, int CheckEvery);

/// <summary>A trained optimum and whether it met its criterion.</summary>
/// <param name="Parameters">Flattened parameters
/// (see <see cref="MlpLandscape.EffectiveParameters"/>), owned by the caller.</param>
/// <param name="Steps">Optimiser steps taken.</param>
/// <param name="Converged">Whether the full-batch gradient norm fell below the tolerance before the cap.</param>
/// <param name="GradientNorm">Full-batch gradient norm at the end.</param>
/// <param name="Loss">Full-batch mean training loss at the end.</param>
public sealed record OptimumResult(
    Tensor Parameters, int Steps, bool Converged, double GradientNorm, double Loss) : IDisposable
{
    /// <inheritdoc />
    public void Dispose() => Parameters.Dispose();
}

/// <summary>A fine-tuning optimum built independently of the compared arms:
/// its own seed, batch order and rate, and a stated stopping rule.</summary>
public static class Optimum
{
    /// <summary>
    /// Fully fine-tunes a model started from <paramref name="weights"/> on <paramref name="data"/> (batch order from
    /// <paramref name="seed"/>) until the full-batch gradient norm is below
    /// <see cref="OptimumSettings.GradientTolerance"/>, checked every
    /// <see cref="OptimumSettings.CheckEvery"/> steps, or <see cref="OptimumSettings.MaxSteps"/> is reached.
    /// </summary>
    public static OptimumResult Train(IReadOnlyDictionary<string, Tensor> weights, int hidden, MnistSplit data,
        OptimumSettings settings, long seed, Action<int>? onStep = null)
    {
        using var model = MlpTransfer.NewModel(hidden);
        MlpTransfer.LoadWeights(model, weights);
        using var optimizer = optim.Adam(model.parameters(), settings.LearningRate);
        using var sampler = new MinibatchSampler(data.Count, settings.BatchSize, seed);
        var (norm, loss) = FullBatchGradient(model, data);
        int step = 0;
        while (norm >= settings.GradientTolerance && step < settings.MaxSteps)
        {
            for (int i = 0; i < settings.CheckEvery && step < settings.MaxSteps; i++, step++)
            {
                using var scope = NewDisposeScope();
                var batch = sampler.Next();
                Classifier.Step(model, optimizer,
                    data.Images.index_select(0, batch), data.Labels.index_select(0, batch));
                onStep?.Invoke(step);
            }
            (norm, loss) = FullBatchGradient(model, data);
        }
        return new OptimumResult(MlpLandscape.EffectiveParameters(model, Mnist.Pixels, hidden), step,
            norm < settings.GradientTolerance, norm, loss);
    }

    /// <summary>L2 norm of the gradient of the mean training loss
    /// over all of <paramref name="data"/>, and that loss.</summary>
    public static (double Norm, double Loss) FullBatchGradient(Models.Mlp model, MnistSplit data)
    {
        using var scope = NewDisposeScope();
        model.zero_grad();
        var loss = nn.functional.cross_entropy(model.call(data.Images), data.Labels);
        loss.backward();
        var squares = model.parameters().Select(p => p.grad!.to_type(ScalarType.Float64).pow(2).sum()).ToArray();
        double norm = Math.Sqrt(stack(squares).sum().item<double>());
        model.zero_grad();
        return (norm, loss.item<float>());
    }
}
