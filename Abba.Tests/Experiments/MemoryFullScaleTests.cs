using Abba.Experiments.Pipeline;
using Abba.Experiments.Memory;
using Abba.Experiments.Output;
using Abba.Tests.Support;

namespace Abba.Tests.Experiments;

/// <summary>
/// The memory experiment's full-scale branch (written only when the analytic model matches every measurement, which
/// the tiny run's reduced shapes need not do), from CSVs written by hand.
/// </summary>
public class MemoryFullScaleTests
{
    [Fact]
    public void PlotAndClaims_WithFullScaleCsv_DrawFigure4AndJudgeEveryClaim()
    {
        using var root = new TempFolder();
        MemoryMeasuredRow Measured(string model, string method, long bytes) =>
            new(model, method, 1, 2048, 256, 1, 1, bytes, (long)(bytes * 1.02), 1.02, true, 0, "forward_backward", 1.0, "probe");
        CsvFiles.Write(root.File(MemoryFiles.Measured),
            [Measured("mistral-7b", "lora", 1000), Measured("mistral-7b", "abba_kr", 1025), Measured("mistral-7b", "hira", 2000)]);
        CsvFiles.Write(root.File(MemoryFiles.Breakdown), new[] { new MemoryBreakdownRow("full_modelled", "mistral-7b", "lora", "frozen_weights", 14_000_000_000) });
        var paper = PaperModels.Figure4();
        CsvFiles.Write(root.File(MemoryFiles.FullScale), PaperModels.Names.SelectMany(m => new[] { "abba_kr", "hira", "full_ft" }.Select(method =>
        {
            double gb = paper.Single(p => p.Model == m && p.Method == CostArm.Of(method).PaperName).PeakMemoryGb;
            return new MemoryModelledRow(m, method, 1, gb, gb, 1.0, "forward_backward", "test");   // modelled = the paper's bars
        })).ToArray());

        var experiment = new MemoryExperiment();
        var files = experiment.Plot(root.Path);
        Assert.Equal(6, files.Count);
        Assert.Contains(root.File(MemoryFiles.Figure4 + ".png"), files);
        var claims = experiment.Claims(root.Path);
        Assert.Equal(3, claims.Count);
        Assert.Equal(Verdict.Reproduced, claims[0].Verdict);          // 1025 / 1000 <= 1.03, the paper's own figure
        Assert.All(claims.Skip(1), c => Assert.Equal(Verdict.Reproduced, c.Verdict));
        Assert.False(claims[0].Modelled);                              // measured on the reduced models
        Assert.All(claims.Skip(1), c => Assert.True(c.Modelled));     // full scale: the analytic model
    }
}
