using Abba.Core.Native;
using Abba.Core.Training;
using Abba.Experiments.Mnist;

namespace Abba.Tests.Experiments;

/// <summary>A unit of work draws only from its own seed: its result does not depend on which units ran before
/// it.</summary>
public class UnitOrderTests
{
    [Fact]
    public void MnistFineTuneArms_RunInEitherOrder_GiveIdenticalResults()
    {
        TorchRuntime.Initialise();
        TorchRuntime.SetThreads(1);   // one thread: bit-reproducible kernels
        var o = MnistOptions.Tiny;
        using var split = TransferData.Load(o, MnistSeeds.Split(0));
        using var start = MlpTransfer.NewModel(o.Hidden, seed: 1);
        var weights = MlpTransfer.CopyWeights(start);
        var arms = MnistArm.All(o);
        MnistArm[] methods = [arms.First(a => a.InClosenessClaim), MnistArm.ProposedOf(arms)];   // LoRA, ABBA

        (MnistRunRow Row, float[] Losses) Arm(int i)
        {
            var result = MnistWork.FineTuneArm(o, split, weights, methods[i], rate: 1e-2, seed: 3,
                keepCheckpoints: false);
            return (result.Row with { Seconds = 0 }, result.Losses);
        }

        var forward = new[] { Arm(0), Arm(1) };
        var backward = new[] { Arm(1), Arm(0) };
        Assert.Equal(forward[0].Row, backward[1].Row);
        Assert.Equal(forward[1].Row, backward[0].Row);
        Assert.Equal(forward[0].Losses, backward[1].Losses);
        Assert.Equal(forward[1].Losses, backward[0].Losses);
        Assert.NotEqual(forward[0].Losses, forward[1].Losses);   // the two arms really are different units
        foreach (var w in weights.Values) w.Dispose();
    }
}
