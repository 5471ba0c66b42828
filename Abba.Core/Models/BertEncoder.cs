// A BERT encoder written to mirror Hugging Face's BertModel module tree (without the `bert.` prefix and the pooler):
//   embeddings.{word_embeddings, position_embeddings, token_type_embeddings, LayerNorm},
//   encoder.layer.{i}.attention.self.{query,key,value}, encoder.layer.{i}.attention.output.{dense,LayerNorm},
//   encoder.layer.{i}.intermediate.dense, encoder.layer.{i}.output.{dense,LayerNorm}
// so that HF checkpoints load by name and adapter targets read like PEFT scripts.
// Post-LN blocks: a = LN(x + attn(x)); out = LN(a + W2 gelu(W1 a)); exact erf GELU; no dropout.
// Padding is masked additively with (1 - mask) * -10000, as HF BERT does; every token has type 0.
// Every adaptable Linear is a field of type Module<Tensor, Tensor> named like the HF module, so the injector can
// swap it.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Abba.Core.Models;

/// <summary>Pretrained weights or their package are missing or malformed; the message is one line saying what and
/// how to get them.</summary>
public sealed class PretrainedModelException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Token, position and type embeddings, summed and normalised: (B, T) ids to (B, T, H).</summary>
sealed class BertEmbeddings : Module<Tensor, Tensor>
{
    readonly Embedding word_embeddings, position_embeddings, token_type_embeddings;
    readonly LayerNorm LayerNorm;

    public BertEmbeddings(BertConfig config) : base(nameof(BertEmbeddings))
    {
        word_embeddings = nn.Embedding(config.VocabSize, config.HiddenSize);
        position_embeddings = nn.Embedding(config.MaxPositions, config.HiddenSize);
        token_type_embeddings = nn.Embedding(config.TypeVocabSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        long T = ids.shape[1];
        var positions = position_embeddings.weight!.narrow(0, 0, T);   // (T, H): positions 0..T-1, no gather
        var type0 = token_type_embeddings.weight![0];                   // (H): every token has type 0
        return LayerNorm.call(word_embeddings.call(ids) + positions + type0);   // (B, T, H)
    }
}

/// <summary>Multi-head self-attention (HF <c>BertSelfAttention</c>): (B, T, H) to the heads' context.</summary>
sealed class BertSelfAttention : Module<Tensor, Tensor, Tensor>
{
    Module<Tensor, Tensor> query, key, value;
    readonly int heads, headDim;

    public BertSelfAttention(BertConfig config) : base(nameof(BertSelfAttention))
    {
        (heads, headDim) = (config.Heads, config.HeadDim);
        query = nn.Linear(config.HiddenSize, config.HiddenSize);
        key = nn.Linear(config.HiddenSize, config.HiddenSize);
        value = nn.Linear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary><paramref name="bias"/> (B, 1, 1, T) is added to the scores: 0 on tokens, -10000 on padding.</summary>
    public override Tensor forward(Tensor x, Tensor bias)
    {
        long B = x.shape[0], T = x.shape[1];
        var q = query.call(x).view(B, T, heads, headDim).transpose(1, 2);   // (B, nh, T, hd)
        var k = key.call(x).view(B, T, heads, headDim).transpose(1, 2);     // (B, nh, T, hd)
        var v = value.call(x).view(B, T, heads, headDim).transpose(1, 2);   // (B, nh, T, hd)
        var y = nn.functional.scaled_dot_product_attention(q, k, v, bias);  // softmax(q k^T / sqrt(hd) + bias) v
        return y.transpose(1, 2).reshape(B, T, heads * headDim);            // (B, T, H)
    }
}

/// <summary>A projection, then LayerNorm of it plus the residual (HF <c>BertSelfOutput</c>, <c>BertOutput</c>).
/// </summary>
sealed class BertResidualOutput : Module<Tensor, Tensor, Tensor>
{
    Module<Tensor, Tensor> dense;
    readonly LayerNorm LayerNorm;

    public BertResidualOutput(int inFeatures, BertConfig config) : base(nameof(BertResidualOutput))
    {
        dense = nn.Linear(inFeatures, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden, Tensor residual) => LayerNorm.call(dense.call(hidden) + residual);
}

/// <summary>Self-attention and its output projection (HF <c>BertAttention</c>: <c>self</c>, <c>output</c>).</summary>
sealed class BertAttention : Module<Tensor, Tensor, Tensor>
{
    readonly BertSelfAttention self;
    readonly BertResidualOutput output;

