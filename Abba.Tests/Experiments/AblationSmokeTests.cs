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
            Assert.Equal(8, claims.Count);
            Assert.All(claims, c => Assert.EndsWith("(tiny profile)", c.Criterion, StringComparison.Ordinal));
            return CsvFiles.Read<AblationRow>(Path.Combine(folder, AblationFiles.Runs));
        }

        var first = Run();
        // per seed: 7 ABBA components, ABBA/LoRA/HiRA on all seven, full fine-tuning, LoRA's rank curve (r/2, 2r),
        // the released code's ABBA and ABBA's noise twin
        string[] arms = [.. Enumerable.Repeat("abba", 8), "lora", "hira", "full_ft", "lora_r2", "lora_r8",
                         "abba_released", "abba_dense"];
        // the pretrained floor, both seeds' arms, then the shared-rate rows of the sweep seed: the arms whose grid
        // holds the shared rate 1e-2 (ABBA's and LoRA's; the twin sweeps none)
        string[] shared = [.. Enumerable.Repeat("abba", 8), "lora", "lora_r2", "lora_r8", "abba_released"];
        Assert.Equal(["pretrained", .. arms, .. arms, .. shared], first.Select(r => r.Method));
        Assert.Equal(["none", .. Enumerable.Repeat("tuned", 30), .. Enumerable.Repeat("shared", 12)],
            first.Select(r => r.RateChoice));
        Assert.Equal([.. Target.PaperOrder.Select(t => t.Name), "all"],
            first.Where(r => r.Method == "abba" && r.Seed == 0 && r.RateChoice == "tuned").Select(r => r.Target));
        // equal budgets: ABBA r1 = r2 = r/2, LoRA r, HiRA r; the released setting has twice LoRA r's parameters
        var lora = first.First(r => r.Method == "lora");
        Assert.Single(first.Where(r => r.Method is "abba" or "lora" or "hira" or "abba_dense" && r.Target == "all")
            .Select(r => r.Params).Distinct());
        Assert.Equal(2 * lora.Params, first.First(r => r.Method == "lora_r8").Params);
        Assert.Equal(new[] { 2, 4, 8 }, first.Where(r => r.Method.StartsWith("lora", StringComparison.Ordinal))
            .Select(r => r.Rank).Distinct().Order());
        Assert.Contains("SYNTHETIC STAND-IN", File.ReadAllText(Path.Combine(folder, AblationFiles.SummaryText)));
        Assert.Single(Directory.GetFiles(Path.Combine(folder, "cache"), "*.safetensors"));

        // each (method, target) runs at the one rate its sweep chose; the noise twin at ABBA-on-all's
        var sweep = CsvFiles.Read<LrSweepRow>(Path.Combine(folder, AblationFiles.LrSweep));
        foreach (var arm in first.Where(r => r.RateChoice == "tuned"))
            Assert.Equal(arm.Rate, Assert.Single(sweep
                .Where(s => s.Method == (arm.Method == "abba_dense" ? "abba" : arm.Method) && s.Target == arm.Target
                            && s.Chosen)
                .Select(s => s.Rate).Distinct()));

        // the noise twin is ABBA on all seven from the same initial factors at the same rate: after 10 steps the two
        // differ by summation order alone, far less than two different initialisations would
        foreach (var twin in first.Where(r => r.Method == "abba_dense"))
        {
            var abba = first.Single(r => r.Method == "abba" && r.Target == "all" && r.Seed == twin.Seed
                                         && r.RateChoice == "tuned");
            Assert.Equal(abba.Rate, twin.Rate);
            Assert.Equal(abba.TestCe, twin.TestCe, 1e-3);
        }

        // spectra: one row per adapted module of every tuned run; any LoRA update has rank <= r, so its top-r energy
        // is 1 and its stable rank at most its own rank
        var spectra = CsvFiles.Read<SpectrumRow>(Path.Combine(folder, AblationFiles.Spectra));
        Assert.Equal(7, spectra.Count(r => r.Method == "lora" && r.Seed == 0));   // one block, seven projections
        Assert.Equal(7, spectra.Count(r => r.Method == "full_ft" && r.Seed == 0));
        Assert.All(spectra.Where(r => r.Method is "lora" or "lora_r2"), r =>
        {
            Assert.Equal(1, r.TopEnergy, 1e-5);
            Assert.InRange(r.StableRank, 1 - 1e-6, r.Method == "lora" ? 4 : 2);
        });
        Assert.Contains(spectra, r => r.Method == "abba" && r.Target == "q_proj");

        var second = Run();   // resumes: every unit loaded, identical results
        // 1 pre-training, 14 arms x 2 rates of sweep, 30 final runs
        Assert.Contains("59 units loaded", File.ReadAllText(Path.Combine(folder, "run.log")));
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
