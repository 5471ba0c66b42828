using Abba.Core.Models;
using CsvHelper;
using Abba.Experiments.Units;

namespace Abba.Experiments.Pipeline;

/// <summary>A row of reference/model_shapes.csv: the public configs of the paper's four models.</summary>
[CsvRecord]
public sealed partial record ModelShapeRow(
    [CsvColumn("model")] string Model, [CsvColumn("hidden")] int Hidden, [CsvColumn("intermediate")] int Intermediate,
    [CsvColumn("layers")] int Layers, [CsvColumn("heads")] int Heads, [CsvColumn("kv_heads")] int KvHeads,
    [CsvColumn("head_dim")] int HeadDim, [CsvColumn("vocab")] int Vocab, [CsvColumn("q_out")] int QOut,
    [CsvColumn("o_in")] int OIn, [CsvColumn("tied_embeddings")] bool TiedEmbeddings,
    [CsvColumn("source")] string Source)
{
    /// <summary>The model as a Llama-style decoder config (Gemma-2's extra norms, GeGLU and soft-capping are not
    /// represented).</summary>
    public LlamaConfig ToConfig() => new(Vocab, Hidden, Intermediate, Layers, Heads, KvHeads, HeadDim, TiedEmbeddings);
}

/// <summary>A row of reference/fig4_memory.csv: the peak training memory printed on the paper's Figure 4
/// bars.</summary>
[CsvRecord]
public sealed partial record PaperMemoryRow(
    [CsvColumn("model")] string Model, [CsvColumn("method")] string Method,
    [CsvColumn("peak_memory_gb")] double PeakMemoryGb, [CsvColumn("batch_size")] int BatchSize,
    [CsvColumn("seq_len")] int SeqLen, [CsvColumn("source")] string Source);

/// <summary>The paper's models and reference values, read from the CSVs shipped beside the program.</summary>
public static class PaperModels
{
    /// <summary>The four models in the paper's order.</summary>
    public static readonly IReadOnlyList<string> Names = ["llama-3.2-1b", "llama-3.2-3b", "mistral-7b", "gemma-2-9b"];

    /// <summary>The reference files, under reference/.</summary>
    public const string ShapesReference = "model_shapes.csv", Figure4Reference = "fig4_memory.csv";

    /// <summary>Full-scale configs by model name.</summary>
    public static IReadOnlyDictionary<string, LlamaConfig> Shapes() =>
        ReferenceData.Read<ModelShapeRow>(ShapesReference).ToDictionary(r => r.Model, r => r.ToConfig());

    /// <summary>The paper's Figure 4 values.</summary>
    public static IReadOnlyList<PaperMemoryRow> Figure4() => ReferenceData.Read<PaperMemoryRow>(Figure4Reference);
}
