// Teacher-forced training of a causal language model on masked targets (loss on answer tokens only, as in the
// paper's code), with the paper's optimiser recipe (App. L, Table 13): AdamW, linear warm-up over 2% of the steps,
// then cosine decay to zero (Hugging Face's get_cosine_schedule_with_warmup), gradients clipped to norm 1
// (the Hugging Face Trainer default). Only parameters with requires_grad are optimised, so the same loop trains
// a model from scratch, fine-tunes it fully, or trains injected adapters.
using static TorchSharp.torch;

namespace Abba.Core.Training;

/// <summary>Optimiser settings of one training run.</summary>
/// <param name="Steps">Optimiser steps.</param>
/// <param name="LearningRate">Peak learning rate.</param>
/// <param name="WarmupRatio">Fraction of steps of linear warm-up from zero.</param>
/// <param name="WeightDecay">AdamW decoupled weight decay.</param>
/// <param name="MaxGradNorm">Global gradient-norm clip; 0 disables clipping.</param>
public sealed record TrainingSchedule(
    int Steps, double LearningRate, double WarmupRatio = 0.02, double WeightDecay = 0, double MaxGradNorm = 1.0)
{
    /// <summary>Learning-rate multiplier at <paramref name="step"/>:
    /// linear warm-up, then half a cosine to zero.</summary>
    public double Multiplier(int step)
    {
        int warmup = (int)Math.Ceiling(WarmupRatio * Steps);
        if (step < warmup) return (double)step / warmup;
        double progress = (double)(step - warmup) / Math.Max(1, Steps - warmup);
        return 0.5 * (1 + Math.Cos(Math.PI * Math.Min(progress, 1)));
    }
}

/// <summary>Trains a token-in, logits-out model with cross-entropy on the targets that are not ignored.</summary>
public static class LanguageModelTrainer
{
    /// <summary>Target value excluded from the loss.</summary>
    public const long IgnoreIndex = -100;

    /// <summary>Mean cross-entropy of <paramref name="logits"/> (B, T, V) against
    /// <paramref name="targets"/> (B, T), skipping <see cref="IgnoreIndex"/>.</summary>
    public static Tensor Loss(Tensor logits, Tensor targets) =>
        nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index: IgnoreIndex);

    /// <summary>
    /// Runs <see cref="TrainingSchedule.Steps"/> steps, drawing batch <c>i</c> from <paramref name="batch"/>(i);
    /// returns the training loss of every step. Leaves the model in eval mode.
    /// </summary>
    /// <param name="model">Model whose trainable parameters (requires_grad) are optimised.</param>
    /// <param name="batch">Inputs and targets of step i, both (B, T).</param>
    /// <param name="schedule">Optimiser settings.</param>
    /// <param name="afterStep">Called with (step, loss) after each step, e.g. for progress.</param>
    /// <param name="cancel">Checked before each step.</param>
    /// <param name="gradientNorms">When given, receives each step's global L2
    /// norm of the trainable parameters' gradients, before clipping.</param>
    public static double[] Train(nn.Module<Tensor, Tensor> model, Func<int, (Tensor Inputs, Tensor Targets)> batch,
        TrainingSchedule schedule, Action<int, double>? afterStep = null, CancellationToken cancel = default,
        IList<double>? gradientNorms = null)
    {
        var parameters = model.parameters().Where(p => p.requires_grad).ToArray();
        if (parameters.Length == 0) throw new InvalidOperationException("the model has no trainable parameters");
        using var optimizer = optim.AdamW(parameters, schedule.LearningRate, weight_decay: schedule.WeightDecay);
        var scheduler = optim.lr_scheduler.LambdaLR(optimizer, schedule.Multiplier);
        var losses = new double[schedule.Steps];
        model.train();
        for (int step = 0; step < schedule.Steps; step++)
        {
            cancel.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var (inputs, targets) = batch(step);
            var loss = Loss(model.call(inputs), targets);
            optimizer.zero_grad();
            loss.backward();
            if (gradientNorms is not null) gradientNorms.Add(GradientNorm(parameters));
            if (schedule.MaxGradNorm > 0) nn.utils.clip_grad_norm_(parameters, schedule.MaxGradNorm);
            optimizer.step();
            scheduler.step();
            losses[step] = loss.item<float>();
            afterStep?.Invoke(step, losses[step]);
        }
        model.eval();
        return losses;
    }

    /// <summary>The global L2 norm of the gradients of <paramref name="parameters"/>
    /// (those without one count as zero), in float64.</summary>
    public static double GradientNorm(IEnumerable<Tensor> parameters)
    {
        double sum = 0;
        foreach (var p in parameters)
        {
            using var g = p.grad;
            if (g is null) continue;
            using var squared = g.to(ScalarType.Float64).square().sum();
            sum += squared.item<double>();
        }
        return Math.Sqrt(sum);
    }
}
