using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Core.Adapters;

/// <summary>
/// A frozen <see cref="Linear"/> (W0, bias) plus a trainable update. Subclasses give the update rule
/// (<see cref="DeltaWeight"/>) and an efficient forward; this class owns freezing, merge and unmerge.
/// Merge/Unmerge are explicit: merging keeps an exact copy of W0 so that unmerging restores it bit for bit.
/// </summary>
public abstract class AdapterLinear : nn.Module<Tensor, Tensor>
{
    readonly Linear base_layer;
    Tensor? savedW0;

    /// <summary>Wraps <paramref name="baseLayer"/> and freezes its weight and bias.</summary>
    protected AdapterLinear(string name, Linear baseLayer) : base(name)
    {
        base_layer = baseLayer;
        foreach (var p in baseLayer.parameters()) p.requires_grad = false;
        OutFeatures = baseLayer.weight!.shape[0];
        InFeatures = baseLayer.weight!.shape[1];
        register_module("base_layer", baseLayer);
    }

    /// <summary>The wrapped layer: W0 is <c>Base.weight</c>.</summary>
    public Linear Base => base_layer;

    /// <summary>m, rows of W0.</summary>
    public long OutFeatures { get; }

    /// <summary>n, columns of W0.</summary>
    public long InFeatures { get; }

    /// <summary>The method's configuration.</summary>
    public abstract AdapterConfig Config { get; }

    /// <summary>Whether the update is currently folded into <c>Base.weight</c>.</summary>
    public bool Merged => savedW0 is not null;

    /// <summary>The frozen pretrained weight W0 (also while merged).</summary>
    protected Tensor W0 => savedW0 ?? base_layer.weight!;

    /// <summary>The adapter's own trainable tensors by checkpoint key (PEFT names where PEFT has them).</summary>
    public abstract IReadOnlyList<(string Key, Parameter Value)> AdapterParameters { get; }

    /// <summary>Number of trainable adapter parameters.</summary>
    public long TrainableParameterCount => AdapterParameters.Sum(p => p.Value.numel());

    /// <summary>The explicit additive update: the merged weight is W0 + DeltaWeight(). Differentiable.</summary>
    public abstract Tensor DeltaWeight();

    /// <summary>y = x (W0 + dW)^T + b without merging.</summary>
    protected abstract Tensor AdaptedForward(Tensor x);

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => Merged ? base_layer.forward(x) : AdaptedForward(x);

    /// <summary>Folds the update into <c>Base.weight</c> for inference.</summary>
    /// <exception cref="InvalidOperationException">Already merged.</exception>
    public void Merge()
    {
        if (Merged) throw new InvalidOperationException($"{GetName()} is already merged.");
        using var _ = no_grad();
        using var dW = DeltaWeight();
        var w0 = base_layer.weight!.detach().clone();
        base_layer.weight!.add_(dW);
        savedW0 = w0;
    }

    /// <summary>Restores W0 exactly.</summary>
    /// <exception cref="InvalidOperationException">Not merged.</exception>
    public void Unmerge()
    {
        if (savedW0 is null) throw new InvalidOperationException($"{GetName()} is not merged.");
        using var _ = no_grad();
        base_layer.weight!.copy_(savedW0);
        savedW0.Dispose();
        savedW0 = null;
    }

    /// <summary>
    /// LoRA's pair as PEFT starts it: A (r x n) Kaiming-uniform with a = sqrt(5), drawn from
    /// <paramref name="generator"/>, and B (m x r) = 0, on W0's device and dtype.
    /// </summary>
    protected (Parameter A, Parameter B) NewLowRankPair(int rank, Generator generator)
    {
        var w = base_layer.weight!;
        using var A =
            Initialisers.KaimingUniform(rank, InFeatures, Initialisers.PeftKaimingA, w.dtype, w.device, generator);
        using var B = zeros(OutFeatures, rank, w.dtype, w.device);
        return (NewParameter(A), NewParameter(B));
    }

    /// <summary>Registers every entry of <see cref="AdapterParameters"/> under its checkpoint key.</summary>
    protected void RegisterAdapterParameters()
    {
        foreach (var (key, p) in AdapterParameters) register_parameter(key, p);
    }

    /// <summary>A trainable parameter shaped like <paramref name="value"/> on W0's device and dtype.</summary>
    protected Parameter NewParameter(Tensor value) =>
        new(value.to(base_layer.weight!.dtype, base_layer.weight!.device).detach().contiguous().clone(),
            requires_grad: true);

    /// <summary>
    /// <paramref name="t"/> * <paramref name="value"/> through a Scalar disposed at once: TorchSharp's implicit
    /// double-to-Scalar conversion in <c>t * value</c> leaves a native Scalar to the finaliser, which over many
    /// steps grows memory. Same kernel, same result.
    /// </summary>
    protected static Tensor Scaled(Tensor t, double value)
    {
        using var scalar = value.ToScalar();
        return t.mul(scalar);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) savedW0?.Dispose();
        base.Dispose(disposing);
    }
}
