using Abba.Core.Adapters;
using Abba.Core.Analysis;
using Abba.Core.Models;
using Abba.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Tests.Models;

public class MlpTests
{
    [Fact]
    public void Forward_MatchesHandWrittenReluMlp()
    {
        using var model = new Mlp(6, 5, 4, seed: 3);
        using var g = UnitSeed.NewGenerator(3);
        using var x = randn(7, 6, generator: g);
        var fc1 = (TorchSharp.Modules.Linear)model.fc1;
        var fc2 = (TorchSharp.Modules.Linear)model.fc2;
        using var expected = nn.functional.relu(x.matmul(fc1.weight!.T) + fc1.bias!).matmul(fc2.weight!.T) + fc2.bias!;
        using var actual = model.call(x);
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Theory]
    [InlineData("full_ft")]
    [InlineData("lora")]
    [InlineData("hira")]
    [InlineData("abba")]
    public void Inject_OnBothLayers_RoutesForwardThroughTheMethod(string method)
    {
        using var model = new Mlp(6, 5, 4, seed: 4);
        AdapterConfig config = method switch
        {
            "lora" => new LoraConfig(2, 4),
            "hira" => new HiraConfig(2),
            "abba" => new AbbaConfig(1, 1, 4),
            _ => new FullFineTuneConfig(),
        };
        var adapted = Injector.Inject(model, ["fc1", "fc2"], config);
        Assert.Equal(["fc1", "fc2"], adapted);
        Assert.Equal(method != "full_ft", model.fc1 is AdapterLinear && model.fc2 is AdapterLinear);
    }
}
