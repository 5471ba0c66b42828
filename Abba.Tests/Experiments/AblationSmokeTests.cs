using Abba.Experiments.Pipeline;
using Abba.Experiments.Ablation;
using Abba.Experiments.Protocol;
using Abba.Experiments.Output;
using Abba.Tests.Support;

namespace Abba.Tests.Experiments;

public class AblationSmokeTests
{
    [Fact]
    public void Run_TinyProfile_RunsEveryArmAtItsChosenRate_PairsSeeds_AndResumesFromStoredUnits()
    {
        using var root = new TempFolder();
        string folder = Path.Combine(root.Path, "tiny", "ablation");
        List<AblationRow> Run()
        {
            var experiment = new AblationExperiment();
            // One thread: results are then bit-reproducible; with more, MKL may change its blocking between runs.
            ExperimentRun.Ok(experiment, root.Path, threads: 1, profile: Profile.Tiny, seeds: 2);
            var claims = experiment.Claims(folder);
            Assert.Equal(4, claims.Count);
            Assert.All(claims, c => Assert.Equal(RuleSet.Interval, c.Rules));
            Assert.All(claims, c => Assert.EndsWith("(tiny profile)", c.Criterion, StringComparison.Ordinal));
            return CsvFiles.Read<AblationRow>(Path.Combine(folder, AblationFiles.Runs));
        }

        var first = Run();
        string[] arms = [.. Enumerable.Repeat("abba", 8), "lora", "hira", "full_ft"];
        // pretrained floor; per seed 7 ABBA components, ABBA/LoRA/HiRA on all seven, full fine-tuning; then the
        // shared-rate rows of the sweep seed
        Assert.Equal(["pretrained", .. arms, .. arms, .. arms], first.Select(r => r.Method));
        Assert.Equal(["none", .. Enumerable.Repeat("tuned", 22), .. Enumerable.Repeat("shared", 11)],
            first.Select(r => r.RateChoice));
        Assert.Equal([.. Target.PaperOrder.Select(t => t.Name), "all"],
            first.Where(r => r.Method == "abba" && r.Seed == 0 && r.RateChoice == "tuned").Select(r => r.Target));
        Assert.Single(first.Where(r => r.Target == "all").Select(r => r.Params).Distinct());   // equal budgets
        Assert.Contains("SYNTHETIC STAND-IN", File.ReadAllText(Path.Combine(folder, AblationFiles.SummaryText)));
        Assert.Single(Directory.GetFiles(Path.Combine(folder, "cache"), "*.safetensors"));

        // each (method, target) runs at the one rate its sweep chose
        var sweep = CsvFiles.Read<LrSweepRow>(Path.Combine(folder, AblationFiles.LrSweep));
        foreach (var arm in first.Where(r => r.RateChoice == "tuned"))
            Assert.Equal(arm.Rate, Assert.Single(sweep
                .Where(s => s.Method == arm.Method && s.Target == arm.Target && s.Chosen)
                .Select(s => s.Rate).Distinct()));

        var second = Run();   // resumes: every unit loaded, identical results
        Assert.Contains("44 units loaded", File.ReadAllText(Path.Combine(folder, "run.log")));
        Assert.Equal(first.Select(r => (r.Method, r.Target, r.ExactMatch, r.TestCe)),
            second.Select(r => (r.Method, r.Target, r.ExactMatch, r.TestCe)));
    }

    [Fact]
    public void ArmsOfOneSeed_TrainOnTheSameBatches_AndSeedsDiffer()
    {
        using var root = new TempFolder();
        ExperimentRun.Ok(new AblationExperiment(), root.Path, threads: 1, profile: Profile.Tiny, seeds: 2);
        var runs = CsvFiles.Read<AblationRow>(Path.Combine(root.Path, "tiny", "ablation", AblationFiles.Runs))
            .Where(r => r.Method != "pretrained").ToList();
        // batch_digest: SHA-256 of every problem each run trained on, in order, recorded inside the training loop
        var perSeed = runs.GroupBy(r => r.Seed)
            .ToDictionary(g => g.Key, g => Assert.Single(g.Select(r => r.BatchDigest).Distinct()));
        Assert.Equal(2, perSeed.Count);
        Assert.NotEqual(perSeed[0], perSeed[1]);
        Assert.Equal(12, perSeed[0].Length);
    }

    [Fact]
    public void PaperOrder_IsTheReferenceCsvsAscendingGsm8kOrder()
    {
        var paper = AblationAnalysis.PaperComponents(AppContext.BaseDirectory);
        var ascending = paper.Where(p => p.Benchmark == "gsm8k" && p.Target != "all").OrderBy(p => p.Accuracy)
            .Select(p => p.Target);
        Assert.Equal(Target.PaperOrder.Select(t => t.Name), ascending);
    }

    [Fact]
    public void Configure_RejectsUnknownMethodsAndRanksThatDoNotFit()
    {
        var experiment = new AblationExperiment();
        var settings = new RunSettings(Profile.Quick, 0, 0, "cpu", 0, "results");
        var cli = new System.CommandLine.RootCommand();
        foreach (var o in experiment.Options) cli.Options.Add(o);
        var errors = experiment.Configure(
            new OptionValues(cli.Parse(["--methods", "lora,dora", "--rank", "7"])), settings).Problems;
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Contains("'dora'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("--rank", StringComparison.Ordinal));

        var configured = experiment.Configure(
            new OptionValues(cli.Parse(["--methods", "hira, lora", "--rank", "4"])), settings);
        Assert.Empty(configured.Problems);
        var chosen = (AblationOptions)configured.Plan!.Options;
        Assert.Equal(["abba", "lora", "hira"], chosen.PerComponentMethods);
        Assert.Equal(4, chosen.Rank);
    }
}
