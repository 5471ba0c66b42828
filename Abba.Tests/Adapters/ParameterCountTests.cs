using Abba.Core.Adapters;
using static TorchSharp.torch;
using static Abba.Tests.Adapters.AdapterTestKit;

namespace Abba.Tests.Adapters;

public class ParameterCountTests
{
    public static IEnumerable<object[]> CaseNames() => Cases.Select(c => new object[] { c.Name });

    [Theory, MemberData(nameof(CaseNames))]
    public void AdapterTensors_HaveTheClosedFormCount(string method)
    {
        var c = Cases.Single(c => c.Name == method);
        using var adapter = Injector.Create(BaseLayer(CPU), c.Config);
        Assert.Equal(c.ClosedFormCount, adapter.TrainableParameterCount);
        Assert.Equal(c.ClosedFormCount, c.Config.TrainableParameters(M, N));
    }

    public static TheoryData<string, double, double> PaperCounts() => new()
    {
        // model, #Params at r = 32 (LoRA, HiRA, ABBA 16/16), DoRA: paper Tables 1-2.
        { "llama-3.2-1b", 22.54, 22.92 },
        { "llama-3.2-3b", 48.63, 49.40 },
        { "mistral-7b", 83.88, 85.26 },
        { "gemma-2-9b", 108.04, 109.88 },
    };

    [Theory, MemberData(nameof(PaperCounts))]
    public void SevenProjectionsAtRank32_GiveThePapersParameterCount(string model, double millions, double doraMillions)
    {
        var shape = ModelShape(model);
        long hidden = shape["hidden"], inter = shape["intermediate"], kv = shape["kv_heads"] * shape["head_dim"];
        (long Out, long In)[] projections =
        [
            (shape["q_out"], hidden), (kv, hidden), (kv, hidden), (hidden, shape["o_in"]),   // q, k, v, o
            (inter, hidden), (inter, hidden), (hidden, inter),                                 // gate, up, down
        ];
        long Count(AdapterConfig c) => shape["layers"] * projections.Sum(p => c.TrainableParameters(p.Out, p.In));
        // The paper prints millions with two decimals, sometimes rounded (48.627 -> 48.63) and sometimes truncated
        // (83.886 -> 83.88), so the exact count must lie within 0.01M above the printed value or round to it.
        long lora = Count(new LoraConfig(32, 32));
        Assert.InRange(lora / 1e6 - millions, -0.005, 0.01);
        Assert.Equal(lora, Count(new HiraConfig(32)));
        Assert.Equal(lora, Count(new AbbaConfig(16, 16, 32)));
        Assert.InRange(Count(new DoraConfig(32, 32)) / 1e6 - doraMillions, -0.005, 0.01);
    }

    static Dictionary<string, long> ModelShape(string model)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "reference", "model_shapes.csv");
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        var row = lines.Skip(1).Select(l => l.Split(',')).Single(r => r[0] == model);
        return header.Select((h, i) => (h, i)).Where(x => long.TryParse(row[x.i], out _)).ToDictionary(x => x.h, x => long.Parse(row[x.i]));
    }
}
