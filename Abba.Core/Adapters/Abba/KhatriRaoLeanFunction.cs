using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace Abba.Core.Adapters;

/// <summary>
/// ABBA's update s B_kr (A_kr x) as one autograd node that keeps only the input x (already alive as the layer's
/// activation) and the thin projection s u = s x A_kr^T (T x r1 r2). The Khatri-Rao factors B_kr (m x r1 r2) and
/// A_kr (r1 r2 x n) are transients: built in forward and freed at once, rebuilt from B1, A1, B2, A2 in backward.
/// With y = (s u) B_kr^T and upstream gradient g (T x m), the backward is, by hand:
/// dB_kr = g^T (s u), du = s g B_kr, dA_kr = du^T x, dx = du A_kr; then with B_kr[:, i r2 + j] = B1[:, i] ⊙ B2[:, j],
/// dB1[:, i] = Σ_j dB_kr[:, i r2 + j] ⊙ B2[:, j] and dB2[:, j] = Σ_i dB_kr[:, i r2 + j] ⊙ B1[:, i]
/// (the same for A1, A2 over rows). Batch dims of x (..., n) are flattened to (T, n).
/// TorchSharp's own bookkeeping also keeps an uninitialised empty_like of the output (T x m) per node, to
/// materialise undefined gradients; on the CPU its pages are never written, so it costs no resident memory.
/// </summary>
public sealed class KhatriRaoLeanFunction : SingleTensorFunction<KhatriRaoLeanFunction>
{
    /// <inheritdoc />
    public override string Name => "AbbaKhatriRaoLean";

    /// <summary>s B_kr (A_kr x) for x (..., n), differentiable in x, A1, A2, B1, B2.</summary>
    public static Tensor Apply(Tensor x, Tensor A1, Tensor A2, Tensor B1, Tensor B2, double s) =>
        apply(x, A1, A2, B1, B2, s);

    /// <summary>A_kr (r1 r2 x n): row i r2 + j is A1[i, :] ⊙ A2[j, :].</summary>
    public static Tensor AKr(Tensor A1, Tensor A2)
    {
        using var scope = NewDisposeScope();
        var product = A1.unsqueeze(1) * A2.unsqueeze(0);                                      // (r1, r2, n)
        return product.reshape(A1.shape[0] * A2.shape[0], A1.shape[1]).MoveToOuterDisposeScope();
    }

