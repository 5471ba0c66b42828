using Abba.Core.Adapters;
using Abba.Core.IO;
using Abba.Core.Randomness;
using Abba.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Tests.Adapters;

public class InjectionTests
{
    /// <summary>A toy network with a nested block and a name that contains another as a substring.</summary>
    sealed class ToyNet : nn.Module<Tensor, Tensor>
    {
        readonly Block encoder;
        nn.Module<Tensor, Tensor> head;

        public ToyNet(int seed) : base("ToyNet")
        {
            encoder = new Block();
            head = nn.Linear(6, 3);
            RegisterComponents();
            using var generator = UnitSeed.NewGenerator(seed);   // overwrites nn.Linear's native default init
            using var _ = no_grad();
            foreach (var p in parameters())
                using (var v = Draw.Normal(generator, p.shape, std: 0.5)) p.copy_(v);
        }

        public override Tensor forward(Tensor x) => head.forward(encoder.forward(x));
    }

    sealed class Block : nn.Module<Tensor, Tensor>
    {
        nn.Module<Tensor, Tensor> q_proj = nn.Linear(5, 6);
        nn.Module<Tensor, Tensor> xq_proj = nn.Linear(6, 6);
        readonly nn.Module<Tensor, Tensor> act = nn.ReLU();

        public Block() : base("Block") => RegisterComponents();

        public override Tensor forward(Tensor x) => xq_proj.forward(act.forward(q_proj.forward(x)));
    }

    static Tensor Input() => torch.linspace(-1, 1, 20).reshape(4, 5);

    [Fact]
    public void Targets_MatchExactlyOrAsDottedSuffix_NeverAsSubstring()
    {
        Assert.True(Injector.Matches("model.layers.0.self_attn.q_proj", "q_proj"));
        Assert.True(Injector.Matches("q_proj", "q_proj"));
        Assert.True(Injector.Matches("model.layers.0.self_attn.q_proj", "self_attn.q_proj"));
        Assert.False(Injector.Matches("model.layers.0.self_attn.xq_proj", "q_proj"));
        Assert.False(Injector.Matches("model.q_proj_extra", "q_proj"));
        Assert.False(Injector.Matches("layers.10.q_proj", "0.q_proj"));

        using var net = new ToyNet(1);
        var adapted = Injector.Inject(net, ["q_proj"], new LoraConfig(2, 4));
        Assert.Equal(["encoder.q_proj"], adapted);
        Assert.Equal(["encoder.q_proj"], Injector.Adapters(net).Keys);
    }

    [Fact]
    public void Inject_WithUnknownTarget_ListsTheLinearModules()
    {
        using var net = new ToyNet(1);
        var e = Assert.Throws<ArgumentException>(() => Injector.Inject(net, ["k_proj"], new LoraConfig(2, 4)));
        Assert.Contains("'k_proj'", e.Message);
        Assert.Contains("Linear modules available:", e.Message);
        foreach (var name in new[] { "encoder.q_proj", "encoder.xq_proj", "head" }) Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Inject_FreezesEverythingButTheAdapters_WithClosedFormCount()
    {
        using var net = new ToyNet(1);
        var config = new AbbaConfig(1, 2, 2.0);
        Injector.Inject(net, ["q_proj", "head"], config);
        var trainable = net.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).OrderBy(n => n).ToArray();
        Assert.Equal(["encoder.q_proj.abba_A1", "encoder.q_proj.abba_A2", "encoder.q_proj.abba_B1", "encoder.q_proj.abba_B2",
                      "head.abba_A1", "head.abba_A2", "head.abba_B1", "head.abba_B2"], trainable);
        Assert.Equal((1 + 2) * (6 + 5) + (1 + 2) * (3 + 6), Injector.TrainableParameterCount(net));
    }

    [Fact]
    public void Inject_RoutesTheForwardThroughTheAdapter()
    {
        using var net = new ToyNet(1);
        using var before = net.forward(Input());
        Injector.Inject(net, ["xq_proj"], new LoraConfig(2, 4));
        using (var same = net.forward(Input())) Assert.True(Reference.BitEqual(same, before), "a zero update must leave the output unchanged");
        var lora = (LoraLinear)Injector.Adapters(net)["encoder.xq_proj"];
        using (no_grad()) lora.B.fill_(0.5);
        using var after = net.forward(Input());
        Assert.False(after.allclose(before), "perturbing the adapter did not change the model output");
    }

    [Fact]
    public void FullFineTune_UnfreezesTheTargetsInPlace()
    {
        using var net = new ToyNet(1);
        var adapted = Injector.Inject(net, ["head"], new FullFineTuneConfig());
        Assert.Equal(["head"], adapted);
        Assert.Empty(Injector.Adapters(net));
        var trainable = net.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToArray();
        Assert.Equal(["head.weight", "head.bias"], trainable);
        Assert.Equal(new FullFineTuneConfig().TrainableParameters(3, 6, bias: true), Injector.TrainableParameterCount(net));
    }

