using Abba.Experiments.Cli;
using Abba.Experiments.Experiments;
using Abba.Experiments.Output;
using Abba.Experiments.Report;
using Abba.Tests.Support;

namespace Abba.Tests.Experiments;

public class CostExperimentSmokeTests
{
    [Fact]
    public void Efficiency_TinyPreset_WritesCsvsFiguresAndClaim()
    {
        using var root = new TempFolder();
        var experiment = new EfficiencyExperiment
        {
            Preset = new EfficiencyOptions { Layers = [new(16, 24)], Tokens = 8, Rank = 4, Warmup = 0, Repeats = 2, DecoderRepeats = 1, DecoderModel = "" },
        };
        string folder = ExperimentRun.Ok(experiment, root.Path);
        var rows = CsvFiles.Read<EfficiencyRow>(Path.Combine(folder, "step_time.csv"));
        Assert.Equal(["base", "abba_kr", "abba_dense", "lora", "dora", "hira", "full_ft"], rows.Select(r => r.Method));
        Assert.Equal(1.0, rows.Single(r => r.Method == "lora").StepOverLora);
        Assert.Equal(6, CsvFiles.Read<AnatomyRow>(Path.Combine(folder, "abba_forward_anatomy.csv")).Count);
        foreach (string figure in new[] { "step_time_vs_lora", "step_phases", "abba_forward_anatomy" })
            Assert.True(new FileInfo(Path.Combine(folder, figure + ".png")).Length > 10_000, figure);
        Assert.Equal(Verdict.NotRun, Assert.Single(experiment.Claims(folder)).Verdict);    // no 4096x4096 case, no decoder
    }

    [Fact]
    public void Memory_PlotAndClaims_FromItsCsvs()
    {
        using var root = new TempFolder();
        MemoryMeasuredRow Measured(string model, string method, long bytes) =>
            new(model, method, 1, 2048, 256, 1, 1, bytes, (long)(bytes * 1.02), 1.02, true, 0, "forward_backward", 1.0, "probe");
        CsvFiles.Write(root.File("measured_reduced.csv"),
            [Measured("mistral-7b", "lora", 1000), Measured("mistral-7b", "abba_kr", 1050), Measured("mistral-7b", "hira", 2000)]);
        CsvFiles.Write(root.File("breakdown.csv"), new[] { new MemoryBreakdownRow("full_modelled", "mistral-7b", "lora", "frozen_weights", 14_000_000_000) });
        var paper = PaperModels.Figure4();
        CsvFiles.Write(root.File("modelled_full_scale.csv"), PaperModels.Names.SelectMany(m => new[] { "abba_kr", "hira", "full_ft" }.Select(method =>
        {
            double gb = paper.Single(p => p.Model == m && p.Method == PaperModels.PaperMethod(method)).PeakMemoryGb;
            return new MemoryModelledRow(m, method, 1, gb, gb, 1.0, "forward_backward", "test");   // modelled = the paper's bars
        })).ToArray());

        var experiment = new MemoryExperiment();
        var files = experiment.Plot(root.Path);
        Assert.Equal(6, files.Count);
        var claims = experiment.Claims(root.Path);
        Assert.Equal(3, claims.Count);
        Assert.Equal(Verdict.Reproduced, claims[0].Verdict);          // 1050 / 1000 <= 1.10
        Assert.All(claims.Skip(1), c => Assert.Equal(Verdict.Reproduced, c.Verdict));
    }
}
