using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Core.Adapters;

/// <summary>A fine-tuning method and its hyperparameters.</summary>
public abstract record AdapterConfig
{
    /// <summary>Short method name used in CSVs and checkpoints: lora, hira, abba, dora or full_ft.</summary>
    public abstract string Method { get; }

    /// <summary>Figure and table label, e.g. "ABBA", "ABBA (dense)", "LoRA".</summary>
    public abstract string DisplayName { get; }

    /// <summary>Colour of this method in every figure, as #rrggbb.</summary>
    public abstract string Colour { get; }

    /// <summary>The rank r of the LoRA whose parameter count this configuration
    /// matches per layer (ABBA: r1 + r2); 0 for full fine-tuning.</summary>
    public abstract int BudgetRank { get; }

    /// <summary>The same method and settings at LoRA-equivalent
    /// rank <paramref name="rank"/> (ABBA: r1 = r2 = r/2).</summary>
    public abstract AdapterConfig AtBudgetRank(int rank);

    /// <summary>True when the method trains the targeted Linear layers themselves instead of wrapping them.</summary>
    public virtual bool TrainsBaseWeights => false;

    /// <summary>
    /// The adapter that wraps <paramref name="linear"/>, drawing its random initial values from
    /// <paramref name="generator"/> only; null when the method trains
    /// <paramref name="linear"/> in place (<see cref="TrainsBaseWeights"/>).
    /// </summary>
    public abstract AdapterLinear? Wrap(Linear linear, Generator generator);

    /// <summary>Trainable parameters this method adds to (or unfreezes in) one m x n layer, in closed form.</summary>
    public abstract long TrainableParameters(long m, long n, bool bias = false);

    /// <summary>Checkpoint keys of one adapted module, relative to
    /// the module's name (PEFT names where PEFT has them).</summary>
    public abstract IReadOnlyList<string> CheckpointKeys(bool bias = false);

    /// <summary>This method's terms in the analytic training-memory model for
    /// one m x n projection on <paramref name="tokens"/> tokens.</summary>
    public abstract ProjectionMemory MemoryTerms(long m, long n, long tokens, bool inputNeedsGrad);

    /// <summary>Checks the configuration against a layer of shape (outFeatures x inFeatures).</summary>
    /// <exception cref="ArgumentException">A rank or scale is out of range; the message names it.</exception>
    public virtual void Validate(long outFeatures, long inFeatures) { }

    private protected static void CheckRank(string name, int rank, long outFeatures, long inFeatures)
    {
        if (rank < 1) throw new ArgumentException($"{name} must be at least 1 (got {rank}).");
        long max = Math.Min(outFeatures, inFeatures);
        if (rank > max)
            throw new ArgumentException(
                $"{name} = {rank} exceeds min(out, in) = {max} for a {outFeatures} x {inFeatures} layer.");
    }

    private protected static void CheckFinite(string name, double value)
    {
        if (!double.IsFinite(value)) throw new ArgumentException($"{name} must be finite (got {value}).");
    }
}
