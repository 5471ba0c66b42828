using Abba.Core.Models;
using Abba.Experiments.Memory;

namespace Abba.Tests.Experiments;

public class ChildMeasurementTests
{
    static readonly LlamaConfig Tiny = new(VocabSize: 32, HiddenSize: 16, IntermediateSize: 24, Layers: 1, Heads: 4, KvHeads: 2, HeadDim: 4);

    static MeasureRequest Request(string method) => new("tiny", Tiny, method, Rank: 2, SequenceLength: 8, WarmupSteps: 0, MeasuredSteps: 1, Seed: 0, Threads: 1, Device: "cpu");

    /// <summary>The abba apphost copied beside the tests.</summary>
    static (string, IReadOnlyList<string>) Abba => (Path.Combine(AppContext.BaseDirectory, "abba"), []);

    [Fact]
    public void Run_ChildExitsNonZero_ThrowsNamingThePointTheCodeAndStderr()
    {
        var e = Assert.Throws<ChildMeasurementException>(() =>
            ChildMeasurement.Run(Request("lora"), TimeSpan.FromSeconds(30), ("/bin/sh", ["-c", "echo 'out of luck' >&2; exit 3"])));
        Assert.Contains("(tiny, lora)", e.Message);
        Assert.Contains("exited with code 3", e.Message);
        Assert.Contains("out of luck", e.Message);
    }

    [Fact]
    public void Run_ChildPrintsNoResult_ThrowsSayingSo()
    {
        var e = Assert.Throws<ChildMeasurementException>(() =>
            ChildMeasurement.Run(Request("lora"), TimeSpan.FromSeconds(30), ("/bin/sh", ["-c", "echo hello"])));
        Assert.Contains("printed no JSON result", e.Message);
    }

    [Fact]
    public void Run_ExecutableMissing_ThrowsCannotStart()
    {
        var e = Assert.Throws<ChildMeasurementException>(() =>
            ChildMeasurement.Run(Request("lora"), TimeSpan.FromSeconds(30), ("/nonexistent/abba", [])));
        Assert.Contains("cannot start", e.Message);
    }

    [Fact]
    public void Run_RealChildWithUnknownMethod_ReportsTheChildsOwnError()
    {
        var e = Assert.Throws<ChildMeasurementException>(() => ChildMeasurement.Run(Request("qlora"), TimeSpan.FromSeconds(60), Abba));
        Assert.Contains("exited with code 1", e.Message);
        Assert.Contains("unknown method 'qlora'", e.Message);
    }

    [Fact]
    public void Run_RealChildOnTinyDecoder_ReturnsItsPeakAndTrainableCount()
    {
        var result = ChildMeasurement.Run(Request("abba_kr"), TimeSpan.FromSeconds(120), Abba);
        Assert.Equal("abba_kr", result.Method);
        Assert.Equal(2 * (32 + 24 + 24 + 32 + 40 + 40 + 40), result.TrainableParameters);   // (r1 + r2) * sum(in + out): q, k, v, o, gate, up, down
        Assert.True(result.StepBytes > 0, $"step bytes {result.StepBytes}");
        Assert.Single(result.StepSeconds);
    }
}
