using Abba.Core.Randomness;
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

    /// <summary>
    /// Creates the model with PyTorch's default Linear initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights
    /// and biases, drawn from a generator seeded with
    /// <paramref name="seed"/> (never from torch's global generator's state).
    /// </summary>
    public Mlp(int inputs, int hidden, int classes, long seed = 0) : base(nameof(Mlp))
    {
        fc1 = Linear(inputs, hidden);
        fc2 = Linear(hidden, classes);
        RegisterComponents();
        // nn.Linear draws a default init from torch's global generator natively; it is overwritten here from ours.
        using var generator = UnitSeed.NewGenerator(seed);
        using var noGrad = no_grad();
        foreach (var layer in new[] { (TorchSharp.Modules.Linear)fc1, (TorchSharp.Modules.Linear)fc2 })
        {
            double bound = 1 / Math.Sqrt(layer.weight!.shape[1]);
            foreach (var p in layer.parameters())
            {
                using var u = rand(p.shape, dtype: p.dtype, generator: generator);
                p.copy_(u.mul(2 * bound).sub(bound));
            }
        }
    }

    /// <summary>Logits [B, classes] of inputs [B, inputs].</summary>
    public override Tensor forward(Tensor x)
    {
        using var h = functional.relu(fc1.call(x)); // (B, hidden)
        return fc2.call(h);                         // (B, classes)
    }
}