    [Fact]
    public void SaveThenLoad_ReproducesOutputsBitForBit()
    {
        string path = Path.Combine(Path.GetTempPath(), $"abba-ckpt-{Guid.NewGuid():N}.safetensors");
        try
        {
            var config = new AbbaConfig(1, 3, 2.0);
            using var trained = new ToyNet(7);
            Injector.Inject(trained, ["q_proj", "xq_proj", "head"], config);
            using var generator = UnitSeed.NewGenerator(99);
            using (no_grad())
                foreach (var p in trained.parameters().Where(p => p.requires_grad))
                    using (var step = Draw.Normal(generator, p.shape, std: 0.1)) p.add_(step);
            AdapterCheckpoint.Save(trained, config, path);

            using var restored = new ToyNet(7);
            Injector.Inject(restored, ["q_proj", "xq_proj", "head"], config);
            AdapterCheckpoint.Load(restored, path);
            using var a = trained.forward(Input());
            using var b = restored.forward(Input());
            Assert.True(Reference.BitEqual(a, b));
            var meta = AdapterCheckpoint.ReadMetadata(path);
            Assert.Equal("abba", meta["method"]);
            Assert.Contains("\"Rank2\":3", meta["config"]);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Load_NamesMissingUnexpectedAndMisShapedKeys()
    {
        string path = Path.Combine(Path.GetTempPath(), $"abba-ckpt-{Guid.NewGuid():N}.safetensors");
        try
        {
            using var saved = new ToyNet(7);
            Injector.Inject(saved, ["q_proj", "head"], new LoraConfig(2, 4));
            AdapterCheckpoint.Save(saved, new LoraConfig(2, 4), path);

            using var otherTargets = new ToyNet(7);
            Injector.Inject(otherTargets, ["xq_proj", "head"], new LoraConfig(2, 4));
            var e = Assert.Throws<InvalidDataException>(() => AdapterCheckpoint.Load(otherTargets, path));
            Assert.Contains("missing keys: encoder.xq_proj.lora_A", e.Message);
            Assert.Contains("unexpected keys: encoder.q_proj.lora_A", e.Message);

            using var otherRank = new ToyNet(7);
            Injector.Inject(otherRank, ["q_proj", "head"], new LoraConfig(3, 4));
            e = Assert.Throws<InvalidDataException>(() => AdapterCheckpoint.Load(otherRank, path));
            Assert.Contains("mis-shaped keys: encoder.q_proj.lora_A (file [2, 5], model [3, 5])", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void SafeTensors_FollowsTheFileFormat()
    {
        string path = Path.Combine(Path.GetTempPath(), $"abba-st-{Guid.NewGuid():N}.safetensors");
        try
        {
            using var t = torch.tensor(new float[] { 1.5f, -2f, 3.25f, 0f, 7f, -0.5f }, [2, 3]);
            using var ids = torch.tensor(new long[] { 3, -4 });
            SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = t, ["ids"] = ids }, new Dictionary<string, string> { ["note"] = "x" });

            byte[] file = File.ReadAllBytes(path);
            long n = BitConverter.ToInt64(file, 0);
            Assert.Equal(0, (8 + n) % 8);
            using var header = System.Text.Json.JsonDocument.Parse(System.Text.Encoding.UTF8.GetString(file, 8, (int)n).TrimEnd());
            var w = header.RootElement.GetProperty("w");
            Assert.Equal("F32", w.GetProperty("dtype").GetString());
            Assert.Equal([2L, 3L], w.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
            long begin = w.GetProperty("data_offsets")[0].GetInt64();
            Assert.Equal(-2f, BitConverter.ToSingle(file, (int)(8 + n + begin + 4)));
            Assert.Equal("x", header.RootElement.GetProperty("__metadata__").GetProperty("note").GetString());

            var (tensors, meta) = SafeTensors.Load(path);
            Assert.True(Reference.BitEqual(tensors["w"], t));
            Assert.True(Reference.BitEqual(tensors["ids"], ids));
            Assert.Equal("x", meta["note"]);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void SafeTensors_RejectsATruncatedFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"abba-st-{Guid.NewGuid():N}.safetensors");
        try
        {
            using var t = torch.ones(4, 4);
            SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = t });
            byte[] file = File.ReadAllBytes(path);
            File.WriteAllBytes(path, file[..^10]);
            var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
            Assert.Contains("'w'", e.Message);
        }
        finally { File.Delete(path); }
    }
}
