using Abba.Experiments.Mnist;

namespace Abba.Tests.Experiments;

public class MnistEffectsTests
{
    static IEnumerable<MnistCurveRow> Curve(int seed, string method, Func<int, double> loss, int steps = 100) =>
        Enumerable.Range(1, steps).Select(s => new MnistCurveRow(seed, method, s, loss(s)));

    [Fact]
    public void StepsToLoss_PerSeed_CountsToTheFirstSmoothedValueBelowTheThreshold_AndNeverAsLastPlusOne()
    {
        // window = 100 / 50 = 2 steps: the average of steps 9 and 10 is the first below 0.1.
        var curves = Curve(0, "abba", s => s < 10 ? 1.0 : 0.0).Concat(Curve(1, "abba", _ => 1.0)).ToList();
        var steps = MnistEffects.StepsToLoss(curves);
        Assert.Equal(11, steps[(0, "abba")]);
        Assert.Equal(101, steps[(1, "abba")]);
    }
}
