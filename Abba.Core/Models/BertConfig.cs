namespace Abba.Core.Models;

/// <summary>Shapes and constants of a BERT encoder (Hugging Face <c>BertModel</c>, without the pooler).</summary>
/// <param name="VocabSize">Number of token ids.</param>
/// <param name="HiddenSize">Residual stream width (HF <c>hidden_size</c>).</param>
/// <param name="Layers">Number of encoder blocks.</param>
/// <param name="Heads">Attention heads; the head width is <c>HiddenSize / Heads</c>.</param>
/// <param name="IntermediateSize">Feed-forward width (HF <c>intermediate_size</c>).</param>
/// <param name="MaxPositions">Longest sequence the learned position table covers.</param>
/// <param name="TypeVocabSize">Number of token types (segment ids); this harness always uses type 0.</param>
/// <param name="LayerNormEps">LayerNorm epsilon.</param>
public sealed record BertConfig(
    int VocabSize, int HiddenSize, int Layers, int Heads, int IntermediateSize,
    int MaxPositions = 512, int TypeVocabSize = 2, double LayerNormEps = 1e-12)
{
    /// <summary>all-MiniLM-L6-v2: 6 blocks of width 384, 12 heads of 32,
    /// feed-forward 1536, the BERT uncased vocabulary.</summary>
    public static BertConfig MiniLmL6 { get; } = new(30522, 384, 6, 12, 1536);

    /// <summary>
    /// The six adaptable projections of each block, as the tail of their Hugging Face module names:
    /// <c>attention.self.{query,key,value}</c>, <c>attention.output.dense</c>, <c>intermediate.dense</c>,
    /// <c>output.dense</c>. Use <see cref="ModulesOf"/> for full names (a bare <c>output.dense</c> is ambiguous).
    /// </summary>
    public static IReadOnlyList<string> ProjectionKinds { get; } =
        ["query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense"];

    /// <summary>Width of one attention head.</summary>
    public int HeadDim => HiddenSize / Heads;

    /// <summary>
    /// The full module names of projection <paramref name="kind"/> in every block, e.g.
    /// <c>encoder.layer.3.output.dense</c> for <c>output.dense</c> (never the <c>attention.output.dense</c> ones).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="kind"/> is not in <see cref="ProjectionKinds"/>.</exception>
    public IReadOnlyList<string> ModulesOf(string kind)
    {
        string tail = kind switch
        {
            "query" or "key" or "value" => "attention.self." + kind,
            "attention.output.dense" or "intermediate.dense" or "output.dense" => kind,
            _ => throw new ArgumentException(
                $"unknown projection kind '{kind}'; expected one of {string.Join(", ", ProjectionKinds)}"),
        };
        return [.. Enumerable.Range(0, Layers).Select(i => $"encoder.layer.{i}.{tail}")];
    }

    /// <summary>(in, out) features of projection <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="kind"/> is not in <see cref="ProjectionKinds"/>.</exception>
    public (int In, int Out) ShapeOf(string kind) => kind switch
    {
        "query" or "key" or "value" or "attention.output.dense" => (HiddenSize, HiddenSize),
        "intermediate.dense" => (HiddenSize, IntermediateSize),
        "output.dense" => (IntermediateSize, HiddenSize),
        _ => throw new ArgumentException(
            $"unknown projection kind '{kind}'; expected one of {string.Join(", ", ProjectionKinds)}"),
    };

    /// <summary>
    /// Parameters of the encoder in closed form: three embedding tables and their LayerNorm, then per block four
    /// H x H projections, the two feed-forward projections, their biases and two LayerNorms. No pooler.
    /// </summary>
    public long EncoderParameterCount()
    {
        long h = HiddenSize, f = IntermediateSize;
        long embeddings = (VocabSize + MaxPositions + TypeVocabSize) * h + 2 * h;
        long perLayer = 4 * (h * h + h) + (h * f + f) + (f * h + h) + 2 * 2 * h;
        return embeddings + Layers * perLayer;
    }

    /// <summary>
    /// Every parameter's Hugging Face name (without the <c>bert.</c> prefix) and PyTorch shape
    /// (Linear weights are [out, in]), in module order.
    /// </summary>
    public IReadOnlyList<(string Name, long[] Shape)> ParameterShapes()
    {
        long h = HiddenSize, f = IntermediateSize;
        var shapes = new List<(string, long[])>
        {
            ("embeddings.word_embeddings.weight", [VocabSize, h]),
            ("embeddings.position_embeddings.weight", [MaxPositions, h]),
            ("embeddings.token_type_embeddings.weight", [TypeVocabSize, h]),
            ("embeddings.LayerNorm.weight", [h]), ("embeddings.LayerNorm.bias", [h]),
        };
        for (int i = 0; i < Layers; i++)
        {
            string p = $"encoder.layer.{i}.";
            foreach (string linear in (string[])["attention.self.query", "attention.self.key", "attention.self.value",
                         "attention.output.dense"])
                shapes.AddRange([(p + linear + ".weight", [h, h]), (p + linear + ".bias", [h])]);
            shapes.AddRange(
                [(p + "attention.output.LayerNorm.weight", [h]), (p + "attention.output.LayerNorm.bias", [h])]);
            shapes.AddRange([(p + "intermediate.dense.weight", [f, h]), (p + "intermediate.dense.bias", [f])]);
            shapes.AddRange([(p + "output.dense.weight", [h, f]), (p + "output.dense.bias", [h])]);
            shapes.AddRange([(p + "output.LayerNorm.weight", [h]), (p + "output.LayerNorm.bias", [h])]);
        }
        return shapes;
    }
}
