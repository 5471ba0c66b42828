namespace Abba.Core.Adapters;

/// <summary>Closed-form trainable-parameter counts per adapted (m x n) layer.</summary>
public static class ParameterCount
{
    /// <summary>LoRA and HiRA r(m + n); ABBA (r1 + r2)(m + n); DoRA r(m + n) + m; full fine-tuning m n (+ m with a bias).</summary>
    public static long Of(AdapterConfig config, long m, long n, bool bias = false) => config.TrainableParameters(m, n, bias);
}
