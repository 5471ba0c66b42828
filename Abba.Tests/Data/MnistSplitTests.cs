using Abba.Core.Data;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Mnist;
using static TorchSharp.torch;

namespace Abba.Tests.Data;

public class MnistSplitTests
{
    /// <summary>20 examples with labels 0..9 twice; image i is filled with the value i so rows can be traced.</summary>
    static MnistSplit TwentyExamples()
    {
        long[] labels = [.. Enumerable.Range(0, 20).Select(i => (long)(i % 10))];
        var images = arange(20, dtype: ScalarType.Float32).unsqueeze(1).expand(20, Mnist.Pixels).contiguous();
        return new MnistSplit(images, tensor(labels));
    }

    [Fact]
    public void WithDigits_ZeroToSeven_KeepsExactlyThoseLabelsInOrder()
    {
        using var all = TwentyExamples();
        using var old = all.WithDigits([0, 1, 2, 3, 4, 5, 6, 7]);
        long[] expected = [.. Enumerable.Range(0, 20).Where(i => i % 10 < 8).Select(i => (long)(i % 10))];
        Assert.Equal(expected, old.Labels.data<long>().ToArray());
        float[] rows = [.. Enumerable.Range(0, 20).Where(i => i % 10 < 8).Select(i => (float)i)];
        Assert.Equal(rows, old.Images[.., 0].data<float>().ToArray());
    }

    [Fact]
    public void WithDigits_EightAndNine_KeepsExactlyThoseLabels()
    {
        using var all = TwentyExamples();
        using var recent = all.WithDigits([8, 9]);
        Assert.Equal([8L, 9L, 8L, 9L], recent.Labels.data<long>().ToArray());
        Assert.Equal([8f, 9f, 18f, 19f], recent.Images[.., 0].data<float>().ToArray());
    }

    [Fact]
    public void Configure_WithMissingDataFolder_NamesThePathAndTheDataOption()
    {
        string missing = Path.Combine(Path.GetTempPath(), "abba-no-mnist-" + Guid.NewGuid().ToString("N"));
        var experiment = new MnistExperiment();
        var data = (System.CommandLine.Option<string>)experiment.Options.Single(o => o.Name == "--data");
        var parse = new System.CommandLine.RootCommand { data }.Parse(["--data", missing]);
        var problems = experiment.Configure(new OptionValues(parse), new RunSettings(Profile.Quick, 0, 0, "cpu", 0,
            "results")).Problems;
        var line = Assert.Single(problems);
        Assert.Contains(missing, line);
        Assert.Contains("--data", line);
    }

    [Fact]
    public void Cli_RunWithMissingDataFolder_ExitsWithBadInputNamingPathAndOption()
    {
        string missing = Path.Combine(Path.GetTempPath(), "abba-no-mnist-" + Guid.NewGuid().ToString("N"));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = new Abba.Experiments.Cli.AbbaCli(stdout, stderr).Invoke(["run", "mnist", "--data", missing,
            "--rank", "7"]);
        Assert.Equal(Abba.Experiments.Cli.ExitCodes.BadInput, code);
        Assert.Contains(missing, stderr.ToString());
        Assert.Contains("--data", stderr.ToString());
        Assert.Contains("--rank must be even", stderr.ToString());
    }

    [Fact]
    public void Configure_Defaults_FindTheShippedFiles()
    {
        var problems = new MnistExperiment().Configure(OptionValues.Defaults, new RunSettings(Profile.Quick, 0, 0,
            "cpu", 0, "results")).Problems;
        Assert.Empty(problems);
    }
}
