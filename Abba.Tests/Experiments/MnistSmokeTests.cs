using Abba.Experiments.Cli;
using Abba.Experiments.Experiments;
using Abba.Experiments.Output;
using Abba.Tests.Support;

namespace Abba.Tests.Experiments;

public class MnistSmokeTests
{
    [Fact]
    public void Run_TinyPreset_WritesEveryCsvFigureAndClaim()
    {
        using var root = new TempFolder();
        var experiment = new MnistExperiment { Preset = MnistOptions.Tiny };
        string folder = ExperimentRun.Ok(experiment, root.Path);
        string[] headers =
        [
            "mnist_summary.csv:method,rank,params,learning_rate,seeds,final_loss,final_loss_std,acc_8_9,acc_8_9_std,acc_0_7,acc_0_7_std,acc_all,acc_all_std,seconds,paper_final_loss",
            "mnist_curves.csv:seed,method,step,loss",
            "mnist_runs.csv:seed,method,rank,params,learning_rate,final_loss,acc_8_9,acc_0_7,acc_all,seconds",
            "mnist_lr_sweep.csv:method,learning_rate,seed,val_loss,val_acc,chosen",
            "mnist_trajectories.csv:method,checkpoint,step,x,y,loss,off_plane,distance_to_target",
            "mnist_landscape.csv:x,y,loss",
            "mnist_plane.csv:explained_x,explained_y,points",
            "mnist_pretrain.csv:seed,test_acc_0_7,test_loss_0_7",
        ];
        foreach (string entry in headers)
        {
            string[] parts = entry.Split(':');
            Assert.Equal(parts[1], File.ReadLines(Path.Combine(folder, parts[0])).First());
        }
        var summary = CsvFiles.Read<MnistSummaryRow>(Path.Combine(folder, "mnist_summary.csv"));
        Assert.Equal(["full_ft", "lora", "hira", "abba"], summary.Select(s => s.Method));
        Assert.Equal(0.0225, summary.Single(s => s.Method == "abba").PaperFinalLoss);
        // Equal budget: LoRA r, HiRA r and ABBA r1 = r2 = r/2 train the same number of parameters.
        Assert.Single(summary.Where(s => s.Method != "full_ft").Select(s => s.Params).Distinct());
        Assert.Equal(5 * 5, CsvFiles.Read<MnistLandscapeRow>(Path.Combine(folder, "mnist_landscape.csv")).Count);
        foreach (string figure in new[] { "mnist_loss_curves", "mnist_landscape", "mnist_accuracy" })
            Assert.True(new FileInfo(Path.Combine(folder, figure + ".png")).Length > 10_000, figure);
        Assert.Equal(3, experiment.Claims(folder).Count);
    }
}
