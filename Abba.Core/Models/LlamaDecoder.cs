using Abba.Core.Randomness;
// A Llama-style decoder-only transformer, written to mirror Hugging Face's LlamaForCausalLM module tree:
//   model.embed_tokens, model.layers.{i}.{input_layernorm, self_attn.{q,k,v,o}_proj, post_attention_layernorm,
//   mlp.{gate,up,down}_proj}, model.norm, lm_head
// so that adapter target lists read like the paper's scripts and real checkpoints could be mapped by name.
// Pre-norm blocks: h = x + attn(rmsnorm(x)); out = h + mlp(rmsnorm(h)). Rotary embeddings use HF's rotate_half
// convention (dimension i pairs with i + head_dim/2). No biases, no dropout, no KV cache.
// Every adaptable Linear is a field of type Module<Tensor, Tensor>
// named like the HF module, so the injector can swap it.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Abba.Core.Models;

/// <summary>Shapes and constants of a Llama-style decoder.</summary>
/// <param name="VocabSize">Number of token ids.</param>
/// <param name="HiddenSize">Residual stream width (HF <c>hidden_size</c>).</param>
/// <param name="IntermediateSize">SwiGLU width (HF <c>intermediate_size</c>).</param>
/// <param name="Layers">Number of decoder blocks.</param>
/// <param name="Heads">Query heads.</param>
/// <param name="KvHeads">Key/value heads; fewer than <paramref name="Heads"/> gives grouped-query attention.</param>
/// <param name="HeadDim">Width of one head; <c>Heads * HeadDim</c> may differ from the hidden size (Gemma-2).</param>
/// <param name="TiedEmbeddings">The LM head reuses the token
/// embedding matrix (no separate <c>lm_head</c> module).</param>
/// <param name="MaxPositions">Longest sequence the model accepts.</param>
/// <param name="RopeTheta">Rotary base.</param>
/// <param name="RmsNormEps">RMSNorm epsilon.</param>
/// <param name="InitStd">Standard deviation of the normal initialisation
/// of embeddings and Linear weights (HF <c>initializer_range</c>).</param>
public sealed record LlamaConfig(
    int VocabSize, int HiddenSize, int IntermediateSize, int Layers, int Heads, int KvHeads, int HeadDim,
    bool TiedEmbeddings = false, int MaxPositions = 2048, double RopeTheta = 10000, double RmsNormEps = 1e-5,
    double InitStd = 0.02)
{
    /// <summary>The seven adaptable projections of each block, as named in Hugging Face Llama checkpoints.</summary>
    public static readonly IReadOnlyList<string> ProjectionNames =
        ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    /// <summary>Output width of <c>q_proj</c> and input width of <c>o_proj</c>: <c>Heads * HeadDim</c>.</summary>
    public int QOut => Heads * HeadDim;

    /// <summary>Output width of <c>k_proj</c> and <c>v_proj</c>: <c>KvHeads * HeadDim</c>.</summary>
    public int KvOut => KvHeads * HeadDim;

    /// <summary>
    /// Small decoder for the CPU <c>quick</c> profile: 2 blocks of width 64 (92K parameters in the blocks). Initialised
    /// with std 0.05 rather than HF's 0.02, which at this width leaves attention near-uniform for hundreds of steps.
    /// </summary>
    public static LlamaConfig Quick(int vocabSize, int maxPositions = 64) =>
        new(vocabSize, HiddenSize: 64, IntermediateSize: 176, Layers: 2, Heads: 4, KvHeads: 2, HeadDim: 16,
            MaxPositions: maxPositions, InitStd: 0.05);

    /// <summary>Deeper decoder for the <c>paper</c> profile: 4 blocks of width 64
    /// (185K parameters in the blocks), std 0.05 as <see cref="Quick"/>.</summary>
    public static LlamaConfig Paper(int vocabSize, int maxPositions = 64) =>
        Quick(vocabSize, maxPositions) with { Layers = 4 };

    /// <summary>(in, out) of each projection of one block, keyed by <see cref="ProjectionNames"/>.</summary>
    public IReadOnlyDictionary<string, (int In, int Out)> ProjectionShapes() => new Dictionary<string, (int, int)>
    {
        ["q_proj"] = (HiddenSize, QOut), ["k_proj"] = (HiddenSize, KvOut), ["v_proj"] = (HiddenSize, KvOut),
        ["o_proj"] = (QOut, HiddenSize), ["gate_proj"] = (HiddenSize, IntermediateSize),
        ["up_proj"] = (HiddenSize, IntermediateSize), ["down_proj"] = (IntermediateSize, HiddenSize),
    };

    /// <summary>Total parameters, counting a tied embedding once.</summary>
    public long ParameterCount()
    {
        long perLayer = ProjectionShapes().Values.Sum(s => (long)s.In * s.Out) + 2L * HiddenSize;
        long embeddings = (long)VocabSize * HiddenSize * (TiedEmbeddings ? 1 : 2);
        return Layers * perLayer + embeddings + HiddenSize;
    }

    /// <summary>
    /// The same architecture with hidden, intermediate and head widths divided by <paramref name="widthDivisor"/>
    /// (head counts, hence the grouped-query ratio and Gemma's q_out/hidden ratio, are kept), and optionally fewer
    /// layers or a smaller vocabulary. Used to build scaled-down copies of real model shapes.
    /// </summary>
    /// <exception cref="ArgumentException">A width is not divisible by <paramref name="widthDivisor"/>.</exception>
    public LlamaConfig Reduced(int widthDivisor, int? layers = null, int? vocabSize = null)
    {
        int Divide(int value, string name) => widthDivisor > 0 && value % widthDivisor == 0
            ? value / widthDivisor
            : throw new ArgumentException($"{name} = {value} is not divisible by {widthDivisor}", nameof(widthDivisor));
        return this with
        {
            HiddenSize = Divide(HiddenSize, "hidden"), IntermediateSize = Divide(IntermediateSize, "intermediate"),
            HeadDim = Divide(HeadDim, "head_dim"), Layers = layers ?? Layers, VocabSize = vocabSize ?? VocabSize,
        };
    }
}

