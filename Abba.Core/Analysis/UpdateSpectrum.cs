using Abba.Core.Adapters;
using Abba.Core.Reconstruction;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Core.Analysis;

/// <summary>
/// What the singular spectrum of one learned update dW says about its rank, computed in float64:
/// the stable rank ||dW||_F^2 / sigma_1^2 (between 1 and rank(dW); it does not jump when tiny singular values appear),
/// the number of singular values above 1% of the largest, and the share of ||dW||_F^2 that the top
/// <see cref="BudgetRank"/> singular values hold (1 for any update of rank at most that, as LoRA's always is).
/// </summary>
/// <param name="StableRank">||dW||_F^2 / sigma_1^2; 0 for dW = 0.</param>
/// <param name="AboveOnePercent">Singular values above 0.01 sigma_1.</param>
/// <param name="BudgetRank">r: LoRA's rank at the same parameter budget.</param>
/// <param name="TopEnergy">sum of the top r sigma_i^2 over sum of all; 1 for dW = 0.</param>
/// <param name="Normalised">sigma_i / sigma_1, descending (all 0 for dW = 0).</param>
public sealed record UpdateSpectrum(
    double StableRank, int AboveOnePercent, int BudgetRank, double TopEnergy, double[] Normalised)
{
    /// <summary>Share of sigma_1 above which a singular value counts in <see cref="AboveOnePercent"/>.</summary>
    public const double Threshold = 0.01;

    /// <summary>The spectrum of <paramref name="deltaWeight"/> (any precision or device), with the energy share of its
    /// top <paramref name="budgetRank"/> singular values.</summary>
    public static UpdateSpectrum Of(Tensor deltaWeight, int budgetRank) =>
        FromSingularValues(EckartYoung.SingularValues(deltaWeight), budgetRank);

    /// <summary>
    /// The spectrum of every update <paramref name="model"/> learned from <paramref name="pretrained"/>: each adapter's
    /// dW, or, when the model holds no adapter (full fine-tuning), W - W0 of each Linear module whose name matches one
    /// of <paramref name="modules"/> (the layers the adapters would have gone on); by module name.
    /// </summary>
    public static Dictionary<string, UpdateSpectrum> OfLearnedUpdates(nn.Module model,
        IReadOnlyDictionary<string, Tensor> pretrained, IReadOnlyList<string> modules, int budgetRank)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var adapters = Injector.Adapters(model);
        if (adapters.Count > 0)
            return adapters.ToDictionary(kv => kv.Key, kv => Of(kv.Value.DeltaWeight(), budgetRank));
        var weights = model.state_dict();
        return Injector.LinearModuleNames(model).Where(name => modules.Any(m => Injector.Matches(name, m)))
            .ToDictionary(name => name, name =>
                Of(weights[name + ".weight"].cpu() - pretrained[name + ".weight"].cpu(), budgetRank));
    }

    /// <summary>The spectrum from singular values <paramref name="sigma"/> (any order).</summary>
    public static UpdateSpectrum FromSingularValues(IReadOnlyList<double> sigma, int budgetRank)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(budgetRank);
        var s = sigma.OrderDescending().ToArray();
        double top = s.Length == 0 ? 0 : s[0];
        if (top == 0) return new UpdateSpectrum(0, 0, budgetRank, 1, new double[s.Length]);
        double energy = s.Sum(v => v * v);
        return new UpdateSpectrum(energy / (top * top), s.Count(v => v > Threshold * top), budgetRank,
            1 - EckartYoung.Bound(s, budgetRank), [.. s.Select(v => v / top)]);
    }
}
