namespace Abba.Core.Adapters;

/// <summary>
/// Elements one adapted (m x n) projection adds during a training step on T tokens, beyond its input and output
/// (which the decoder's activations count). Weight-like tensors (derived from parameters) take the trainable dtype,
/// token-like ones the activation dtype. Counted from what each adapter's forward computes and what autograd saves:
/// <list type="bullet">
/// <item>LoRA keeps u = x A^T (T x r).</item>
/// <item>ABBA (lean Khatri-Rao node, the default) keeps u = x A_kr^T (T x r1 r2) and x, which is the projection's input
/// and already counted; backward rebuilds B_kr and A_kr one at a time (TorchSharp's node also holds an uninitialised
/// empty_like of its T x m output, whose pages a CPU run never touches: not counted).</item>
/// <item>ABBA (Khatri-Rao, plain autograd) keeps B_kr (m x r1 r2),
/// u = x A_kr^T (T x r1 r2) and, when x needs a gradient, A_kr (r1 r2 x n).</item>
/// <item>Chained ABBA keeps what its k-way Khatri-Rao or dense forward
/// leaves to autograd (<see cref="ChainedAbbaConfig.MemoryTerms"/>).</item>
/// <item>ABBA (dense) keeps P1 = B1 A1 and P2 = B2 A2 (m x n each; each is the
/// other's gradient factor) and, when x needs a gradient, P = P1 ⊙ P2.</item>
/// <item>HiRA keeps W = W0 ⊙ (B A + 1) (m x n) when x needs
/// a gradient; B A and B A + 1 are forward temporaries.</item>
/// <item>DoRA keeps W0 x + s B A x (T x m) for the magnitude's gradient and u (T x r);
/// V = W0 + s B A is a forward temporary (its norm is detached).</item>
/// <item>Full fine-tuning keeps nothing extra (its gradient is counted with the gradients).</item>
/// </list>
/// </summary>
/// <param name="SavedWeightLike">Weight-like elements kept from forward until backward.</param>
/// <param name="SavedTokenLike">Token-like elements kept from forward until backward.</param>
/// <param name="TransientWeightLike">Weight-like elements alive at once at this
/// projection's worst moment (forward or backward), beyond what is kept.</param>
/// <param name="TransientTokenLike">Token-like elements alive at once at that moment.</param>
public readonly record struct ProjectionMemory(
    long SavedWeightLike, long SavedTokenLike, long TransientWeightLike, long TransientTokenLike)
{
    /// <summary>Bytes kept until backward, given bytes per weight-like and per token-like element.</summary>
    public long SavedBytes(int weightBytes, int tokenBytes) =>
        SavedWeightLike * weightBytes + SavedTokenLike * tokenBytes;

    /// <summary>Bytes of the worst moment's temporaries,
    /// given bytes per weight-like and per token-like element.</summary>
    public long TransientBytes(int weightBytes, int tokenBytes) =>
        TransientWeightLike * weightBytes + TransientTokenLike * tokenBytes;

    /// <summary>A frozen Linear or a fully fine-tuned one: nothing kept
    /// beyond its input, only the gradients flowing through it.</summary>
    public static ProjectionMemory Plain(long m, long n, long tokens) =>
        new(0, 0, 0, ActivationGradients(m, n, tokens));

    /// <summary>W0 x, the update and the scaled update of an adapter's
    /// forward: freed when the adapter's scope ends.</summary>
    public static long WrapperForward(long m, long tokens) => 3 * tokens * m;

    /// <summary>Gradients flowing through an (m x n) projection in backward.</summary>
    public static long ActivationGradients(long m, long n, long tokens) => 2 * tokens * (m + n);
}