    public BertAttention(BertConfig config) : base(nameof(BertAttention))
    {
        self = new BertSelfAttention(config);
        output = new BertResidualOutput(config.HiddenSize, config);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor bias) => output.call(self.call(x, bias), x);
}

/// <summary>The feed-forward expansion with exact GELU (HF <c>BertIntermediate</c>).</summary>
sealed class BertIntermediate : Module<Tensor, Tensor>
{
    Module<Tensor, Tensor> dense;

    public BertIntermediate(BertConfig config) : base(nameof(BertIntermediate))
    {
        dense = nn.Linear(config.HiddenSize, config.IntermediateSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => nn.functional.gelu(dense.call(x));   // (B, T, F)
}

/// <summary>One post-LN block (HF <c>BertLayer</c>).</summary>
sealed class BertLayer : Module<Tensor, Tensor, Tensor>
{
    readonly BertAttention attention;
    readonly BertIntermediate intermediate;
    readonly BertResidualOutput output;

    public BertLayer(BertConfig config) : base(nameof(BertLayer))
    {
        attention = new BertAttention(config);
        intermediate = new BertIntermediate(config);
        output = new BertResidualOutput(config.IntermediateSize, config);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor bias)
    {
        var a = attention.call(x, bias);               // (B, T, H)
        return output.call(intermediate.call(a), a);   // (B, T, H)
    }
}

/// <summary>The stack of blocks (HF <c>BertEncoder</c>, child <c>layer</c>).</summary>
sealed class BertLayerStack : Module<Tensor, Tensor, Tensor>
{
    readonly ModuleList<BertLayer> layer;

    public BertLayerStack(BertConfig config) : base(nameof(BertLayerStack))
    {
        layer = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new BertLayer(config)).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor bias)
    {
        foreach (var block in layer) x = block.call(x, bias);
        return x;
    }
}

/// <summary>
/// A BERT encoder (HF <c>BertModel</c> without the pooler): token ids (B, T) and an attention mask (B, T) of 1 for
/// real tokens and 0 for padding, both int64, to the last hidden states (B, T, H). Initialised by TorchSharp's
/// defaults; <see cref="Load"/> puts pretrained weights in.
/// </summary>
public sealed class BertEncoder : Module<Tensor, Tensor, Tensor>
{
    readonly BertEmbeddings embeddings;
    readonly BertLayerStack encoder;

    /// <summary>Creates an encoder of <paramref name="config"/>'s shape.</summary>
    public BertEncoder(BertConfig config) : base(nameof(BertEncoder))
    {
        Config = config;
        embeddings = new BertEmbeddings(config);
        encoder = new BertLayerStack(config);
        RegisterComponents();
    }

    /// <summary>The shapes this encoder was built with.</summary>
    public BertConfig Config { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor inputIds, Tensor attentionMask)
    {
        if (inputIds.shape[1] > Config.MaxPositions)
            throw new ArgumentException(
                $"sequence of {inputIds.shape[1]} tokens exceeds MaxPositions = {Config.MaxPositions}");
        var x = embeddings.call(inputIds);                                        // (B, T, H)
        var bias = (1 - attentionMask.to(x.dtype)).mul_(-10000.0).unsqueeze(1).unsqueeze(1);   // (B, 1, 1, T)
        return encoder.call(x, bias);                                             // (B, T, H)
    }

    /// <summary>
    /// Copies <paramref name="weights"/> (HF names without <c>bert.</c>, PyTorch layouts, any device) into every
    /// parameter; extra entries (a pooler, position ids) are ignored.
    /// </summary>
    /// <exception cref="PretrainedModelException">A parameter has no entry or one of another shape.</exception>
    public void Load(IReadOnlyDictionary<string, Tensor> weights)
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (!weights.TryGetValue(name, out var w))
                throw new PretrainedModelException($"pretrained weights lack '{name}' ({Shape(p)})");
            if (!w.shape.SequenceEqual(p.shape))
                throw new PretrainedModelException(
                    $"pretrained '{name}' is {Shape(w)}, the encoder expects {Shape(p)}");
            p.copy_(w);
        }
    }

    static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";
}
