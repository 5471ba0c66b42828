using Abba.Core.Adapters;
using Abba.Experiments.Output;
using ScottPlot;

namespace Abba.Experiments.Reconstruction;

/// <summary>The methods this experiment fits to a target: LoRA (truncated SVD), ABBA and HiRA.</summary>
public enum FitMethod
{
    /// <summary>LoRA rank r: the truncated SVD.</summary>
    Lora,
    /// <summary>ABBA (r1, r2), fitted by Adam.</summary>
    Abba,
    /// <summary>HiRA rank r against a fixed Gaussian W0, fitted by Adam.</summary>
    Hira,
}

/// <summary>What the code asks of a <see cref="FitMethod"/>: its id (the CSV's and unit identities' method name, taken
/// from the method's Core config) and its colour.</summary>
public static class FitMethods
{
    static readonly AdapterConfig LoraStyle = new LoraConfig(1, 1), AbbaStyle = new AbbaConfig(1, 1, 1.0),
        HiraStyle = new HiraConfig(1);

    static AdapterConfig Config(FitMethod m) => m switch
    {
        FitMethod.Lora => LoraStyle,
        FitMethod.Abba => AbbaStyle,
        _ => HiraStyle,
    };

    /// <summary>The method's id (lora, abba, hira), from its config.</summary>
    public static string Id(this FitMethod m) => Config(m).Method;

    /// <summary>The method's colour in figures, from its config.</summary>
    public static Color Colour(this FitMethod m) => MethodStyle.Colour(Config(m));

    /// <summary>The method whose <see cref="Id"/> is <paramref name="id"/> (a CSV value).</summary>
    public static FitMethod Parse(string id) =>
        Enum.GetValues<FitMethod>().Single(m => m.Id() == id);
}
