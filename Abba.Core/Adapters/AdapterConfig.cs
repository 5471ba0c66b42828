using TorchSharp.Modules;
using static TorchSharp.torch;

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

    /// <summary>Figure and table label, e.g. "ABBA", "ABBA (dense)", "LoRA".</summary>
    public abstract string DisplayName { get; }

    /// <summary>Colour of this method in every figure, as #rrggbb.</summary>
    public abstract string Colour { get; }

    /// <summary>The rank r of the LoRA whose parameter count this configuration matches per layer (ABBA: r1 + r2); 0 for full fine-tuning.</summary>
    public abstract int BudgetRank { get; }

    /// <summary>The same method and settings at LoRA-equivalent rank <paramref name="rank"/> (ABBA: r1 = r2 = r/2).</summary>
    public abstract AdapterConfig AtBudgetRank(int rank);

    /// <summary>True when the method trains the targeted Linear layers themselves instead of wrapping them.</summary>
    public virtual bool TrainsBaseWeights => false;

    /// <summary>
    /// The adapter that wraps <paramref name="linear"/>, drawing its random initial values from <paramref name="generator"/>
    /// only; null when the method trains <paramref name="linear"/> in place (<see cref="TrainsBaseWeights"/>).
    /// </summary>
    public abstract AdapterLinear? Wrap(Linear linear, Generator generator);

    /// <summary>Trainable parameters this method adds to (or unfreezes in) one m x n layer, in closed form.</summary>
    public abstract long TrainableParameters(long m, long n, bool bias = false);

    /// <summary>Checkpoint keys of one adapted module, relative to the module's name (PEFT names where PEFT has them).</summary>
    public abstract IReadOnlyList<string> CheckpointKeys(bool bias = false);

    /// <summary>This method's terms in the analytic training-memory model for one m x n projection on <paramref name="tokens"/> tokens.</summary>
    public abstract ProjectionMemory MemoryTerms(long m, long n, long tokens, bool inputNeedsGrad);

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
    /// <inheritdoc />
    public override string DisplayName => RankStabilised ? "rsLoRA" : "LoRA";
    /// <inheritdoc />
    public override string Colour => "#1f77b4";
    /// <inheritdoc />
    public override int BudgetRank => Rank;
    /// <inheritdoc />
    public override AdapterConfig AtBudgetRank(int rank) => this with { Rank = rank };
    /// <inheritdoc />
    public override AdapterLinear Wrap(Linear linear, Generator generator) => new LoraLinear(linear, this, generator);
    /// <inheritdoc />
    public override long TrainableParameters(long m, long n, bool bias = false) => Rank * (m + n);
    /// <inheritdoc />
    public override IReadOnlyList<string> CheckpointKeys(bool bias = false) => ["lora_A", "lora_B"];
    /// <inheritdoc />
    public override ProjectionMemory MemoryTerms(long m, long n, long tokens, bool inputNeedsGrad) =>
        new(0, tokens * Rank, 0, Math.Max(ProjectionMemory.WrapperForward(m, tokens), ProjectionMemory.ActivationGradients(m, n, tokens)));

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
    public override string DisplayName => "HiRA";
    /// <inheritdoc />
    public override string Colour => "#2ca02c";
    /// <inheritdoc />
    public override int BudgetRank => Rank;
    /// <inheritdoc />
    public override AdapterConfig AtBudgetRank(int rank) => this with { Rank = rank };
    /// <inheritdoc />
    public override AdapterLinear Wrap(Linear linear, Generator generator) => new HiraLinear(linear, this, generator);
    /// <inheritdoc />
    public override long TrainableParameters(long m, long n, bool bias = false) => Rank * (m + n);
    /// <inheritdoc />
    public override IReadOnlyList<string> CheckpointKeys(bool bias = false) => ["hira_A", "hira_B"];
    /// <inheritdoc />
    public override ProjectionMemory MemoryTerms(long m, long n, long tokens, bool inputNeedsGrad) =>
        new(inputNeedsGrad ? m * n : 0, 0, 2 * m * n + (inputNeedsGrad ? 0 : m * n), ProjectionMemory.ActivationGradients(m, n, tokens));

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
    /// <inheritdoc />
    public override string DisplayName => Forward == AbbaForward.Dense ? "ABBA (dense)" : "ABBA";
    /// <inheritdoc />
    public override string Colour => Forward == AbbaForward.Dense ? "#ff9896" : "#d62728";
    /// <inheritdoc />
    public override int BudgetRank => Rank1 + Rank2;
    /// <inheritdoc />
    public override AdapterConfig AtBudgetRank(int rank) =>
        rank % 2 == 0 ? this with { Rank1 = rank / 2, Rank2 = rank / 2 }
                      : throw new ArgumentException($"ABBA splits rank {rank} into r1 = r2 = r/2: use an even rank.");
    /// <inheritdoc />
    public override AdapterLinear Wrap(Linear linear, Generator generator) => new AbbaLinear(linear, this, generator);
    /// <inheritdoc />
    public override long TrainableParameters(long m, long n, bool bias = false) => (long)(Rank1 + Rank2) * (m + n);
    /// <inheritdoc />
    public override IReadOnlyList<string> CheckpointKeys(bool bias = false) => ["abba_A1", "abba_B1", "abba_A2", "abba_B2"];
    /// <inheritdoc />
    public override ProjectionMemory MemoryTerms(long m, long n, long tokens, bool inputNeedsGrad)
    {
        long T = tokens, mn = m * n, r12 = (long)Rank1 * Rank2;
        long ifGrad(long elements) => inputNeedsGrad ? elements : 0;
        long unlessGrad(long elements) => inputNeedsGrad ? 0 : elements;
        long wrapper = ProjectionMemory.WrapperForward(m, T), gradients = ProjectionMemory.ActivationGradients(m, n, T);
        if (Forward == AbbaForward.Dense)
            return new(2 * mn + ifGrad(mn), 0, Math.Max(unlessGrad(mn), 3 * mn), Math.Max(wrapper, gradients));
        return new(
            SavedWeightLike: r12 * m + ifGrad(r12 * n),
            SavedTokenLike: T * r12,
            // backward: dB_kr and dA_kr, each expanded once against the other pair to reduce to dB1, dB2, dA1, dA2
            TransientWeightLike: Math.Max(unlessGrad(r12 * n), 2 * r12 * (m + n)),
            TransientTokenLike: Math.Max(wrapper, gradients + T * r12));
    }

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
    /// <inheritdoc />
    public override string DisplayName => "DoRA";
    /// <inheritdoc />
    public override string Colour => "#9467bd";
    /// <inheritdoc />
    public override int BudgetRank => Rank;
    /// <inheritdoc />
    public override AdapterConfig AtBudgetRank(int rank) => this with { Rank = rank };
    /// <inheritdoc />
    public override AdapterLinear Wrap(Linear linear, Generator generator) => new DoraLinear(linear, this, generator);
    /// <inheritdoc />
    public override long TrainableParameters(long m, long n, bool bias = false) => Rank * (m + n) + m;
    /// <inheritdoc />
    public override IReadOnlyList<string> CheckpointKeys(bool bias = false) => ["lora_A", "lora_B", "lora_magnitude_vector"];
    /// <inheritdoc />
    public override ProjectionMemory MemoryTerms(long m, long n, long tokens, bool inputNeedsGrad) =>
        new(0, tokens * (m + Rank), 3 * m * n, Math.Max(ProjectionMemory.WrapperForward(m, tokens), ProjectionMemory.ActivationGradients(m, n, tokens)));

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
    /// <inheritdoc />
    public override string DisplayName => "Full FT";
    /// <inheritdoc />
    public override string Colour => "#555555";
    /// <inheritdoc />
    public override int BudgetRank => 0;
    /// <inheritdoc />
    public override AdapterConfig AtBudgetRank(int rank) => this;
    /// <inheritdoc />
    public override bool TrainsBaseWeights => true;
    /// <inheritdoc />
    public override AdapterLinear? Wrap(Linear linear, Generator generator) => null;
    /// <inheritdoc />
    public override long TrainableParameters(long m, long n, bool bias = false) => m * n + (bias ? m : 0);
    /// <inheritdoc />
    public override IReadOnlyList<string> CheckpointKeys(bool bias = false) => bias ? ["weight", "bias"] : ["weight"];
    /// <inheritdoc />
    public override ProjectionMemory MemoryTerms(long m, long n, long tokens, bool inputNeedsGrad) => ProjectionMemory.Plain(m, n, tokens);
}
