using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Abba.Core.Models;

/// <summary>
/// Two-layer perceptron <c>inputs -> hidden -> classes</c> with ReLU, the toy model of the paper's Figure 1.
/// Both layers are fields typed <see cref="Module{T, TResult}"/> so that an adapter can replace them.
/// </summary>
public sealed class Mlp : Module<Tensor, Tensor>
{
    /// <summary>First layer, <c>hidden x inputs</c>.</summary>
    public Module<Tensor, Tensor> fc1;

    /// <summary>Second layer (the classifier head), <c>classes x hidden</c>.</summary>
    public Module<Tensor, Tensor> fc2;

    /// <summary>Creates the model with PyTorch's default Linear initialisation (from torch's global generator).</summary>
    public Mlp(int inputs, int hidden, int classes) : base(nameof(Mlp))
    {
        fc1 = Linear(inputs, hidden);
        fc2 = Linear(hidden, classes);
        RegisterComponents();
    }

    /// <summary>Logits [B, classes] of inputs [B, inputs].</summary>
    public override Tensor forward(Tensor x)
    {
        using var h = functional.relu(fc1.call(x)); // (B, hidden)
        return fc2.call(h);                         // (B, classes)
    }
}
