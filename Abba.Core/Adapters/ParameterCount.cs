namespace Abba.Core.Adapters;

/// <summary>Closed-form trainable-parameter counts per adapted (m x n) layer.</summary>
public static class ParameterCount
{
    /// <summary>
    /// LoRA and HiRA r(m + n); ABBA (r1 + r2)(m + n); DoRA r(m + n) + m; full fine-tuning m n (+ m with a bias).
    /// </summary>
    public static long Of(AdapterConfig config, long m, long n, bool bias = false) => config switch
    {
        LoraConfig c => c.Rank * (m + n),
        HiraConfig c => c.Rank * (m + n),
        AbbaConfig c => (long)(c.Rank1 + c.Rank2) * (m + n),
        DoraConfig c => c.Rank * (m + n) + m,
        FullFineTuneConfig => m * n + (bias ? m : 0),
        _ => throw new ArgumentException($"unknown method {config.Method}"),
    };
}
