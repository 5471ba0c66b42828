using Abba.Core.Models;
using Abba.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Tests.Models;

public class LlamaDecoderTests
{
    static LlamaConfig Tiny(bool tied = false, int kvHeads = 2) =>
        new(VocabSize: 11, HiddenSize: 16, IntermediateSize: 24, Layers: 2, Heads: 4, KvHeads: kvHeads, HeadDim: 4, TiedEmbeddings: tied, MaxPositions: 32);

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && (a == b).all().item<bool>();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_ReturnsLogitsOfShapeBatchTimeVocab(bool tied)
    {
        using var g = UnitSeed.NewGenerator(1);
        using var model = new LlamaDecoder(Tiny(tied), seed: 1);
        using var tokens = randint(0, 11, [3, 7], generator: g);
        using var logits = model.call(tokens);
        Assert.Equal([3L, 7, 11], logits.shape);
        Assert.Equal(model.Config.ParameterCount(), model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void ModuleNames_MirrorHuggingFaceLlama()
    {
        using var model = new LlamaDecoder(Tiny());
        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        string[] expected =
        [
            "model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
            "model.layers.0.input_layernorm.weight", "model.layers.0.post_attention_layernorm.weight",
            .. LlamaConfig.ProjectionNames.Select(p => $"model.layers.1.{(p.EndsWith("proj") && p.Length == 6 ? "self_attn" : "mlp")}.{p}.weight"),
        ];
        foreach (var name in expected) Assert.Contains(name, names);
        Assert.Equal(3 + 2 * (2 + 7), names.Count);
        using var tied = new LlamaDecoder(Tiny(tied: true));
        Assert.DoesNotContain(tied.named_parameters(), p => p.name.StartsWith("lm_head", StringComparison.Ordinal));
    }

    [Fact]
    public void ChangingLaterToken_NeverChangesEarlierLogits()
    {
        using var g = UnitSeed.NewGenerator(2);
        using var model = new LlamaDecoder(Tiny(), seed: 2);
        using var a = randint(0, 11, [2, 9], generator: g);
        using var b = a.clone();
        b[.., 5] = (b[.., 5] + 1) % 11;
        b[.., 8] = (b[.., 8] + 3) % 11;
        using var la = model.call(a);
        using var lb = model.call(b);
        Assert.True(Same(la[.., ..5], lb[.., ..5]), "logits before the first changed position must be identical");
        Assert.False(la[.., 5].allclose(lb[.., 5]), "the changed position itself must see the change");
    }

    [Fact]
    public void Rotary_MatchesFloat64PairRotationReference()
    {
        const int T = 5, D = 8;
        const double theta = 100;
        var (cos, sin) = RotaryEmbedding.Tables(D, T, theta, CPU);
        using var g = UnitSeed.NewGenerator(3);
        using var x = randn(2, T, D, dtype: ScalarType.Float64, generator: g);
        using var actual = RotaryEmbedding.Apply(x, cos, sin);
        var xs = x.data<double>().ToArray();
        var ys = actual.data<double>().ToArray();
        for (int b = 0; b < 2; b++)
        for (int t = 0; t < T; t++)
        for (int i = 0; i < D / 2; i++)
        {
            // dimension i and i + D/2 form a pair rotated by angle t * theta^(-2i/D)
            double angle = t * Math.Pow(theta, -2.0 * i / D);
            int o = (b * T + t) * D;
            double x1 = xs[o + i], x2 = xs[o + i + D / 2];
            Assert.Equal(x1 * Math.Cos(angle) - x2 * Math.Sin(angle), ys[o + i], 6);
            Assert.Equal(x2 * Math.Cos(angle) + x1 * Math.Sin(angle), ys[o + i + D / 2], 6);
        }
    }

    [Fact]
    public void Rotary_DotProductDependsOnlyOnRelativePosition()
    {
        var (cos, sin) = RotaryEmbedding.Tables(8, 32, 10000, CPU);
        using var g = UnitSeed.NewGenerator(4);
        using var q = randn(8, generator: g).expand(32, 8);
        using var k = randn(8, generator: g).expand(32, 8);
        using var rq = RotaryEmbedding.Apply(q, cos, sin);
        using var rk = RotaryEmbedding.Apply(k, cos, sin);
        double Dot(int m, int n) => (rq[m] * rk[n]).sum().item<float>();
        Assert.Equal(Dot(3, 1), Dot(20, 18), 1e-4);
        Assert.Equal(Dot(0, 7), Dot(10, 17), 1e-4);
    }

    [Fact]
    public void GroupedQueryAttention_EqualsFullAttentionWithDuplicatedKeyValueHeads()
    {
        using var g = UnitSeed.NewGenerator(5);
        using var grouped = new LlamaDecoder(Tiny(kvHeads: 2), seed: 5);
        using var full = new LlamaDecoder(Tiny(kvHeads: 4), seed: 5);
        var source = grouped.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
            foreach (var (name, p) in full.named_parameters())
            {
                Tensor w = source[name];
                // query heads 0,1 read kv head 0 and heads 2,3 read kv head 1: repeat each kv head's rows twice
                if (name.Contains("k_proj") || name.Contains("v_proj")) w = w.view(2, 1, 4, 16).expand(2, 2, 4, 16).reshape(16, 16);
                p.copy_(w);
            }
        using var tokens = randint(0, 11, [2, 6], generator: g);
        Assert.True(grouped.call(tokens).allclose(full.call(tokens), rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Generate_AppendsArgmaxOfLastLogits()
    {
        using var g = UnitSeed.NewGenerator(6);
        using var model = new LlamaDecoder(Tiny(), seed: 6);
        using var prompt = randint(0, 11, [4, 3], generator: g);
        using var generated = model.Generate(prompt, 3);
        Assert.Equal([4L, 3], generated.shape);
        using var first = model.call(prompt)[.., -1].argmax(-1);
        Assert.True(Same(first, generated[.., 0]));
        using var second = model.call(cat([prompt, generated[.., ..1]], 1))[.., -1].argmax(-1);
        Assert.True(Same(second, generated[.., 1]));
    }

    [Theory]
    [InlineData(2048, 8192, 32, 8, 64, 44_032)]     // Llama-3.2 1B
    [InlineData(3072, 8192, 24, 8, 128, 54_272)]    // Llama-3.2 3B
    [InlineData(4096, 14336, 32, 8, 128, 81_920)]   // Mistral-7B
    [InlineData(3584, 14336, 16, 8, 256, 80_384)]   // Gemma-2 9B (q_out = o_in = 4096)
    public void ProjectionShapes_ReproducePaperPerLayerInPlusOut(int hidden, int ffn, int heads, int kv, int headDim, int expected)
    {
        var config = new LlamaConfig(100, hidden, ffn, 1, heads, kv, headDim);
        Assert.Equal(expected, config.ProjectionShapes().Values.Sum(s => s.In + s.Out));
        var reduced = config.Reduced(8, layers: 2, vocabSize: 50);
        Assert.Equal(expected / 8, reduced.ProjectionShapes().Values.Sum(s => s.In + s.Out));
        Assert.Equal((heads, kv, 2, 50), (reduced.Heads, reduced.KvHeads, reduced.Layers, reduced.VocabSize));
    }
}
