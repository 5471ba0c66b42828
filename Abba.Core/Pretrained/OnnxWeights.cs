// Reads the weights of a PyTorch BERT export from its ONNX protobuf, without generated classes. Fields used:
//   ModelProto.graph = 7; GraphProto.node = 1, initializer = 5;
//   NodeProto.input = 1, output = 2, op_type = 4; TensorProto.dims = 1, data_type = 2, name = 8, raw_data = 9.
// The exporter keeps HF names for embeddings, biases and LayerNorms but renames each Linear weight to a bare number
// and stores it transposed ([in, out]) as the second input of `MatMul`, whose output feeds one `Add` with the named
// bias. Following bias -> Add -> MatMul -> initializer names every weight; it is stored back as [out, in].
using Abba.Core.Models;
using Google.Protobuf;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Abba.Core.Pretrained;

/// <summary>Weights of a BERT encoder read from the ONNX graph PyTorch exported for it.</summary>
public static class OnnxWeights
{
    sealed record Node(string OpType, List<string> Inputs, List<string> Outputs);

    sealed record Initializer(long[] Dims, int DataType, ByteString Raw);

    const int FloatType = 1;   // TensorProto.DataType.FLOAT

    /// <summary>
    /// The parameters of an encoder of <paramref name="config"/> under their HF names and PyTorch shapes, as new CPU
    /// float32 tensors outside any dispose scope (the caller owns them).
    /// </summary>
    /// <exception cref="PretrainedModelException">The graph is unreadable, or a parameter cannot be found or named,
    /// or has another shape.</exception>
    public static Dictionary<string, Tensor> Read(byte[] onnx, BertConfig config)
    {
        var (nodes, initializers) = ReadGraph(onnx);
        var weights = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (name, shape) in config.ParameterShapes())
            {
                bool isLinearWeight = name.EndsWith(".weight", StringComparison.Ordinal)
                    && name.StartsWith("encoder.layer.", StringComparison.Ordinal) && !name.Contains("LayerNorm");
                string source = isLinearWeight ? TraceLinearWeight(name, nodes, initializers) : name;
                weights[name] = ToTensor(name, source, initializers, shape, transposed: isLinearWeight);
            }
            return weights;
        }
        catch
        {
            foreach (var t in weights.Values) t.Dispose();
            throw;
        }
    }

    static (List<Node>, Dictionary<string, Initializer>) ReadGraph(byte[] onnx)
    {
        try
        {
            var graph = Fields(new CodedInputStream(onnx)).LastOrDefault(f => f.Field == 7).Value
                ?? throw new PretrainedModelException("the ONNX model has no graph");
            var nodes = new List<Node>();
            var initializers = new Dictionary<string, Initializer>();
            foreach (var (field, value) in Fields(graph.CreateCodedInput()))
                if (field == 1) nodes.Add(ReadNode(value));
                else if (field == 5) ReadInitializer(value, initializers);
            return (nodes, initializers);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new PretrainedModelException($"the ONNX model is not a valid protobuf: {e.Message}", e);
        }
    }

    static Node ReadNode(ByteString bytes)
    {
        var node = new Node("", [], []);
        foreach (var (field, value) in Fields(bytes.CreateCodedInput()))
            if (field == 1) node.Inputs.Add(value.ToStringUtf8());
            else if (field == 2) node.Outputs.Add(value.ToStringUtf8());
            else if (field == 4) node = node with { OpType = value.ToStringUtf8() };
        return node;
    }

    static void ReadInitializer(ByteString bytes, Dictionary<string, Initializer> into)
    {
        var input = bytes.CreateCodedInput();
        var (dims, dataType, name, raw) = (new List<long>(), 0, "", ByteString.Empty);
        for (uint tag; (tag = input.ReadTag()) != 0;)
            switch (WireFormat.GetTagFieldNumber(tag), WireFormat.GetTagWireType(tag))
            {
                case (1, WireFormat.WireType.Varint): dims.Add(input.ReadInt64()); break;
                case (1, WireFormat.WireType.LengthDelimited):   // packed dims
                    var packed = input.ReadBytes().CreateCodedInput();
                    while (!packed.IsAtEnd) dims.Add(packed.ReadInt64());
                    break;
                case (2, _): dataType = input.ReadInt32(); break;
                case (8, _): name = input.ReadString(); break;
                case (9, _): raw = input.ReadBytes(); break;
                default: input.SkipLastField(); break;
            }
        into[name] = new Initializer([.. dims], dataType, raw);
    }

    /// <summary>The length-delimited fields of a message, by field number; other wire types are skipped.</summary>
    static List<(int Field, ByteString Value)> Fields(CodedInputStream input)
    {
        var fields = new List<(int, ByteString)>();
        for (uint tag; (tag = input.ReadTag()) != 0;)
            if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                fields.Add((WireFormat.GetTagFieldNumber(tag), input.ReadBytes()));
            else
                input.SkipLastField();
        return fields;
    }

    /// <summary>The initializer of Linear weight <paramref name="weight"/>: bias -> Add -> MatMul -> input 1.</summary>
    static string TraceLinearWeight(string weight, List<Node> nodes, Dictionary<string, Initializer> initializers)
    {
        string bias = weight[..^".weight".Length] + ".bias";
        var adds = nodes.Where(n => n.OpType == "Add" && n.Inputs.Contains(bias)).ToArray();
        if (adds is not [var add] || add.Inputs.Count != 2)
            throw Unnamed(weight, $"'{bias}' feeds {adds.Length} Add nodes, expected 1");
        string product = add.Inputs[add.Inputs[0] == bias ? 1 : 0];
        var matmuls = nodes.Where(n => n.OpType == "MatMul" && n.Outputs.Contains(product)).ToArray();
        if (matmuls is not [var matmul] || matmul.Inputs.Count != 2 || !initializers.ContainsKey(matmul.Inputs[1]))
            throw Unnamed(weight, $"the Add with '{bias}' is not fed by a MatMul with a stored weight");
        int consumers = nodes.Count(n => n.Inputs.Contains(product));
        if (consumers != 1)
            throw Unnamed(weight, $"its MatMul output feeds {consumers} nodes, expected 1");
        return matmul.Inputs[1];
    }

    static PretrainedModelException Unnamed(string weight, string why) =>
        new($"cannot name '{weight}' in the ONNX graph: {why}");

    static Tensor ToTensor(string name, string source, Dictionary<string, Initializer> initializers, long[] shape,
        bool transposed)
    {
        if (!initializers.TryGetValue(source, out var init))
            throw new PretrainedModelException($"the ONNX graph has no initializer '{name}'");
        long[] stored = transposed ? [shape[1], shape[0]] : shape;
        long bytes = 4 * stored.Aggregate(1L, (a, d) => a * d);
        if (init.DataType != FloatType || !init.Dims.SequenceEqual(stored) || init.Raw.Length != bytes)
            throw new PretrainedModelException(
                $"ONNX initializer for '{name}' is type {init.DataType} [{string.Join(", ", init.Dims)}] with " +
                $"{init.Raw.Length} raw bytes, expected float32 [{string.Join(", ", stored)}]");
        float[] values = MemoryMarshal.Cast<byte, float>(init.Raw.Span).ToArray();   // ONNX raw_data is little-endian
        using var scope = NewDisposeScope();
        var t = tensor(values, stored);
        return (transposed ? t.t().contiguous() : t).DetachFromDisposeScope();
    }
}
