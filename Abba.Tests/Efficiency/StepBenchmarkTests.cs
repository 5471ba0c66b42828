using Abba.Core.Adapters;
using Abba.Core.Efficiency;
using Abba.Core.Memory;
using static TorchSharp.torch;

namespace Abba.Tests.Efficiency;

public class StepBenchmarkTests
{
    sealed class Recorder(int id, List<int> log) : IStepBenchmark
    {
        public PhaseTimes Step()
        {
            log.Add(id);
            return new PhaseTimes(id, 0, 0);
        }

        public double InferenceForward() => 10 * id;

        public void Dispose() { }
    }

    [Fact]
    public void InterleavedTiming_RotatesTheStartAndKeepsOnlyTimedRounds()
    {
        var log = new List<int>();
        var benches = Enumerable.Range(0, 3).Select(i => new Recorder(i, log)).ToArray();
        var results = InterleavedTiming.Run(benches, warmup: 1, repeats: 3);
        Assert.Equal([0, 1, 2, 0, 1, 2, 1, 2, 0, 2, 0, 1], log);        // warm-up, then rounds starting at 0, 1, 2
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(3, results[i].Steps.Length);
            Assert.All(results[i].Steps, s => Assert.Equal(i, s.Total));
            Assert.All(results[i].Forwards, f => Assert.Equal(10 * i, f));
        }
    }

    [Theory]
    [InlineData(new double[] { 3, 1, 2 }, 0.5, 2)]
    [InlineData(new double[] { 4, 1, 3, 2 }, 0.5, 2.5)]
    [InlineData(new double[] { 1, 2, 3, 4, 5 }, 0.25, 2)]
    public void Quantile_InterpolatesBetweenOrderStatistics(double[] values, double q, double expected) =>
        Assert.Equal(expected, InterleavedTiming.Quantile(values, q), 12);

    [Theory]
    [InlineData("base", 0)]
    [InlineData("lora", 4 * (12 + 9))]
    [InlineData("abba_kr", 4 * (12 + 9))]
    [InlineData("abba_kr_plain", 4 * (12 + 9))]
    [InlineData("abba_dense", 4 * (12 + 9))]
    [InlineData("hira", 4 * (12 + 9))]
    [InlineData("dora", 4 * (12 + 9) + 12)]
    [InlineData("full_ft", 12 * 9)]
    public void LayerStep_EveryMethod_RunsAndTrainsItsParameterCount(string method, long trainable)
    {
        using var bench = new LayerStepBenchmark(CostMethod.ByName(method, rank: 4), inFeatures: 9, outFeatures: 12, tokens: 5, CPU, seed: 1);
        Assert.Equal(trainable, bench.TrainableParameters);
        var t = bench.Step();
        Assert.True(t.Forward > 0 && t.Backward > 0 && t.Total >= t.Forward + t.Backward);
        Assert.True(bench.InferenceForward() > 0);
    }

    [Fact]
    public void LayerStep_Abba_UpdatesEveryFactor()
    {
        using var bench = new LayerStepBenchmark(CostMethod.ByName("abba_kr", rank: 4), 9, 12, 5, CPU, seed: 1);
        var abba = (AbbaLinear)bench.Layer;
        var before = abba.AdapterParameters.Select(p => p.Value.detach().clone()).ToArray();
        bench.Step();
        Assert.All(abba.AdapterParameters.Zip(before), pair => Assert.False((pair.First.Value == pair.Second).all().item<bool>(), pair.First.Key));
    }
}
