using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Core.Reconstruction;

/// <summary>How an iterative reconstruction fit runs.</summary>
/// <param name="MaxSteps">Adam steps at most; also the length of the cosine schedule.</param>
/// <param name="LearningRate">Peak Adam learning rate (the target is scaled to unit RMS entries first).</param>
/// <param name="Patience">Stop once the loss has not improved by
/// <paramref name="MinImprovement"/> for this many steps.</param>
/// <param name="MinImprovement">Improvement of the relative squared error that counts as progress.</param>
public sealed record FitSettings(
    int MaxSteps = 1500, double LearningRate = 1e-2, int Patience = 150, double MinImprovement = 1e-5);

/// <summary>What a fit reached.</summary>
/// <param name="Loss">Best float32 relative squared error seen
/// during the fit (the parameters are left at that point).</param>
/// <param name="Steps">Adam steps taken.</param>
/// <param name="Seconds">Wall time of the optimisation loop.</param>
/// <param name="HitCap">The fit stopped at <see cref="FitSettings.MaxSteps"/>
/// while still improving (not on a plateau).</param>
public readonly record struct FitOutcome(double Loss, int Steps, double Seconds, bool HitCap);

/// <summary>
/// Minimises ||T - f(theta)||_F^2 / ||T||_F^2 over parameters theta with Adam and a cosine learning-rate decay to 0
/// over <see cref="FitSettings.MaxSteps"/>, stopping early once the error stops improving, and leaving the
/// parameters at the best point seen. Used for ABBA and HiRA, which have no closed-form optimum.
/// </summary>
public static class IterativeFit
{
    // TorchSharp 0.107: multiplying a graph tensor by a C# double (as every adapter does with its scale) keeps native
    // memory of the size of the operands alive until the garbage collector finalises something it holds; the managed
    // heap barely grows, so the collector seldom runs and a 1000 x 1000 fit grew by ~4 MB per step until the OOM killer
    // stopped it. Collecting every few steps releases it (measured: flat memory).
    const int CollectEvery = 25;

    /// <summary>Fits <paramref name="reconstruct"/> to <paramref name="target"/>
    /// by moving <paramref name="parameters"/>.</summary>
    /// <param name="target">The matrix to reconstruct, same device and dtype as the parameters.</param>
    /// <param name="parameters">Trainable tensors; updated in place.</param>
    /// <param name="reconstruct">Builds the approximation from the current parameters (differentiable).</param>
    /// <param name="settings">Schedule and stopping rule.</param>
    /// <param name="cancel">Checked every step.</param>
    public static FitOutcome Minimise(Tensor target, IReadOnlyList<Parameter> parameters, Func<Tensor> reconstruct,
        FitSettings settings, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        using var optimizer = optim.Adam(parameters, settings.LearningRate);
        var schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, settings.MaxSteps);
        var best = parameters.Select(p => p.detach().clone()).ToArray();
        double bestLoss = double.PositiveInfinity, progressLoss = double.PositiveInfinity;
        double norm = target.square().sum().item<float>();
        int step = 0, lastProgress = 0;
        for (; step < settings.MaxSteps && step - lastProgress < settings.Patience; step++)
        {
            cancel.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(reconstruct(), target, nn.Reduction.Sum) / norm;
            double value = loss.item<float>();   // of the parameters before this step's update
            if (value < bestLoss) { bestLoss = value; Copy(parameters, best); }
            if (value < progressLoss - settings.MinImprovement) (progressLoss, lastProgress) = (value, step);
            loss.backward();
            optimizer.step();
            schedule.step();
            if (step % CollectEvery == 0) GC.Collect();
        }
        Restore(parameters, best);
        foreach (var b in best) b.Dispose();
        return new FitOutcome(bestLoss, step, clock.Elapsed.TotalSeconds,
            step >= settings.MaxSteps && step - lastProgress < settings.Patience);
    }

    static void Copy(IReadOnlyList<Parameter> parameters, Tensor[] best)
    {
        using var noGrad = no_grad();
        for (int i = 0; i < best.Length; i++) best[i].copy_(parameters[i]);
    }

    static void Restore(IReadOnlyList<Parameter> parameters, Tensor[] best)
    {
        using var noGrad = no_grad();
        for (int i = 0; i < best.Length; i++) parameters[i].copy_(best[i]);
    }
}
