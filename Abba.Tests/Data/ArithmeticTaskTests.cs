using Abba.Core.Training;
using Abba.Core.Models;
using Abba.Core.Data;
using static TorchSharp.torch;

namespace Abba.Tests.Data;

public class ArithmeticTaskTests
{
    [Fact]
    public void Text_WritesEveryNumberReversedAndZeroPadded()
    {
        var task = new ArithmeticTask(3);
        Assert.Equal("321+540=8610$", task.Text(new(123, 45, ArithmeticOperation.Add)));
        Assert.Equal("005-321=7730$", task.Text(new(500, 123, ArithmeticOperation.Subtract)));
        Assert.Equal("999+999=8991$", task.Text(new(999, 999, ArithmeticOperation.Add)));
        Assert.Equal("70+50=210$", new ArithmeticTask(2).Text(new(7, 5, ArithmeticOperation.Add)));
        Assert.Equal(task.SequenceLength, task.Text(new(1, 2, ArithmeticOperation.Add)).Length);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public void ParseAnswer_RoundTripsEveryFormattedAnswer(int digits)
    {
        var task = new ArithmeticTask(digits);
        var rng = new Random(digits);
        for (int i = 0; i < 2000; i++)
        {
            var p = task.Sample(i % 2 == 0 ? ArithmeticOperation.Add : ArithmeticOperation.Subtract, rng);
            Assert.True(p.Answer >= 0);
            Assert.Equal(p.Answer, task.ParseAnswer(task.Answer(p)));
            Assert.Equal(task.Text(p), ArithmeticTask.Decode(ArithmeticTask.Encode(task.Text(p))));
        }
    }

    [Theory]
    [InlineData("861$")]
    [InlineData("8610")]
    [InlineData("86-0$")]
    [InlineData("")]
    public void ParseAnswer_RejectsMalformedAnswers(string generated) => Assert.Null(new ArithmeticTask(3).ParseAnswer(generated));

    [Fact]
    public void SampleTraining_NeverReturnsAHeldOutProblem()
    {
        var task = new ArithmeticTask(2);   // 10^4 operand pairs: collisions would be frequent without the filter
        var split = new ArithmeticSplit(task, testSize: 500, seed: 7);
        var test = split.Test(ArithmeticOperation.Add).Concat(split.Test(ArithmeticOperation.Subtract)).ToHashSet();
        Assert.Equal(1000, test.Count);
        var rng = new Random(1);
        int seen = 0;
        foreach (var op in Enum.GetValues<ArithmeticOperation>())
            foreach (var p in split.SampleTraining(op, 50_000, rng))
            {
                Assert.DoesNotContain(p, test);
                Assert.Equal(op, p.Operation);
                seen++;
            }
        Assert.Equal(100_000, seen);
    }

    [Fact]
    public void Batch_TargetsCoverExactlyTheAnswerTokens()
    {
        var task = new ArithmeticTask(3);
        ArithmeticProblem[] problems = [new(123, 45, ArithmeticOperation.Add), new(500, 123, ArithmeticOperation.Subtract)];
        var (inputs, targets) = task.Batch(problems, CPU);
        Assert.Equal([2L, task.SequenceLength - 1], inputs.shape);
        for (int b = 0; b < 2; b++)
        {
            var kept = targets[b].data<long>().Where(t => t != ArithmeticTask.IgnoreIndex).ToArray();
            Assert.Equal(task.Answer(problems[b]), ArithmeticTask.Decode(kept));
            Assert.Equal(task.Text(problems[b])[..^1], ArithmeticTask.Decode(inputs[b].data<long>().ToArray()));
        }
        Assert.Equal(task.Prompt(problems[1]), ArithmeticTask.Decode(task.Prompts(problems, CPU)[1].data<long>().ToArray()));
    }

    [Fact]
    public void ValidationSets_AreDisjointFromTestAndTraining_AndLeaveTheTestSetsUnchanged()
    {
        var task = new ArithmeticTask(2);
        var plain = new ArithmeticSplit(task, testSize: 300, seed: 7);
        var split = new ArithmeticSplit(task, testSize: 300, seed: 7, validationSize: 200);
        Assert.Equal(plain.Test(ArithmeticOperation.Subtract), split.Test(ArithmeticOperation.Subtract));
        var validation = split.Validation(ArithmeticOperation.Subtract).ToHashSet();
        Assert.Equal(200, validation.Count);
        Assert.Empty(validation.Intersect(split.Test(ArithmeticOperation.Subtract)));
        Assert.DoesNotContain(split.SampleTraining(ArithmeticOperation.Subtract, 20_000, new Random(3)), validation.Contains);
    }

    [Fact]
    public void Score_AgreesWithTheTrainingLossAndTheExactMatchAccuracy()
    {
        var task = new ArithmeticTask(2);
        using var model = new LlamaDecoder(new LlamaConfig(ArithmeticTask.VocabSize, HiddenSize: 16, IntermediateSize: 32, Layers: 1, Heads: 2, KvHeads: 1, HeadDim: 8, MaxPositions: 16, InitStd: 0.05), seed: 1);
        model.eval();
        var problems = new ArithmeticSplit(task, testSize: 64, seed: 2).Test(ArithmeticOperation.Subtract);
        var score = task.Score(model, problems, CPU, batchSize: 25);   // chunks of 25, 25, 14: the mean is per token over all
        var (inputs, targets) = task.Batch(problems, CPU);
        using (no_grad())
            Assert.Equal(LanguageModelTrainer.Loss(model.call(inputs), targets).item<float>(), score.CrossEntropy, 1e-4);
        Assert.Equal(task.Accuracy(model, problems, CPU), score.ExactMatch, 12);
        Assert.InRange(score.DigitAccuracy, score.ExactMatch, 1.0);
    }
}
