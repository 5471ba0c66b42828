using Abba.Core.Adapters;

namespace Abba.Core.Memory;

/// <summary>
/// Elements one adapted (m x n) projection adds during a training step on T tokens, beyond its input and output
/// (which the decoder's activations count). Weight-like tensors (derived from parameters) take the trainable dtype,
/// token-like ones the activation dtype. Counted from what each adapter's forward computes and what autograd saves:
/// <list type="bullet">
/// <item>LoRA keeps u = x A^T (T x r).</item>
/// <item>ABBA (Khatri-Rao) keeps B_kr (m x r1 r2), u = x A_kr^T (T x r1 r2) and, when x needs a gradient, A_kr (r1 r2 x n).</item>
/// <item>ABBA (dense) keeps P1 = B1 A1 and P2 = B2 A2 (m x n each; each is the other's gradient factor) and, when x needs a gradient, P = P1 ⊙ P2.</item>
/// <item>HiRA keeps W = W0 ⊙ (B A + 1) (m x n) when x needs a gradient; B A and B A + 1 are forward temporaries.</item>
/// <item>DoRA keeps W0 x + s B A x (T x m) for the magnitude's gradient and u (T x r); V = W0 + s B A is a forward temporary (its norm is detached).</item>
/// <item>Full fine-tuning keeps nothing extra (its gradient is counted with the gradients).</item>
/// </list>
/// </summary>
/// <param name="SavedWeightLike">Weight-like elements kept from forward until backward.</param>
/// <param name="SavedTokenLike">Token-like elements kept from forward until backward.</param>
/// <param name="TransientWeightLike">Weight-like elements alive at once at this projection's worst moment (forward or backward), beyond what is kept.</param>
/// <param name="TransientTokenLike">Token-like elements alive at once at that moment.</param>
public readonly record struct ProjectionMemory(long SavedWeightLike, long SavedTokenLike, long TransientWeightLike, long TransientTokenLike)
{
    /// <summary>Bytes kept until backward, given bytes per weight-like and per token-like element.</summary>
    public long SavedBytes(int weightBytes, int tokenBytes) => SavedWeightLike * weightBytes + SavedTokenLike * tokenBytes;

    /// <summary>Bytes of the worst moment's temporaries, given bytes per weight-like and per token-like element.</summary>
    public long TransientBytes(int weightBytes, int tokenBytes) => TransientWeightLike * weightBytes + TransientTokenLike * tokenBytes;

    /// <summary>The elements <paramref name="config"/> adds to an (m x n) projection; null config means a frozen Linear.</summary>
    /// <param name="config">The method, or null for a frozen base layer.</param>
    /// <param name="m">Output features.</param>
    /// <param name="n">Input features.</param>
    /// <param name="tokens">B T.</param>
    /// <param name="inputNeedsGrad">Whether the projection's input requires a gradient (false only before the first trainable tensor).</param>
    public static ProjectionMemory Of(AdapterConfig? config, long m, long n, long tokens, bool inputNeedsGrad)
    {
        long T = tokens, mn = m * n;
        long ifGrad(long elements) => inputNeedsGrad ? elements : 0;
        long unlessGrad(long elements) => inputNeedsGrad ? 0 : elements;
        long wrapperForward = 3 * T * m;       // W0 x, the update, the scaled update: freed when the adapter's scope ends
        long activationGrads = 2 * T * (m + n); // gradients flowing through the projection in backward
        return config switch
        {
            null or FullFineTuneConfig => new(0, 0, 0, activationGrads),
            LoraConfig c => new(0, T * c.Rank, 0, Math.Max(wrapperForward, activationGrads)),
            AbbaConfig { Forward: AbbaForward.KhatriRao } c => KhatriRao((long)c.Rank1 * c.Rank2),
            AbbaConfig => new(2 * mn + ifGrad(mn), 0, Math.Max(unlessGrad(mn), 3 * mn), Math.Max(wrapperForward, activationGrads)),
            HiraConfig => new(ifGrad(mn), 0, 2 * mn + unlessGrad(mn), activationGrads),
            DoraConfig c => new(0, T * (m + c.Rank), 3 * mn, Math.Max(wrapperForward, activationGrads)),
            _ => throw new ArgumentException($"no memory model for {config.Method}"),
        };

        ProjectionMemory KhatriRao(long r12) => new(
            SavedWeightLike: r12 * m + ifGrad(r12 * n),
            SavedTokenLike: T * r12,
            // backward: dB_kr and dA_kr, each expanded once against the other pair to reduce to dB1, dB2, dA1, dA2
            TransientWeightLike: Math.Max(unlessGrad(r12 * n), 2 * r12 * (m + n)),
            TransientTokenLike: Math.Max(wrapperForward, activationGrads + T * r12));
    }
}
