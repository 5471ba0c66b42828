using Abba.Core.Data;
using Abba.Core.Models;
using Abba.Core.Training;
using static TorchSharp.torch;

namespace Abba.Tests.Training;

public class LanguageModelTrainerTests
{
    [Fact]
    public void ArithmeticTargets_UseTheIndexTheLossIgnores() =>
        Assert.Equal(LanguageModelTrainer.IgnoreIndex, ArithmeticTask.IgnoreIndex);

    [Fact]
    public void Schedule_WarmsUpLinearlyThenFollowsHalfCosine()
    {
        var s = new TrainingSchedule(Steps: 200, LearningRate: 1e-3, WarmupRatio: 0.05);   // 10 warm-up steps
        Assert.Equal(0, s.Multiplier(0));
        Assert.Equal(0.5, s.Multiplier(5), 12);
        Assert.Equal(1, s.Multiplier(10), 12);
        Assert.Equal(0.5, s.Multiplier(105), 12);
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 40 / 190)), s.Multiplier(50), 12);
        Assert.Equal(0, s.Multiplier(200), 12);
    }

    [Fact]
    public void Train_TinyPretrainingRun_LowersTheAnswerLoss()
    {
        var task = new ArithmeticTask(1);
        var split = new ArithmeticSplit(task, testSize: 5, seed: 0);
        using var model = new LlamaDecoder(new LlamaConfig(ArithmeticTask.VocabSize, 32, 64, 1, 2, 2, 16, MaxPositions: 16));
        var rng = new Random(0);
        var losses = LanguageModelTrainer.Train(model, _ => task.Batch(split.SampleTraining(ArithmeticOperation.Add, 32, rng), CPU),
            new TrainingSchedule(Steps: 150, LearningRate: 3e-3));
        Assert.Equal(150, losses.Length);
        double first = losses.Take(10).Average(), last = losses.TakeLast(10).Average();
        Assert.True(first > 1.5, $"an untrained model is near ln(14) = 2.6 per token, got {first:0.00}");
        Assert.True(last < 0.6 * first, $"loss went from {first:0.000} to {last:0.000}");
    }

    [Fact]
    public void GradientNorm_IsTheGlobalL2NormOfEveryGradient_MissingOnesCountingZero()
    {
        using var a = tensor(new double[] { 1, 2, 3, 4 }, dtype: ScalarType.Float64).requires_grad_(true);
        using var b = tensor(new double[] { 0.5, -1 }, dtype: ScalarType.Float32).requires_grad_(true);
        using var unused = tensor(new double[] { 7 }, dtype: ScalarType.Float64).requires_grad_(true);
        using (var loss = a.square().sum() + b.mul(3).sum()) loss.backward();   // grads 2a = (2, 4, 6, 8) and (3, 3)
        Assert.Equal(Math.Sqrt(4 + 16 + 36 + 64 + 9 + 9), LanguageModelTrainer.GradientNorm([a, b, unused]), 6);
    }
}
