using Abba.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Core.Analysis;

/// <summary>
/// Loss landscape of a two-layer <see cref="Mlp"/> over a plane of its flattened effective parameters
/// <c>[W1 (H x n), b1 (H), W2 (C x H), b2 (C)]</c>, where W is what each layer computes now: <c>W0 + dW</c> for an
/// adapter, the trained weight for full fine-tuning.
/// </summary>
public static class MlpLandscape
{
    /// <summary>
    /// The model's flattened effective parameters (float32, detached). Each layer is probed as an affine map:
    /// <c>b = f(0)</c> and <c>W^T = f(I) - f(0)</c>. This holds for every additive or multiplicative adapter
    /// (all are affine in x) and needs no knowledge of how a layer parameterises its update.
    /// </summary>
    public static Tensor EffectiveParameters(Mlp model, int inputs, int hidden)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (W1, b1) = Affine(model.fc1, inputs);
        var (W2, b2) = Affine(model.fc2, hidden);
        return cat([W1.flatten(), b1, W2.flatten(), b2]).MoveToOuterDisposeScope();
    }

    static (Tensor W, Tensor b) Affine(nn.Module<Tensor, Tensor> layer, int inputs)
    {
        var device = layer.parameters().First().device;
        // (n + 1, n): basis vectors, then 0
        var probe = cat([eye(inputs, device: device), zeros(1, inputs, device: device)]);
        var y = layer.call(probe);                                                          // (n + 1, m)
        var b = y[-1];
        return ((y[..^1] - b).T, b);                                                        // W: (m, n)
    }

    /// <summary>
    /// Mean cross-entropy of (<paramref name="x"/>, <paramref name="y"/>) at each plane point
    /// <c>(xs[i], ys[j])</c>; result [ys.Length, xs.Length] (row j = ys[j]). First-layer pre-activations are linear
    /// in the plane coordinates, so they are computed once for the origin and each direction and then combined.
    /// </summary>
    public static double[,] LossGrid(TrajectoryPlane plane, Tensor x, Tensor y, int inputs, int hidden, int classes,
        IReadOnlyList<double> xs, IReadOnlyList<double> ys)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (o, u, v) = plane.Basis;
        var parts = new[] { o, u, v }
            .Select(p => Split(p.to_type(ScalarType.Float32), inputs, hidden, classes)).ToArray();
        var Z = parts.Select(p => x.matmul(p.W1.T) + p.b1).ToArray();   // 3 x (N, H)
        var grid = new double[ys.Count, xs.Count];
        for (int j = 0; j < ys.Count; j++)
            for (int i = 0; i < xs.Count; i++)
            {
                using var point = NewDisposeScope();
                float a = (float)xs[i], c = (float)ys[j];
                var h = nn.functional.relu(Z[0] + a * Z[1] + c * Z[2]);                                // (N, H)
                var logits = h.matmul((parts[0].W2 + a * parts[1].W2 + c * parts[2].W2).T)
                             + (parts[0].b2 + a * parts[1].b2 + c * parts[2].b2);                      // (N, C)
                grid[j, i] = nn.functional.cross_entropy(logits, y).item<float>();
            }
        return grid;
    }

    /// <summary>Mean cross-entropy of (<paramref name="x"/>, <paramref name="y"/>)
    /// for the MLP with flat parameters <paramref name="flat"/>.</summary>
    public static double Loss(Tensor flat, Tensor x, Tensor y, int inputs, int hidden, int classes)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (W1, b1, W2, b2) = Split(flat.to_type(ScalarType.Float32), inputs, hidden, classes);
        var logits = nn.functional.linear(nn.functional.relu(nn.functional.linear(x, W1, b1)), W2, b2);
        return nn.functional.cross_entropy(logits, y).item<float>();
    }

    /// <summary>Splits a flat vector into <c>W1 (H x n), b1, W2 (C x H), b2</c>.</summary>
    public static (Tensor W1, Tensor b1, Tensor W2, Tensor b2) Split(Tensor flat, int inputs, int hidden, int classes)
    {
        var pieces = flat.split([(long)hidden * inputs, hidden, (long)classes * hidden, classes]);
        return (pieces[0].view(hidden, inputs), pieces[1], pieces[2].view(classes, hidden), pieces[3]);
    }
}