/// <summary>Root-mean-square layer norm: <c>x / sqrt(mean(x^2) + eps) * weight</c>.</summary>
public sealed class RmsNorm : Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly double eps;

    /// <summary>Creates a norm over the last dimension of width
    /// <paramref name="size"/>, weight initialised to one.</summary>
    public RmsNorm(int size, double eps) : base(nameof(RmsNorm))
    {
        weight = new Parameter(ones(size));
        this.eps = eps;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => x * rsqrt(x.pow(2).mean([-1], keepdim: true) + eps) * weight;
}

/// <summary>Rotary position embeddings: the cos/sin tables and their application to queries and keys.</summary>
public static class RotaryEmbedding
{
    /// <summary>
    /// cos and sin tables (T, D) for positions 0..<paramref name="length"/>-1, in float64 before rounding to float32:
    /// angle(t, i) = t * theta^(-2i/D) for i &lt; D/2, repeated for the second half. Computed per call on
    /// <paramref name="device"/> (cheap, and never stale after the model moves between devices).
    /// </summary>
    public static (Tensor Cos, Tensor Sin) Tables(int headDim, long length, double theta, Device device)
    {
        using var scope = NewDisposeScope();
        var invFreq = 1.0 / pow(theta, arange(0, headDim, 2, ScalarType.Float64, device) / headDim);   // (D/2)
        var freqs = outer(arange(length, ScalarType.Float64, device), invFreq);                       // (T, D/2)
        var angles = cat([freqs, freqs], -1);                                                          // (T, D)
        return scope.MoveToOuter(angles.cos().to(ScalarType.Float32), angles.sin().to(ScalarType.Float32));
    }

