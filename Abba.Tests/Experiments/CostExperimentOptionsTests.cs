using Abba.Experiments.Cli;
using Abba.Tests.Support;

namespace Abba.Tests.Experiments;

/// <summary>Bad options of the memory and efficiency experiments stop the CLI before any work, one line per problem.</summary>
public class CostExperimentOptionsTests : IDisposable
{
    readonly TempFolder results = new();

    [Theory]
    [InlineData("memory", "--models", "llama-9000", "unknown model 'llama-9000'")]
    [InlineData("memory", "--layers", "0", "--layers must be at least 1")]
    [InlineData("memory", "--vocab", "3", "--vocab must be at least 16")]
    [InlineData("efficiency", "--cases", "4096by4096", "'4096by4096' is not INxOUT")]
    [InlineData("efficiency", "--repeats", "0", "--repeats must be at least 1")]
    public void Run_BadOption_Exits2NamingTheProblem(string experiment, string option, string value, string message)
    {
        var stderr = new StringWriter();
        int code = new AbbaCli(new StringWriter(), stderr).Invoke(["run", experiment, "--out", results.File("out"), option, value]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(message, Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.False(Directory.Exists(results.File("out")));
    }

    public void Dispose() => results.Dispose();
}
