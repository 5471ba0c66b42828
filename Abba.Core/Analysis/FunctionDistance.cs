using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Core.Analysis;

/// <summary>
/// How far apart two MLPs are as functions rather than as weights: per example, the KL divergence between their
/// predicted class distributions, and whether their arg-max predictions agree. Directions in weight space that do not
/// change the outputs cost nothing here.
/// </summary>
public static class FunctionDistance
{
    /// <summary>
    /// KL(reference || candidate) of the softmax outputs per row of <paramref name="x"/> (nats), and the share of rows
    /// whose arg-max classes agree, for two flat parameter vectors (see <see cref="MlpLandscape.Split"/>).
    /// </summary>
    public static (double[] Kl, double Agreement) Compare(
        Tensor reference, Tensor candidate, Tensor x, int inputs, int hidden, int classes)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var p = LogProbabilities(reference, x, inputs, hidden, classes);   // (N, C)
        var q = LogProbabilities(candidate, x, inputs, hidden, classes);   // (N, C)
        var kl = (p.exp() * (p - q)).sum(1);                               // (N)
        double agreement = p.argmax(1).eq(q.argmax(1)).to_type(ScalarType.Float64).mean().item<double>();
        return (kl.data<double>().ToArray(), agreement);
    }

    static Tensor LogProbabilities(Tensor flat, Tensor x, int inputs, int hidden, int classes)
    {
        var (W1, b1, W2, b2) = MlpLandscape.Split(flat.to_type(ScalarType.Float64), inputs, hidden, classes);
        var logits = nn.functional.linear(
            nn.functional.relu(nn.functional.linear(x.to_type(ScalarType.Float64), W1, b1)), W2, b2);
        return nn.functional.log_softmax(logits, 1);
    }
}