    /// <summary>Rotates <paramref name="x"/> (…, T, D):
    /// <c>x * cos + rotate_half(x) * sin</c>, rotate_half(x) = [-x2, x1].</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        var halves = x.chunk(2, -1);
        var rotated = cat([-halves[1], halves[0]], -1);
        return x * cos.to(x.dtype) + rotated * sin.to(x.dtype);
    }
}

/// <summary>Causal self-attention with rotary positions and grouped-query heads.</summary>
public sealed class LlamaAttention : Module<Tensor, Tensor, Tensor, Tensor>
{
    Module<Tensor, Tensor> q_proj, k_proj, v_proj, o_proj;
    readonly int heads, kvHeads, headDim;

    /// <summary>Creates the four projections of <paramref name="config"/>.</summary>
    public LlamaAttention(LlamaConfig config) : base(nameof(LlamaAttention))
    {
        (heads, kvHeads, headDim) = (config.Heads, config.KvHeads, config.HeadDim);
        q_proj = nn.Linear(config.HiddenSize, config.QOut, hasBias: false);
        k_proj = nn.Linear(config.HiddenSize, config.KvOut, hasBias: false);
        v_proj = nn.Linear(config.HiddenSize, config.KvOut, hasBias: false);
        o_proj = nn.Linear(config.QOut, config.HiddenSize, hasBias: false);
        RegisterComponents();
    }

    /// <summary>Attends causally over <paramref name="x"/> (B, T, C) with rotary tables (T, D).</summary>
    public override Tensor forward(Tensor x, Tensor cos, Tensor sin)
    {
        long B = x.shape[0], T = x.shape[1];
        var q = q_proj.call(x).view(B, T, heads, headDim).transpose(1, 2);     // (B, H, T, D)
        var k = k_proj.call(x).view(B, T, kvHeads, headDim).transpose(1, 2);   // (B, KV, T, D)
        var v = v_proj.call(x).view(B, T, kvHeads, headDim).transpose(1, 2);   // (B, KV, T, D)
        (q, k) = (RotaryEmbedding.Apply(q, cos, sin), RotaryEmbedding.Apply(k, cos, sin));
        if (kvHeads != heads)   // query head h reads key/value head h / (H / KV), as HF's repeat_kv
            (k, v) = (k.repeat_interleave(heads / kvHeads, dim: 1), v.repeat_interleave(heads / kvHeads, dim: 1));
        var y = nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true);  // (B, H, T, D)
        return o_proj.call(y.transpose(1, 2).reshape(B, T, heads * headDim));          // (B, T, C)
    }
}

/// <summary>SwiGLU feed-forward: <c>down_proj(silu(gate_proj(x)) * up_proj(x))</c>.</summary>
public sealed class LlamaMlp : Module<Tensor, Tensor>
{
    Module<Tensor, Tensor> gate_proj, up_proj, down_proj;

    /// <summary>Creates the three projections of <paramref name="config"/>.</summary>
    public LlamaMlp(LlamaConfig config) : base(nameof(LlamaMlp))
    {
        gate_proj = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: false);
        up_proj = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: false);
        down_proj = nn.Linear(config.IntermediateSize, config.HiddenSize, hasBias: false);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => down_proj.call(nn.functional.silu(gate_proj.call(x)) * up_proj.call(x));
}

/// <summary>One pre-norm block: attention then MLP, each added to the residual stream.</summary>
public sealed class LlamaDecoderLayer : Module<Tensor, Tensor, Tensor, Tensor>
{
    readonly RmsNorm input_layernorm, post_attention_layernorm;
    readonly LlamaAttention self_attn;
    readonly LlamaMlp mlp;

    /// <summary>Creates a block of <paramref name="config"/>.</summary>
    public LlamaDecoderLayer(LlamaConfig config) : base(nameof(LlamaDecoderLayer))
    {
        input_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps);
        self_attn = new LlamaAttention(config);
        post_attention_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps);
        mlp = new LlamaMlp(config);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x, Tensor cos, Tensor sin)
    {
        var h = x + self_attn.call(input_layernorm.call(x), cos, sin);
        return h + mlp.call(post_attention_layernorm.call(h));
    }
}

