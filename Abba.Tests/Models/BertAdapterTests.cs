using Abba.Core.Adapters;
using Abba.Core.Models;
using Abba.Core.Pretrained;
using Abba.Core.Randomness;
using static TorchSharp.torch;

namespace Abba.Tests.Models;

/// <summary>Every registered method fine-tunes the pretrained encoder through a classifier on all six projections.</summary>
public class BertAdapterTests
{
    public static TheoryData<string> Methods => [.. MethodRegistry.Ids];

    [Theory]
    [MemberData(nameof(Methods))]
    public void EveryMethod_OnAllSixKinds_LowersTheLoss_TrainsOnlyItsParameters_AndMergesToTheSameLogits(string id)
    {
        using var generator = UnitSeed.NewGenerator(7);
        using var model = new BertClassifier(MiniLm.LoadEncoder(), classes: 3, generator);
        var config = model.Encoder.Config;
        var targets = BertConfig.ProjectionKinds.SelectMany(config.ModulesOf).ToArray();
        var adapted = Injector.Inject(model, targets, MethodRegistry.ById(id).AtBudget(4, 8), seed: 3);
        Assert.Equal(6 * 6, adapted.Count);
        Assert.All(adapted, n => Assert.StartsWith("bert.encoder.layer.", n));

        var tokenizer = MiniLm.Tokenizer();
        var (ids, mask) = tokenizer.Batch(
            [.. new[] { "a small dog", "the stock market fell", "run quickly home", "a red apple" }
                .Select(s => tokenizer.Encode(s, 16))]);
        using var _ = ids;
        using var __ = mask;
        using var labels = tensor(new long[] { 0, 1, 2, 0 });
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

        var trainable = model.parameters().Where(p => p.requires_grad).ToArray();
        using var optimizer = optim.AdamW(trainable, id == "full_ft" ? 1e-4 : 2e-3, weight_decay: 0);
        double Loss()
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            return nn.functional.cross_entropy(model.call(ids, mask), labels).item<float>();
        }
        double first = Loss();
        model.train();
        for (int step = 0; step < 4; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.cross_entropy(model.call(ids, mask), labels).backward();
            optimizer.step();
        }
        model.eval();
        Assert.True(Loss() < first, $"{id}: loss {Loss():F4} did not fall below {first:F4}");

        foreach (var (name, p) in model.named_parameters())
        {
            using var same = p.eq(before[name]).all();
            bool changed = !same.item<bool>();
            Assert.True(changed == p.requires_grad, $"{id}: {name} trainable {p.requires_grad}, changed {changed}");
        }
        Assert.All(model.named_parameters().Where(p => p.name.StartsWith("bert.embeddings.", StringComparison.Ordinal)
                || p.name.Contains("LayerNorm", StringComparison.Ordinal) || p.name.StartsWith("classifier.")),
            p => Assert.False(p.parameter.requires_grad, p.name));

        using var noGrad = no_grad();
        using var adaptedLogits = model.call(ids, mask);
        Injector.MergeAll(model);
        using var mergedLogits = model.call(ids, mask);
        Assert.True(adaptedLogits.allclose(mergedLogits, rtol: 0, atol: 1e-4), $"{id}: merged logits differ");
        foreach (var t in before.Values) t.Dispose();
    }
}
