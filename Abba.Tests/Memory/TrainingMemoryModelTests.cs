using Abba.Core.Efficiency;
using Abba.Core.Adapters;
using Abba.Core.Memory;
using Abba.Core.Models;
using static TorchSharp.torch;

namespace Abba.Tests.Memory;

public class TrainingMemoryModelTests
{
    // C = 8, Q = 2 heads x 4 = 8, KV = 1 x 4 = 4, I = 16, V = 10, 2 blocks, untied; T = 4 tokens, float32 throughout.
    static readonly LlamaConfig Tiny = new(VocabSize: 10, HiddenSize: 8, IntermediateSize: 16, Layers: 2, Heads: 2, KvHeads: 1, HeadDim: 4);
    static readonly MemorySettings Fp32 = MemorySettings.TorchSharpFloat32(sequenceLength: 4);

    [Fact]
    public void Estimate_TinyDecoderWithLora_EqualsHandCount()
    {
        var e = TrainingMemoryModel.Estimate(Tiny, new LoraConfig(2, 4), Fp32);

        // Parameters: embed 10*8 + lm_head 10*8 + final norm 8 + 2 blocks * (q 64 + k 32 + v 32 + o 64 + gate 128 + up 128 + down 128 + norms 16) = 1352.
        Assert.Equal(1352 * 4, e.Bytes("frozen_weights"));
        // LoRA r = 2: r * sum(in + out) = 2 * (16 + 12 + 12 + 16 + 24 + 24 + 24) = 256 per block, 512 in all; gradients alike; AdamW two moments.
        Assert.Equal(512 * 4, e.Bytes("trainable_parameters"));
        Assert.Equal(512 * 4, e.Bytes("gradients"));
        Assert.Equal(2 * 512 * 4, e.Bytes("optimiser_state"));
        // Every decoder intermediate, T = 4: per block 10 (T, C) + 9.5 (T, Q) + 6.5 (T, KV) + 4 (T, I) = 4 * (80 + 76 + 26 + 64) = 984;
        // two blocks 1968, plus the embedding output and the final norm's three (T, C) tensors: 4 * 32 = 128.
        Assert.Equal((1968 + 128) * 4, e.Bytes("activations"));
        // LoRA keeps u = x A^T, T x r = 8 elements, for each of 14 projections.
        Assert.Equal(14 * 8 * 4, e.Bytes("adapter_saved"));
        // Logits (T, V) = 40 and their log-softmax 40.
        Assert.Equal(80 * 4, e.Bytes("logits"));
        // Largest transient: a block's backward, 3 T (I + C) = 288 elements (the loss's 2 T V = 80 and LoRA's 3 T m <= 192 are smaller).
        Assert.Equal(288 * 4, e.Bytes("transient"));
        Assert.Equal("forward_backward", e.PeakPhase);
        Assert.Equal((1352 + 512 + 512 + 1024 + 2096 + 112 + 80 + 288) * 4, e.PeakBytes);
    }

    [Theory]
    // Block 0's q, k, v read a tensor without gradient (frozen embeddings), so whatever exists only for x's gradient is not kept there.
    // ABBA, lean node (r1 = r2 = 1): only u, T = 4 per projection (x is the projection's input, already an activation).
    [InlineData("abba_kr", 14 * 4)]
    // ABBA, plain autograd (r1 = r2 = 1): B_kr m + A_kr n (if x needs grad) + u T.  Block 0: q 12, k 8, v 8, o 20, gate 28, up 28, down 28; block 1: 20, 16, 16, 20, 28, 28, 28.
    [InlineData("abba_kr_plain", 288)]
    // Dense ABBA: P1 and P2 (2 m n) always, P (m n) if x needs grad: block 0 2*576 + (64 + 128*3), block 1 3*576.
    [InlineData("abba_dense", 1600 + 1728)]
    // HiRA: W = W0 ⊙ (BA + 1), m n, only if x needs grad: block 0 o, gate, up, down = 448; block 1 576.
    [InlineData("hira", 448 + 576)]
    // DoRA: W0 x + s B A x (T m) and u (T r): per block T * (sum m 64 + 7 * 2) = 312.
    [InlineData("dora", 2 * 312)]
    [InlineData("full_ft", 0)]
    public void AdapterSaved_TinyDecoder_EqualsHandCount(string method, long elements)
    {
        var e = TrainingMemoryModel.Estimate(Tiny, CostMethod.ByName(method, rank: 2).Config!, Fp32);
        Assert.Equal(elements * 4, e.Bytes("adapter_saved"));
    }

    [Fact]
    public void Estimate_FullFineTuning_MovesProjectionsFromFrozenToTrainable()
    {
        var e = TrainingMemoryModel.Estimate(Tiny, new FullFineTuneConfig(), Fp32);
        Assert.Equal(1152, e.TrainableParameters);                     // 2 blocks * 576
        Assert.Equal((1352 - 1152) * 4, e.Bytes("frozen_weights"));
        // Persistent: frozen 200 + weights, gradients and two moments of 1152 = 4808. Forward/backward adds activations 2096,
        // logits 80 and a block's backward 288 (7272); AdamW's step adds TorchSharp's two temporaries per parameter, 2304 (7112).
        Assert.Equal("forward_backward", e.PeakPhase);
        Assert.Equal(7272 * 4, e.PeakBytes);
        var oneToken = TrainingMemoryModel.Estimate(Tiny, new FullFineTuneConfig(), Fp32 with { SequenceLength = 1 });
        Assert.Equal("optimiser_step", oneToken.PeakPhase);                // with one token the activations shrink below AdamW's temporaries
        Assert.Equal(7112 * 4, oneToken.PeakBytes);
    }

    [Theory]
    [InlineData("lora")]
    [InlineData("abba_kr")]
    [InlineData("abba_kr_plain")]
    [InlineData("abba_dense")]
    [InlineData("hira")]
    [InlineData("dora")]
    [InlineData("full_ft")]
    public void TrainableParameters_EqualThoseOfTheInjectedDecoder(string method)
    {
        var config = CostMethod.ByName(method, rank: 2).Config!;
        using var model = new LlamaDecoder(Tiny);
        Injector.Inject(model, LlamaConfig.ProjectionNames, config);
        Assert.Equal(Injector.TrainableParameterCount(model), TrainingMemoryModel.Estimate(Tiny, config, Fp32).TrainableParameters);
    }

    [Fact]
    public void ParameterParity_LoraAbbaHiraEqual_DoraAddsOneMagnitudePerOutput()
    {
        var full = new LlamaConfig(128256, 2048, 8192, 16, 32, 8, 64, TiedEmbeddings: true);   // Llama-3.2-1B
        long Count(string m) => TrainingMemoryModel.Estimate(full, CostMethod.ByName(m).Config!, MemorySettings.PaperGpu()).TrainableParameters;
        Assert.Equal(22_544_384, Count("lora"));                       // paper §6.4: 32 * 44,032 * 16 = 22.54M
        Assert.Equal(Count("lora"), Count("abba_kr"));
        Assert.Equal(Count("lora"), Count("abba_dense"));
        Assert.Equal(Count("lora"), Count("hira"));
        Assert.Equal(Count("lora") + 16 * (2048 + 512 + 512 + 2048 + 8192 + 8192 + 2048), Count("dora"));
    }
}
