using Abba.Core.Data;
using Abba.Core.Randomness;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static TorchSharp.torch;
using MnistData = Abba.Core.Data.Mnist;   // the simple name Mnist is this experiment's namespace

namespace Abba.Experiments.Mnist;

/// <summary>The splits of the transfer protocol: pre-train on 0-7, fine-tune on 8-9 (minus a validation split), test on
/// each.</summary>
public sealed class TransferData : IDisposable
{
    /// <summary>Training images of 0-7.</summary>
    public required MnistSplit Pretrain { get; init; }
    /// <summary>Training images of 8-9 less the validation split.</summary>
    public required MnistSplit FineTune { get; init; }
    /// <summary>Held-out training images of 8-9, for the learning-rate sweep.</summary>
    public required MnistSplit Validation { get; init; }
    /// <summary>Test images of 8-9, 0-7 and all ten digits.</summary>
    public required MnistSplit Test89 { get; init; }
    /// <inheritdoc cref="Test89"/>
    public required MnistSplit Test07 { get; init; }
    /// <inheritdoc cref="Test89"/>
    public required MnistSplit TestAll { get; init; }

    /// <summary>The pre-training and fine-tuning digits.</summary>
    public static readonly int[] OldDigits = [0, 1, 2, 3, 4, 5, 6, 7], NewDigits = [8, 9];

    /// <summary>Loads MNIST and splits it; the validation split is a random <c>ValidationFraction</c> of the 8-9
    /// training images drawn from <paramref name="seed"/>.</summary>
    public static TransferData Load(MnistOptions o, long seed)
    {
        using var mnist = MnistData.Load(o.DataFolder);
        using var train89 = mnist.Train.WithDigits(NewDigits);
        using var generator = UnitSeed.NewGenerator(seed);
        using var order = randperm(train89.Count, generator: generator);
        long held = (long)Math.Round(o.ValidationFraction * train89.Count);
        using var validation = order[..(int)held].sort().Values;
        using var training = order[(int)held..].sort().Values;
        return new TransferData
        {
            Pretrain = mnist.Train.WithDigits(OldDigits),
            FineTune = train89.Take(training),
            Validation = train89.Take(validation),
            Test89 = mnist.Test.WithDigits(NewDigits),
            Test07 = mnist.Test.WithDigits(OldDigits),
            TestAll = new MnistSplit(mnist.Test.Images.clone(), mnist.Test.Labels.clone()),
        };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var s in new[] { Pretrain, FineTune, Validation, Test89, Test07, TestAll }) s.Dispose();
    }
}