    /// <summary>B_kr (m x r1 r2): column i r2 + j is B1[:, i] ⊙ B2[:, j].</summary>
    public static Tensor BKr(Tensor B1, Tensor B2)
    {
        using var scope = NewDisposeScope();
        var product = B1.unsqueeze(2) * B2.unsqueeze(1);                                      // (m, r1, r2)
        return product.reshape(B1.shape[0], B1.shape[1] * B2.shape[1]).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var (x, A1, A2, B1, B2, s) =
            ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (Tensor)vars[3], (Tensor)vars[4], (double)vars[5]);
        using var scope = NewDisposeScope();
        var x2 = x.reshape(-1, x.shape[^1]);                         // (T, n)
        var Akr = AKr(A1, A2);
        // s u = s x A_kr^T (T, r1 r2): s on the thin tensor, not on y
        var su = Scaled(nn.functional.linear(x2, Akr), s);
        Akr.Dispose();
        var Bkr = BKr(B1, B2);
        var y = nn.functional.linear(su, Bkr);                        // (T, m)
        Bkr.Dispose();
        // Saved after forward returns (TorchSharp commits them then):
        // s u must outlive this scope, so the caller's owns it.
        ctx.save_for_backward([x, su.MoveToOuterDisposeScope(), A1, A2, B1, B2]);
        ctx.save_data("s", s);
        ctx.save_data("x_needs_grad", x.requires_grad);
        return y.reshape([.. x.shape[..^1], B1.shape[0]]).MoveToOuterDisposeScope();
    }

    // Gradients this node returned last time. TorchSharp copies them into the graph only after backward returns,
    // so they cannot be freed here; left to the caller's dispose scope, every node's dx (T x n) would stay alive until
    // the whole backward ends, as much memory as the Khatri-Rao
    // factors this node saves. The next lean backward frees them.
    [ThreadStatic] static List<Tensor>? returnedLastTime;

    /// <inheritdoc />
    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        foreach (var t in returnedLastTime ?? []) t.Dispose();
        try { return Gradients(ctx, grad_output); }
        finally { grad_output.Dispose(); }   // our own handle on g (TorchSharp made it for this call)
    }

    static List<Tensor> Gradients(AutogradContext ctx, Tensor grad_output)
    {
        using var scope = NewDisposeScope();
        var saved = ctx.get_saved_variables();
        var (x, su, A1, A2, B1, B2) = (saved[0], saved[1], saved[2], saved[3], saved[4], saved[5]);
        double s = (double)ctx.get_data("s");
        var g = grad_output.reshape(-1, B1.shape[0]);                  // (T, m)
        var (du, dB1, dB2) = BSide(g, su, B1, B2, s);
        var dx = (bool)ctx.get_data("x_needs_grad") ? InputGradient(du, A1, A2).reshape(x.shape) : null;   // (..., n)
        var (dA1, dA2) = ASide(du, x.reshape(-1, A1.shape[1]), A1, A2);
        returnedLastTime =
            [.. new[] { dx, dA1, dA2, dB1, dB2 }.OfType<Tensor>().Select(t => t.MoveToOuterDisposeScope())];
        return [dx!, dA1, dA2, dB1, dB2, null!];
    }

    /// <summary>
    /// du = s g B_kr (T x r1 r2), and dB1, dB2 from dB_kr = g^T (s u) (m x r1 r2), reduced by batched products over the
    /// m rows (no further m x r1 r2 temporary).
    /// </summary>
    static (Tensor du, Tensor dB1, Tensor dB2) BSide(Tensor g, Tensor su, Tensor B1, Tensor B2, double s)
    {
        using var scope = NewDisposeScope();
        long m = B1.shape[0], r1 = B1.shape[1], r2 = B2.shape[1];
        Tensor du;
        using (var Bkr = BKr(B1, B2)) du = Scaled(g.matmul(Bkr), s);                 // (T, r1 r2)
        using var dBkr = g.t().matmul(su).view(m, r1, r2);                            // (m, r1, r2)
        // Σ_j dB_kr[:, i, j] B2[:, j]: (m, r1, r2)(m, r2, 1) -> (m, r1)
        var dB1 = dBkr.matmul(B2.unsqueeze(2)).squeeze(2);
        // Σ_i B1[:, i] dB_kr[:, i, j]: (m, 1, r1)(m, r1, r2) -> (m, r2)
        var dB2 = B1.unsqueeze(1).matmul(dBkr).squeeze(1);
        return (du.MoveToOuterDisposeScope(), dB1.MoveToOuterDisposeScope(), dB2.MoveToOuterDisposeScope());
    }

    /// <summary>dx = du A_kr (T x n), with A_kr rebuilt and freed.</summary>
    static Tensor InputGradient(Tensor du, Tensor A1, Tensor A2)
    {
        using var Akr = AKr(A1, A2);
        return du.matmul(Akr);
    }

    /// <summary>
    /// dA1, dA2 from dA_kr^T = x^T du (n x r1 r2), reduced by batched products over the n columns, as on the B side:
    /// dA1[i, :] = Σ_j dA_kr[i r2 + j, :] ⊙ A2[j, :] and dA2[j, :] = Σ_i dA_kr[i r2 + j, :] ⊙ A1[i, :].
    /// </summary>
    static (Tensor dA1, Tensor dA2) ASide(Tensor du, Tensor x2, Tensor A1, Tensor A2)
    {
        using var scope = NewDisposeScope();
        long r1 = A1.shape[0], r2 = A2.shape[0], n = A1.shape[1];
        using var dAkrT = x2.t().matmul(du).view(n, r1, r2);                          // (n, r1, r2)
        // (n, r1, r2)(n, r2, 1) -> (n, r1) -> (r1, n)
        var dA1 = dAkrT.matmul(A2.t().contiguous().unsqueeze(2)).squeeze(2).t().contiguous();
        // (n, 1, r1)(n, r1, r2) -> (n, r2) -> (r2, n)
        var dA2 = A1.t().contiguous().unsqueeze(1).matmul(dAkrT).squeeze(1).t().contiguous();
        return (dA1.MoveToOuterDisposeScope(), dA2.MoveToOuterDisposeScope());
    }

    static Tensor Scaled(Tensor t, double value)
    {
        using var scalar = value.ToScalar();
        return t.mul(scalar);
    }
}
