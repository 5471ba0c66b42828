using Abba.Core.Analysis;
using static TorchSharp.torch;

namespace Abba.Tests.Analysis;

public class FunctionDistanceTests
{
    const int Inputs = 3, Hidden = 2, Classes = 2;

    /// <summary>W1 = 0 and b1 = 0 make the hidden layer 0, so the logits are b2 for every input.</summary>
    static Tensor ConstantLogits(float a, float b) =>
        cat([zeros(Hidden * Inputs + Hidden + Classes * Hidden), tensor(new[] { a, b })]);

    [Fact]
    public void Compare_SameFunction_GivesZeroKlAndFullAgreement()
    {
        using var p = ConstantLogits(1, 0);
        using var x = randn(5, Inputs);
        var (kl, agreement) = FunctionDistance.Compare(p, p, x, Inputs, Hidden, Classes);
        Assert.All(kl, v => Assert.Equal(0, v, 12));
        Assert.Equal(1, agreement);
    }

    [Fact]
    public void Compare_DifferentFunctions_MatchesTheClosedFormKl()
    {
        using var p = ConstantLogits(2, 0);
        using var q = ConstantLogits(0, 1);
        using var x = randn(4, Inputs);
        var (kl, agreement) = FunctionDistance.Compare(p, q, x, Inputs, Hidden, Classes);
        double p1 = 1 / (1 + Math.Exp(-2)), q1 = 1 / (1 + Math.Exp(1));
        double expected = p1 * Math.Log(p1 / q1) + (1 - p1) * Math.Log((1 - p1) / (1 - q1));
        Assert.All(kl, v => Assert.Equal(expected, v, 6));
        Assert.Equal(0, agreement);   // p predicts class 0, q class 1
    }
}
