using Abba.Experiments.Cli;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Design;
using Abba.Experiments.Output;
using Abba.Experiments.Protocol;
using Abba.Tests.Support;

namespace Abba.Tests.Experiments;

public class DesignSmokeTests
{
    static (int Code, string Errors) Abba(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = new AbbaCli(stdout, stderr).Invoke(args);
        return (code, stderr.ToString());
    }

    [Fact]
    public void Families_PicksSome_TheOthersCsvsStayHeaderOnly_AndTheirClaimsAreNotRun()
    {
        using var root = new TempFolder();
        var (code, errors) = Abba("run", "design", "--profile", "tiny", "--threads", "1", "--out", root.Path,
            "--families", "split,chained");
        Assert.True(code == 0, errors);
        string folder = Path.Combine(root.Path, "tiny", "design");
        var rows = CsvFiles.Read<DesignRow>(Path.Combine(folder, DesignFiles.Runs));
        Assert.Equal(["pretrained", "split", "chained"], rows.Select(r => r.Family).Distinct());
        Assert.Empty(CsvFiles.Read<MomentRow>(Path.Combine(folder, DesignFiles.Moments)));
        Assert.All(CsvFiles.Read<GradNormRow>(Path.Combine(folder, DesignFiles.GradNorms)),
            r => Assert.Equal("chained", r.Family));
        var claims = new DesignExperiment().Claims(folder);
        Assert.Equal(["Table 5", "Table 7", "Figure 6"],
            claims.Where(c => c.Verdict != Verdict.NotRun).Select(c => c.Artefact));
        Assert.True(File.Exists(Path.Combine(folder, DesignFiles.SplitFigure + ".png")));
        Assert.False(File.Exists(Path.Combine(folder, DesignFiles.AlphaFigure + ".png")));
    }

    [Fact]
    public void TableThreeRowFive_IsOurInitWithThePairsRelabelled_SoItsRunsMatchOurs()
    {
        // With r1 = r2 and the same random draws, the swapped pairs compute the same update at every step in exact
        // arithmetic (the Hadamard product is symmetric); only the summation order inside the Khatri-Rao product
        // differs.
        using var root = new TempFolder();
        var (code, errors) = Abba("run", "design", "--profile", "tiny", "--threads", "1", "--out", root.Path,
            "--families", "init");
        Assert.True(code == 0, errors);
        var rows = CsvFiles.Read<DesignRow>(Path.Combine(root.Path, "tiny", "design", DesignFiles.Runs));
        double[] ours = [.. rows.Where(r => r.Arm == "ours").Select(r => r.TestCe)];
        double[] row5 = [.. rows.Where(r => r.Arm == "row5").Select(r => r.TestCe)];
        double[] row3 = [.. rows.Where(r => r.Arm == "row3").Select(r => r.TestCe)];
        Assert.All(ours.Zip(row5), p => Assert.Equal(p.First, p.Second, 1e-4));
        Assert.Contains(ours.Zip(row3), p => Math.Abs(p.First - p.Second) > 1e-3);
    }

    [Fact]
    public void EachFigure_NamesItsOwnArtefact()
    {
        var figures = new DesignExperiment().Info.Figures.ToDictionary(f => f.Name, f => f.Artefact);
        Assert.Equal(DesignFiles.Figures.Count, figures.Count);
        Assert.Equal("Table 3", figures[DesignFiles.InitFigure]);
        Assert.Equal("Figure 5", figures[DesignFiles.ScalingFigure]);
        Assert.Equal("Theorem 2", figures[DesignFiles.TheoremFigure]);
        Assert.Equal("Table 8", figures[DesignFiles.AlphaFigure]);
        Assert.Equal("Table 8", figures[DesignFiles.AlphaCodeFigure]);
        Assert.Equal("Figure 5, Theorem 2", figures[DesignFiles.StabilityFigure]);
        Assert.Equal("Table 5", figures[DesignFiles.SplitFigure]);
        Assert.Equal("Table 9", figures[DesignFiles.RankFigure]);
        Assert.Equal("Table 7, Figure 6", figures[DesignFiles.ChainedFigure]);
    }

    [Fact]
    public void Scaling_RunsEveryExponentAtSeveralRanks_EachArmAtItsOwnRate_AndRecordsTheUpdatesMoment()
    {
        using var root = new TempFolder();
        var (code, errors) = Abba("run", "design", "--profile", "tiny", "--threads", "1", "--out", root.Path,
            "--families", "scaling");
        Assert.True(code == 0, errors);
        string folder = Path.Combine(root.Path, "tiny", "design");
        var o = DesignOptions.Tiny;
        var rows = CsvFiles.Read<DesignRow>(Path.Combine(folder, DesignFiles.Runs));
        var tuned = rows.Where(r => r.RateChoice == DesignRow.Tuned).ToList();
        foreach (double e in o.StabilityExponents)
            Assert.Equal(o.StabilityRanks, tuned.Where(r => r.Exponent == e).Select(DesignSummary.FirstRank)
                .Distinct().Order());
        // every arm's own rate is its lowest mean validation CE on the grid (sweep seeds)
        var sweep = CsvFiles.Read<LrSweepRow>(Path.Combine(folder, DesignFiles.LrSweep));
        foreach (var arm in tuned.GroupBy(r => r.Arm))
        {
            var curve = sweep.Where(s => s.Target == $"scaling/{arm.Key}").GroupBy(s => s.Rate)
                .Select(g => (Rate: g.Key, Ce: g.Average(s => s.ValidationCe))).ToList();
            Assert.Equal(o.RateGrid.Count, curve.Count);
            Assert.Equal(curve.MinBy(c => c.Ce).Rate, arm.First().Rate);
        }
        // the moment is recorded MomentCheckpoints times, and the last one is the row's
        var moments = CsvFiles.Read<UpdateMomentRow>(Path.Combine(folder, DesignFiles.UpdateMoments));
        Assert.All(moments.GroupBy(m => (m.Arm, m.Seed)), g => Assert.Equal(o.MomentCheckpoints, g.Count()));
        Assert.All(tuned, r => Assert.Equal(
            moments.Where(m => m.Arm == r.Arm && m.Seed == r.Seed).MaxBy(m => m.Step)!.Moment, r.UpdateMoment, 12));
        Assert.NotEmpty(CsvFiles.Read<StabilityRow>(Path.Combine(folder, DesignFiles.Stability)));
    }

    [Theory]
    [InlineData("--families", "init,depth", "--families: unknown value 'depth'")]
    [InlineData("--finetune-steps", "5", "--finetune-steps must be at least 10")]
    public void BadOptions_Exit2WithOneLine(string option, string value, string message)
    {
        using var root = new TempFolder();
        var (code, errors) = Abba("run", "design", "--profile", "tiny", "--out", root.Path, option, value);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(message, errors);
    }
}
