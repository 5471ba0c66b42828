using Abba.Core.Analysis;
using Abba.Core.Data;
using Abba.Core.Training;
using static TorchSharp.torch;

namespace Abba.Tests.Training;

public class OptimumTests
{
    static MnistSplit Digits(int count)
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "data", "mnist");
        using var test = Mnist.Read(Mnist.Locate(folder, "t10k-images-idx3-ubyte")!, Mnist.Locate(folder, "t10k-labels-idx1-ubyte")!,
            Mnist.Sha256["t10k-images-idx3-ubyte"], Mnist.Sha256["t10k-labels-idx1-ubyte"]);
        using var first = arange(count);
        return test.Take(first);
    }

    [Fact]
    public void Train_LooseTolerance_ConvergesBeforeTheCapAndReportsTheFullBatchGradient()
    {
        using var data = Digits(64);
        using var start = MlpTransfer.NewModel(16, seed: 3);
        var settings = new OptimumSettings(MaxSteps: 2000, BatchSize: 64, LearningRate: 1e-2, GradientTolerance: 0.05, CheckEvery: 10);
        using var optimum = Optimum.Train(MlpTransfer.CopyWeights(start), 16, data, settings, seed: 1);
        Assert.True(optimum.Converged);
        Assert.True(optimum.Steps < 2000 && optimum.Steps % 10 == 0, $"{optimum.Steps} steps");
        Assert.True(optimum.GradientNorm < 0.05);
        Assert.Equal(optimum.Loss, MlpLandscape.Loss(optimum.Parameters, data.Images, data.Labels, Mnist.Pixels, 16, Mnist.Classes), 1e-4);
    }

    [Fact]
    public void Train_UnreachableTolerance_StopsAtTheCapAsNotConverged()
    {
        using var data = Digits(64);
        using var start = MlpTransfer.NewModel(16, seed: 3);
        var settings = new OptimumSettings(MaxSteps: 25, BatchSize: 16, LearningRate: 1e-3, GradientTolerance: 1e-12, CheckEvery: 10);
        using var optimum = Optimum.Train(MlpTransfer.CopyWeights(start), 16, data, settings, seed: 1);
        Assert.False(optimum.Converged);
        Assert.Equal(25, optimum.Steps);
    }
}
