using Abba.Core.Adapters;
using Abba.Core.IO;
using Abba.Core.Models;
using Abba.Tests.Support;
using MathNet.Numerics.LinearAlgebra;
using TorchSharp;
using static TorchSharp.torch;
using static Abba.Tests.Adapters.AdapterTestKit;

namespace Abba.Tests.Adapters;

/// <summary>The same checks over every method in <see cref="MethodRegistry"/>, each on its registered example.</summary>
public class MethodContractTests
{
    // Trainable parameters of each registered example on one M x N layer with a bias, written out by hand.
    static readonly Dictionary<string, long> ClosedForm = new()
    {
        ["lora"] = 3 * (M + N),             // r (m + n), r = 3
        ["hira"] = 3 * (M + N),             // r (m + n), r = 3
        ["abba"] = (2 + 3) * (M + N),       // (r1 + r2)(m + n), r1 = 2, r2 = 3
        ["dora"] = 3 * (M + N) + M,         // r (m + n) + m
        ["full_ft"] = M * N + M,            // m n + m (weight and bias)
        ["chained_abba"] = (2 + 2 + 3) * (M + N),   // Σ r_i (m + n), ranks 2, 2, 3
    };

    public static IEnumerable<object[]> AllMethods() => MethodRegistry.Ids.Select(id => new object[] { id });

    public static IEnumerable<object[]> WrappingMethodsOnAllDevices() =>
        from d in Reference.Devices()
        from m in MethodRegistry.All
        where !m.Example.TrainsBaseWeights
        select new object[] { d[0], m.Id };

    static AdapterLinear Wrapped(string device, string id) =>
        Injector.Create(BaseLayer(Reference.DeviceOf(device)), MethodRegistry.ById(id).Example, seed: 3);

    [Theory, MemberData(nameof(WrappingMethodsOnAllDevices))]
    public void Forward_EqualsFloat64ReferenceOfBasePlusDeltaWeight(string device, string id)
    {
        using var adapter = Wrapped(device, id);
        Randomise(adapter, seed: 61);
        var X = Reference.Gaussian(4, N, seed: 62);
        using var x = Reference.ToTensor(X, Reference.DeviceOf(device));
        using var y = adapter.forward(x);
        using var dW = adapter.DeltaWeight();

        var W = Reference.ToMatrix(adapter.Base.weight!) + Reference.ToMatrix(dW);
        var b = Reference.ToMatrix(adapter.Base.bias!.unsqueeze(0));
        var expected = X * W.Transpose() + Matrix<double>.Build.Dense(4, 1, 1.0) * b;
        Assert.True(Reference.MaxAbsDiff(Reference.ToMatrix(y), expected) < 1e-10, $"{id}: forward differs from x (W0 + dW)^T + b");
    }

    [Theory, MemberData(nameof(WrappingMethodsOnAllDevices))]
    public void Initialisation_GivesZeroUpdate_AndTheBaseLayersOutput(string device, string id)
    {
        using var adapter = Wrapped(device, id);
        using var dW = adapter.DeltaWeight();
        Assert.True(Reference.ToMatrix(dW).Enumerate().All(v => Math.Abs(v) < 1e-12), $"{id}: dW != 0 at init");
        using var x = Reference.ToTensor(Reference.Gaussian(4, N, seed: 63), Reference.DeviceOf(device));
        using var adapted = adapter.forward(x);
        using var plain = adapter.Base.forward(x);
        Assert.True(adapted.allclose(plain, rtol: 0, atol: 1e-12), $"{id}: output at init differs from the base layer's");
    }

    [Theory, MemberData(nameof(WrappingMethodsOnAllDevices))]
    public void Merge_ThenUnmerge_RestoresBaseWeightsBitForBit(string device, string id)
    {
        using var adapter = Wrapped(device, id);
        Randomise(adapter, seed: 64);
        using var W0 = adapter.Base.weight!.detach().clone();
        using var x = Reference.ToTensor(Reference.Gaussian(4, N, seed: 65), Reference.DeviceOf(device));
        using var unmerged = adapter.forward(x);
        adapter.Merge();
        using (var merged = adapter.forward(x)) Assert.True(merged.allclose(unmerged, rtol: 0, atol: 1e-10), $"{id}: merged forward differs");
        adapter.Unmerge();
        Assert.True(Reference.BitEqual(adapter.Base.weight!, W0), $"{id}: W0 not restored bit for bit");
    }

