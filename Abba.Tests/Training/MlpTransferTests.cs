using Abba.Core.Adapters;
using Abba.Core.Data;
using Abba.Core.Training;
using static TorchSharp.torch;

namespace Abba.Tests.Training;

public class MlpTransferTests
{
    /// <summary>The first <paramref name="count"/> test images of digits 0-7 from the shipped MNIST files.</summary>
    static MnistSplit OldDigits(int count)
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "data", "mnist");
        using var test = Mnist.Read(Mnist.Locate(folder, "t10k-images-idx3-ubyte")!, Mnist.Locate(folder, "t10k-labels-idx1-ubyte")!,
            Mnist.Sha256["t10k-images-idx3-ubyte"], Mnist.Sha256["t10k-labels-idx1-ubyte"]);
        using var old = test.WithDigits([0, 1, 2, 3, 4, 5, 6, 7]);
        using var first = arange(count);
        return old.Take(first);
    }

    [Fact]
    public void Pretrain_OnAFewHundredDigits_LowersTheLoss()
    {
        using var data = OldDigits(300);
        var settings = new PretrainSettings(Hidden: 32, Epochs: 5, BatchSize: 32, LearningRate: 1e-3);
        using var untrained = MlpTransfer.NewModel(32, seed: 5);    // the same initial weights Pretrain draws from seed 5
        double before = Classifier.MeanLoss(untrained, data.Images, data.Labels);
        using var trained = MlpTransfer.Pretrain(data, settings, seed: 5);
        double after = Classifier.MeanLoss(trained, data.Images, data.Labels);
        Assert.InRange(before, 1.8, 2.6);                   // about ln 10 for an untrained 10-way head
        Assert.True(after < 0.5 * before, $"loss {before:0.000} -> {after:0.000}");
    }

    [Fact]
    public void FineTune_SameSeed_GivesTheSameLossesForEveryRepeat()
    {
        using var data = OldDigits(128);
        using var model = MlpTransfer.NewModel(16, seed: 6);
        var weights = MlpTransfer.CopyWeights(model);
        var settings = new FineTuneSettings(Steps: 12, BatchSize: 16, LearningRate: 1e-2, Checkpoints: 3);
        using var a = MlpTransfer.FineTune(weights, 16, new AbbaConfig(2, 2, 4), data, settings, batchSeed: 1, adapterSeed: 2);
        using var b = MlpTransfer.FineTune(weights, 16, new AbbaConfig(2, 2, 4), data, settings, batchSeed: 1, adapterSeed: 2);
        Assert.Equal(a.StepLosses, b.StepLosses);
        Assert.Equal([0, 4, 8, 12], a.Checkpoints.Select(c => c.Step));
        Assert.Equal(2 * 2 * (784 + 16) + 2 * 2 * (16 + 10), a.TrainableParameters);
    }
}
