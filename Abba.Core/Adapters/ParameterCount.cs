namespace Abba.Core.Adapters;

/// <summary>Closed-form trainable-parameter counts per adapted (m x n) layer; kept for the notebooks, which call it.</summary>
public static class ParameterCount
{
    /// <summary><see cref="AdapterConfig.TrainableParameters"/> of <paramref name="config"/>.</summary>
    public static long Of(AdapterConfig config, long m, long n, bool bias = false) => config.TrainableParameters(m, n, bias);
}