/// <summary>The decoder body (HF <c>LlamaModel</c>): embeddings,
/// blocks, final norm; returns hidden states (B, T, C).</summary>
public sealed class LlamaModel : Module<Tensor, Tensor>
{
    internal readonly Embedding embed_tokens;
    readonly ModuleList<LlamaDecoderLayer> layers;
    readonly RmsNorm norm;
    readonly int headDim, maxPositions;
    readonly double ropeTheta;

    /// <summary>Creates the body of <paramref name="config"/>.</summary>
    public LlamaModel(LlamaConfig config) : base(nameof(LlamaModel))
    {
        embed_tokens = nn.Embedding(config.VocabSize, config.HiddenSize);
        layers = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new LlamaDecoderLayer(config)).ToArray());
        norm = new RmsNorm(config.HiddenSize, config.RmsNormEps);
        (headDim, maxPositions, ropeTheta) = (config.HeadDim, config.MaxPositions, config.RopeTheta);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor tokens)
    {
        if (tokens.shape[1] > maxPositions)
            throw new ArgumentException($"sequence of {tokens.shape[1]} tokens exceeds MaxPositions = {maxPositions}");
        var (cos, sin) = RotaryEmbedding.Tables(headDim, tokens.shape[1], ropeTheta, tokens.device);
        var x = embed_tokens.call(tokens);   // (B, T, C)
        foreach (var layer in layers) x = layer.call(x, cos, sin);
        return norm.call(x);
    }
}

/// <summary>A Llama-style causal language model (HF <c>LlamaForCausalLM</c>):
/// token ids (B, T) to logits (B, T, V).</summary>
public sealed class LlamaDecoder : Module<Tensor, Tensor>
{
    readonly LlamaModel model;
    readonly Module<Tensor, Tensor>? lm_head;   // null when tied: logits use model.embed_tokens.weight

    /// <summary>
    /// Creates and initialises a decoder (normal(0, InitStd) weights, unit norm weights), drawing from a generator
    /// seeded with <paramref name="seed"/> (never from torch's global generator's state).
    /// </summary>
    public LlamaDecoder(LlamaConfig config, long seed = 0) : base(nameof(LlamaDecoder))
    {
        Config = config;
        model = new LlamaModel(config);
        if (!config.TiedEmbeddings) lm_head = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false);
        RegisterComponents();
        using var noGrad = no_grad();
        // nn.Linear and nn.Embedding draw a default init from
        // torch's global generator natively; it is overwritten here.
        using var generator = UnitSeed.NewGenerator(seed);
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("norm.weight", StringComparison.Ordinal)) continue;
            using var z = randn(p.shape, dtype: p.dtype, generator: generator);
            p.copy_(z.mul(config.InitStd));
        }
    }

    /// <summary>The shapes this decoder was built with.</summary>
    public LlamaConfig Config { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor tokens)
    {
        var h = model.call(tokens);   // (B, T, C)
        return lm_head is null ? nn.functional.linear(h, model.embed_tokens.weight!) : lm_head.call(h);   // (B, T, V)
    }

    /// <summary>
    /// Greedy decoding: appends the arg-max token <paramref name="newTokens"/> times to <paramref name="prompt"/>
    /// (B, T) and returns only the generated ids (B, newTokens).
    /// Runs without gradients and re-encodes the whole prefix each step.
    /// </summary>
    public Tensor Generate(Tensor prompt, int newTokens)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var sequence = prompt;
        for (int i = 0; i < newTokens; i++)
        {
            var next = forward(sequence)[.., -1].argmax(-1, keepdim: true);   // (B, 1)
            sequence = cat([sequence, next], 1);
        }
        return scope.MoveToOuter(sequence[.., (int)prompt.shape[1]..].clone());
    }
}