    [Theory, MemberData(nameof(AllMethods))]
    public void TrainableParameters_MatchTheConfigAndTheClosedForm(string id)
    {
        var config = MethodRegistry.ById(id).Example;
        Assert.Equal(ClosedForm[id], config.TrainableParameters(M, N, bias: true));
        using var model = Injected(id, seed: 1);
        Assert.Equal(ClosedForm[id], Injector.TrainableParameterCount(model));
        if (Injector.Adapters(model).Values.SingleOrDefault() is { } adapter)
            Assert.Equal(config.TrainableParameters(M, N), adapter.TrainableParameterCount);
    }

    [Theory, MemberData(nameof(AllMethods))]
    public void SaveThenLoad_RestoresEveryTrainedParameter_UnderTheConfigsKeys(string id)
    {
        var config = MethodRegistry.ById(id).Example;
        string path = Path.Combine(Path.GetTempPath(), $"abba-contract-{id}-{Guid.NewGuid():N}.safetensors");
        try
        {
            using var trained = Injected(id, seed: 1);
            using (no_grad()) foreach (var p in trained.parameters().Where(p => p.requires_grad)) p.add_(0.125);
            AdapterCheckpoint.Save(trained, config, path);
            using var restored = Injected(id, seed: 1);            // same W0 and initial factors; the trained ones moved by 0.125
            AdapterCheckpoint.Load(restored, path);

            var (tensors, _) = SafeTensors.Load(path);
            Assert.Equal(config.CheckpointKeys(bias: true).Select(k => "fc1." + k).Order(), tensors.Keys.Order());
            foreach (var t in tensors.Values) t.Dispose();
            var expected = trained.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, p) in restored.named_parameters())
                Assert.True(Reference.BitEqual(p, expected[name]), $"{id}: {name} differs after the round trip");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Registry_CoversEveryConcreteConfigType_WithMatchingIds()
    {
        var concrete = typeof(AdapterConfig).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(AdapterConfig)) && !t.IsAbstract).Select(t => t.Name).Order();
        Assert.Equal(concrete, MethodRegistry.All.Select(m => m.Example.GetType().Name).Order());
        foreach (var m in MethodRegistry.All)
        {
            Assert.Equal(m.Id, m.Example.Method);
            Assert.Equal(m.Id, m.AtBudget(8, 16).Method);
        }
        Assert.Equal(MethodRegistry.Ids.Count, MethodRegistry.Ids.Distinct().Count());
    }

    [Theory, MemberData(nameof(AllMethods))]
    public void AtBudget_HasLoraParameterCountAtThatRank(string id)
    {
        var config = MethodRegistry.ById(id).AtBudget(8, 16);
        if (config.TrainsBaseWeights) return;                       // full fine-tuning has no rank
        Assert.Equal(8, config.BudgetRank);
        long lora = new LoraConfig(8, 16).TrainableParameters(M, N);
        Assert.Equal(lora + (id == "dora" ? M : 0), config.TrainableParameters(M, N));   // DoRA adds its magnitude vector
    }

    [Fact]
    public void ById_WithAnUnknownId_ListsTheIds()
    {
        var e = Assert.Throws<ArgumentException>(() => MethodRegistry.ById("qlora"));
        Assert.Contains("'qlora'", e.Message);
        Assert.Contains("lora, hira, abba, dora, full_ft", e.Message);
    }

    /// <summary>A float64 Mlp (N -> M -> 4) with the example of <paramref name="id"/> on fc1.</summary>
    static Mlp Injected(string id, long seed)
    {
        var model = new Mlp(N, M, 4, seed);
        model.to(ScalarType.Float64);
        Injector.Inject(model, ["fc1"], MethodRegistry.ById(id).Example, seed);
        return model;
    }
}
