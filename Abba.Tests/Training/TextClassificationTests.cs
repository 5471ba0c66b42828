using Abba.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Tests.Training;

public class TextClassificationTests
{
    [Fact]
    public void MacroF1_MatchesAHandComputedExample()
    {
        // class 0: tp 1, predicted 2, true 2 -> F1 = 2/4; class 1: tp 2, predicted 3, true 2 -> 4/5;
        // class 2: never predicted, true once -> 0; class 3 absent from both -> not averaged.
        double f1 = TextClassifierTrainer.MacroF1([0, 1, 1, 1, 0], [0, 0, 1, 1, 2], classes: 4);
        Assert.Equal((0.5 + 0.8 + 0) / 3, f1, 12);
    }

    [Fact]
    public void LengthBuckets_UseEveryExampleOfAnEpochOnceAndGroupByLength()
    {
        var rng = new Random(5);
        int[] lengths = [.. Enumerable.Range(0, 40).Select(_ => rng.Next(3, 30))];
        var plan = LengthBuckets.Plan(lengths, batchSize: 4, steps: 10, bucketBatches: 5, seed: 11);

        Assert.Equal(10, plan.Count);
        Assert.All(plan, b => Assert.Equal(4, b.Length));
        Assert.Equal(Enumerable.Range(0, 40), plan.SelectMany(b => b).Order());   // one epoch, each example once
        foreach (var group in plan.Chunk(5))
        {
            var byLength = group.OrderBy(b => b.Min(i => lengths[i])).ToArray();
            for (int k = 0; k + 1 < byLength.Length; k++)
                Assert.True(byLength[k].Max(i => lengths[i]) <= byLength[k + 1].Min(i => lengths[i]));
        }
        Assert.Equal(plan, LengthBuckets.Plan(lengths, 4, 10, 5, seed: 11));
        Assert.NotEqual(plan, LengthBuckets.Plan(lengths, 4, 10, 5, seed: 12));
    }

    /// <summary>Logits are a fixed row per first token id: the scores can be computed by hand in float64.</summary>
    sealed class FirstTokenLogits : nn.Module<Tensor, Tensor, Tensor>
    {
        readonly Tensor table;
        public FirstTokenLogits(double[,] logits) : base(nameof(FirstTokenLogits))
        {
            table = tensor(logits, ScalarType.Float32);
            RegisterComponents();
        }
        public override Tensor forward(Tensor ids, Tensor mask) => table.index_select(0, ids.select(1, 0));
    }

    [Fact]
    public void Evaluate_GivesTheCrossEntropyAccuracyAndF1OfFixedLogits()
    {
        double[,] logits = { { 2, 0, -1 }, { 0, 1, 0 }, { 0.5, 0.5, 3 } };
        int[] first = [0, 1, 2, 1, 0];
        int[] labels = [0, 1, 1, 2, 1];
        using var model = new FirstTokenLogits(logits);
        var score = TextClassifierTrainer.Evaluate(model, first.Length, batchSize: 2, indices => new TextBatch(
            tensor(indices.Select(i => (long)first[i]).ToArray(), [indices.Length, 1]),
            ones(indices.Length, 1, ScalarType.Int64), tensor(indices.Select(i => (long)labels[i]).ToArray())), 3);

        double expectedCe = first.Zip(labels).Average(p =>
        {
            var row = Enumerable.Range(0, 3).Select(c => logits[p.First, c]).ToArray();
            return Math.Log(row.Sum(Math.Exp)) - row[p.Second];
        });
        Assert.Equal(expectedCe, score.CrossEntropy, 1e-5);
        Assert.Equal(2.0 / 5, score.Accuracy, 12);   // examples 0 and 1 are right
        // predictions 0, 1, 2, 1, 0: class 0 F1 2/3, class 1 2/5, class 2 0
        Assert.Equal((2.0 / 3 + 2.0 / 5) / 3, score.MacroF1, 12);
    }
}
