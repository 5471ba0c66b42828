using Abba.Experiments.Cli;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Reconstruction;
using Abba.Experiments.Output;
using Abba.Tests.Support;

namespace Abba.Tests.Experiments;

public class ReconstructionSmokeTests
{
    static (int Code, string Out, string Err) Abba(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = new AbbaCli(stdout, stderr).Invoke(args);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Cli_RunWithProfileTiny_WritesEveryFitSummaryAndFigure()
    {
        using var root = new TempFolder();
        var (code, _, err) = Abba("run", "reconstruction", "--profile", "tiny", "--out", root.Path, "--device", "cpu", "--threads", "1");
        Assert.True(code == ExitCodes.Ok, err);
        string folder = Path.Combine(root.Path, "tiny", "reconstruction");
        var rows = File.ReadLines(Path.Combine(folder, ReconstructionFiles.Csv)).Skip(1).ToArray();
        Assert.Equal(2 * 2 * 4, rows.Length);   // 2 types x 2 ranks x (lora, abba equal, abba doubled, hira)
        Assert.Contains("## Which ABBA budget matches the paper's curve", File.ReadAllText(Path.Combine(folder, ReconstructionFiles.Summary)));
        Assert.True(new FileInfo(Path.Combine(folder, ReconstructionFiles.Figure + ".png")).Length > 10_000);
        var csv = CsvFiles.Read<ReconstructionRow>(Path.Combine(folder, ReconstructionFiles.Csv));
        foreach (string type in new[] { "orthogonal", "random" })
        {
            // The doubled budget at r = 2 and the equal budget at r = 4 are both ABBA(2, 2) on the same target: one unit, one fit.
            var doubled = csv.Single(r => r.MatrixType == type && r.Budget == ReconstructionOptions.DoubledBudget && r.Rank == 2);
            var equal = csv.Single(r => r.MatrixType == type && r.Budget == ReconstructionOptions.EqualBudget && r.Rank == 4 && r.R1 == 2);
            Assert.Equal((equal.R1, equal.R2, equal.RelSqError, equal.Steps, equal.FitSeconds), (doubled.R1, doubled.R2, doubled.RelSqError, doubled.Steps, doubled.FitSeconds));
        }
        Assert.Equal(30, Directory.GetFiles(Path.Combine(folder, "units"), "*.json").Length);   // 14 distinct fits of 16 rows, 16 settling units
        // Every tiny fit stops at its 20-step cap, so every equal-budget point is settled, and its best is no worse than its protocol fit.
        Assert.All(csv.Where(r => r.BestRelSqError is not null), r => Assert.True(r.Settle != "" && r.Best <= r.RelSqError, $"{r.MatrixType} r={r.Rank}"));
        Assert.Equal(4 * 3, CsvFiles.Read<ReconstructionSettleRow>(Path.Combine(folder, ReconstructionFiles.Settle)).Count);
        var claims = new ReconstructionExperiment().Claims(folder);
        Assert.Equal(4, claims.Count);

        // Settling the losing points alone, without random starts, plans fewer units and changes none: every one is loaded, none computed.
        (code, _, err) = Abba("run", "reconstruction", "--profile", "tiny", "--out", root.Path, "--device", "cpu", "--threads", "1", "--settle-losing-only", "--settle-starts", "svd_ones,warm");
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Matches(@"22 units loaded from .*, 0 computed, 0 recomputed", File.ReadAllText(Path.Combine(folder, "run.log")));
        Assert.DoesNotContain(CsvFiles.Read<ReconstructionSettleRow>(Path.Combine(folder, ReconstructionFiles.Settle)), s => s.Start.StartsWith("random", StringComparison.Ordinal));
        Assert.Equal(Verdict.NotRun, claims[3].Verdict);   // the paper comparison needs n = 1000
    }

    [Theory]
    [InlineData("--ranks 8,7", "rank 7 is odd")]
    [InlineData("--ranks 300 --n 256", "rank 300 exceeds --n 256")]
    [InlineData("--n 4 --ranks 2 --matrix-types orthogonal --extras none", "--n must be at least 8")]
    [InlineData("--matrix-types orthogonal,hilbert", "unknown value 'hilbert'")]
    [InlineData("--budgets equal,tripled", "unknown value 'tripled'")]
    [InlineData("--settle-starts warm,lucky", "unknown value 'lucky'")]
    [InlineData("--n 64 --ranks 8 --matrix-types low_rank --extras none", "low_rank needs --n of at least 128")]
    public void Run_BadOption_PrintsOneLineAndExits2(string options, string message)
    {
        var (code, stdout, stderr) = Abba(["run", "reconstruction", "--out", "/nonexistent/never-written", .. options.Split(' ')]);
        Assert.Equal(ExitCodes.BadInput, code);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(message, lines[0]);
        Assert.DoesNotContain("reconstruction fits", stdout);
    }
}
