namespace Abba.Core.Adapters;

/// <summary>How ABBA's scale s is set.</summary>
public enum AbbaScaling
{
    /// <summary>The paper's rank-stable choice (Eqs. 7-8): s = alpha^2 / sqrt(r1 r2).</summary>
    Paper,
    /// <summary>The released code: s = sqrt(alpha1) * sqrt(alpha2) = alpha, with no rank normalisation.</summary>
    OfficialCode,
    /// <summary>s is <see cref="AbbaConfig.ExplicitScale"/>.</summary>
    Explicit,
}

/// <summary>How ABBA's two pairs start. Every choice gives dW = 0 at step 0.</summary>
public enum AbbaInit
{
    /// <summary>The paper's: B1 A1 = best rank-r1 approximation of W0 (sqrt(Sigma) on each side), B2 = 0, A2 Kaiming-uniform.</summary>
    Paper,
    /// <summary>The paper's init ablation row (5): B2 A2 from the truncated SVD of W0, B1 = 0, A1 Kaiming-uniform.</summary>
    SecondPairSvd,
    /// <summary>Both pairs LoRA-style (B = 0, A Kaiming): every gradient is exactly zero, so training cannot start (paper App. C).</summary>
    BothZero,
}

/// <summary>How ABBA computes its forward pass.</summary>
public enum AbbaForward
{
    /// <summary>Khatri-Rao factorised (Theorem 1): two thin matmuls of inner size r1 r2; never forms the m x n update.</summary>
    KhatriRao,
    /// <summary>Forms dW = s (B1 A1) ⊙ (B2 A2) explicitly; the reference, and the naive form for the memory comparison.</summary>
    Dense,
}

/// <summary>A fine-tuning method and its hyperparameters.</summary>
public abstract record AdapterConfig
{
    /// <summary>Short method name used in CSVs and checkpoints: lora, hira, abba, dora or full_ft.</summary>
    public abstract string Method { get; }

    /// <summary>Checks the configuration against a layer of shape (outFeatures x inFeatures).</summary>
    /// <exception cref="ArgumentException">A rank or scale is out of range; the message names it.</exception>
    public virtual void Validate(long outFeatures, long inFeatures) { }

    private protected static void CheckRank(string name, int rank, long outFeatures, long inFeatures)
    {
        if (rank < 1) throw new ArgumentException($"{name} must be at least 1 (got {rank}).");
        long max = Math.Min(outFeatures, inFeatures);
        if (rank > max) throw new ArgumentException($"{name} = {rank} exceeds min(out, in) = {max} for a {outFeatures} x {inFeatures} layer.");
    }

    private protected static void CheckFinite(string name, double value)
    {
        if (!double.IsFinite(value)) throw new ArgumentException($"{name} must be finite (got {value}).");
    }
}

/// <summary>LoRA: dW = s B A with s = alpha / r, or alpha / sqrt(r) for rsLoRA.</summary>
/// <param name="Rank">r.</param>
/// <param name="Alpha">alpha.</param>
/// <param name="RankStabilised">Use rsLoRA's alpha / sqrt(r).</param>
public sealed record LoraConfig(int Rank, double Alpha, bool RankStabilised = false) : AdapterConfig
{
    /// <inheritdoc />
    public override string Method => "lora";

    /// <summary>The scale s.</summary>
    public double Scale => RankStabilised ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;

    /// <inheritdoc />
    public override void Validate(long outFeatures, long inFeatures)
    {
        CheckRank("LoRA rank", Rank, outFeatures, inFeatures);
        CheckFinite("LoRA alpha", Alpha);
    }
}

/// <summary>HiRA: dW = W0 ⊙ (B A); no scale (the official code ignores its alpha).</summary>
/// <param name="Rank">r.</param>
public sealed record HiraConfig(int Rank) : AdapterConfig
{
    /// <inheritdoc />
    public override string Method => "hira";

    /// <inheritdoc />
    public override void Validate(long outFeatures, long inFeatures) => CheckRank("HiRA rank", Rank, outFeatures, inFeatures);
}

/// <summary>ABBA: dW = s (B1 A1) ⊙ (B2 A2).</summary>
/// <param name="Rank1">r1.</param>
/// <param name="Rank2">r2.</param>
/// <param name="Alpha">alpha (shared by both pairs).</param>
/// <param name="Scaling">Which convention sets s.</param>
/// <param name="ExplicitScale">s when <paramref name="Scaling"/> is Explicit.</param>
/// <param name="Init">How the pairs start.</param>
/// <param name="Forward">Khatri-Rao or dense forward.</param>
/// <param name="AllowRankAboveFull">Accept r1 r2 > min(m, n) (a rank no m x n update can have), e.g. for reconstruction sweeps.</param>
public sealed record AbbaConfig(
    int Rank1, int Rank2, double Alpha,
    AbbaScaling Scaling = AbbaScaling.Paper, double? ExplicitScale = null,
    AbbaInit Init = AbbaInit.Paper, AbbaForward Forward = AbbaForward.KhatriRao,
    bool AllowRankAboveFull = false) : AdapterConfig
{
    /// <inheritdoc />
    public override string Method => "abba";

    /// <summary>The scale s under <see cref="Scaling"/>.</summary>
    public double Scale => Scaling switch
    {
        AbbaScaling.Paper => Alpha * Alpha / Math.Sqrt((double)Rank1 * Rank2),
        AbbaScaling.OfficialCode => Math.Sqrt(Alpha) * Math.Sqrt(Alpha),
        _ => ExplicitScale ?? throw new ArgumentException("ABBA scaling Explicit needs ExplicitScale."),
    };

    /// <inheritdoc />
    public override void Validate(long outFeatures, long inFeatures)
    {
        CheckRank("ABBA r1", Rank1, outFeatures, inFeatures);
        CheckRank("ABBA r2", Rank2, outFeatures, inFeatures);
        CheckFinite("ABBA alpha", Alpha);
        if (Scaling == AbbaScaling.Explicit) CheckFinite("ABBA explicit scale", ExplicitScale ?? double.NaN);
        long full = Math.Min(outFeatures, inFeatures);
        if ((long)Rank1 * Rank2 > full && !AllowRankAboveFull)
            throw new ArgumentException($"ABBA r1 * r2 = {(long)Rank1 * Rank2} exceeds min(out, in) = {full}, the largest rank any " +
                                        $"{outFeatures} x {inFeatures} update can have; use smaller ranks or set AllowRankAboveFull.");
    }
}

/// <summary>DoRA: W = m ⊙ (W0 + s B A) / ||W0 + s B A|| (norm per output row), m starting at the row norms of W0.</summary>
/// <param name="Rank">r.</param>
/// <param name="Alpha">alpha; s = alpha / r.</param>
/// <param name="DetachNorm">Treat the norm as a constant in backward, as the DoRA paper (Sec. 4.3) and PEFT do to save memory.</param>
public sealed record DoraConfig(int Rank, double Alpha, bool DetachNorm = true) : AdapterConfig
{
    /// <inheritdoc />
    public override string Method => "dora";

    /// <summary>The scale s = alpha / r.</summary>
    public double Scale => Alpha / Rank;

    /// <inheritdoc />
    public override void Validate(long outFeatures, long inFeatures)
    {
        CheckRank("DoRA rank", Rank, outFeatures, inFeatures);
        CheckFinite("DoRA alpha", Alpha);
    }
}

/// <summary>Full fine-tuning: the targeted Linear layers are unfrozen instead of wrapped.</summary>
public sealed record FullFineTuneConfig : AdapterConfig
{
    /// <inheritdoc />
    public override string Method => "full_ft";
}
