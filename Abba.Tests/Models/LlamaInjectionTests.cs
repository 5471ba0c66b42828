using Abba.Core.Adapters;
using Abba.Core.Models;
using Abba.Core.Randomness;
using static TorchSharp.torch;

namespace Abba.Tests.Models;

public class LlamaInjectionTests
{
    static readonly LlamaConfig Config = new(VocabSize: 11, HiddenSize: 16, IntermediateSize: 24, Layers: 3, Heads: 4, KvHeads: 2, HeadDim: 4, MaxPositions: 16);

    public static TheoryData<string> Targets => [.. LlamaConfig.ProjectionNames];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Inject_EachProjectionName_AdaptsThatProjectionInEveryLayer(string target)
    {
        using var g = UnitSeed.NewGenerator(0);
        using var model = new LlamaDecoder(Config, seed: 0);
        using var tokens = randint(0, 11, [2, 5], generator: g);
        using var before = model.call(tokens);
        var adapted = Injector.Inject(model, [target], new AbbaConfig(2, 2, Alpha: 4));

        string block = target is "gate_proj" or "up_proj" or "down_proj" ? "mlp" : "self_attn";
        Assert.Equal(Enumerable.Range(0, 3).Select(i => $"model.layers.{i}.{block}.{target}"), adapted);
        Assert.Equal(3, Injector.Adapters(model).Count);
        var (inFeatures, outFeatures) = Config.ProjectionShapes()[target];
        Assert.Equal(3L * (2 + 2) * (inFeatures + outFeatures), Injector.TrainableParameterCount(model));
        using var after = model.call(tokens);   // B2 = 0: the adapted model starts exactly where the base model was
        Assert.True(before.allclose(after, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Inject_AllSevenNames_AdaptsSevenModulesPerLayerWithThePaperCount()
    {
        using var model = new LlamaDecoder(Config);
        var adapted = Injector.Inject(model, LlamaConfig.ProjectionNames, new LoraConfig(4, 8));
        Assert.Equal(7 * 3, adapted.Count);
        // paper #params rule: r * sum over adapted layers of (in + out)
        Assert.Equal(4L * 3 * Config.ProjectionShapes().Values.Sum(s => s.In + s.Out), Injector.TrainableParameterCount(model));
        Assert.DoesNotContain(Injector.LinearModuleNames(model), n => n.StartsWith("model.", StringComparison.Ordinal));
        Assert.Equal(["lm_head"], Injector.LinearModuleNames(model));
    }

    [Fact]
    public void Inject_AdaptersReceiveGradientsThroughTheDecoder()
    {
        using var g = UnitSeed.NewGenerator(1);
        using var model = new LlamaDecoder(Config, seed: 1);
        Injector.Inject(model, ["down_proj"], new AbbaConfig(2, 2, Alpha: 4));
        using var tokens = randint(0, 11, [2, 5], generator: g);
        model.call(tokens).square().mean().backward();
        var b2 = model.named_parameters().Where(p => p.name.EndsWith("down_proj.abba_B2", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, b2.Length);
        Assert.All(b2, p => Assert.True(p.parameter.grad is { } g && g.abs().sum().item<float>() > 0, p.name));
        Assert.All(model.named_parameters().Where(p => !p.name.Contains("abba_")), p => Assert.False(p.parameter.requires_grad, p.name));
    }
}
