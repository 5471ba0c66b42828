using Abba.Experiments.Experiments;
using Abba.Experiments.Experiments.Ablation;
using Abba.Experiments.Output;
using Abba.Tests.Support;

namespace Abba.Tests.Experiments;

public class AblationSmokeTests
{
    [Fact]
    public void Run_TinyProfile_RunsEveryArm_AndResumesFromStoredUnits()
    {
        using var root = new TempFolder();
        string folder = Path.Combine(root.Path, "tiny", "ablation");
        List<AblationRow> Run()
        {
            var experiment = new AblationExperiment();
            // One thread: results are then bit-reproducible; with more, MKL may change its blocking between runs.
            ExperimentRun.Ok(experiment, root.Path, threads: 1, profile: Profile.Tiny);
            Assert.Equal(4, experiment.Claims(folder).Count);
            return CsvFiles.Read<AblationRow>(Path.Combine(folder, AblationFiles.Runs));
        }

        var first = Run();
        // pretrained floor, 7 ABBA components, ABBA/LoRA/HiRA on all seven, full fine-tuning
        Assert.Equal(["pretrained", .. Enumerable.Repeat("abba", 8), "lora", "hira", "full_ft"], first.Select(r => r.Method));
        Assert.Equal([.. AblationExperiment.PaperOrder, "all"], first.Where(r => r.Method == "abba").Select(r => r.Target));
        Assert.Single(first.Where(r => r.Target == "all").Select(r => r.Params).Distinct());   // equal budgets
        Assert.Contains("SYNTHETIC STAND-IN", File.ReadAllText(Path.Combine(folder, AblationFiles.SummaryText)));
        Assert.Single(Directory.GetFiles(Path.Combine(folder, "cache"), "*.safetensors"));

        var second = Run();   // resumes: every unit (pre-training and arms) loaded, identical results
        Assert.Contains("12 units loaded", File.ReadAllText(Path.Combine(folder, "run.log")));
        Assert.Equal(first.Select(r => (r.Method, r.Target, r.Accuracy, r.FinalLoss)), second.Select(r => (r.Method, r.Target, r.Accuracy, r.FinalLoss)));
    }

    [Fact]
    public void PaperOrder_IsTheReferenceCsvsAscendingGsm8kOrder()
    {
        var paper = AblationExperiment.PaperComponents(AppContext.BaseDirectory);
        var ascending = paper.Where(p => p.Benchmark == "gsm8k" && p.Target != "all").OrderBy(p => p.Accuracy).Select(p => p.Target);
        Assert.Equal(AblationExperiment.PaperOrder, ascending);
    }

    [Fact]
    public void Configure_RejectsUnknownMethodsAndRanksThatDoNotFit()
    {
        var experiment = new AblationExperiment();
        var settings = new RunSettings(Profile.Quick, 0, 0, "cpu", 0, "results");
        var cli = new System.CommandLine.RootCommand();
        foreach (var o in experiment.Options) cli.Options.Add(o);
        var errors = experiment.Configure(new OptionValues(cli.Parse(["--methods", "lora,dora", "--rank", "7"])), settings);
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Contains("'dora'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("--rank", StringComparison.Ordinal));

        Assert.Empty(experiment.Configure(new OptionValues(cli.Parse(["--methods", "hira, lora", "--rank", "4"])), settings));
        var chosen = (AblationOptions)experiment.Configuration;
        Assert.Equal(["abba", "lora", "hira"], chosen.PerComponentMethods);
        Assert.Equal(4, chosen.Rank);
    }
}
