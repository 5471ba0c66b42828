using Abba.Experiments.Cli;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Catalogue;
using Abba.Tests.Support;

namespace Abba.Tests.Cli;

/// <summary>Exit codes and messages of <c>abba</c> on bad input; none of these may start any work.</summary>
public class CliBadInputTests : IDisposable
{
    readonly TempFolder results = new();

    static (int Code, string Out, string[] Errors) Abba(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = new AbbaCli(stdout, stderr).Invoke(args);
        return (code, stdout.ToString(), stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Run_UnknownExperiment_Exits2AndListsValidNames()
    {
        var (code, _, errors) = Abba("run", "no-such-experiment");

        Assert.Equal(ExitCodes.BadInput, code);
        string line = Assert.Single(errors);
        Assert.Contains("unknown experiment 'no-such-experiment'", line);
        Assert.Contains("Valid names:", line);
        Assert.All(Registry.Names, name => Assert.Contains(name, line));
    }

    [Fact]
    public void Run_WithoutName_Exits2()
    {
        var (code, _, errors) = Abba("run");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("name an experiment", Assert.Single(errors));
    }

    [Theory]
    [InlineData("--seed", "-1")]
    [InlineData("--seeds", "0")]
    [InlineData("--profile", "huge")]
    [InlineData("--device", "tpu")]
    [InlineData("--threads", "-2")]
    [InlineData("--jobs", "-1")]
    [InlineData("--seed", "abc")]
    [InlineData("--out", " ")]
    public void All_InvalidOption_Exits2WithOneLineNamingIt(string option, string value)
    {
        var (code, output, errors) = Abba("all", "--out", results.File("out"), option, value);

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(option, Assert.Single(errors));
        Assert.Equal("", output);
        Assert.False(Directory.Exists(results.File("out")), "bad input must not start any work");
    }

    [Fact]
    public void All_SeveralInvalidOptions_OneLinePerProblem()
    {
        var (code, _, errors) = Abba("all", "--out", results.Path, "--seed", "-1", "--threads", "-2", "--profile", "slow");

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal(3, errors.Length);
        Assert.All(new[] { "--seed", "--threads", "--profile" }, option => Assert.Single(errors, e => e.Contains(option)));
    }

    [Theory]
    [InlineData("--rank", "3", "--rank must be even")]
    [InlineData("--rank", "128", "--rank must be even")]
    [InlineData("--arms", "lora,nope", "--arms: unknown value 'nope'")]
    [InlineData("--steps", "0", "--steps must be at least 1")]
    [InlineData("--lr", "2", "--lr must be in (0, 1)")]
    public void Run_Encoder_InvalidOption_Exits2WithOneLineNamingIt(string option, string value, string message)
    {
        var (code, _, errors) = Abba("run", "encoder", "--out", results.File("out"), option, value);

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(message, Assert.Single(errors));
        Assert.False(Directory.Exists(results.File("out")), "bad input must not start any work");
    }

    [Fact]
    public void All_CudaWithoutCudaDevice_Exits2WithOneLine()
    {
        var (code, _, errors) = Abba("all", "--out", results.File("out"), "--device", "cuda");

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("--device cuda", Assert.Single(errors));
        Assert.False(Directory.Exists(results.File("out")));
    }

    [EmptyRegistryFact]
    public void All_NothingRegistered_SaysSoAndExits0()
    {
        var (code, output, errors) = Abba("all", "--out", results.Path);

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Empty(errors);
        Assert.Contains("no experiments are registered", output);
    }

    [Fact]
    public void Plot_UnknownExperiment_Exits2()
    {
        var (code, _, errors) = Abba("plot", "no-such-experiment");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("Valid names: all", Assert.Single(errors));
    }

    [Fact]
    public void List_Exits0AndNamesEveryExperiment()
    {
        var (code, output, errors) = Abba("list");

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Empty(errors);
        Assert.All(Registry.CreateAll(), e => Assert.Contains(e.Info.PaperArtefact, output));
        if (Registry.Names.Count == 0) Assert.Contains("no experiments are registered", output);
    }

    [Fact]
    public void Info_Exits0AndShowsVersionsAndResultsFolder()
    {
        var (code, output, errors) = Abba("info", "--out", results.Path);

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Empty(errors);
        Assert.Contains("TorchSharp      0.107.0", output);
        Assert.Contains("libtorch        2.10.0", output);
        Assert.Contains(results.Path, output);
    }

    public void Dispose() => results.Dispose();
}

/// <summary>Skipped once experiments are registered: <c>abba all</c> would then run every one of them.</summary>
public sealed class EmptyRegistryFactAttribute : FactAttribute
{
    public EmptyRegistryFactAttribute()
    {
        if (Registry.Names.Count > 0) Skip = "experiments are registered; the smoke test of each covers abba all";
    }
}
