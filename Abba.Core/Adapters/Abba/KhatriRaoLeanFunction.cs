using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace Abba.Core.Adapters;

/// <summary>
/// ABBA's update s B_kr (A_kr x) as one autograd node that keeps only the input x (already alive as the layer's
/// activation) and the thin projection s u = s x A_kr^T (T x r1 r2). The Khatri-Rao factors B_kr (m x r1 r2) and
/// A_kr (r1 r2 x n) are transients: built in forward and freed at once, rebuilt from B1, A1, B2, A2 in backward, each
/// whole or, for a wide projection at few tokens, a block at a time (<see cref="BlockElements"/>).
/// With y = (s u) B_kr^T and upstream gradient g (T x m), the backward is, by hand:
/// dB_kr = g^T (s u), du = s g B_kr, dA_kr = du^T x, dx = du A_kr; then with B_kr[:, i r2 + j] = B1[:, i] ⊙ B2[:, j],
/// dB1[:, i] = Σ_j dB_kr[:, i r2 + j] ⊙ B2[:, j] and dB2[:, j] = Σ_i dB_kr[:, i r2 + j] ⊙ B1[:, i] (the same for A1, A2
/// over rows). Batch dims of x (..., n) are flattened to (T, n).
/// TorchSharp's own bookkeeping also keeps an uninitialised empty_like of the output (T x m) per node, to
/// materialise undefined gradients; on the CPU its pages are never written, so it costs no resident memory.
/// </summary>
public sealed class KhatriRaoLeanFunction : SingleTensorFunction<KhatriRaoLeanFunction>
{
    /// <inheritdoc />
    public override string Name => "AbbaKhatriRaoLean";

    /// <summary>s B_kr (A_kr x) for x (..., n), differentiable in x, A1, A2, B1, B2.</summary>
    public static Tensor Apply(Tensor x, Tensor A1, Tensor A2, Tensor B1, Tensor B2, double s) => apply(x, A1, A2, B1, B2, s);

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
        var (x, A1, A2, B1, B2, s) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (Tensor)vars[3], (Tensor)vars[4], (double)vars[5]);
        using var scope = NewDisposeScope();
        var x2 = x.reshape(-1, x.shape[^1]);                          // (T, n)
        long T = x2.shape[0], m = B1.shape[0], n = A1.shape[1], r12 = A1.shape[0] * A2.shape[0];
        long budget = BlockElements(T, m, n);
        // s u = s x A_kr^T (T, r1 r2), s on the thin tensor rather than on y; A_kr a block of columns at a time
        Tensor? su = null;
        foreach (var (start, cols) in Blocks(n, r12, budget))
        {
            using var block = NewDisposeScope();
            using var Akr = AKr(A1.narrow(1, start, cols), A2.narrow(1, start, cols));
            var part = nn.functional.linear(x2.narrow(1, start, cols), Akr);
            if (su is null) su = part.MoveToOuterDisposeScope(); else su.add_(part);
        }
        using (var scalar = s.ToScalar()) su!.mul_(scalar);
        // y = (s u) B_kr^T (T, m); B_kr a block of rows at a time, each written into its columns of y
        var rowBlocks = Blocks(m, r12, budget).ToArray();
        Tensor? y = rowBlocks.Length > 1 ? empty(T, m, x.dtype, x.device) : null;
        foreach (var (start, rows) in rowBlocks)
        {
            using var block = NewDisposeScope();
            using var Bkr = BKr(B1.narrow(0, start, rows), B2.narrow(0, start, rows));
            var part = nn.functional.linear(su, Bkr);                 // (T, rows)
            if (y is null) y = part.MoveToOuterDisposeScope(); else y.narrow(1, start, rows).copy_(part);
        }
        // Saved after forward returns (TorchSharp commits them then): s u must outlive this scope, so the caller's owns it.
        ctx.save_for_backward([x, su.MoveToOuterDisposeScope(), A1, A2, B1, B2]);
        ctx.save_data("s", s);
        ctx.save_data("x_needs_grad", x.requires_grad);
        return y!.reshape([.. x.shape[..^1], m]).MoveToOuterDisposeScope();
    }

    // Gradients this node returned last time. TorchSharp copies them into the graph only after backward returns, so they
    // cannot be freed here; left to the caller's dispose scope, every node's dx (T x n) would stay alive until the whole
    // backward ends, as much memory as the Khatri-Rao factors this node saves. The next lean backward frees them.
    [ThreadStatic] static List<Tensor>? returnedLastTime;

    /// <inheritdoc />
    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        foreach (var t in returnedLastTime ?? []) t.Dispose();
        try { return Gradients(ctx, grad_output); }
        finally { grad_output.Dispose(); }                             // our own handle on g (TorchSharp made it for this call)
    }

    static List<Tensor> Gradients(AutogradContext ctx, Tensor grad_output)
    {
        using var scope = NewDisposeScope();
        var saved = ctx.get_saved_variables();
        var (x, su, A1, A2, B1, B2) = (saved[0], saved[1], saved[2], saved[3], saved[4], saved[5]);
        double s = (double)ctx.get_data("s");
        var g = grad_output.reshape(-1, B1.shape[0]);                  // (T, m)
        var x2 = x.reshape(-1, A1.shape[1]);                           // (T, n)
        long budget = BlockElements(x2.shape[0], B1.shape[0], A1.shape[1]);
        var (du, dB1, dB2) = BSide(g, su, B1, B2, s, budget);
        var (dx2, dA1, dA2) = ASide(du, x2, A1, A2, (bool)ctx.get_data("x_needs_grad"), budget);
        var dx = dx2?.reshape(x.shape);                                // (..., n)
        returnedLastTime = [.. new[] { dx, dA1, dA2, dB1, dB2 }.OfType<Tensor>().Select(t => t.MoveToOuterDisposeScope())];
        return [dx!, dA1, dA2, dB1, dB2, null!];
    }

    /// <summary>
    /// The most elements a Khatri-Rao block may hold: T min(m, n), no more than the smaller of the layer's input and output
    /// activations, which every method holds anyway. When r1 r2 max(m, n) is larger (a wide projection at a small token
    /// count), B_kr is built a block of rows at a time and A_kr a block of columns at a time, in forward and in backward, so
    /// the transient stays at this size; otherwise each is built whole, in one block.
    /// </summary>
    public static long BlockElements(long tokens, long m, long n) => tokens * Math.Min(m, n);

    /// <summary>Elements of the largest block of a <paramref name="width"/> x <paramref name="length"/> factor (r1 r2 x n, or m x r1 r2 transposed).</summary>
    public static long LargestBlock(long length, long width, long budget) => width * BlockSize(length, width, budget);

    static long BlockSize(long length, long width, long budget) => Math.Max(1, Math.Min(length, budget / width));

    /// <summary>Blocks of at most <paramref name="budget"/> / <paramref name="width"/> (at least 1) of <paramref name="length"/> rows or columns.</summary>
    static IEnumerable<(long Start, long Length)> Blocks(long length, long width, long budget)
    {
        long size = BlockSize(length, width, budget);
        for (long start = 0; start < length; start += size) yield return (start, Math.Min(size, length - start));
    }

    /// <summary>
    /// du = s g B_kr (T x r1 r2), and dB1, dB2 from dB_kr = g^T (s u) (m x r1 r2), reduced by batched products over the m
    /// rows; B_kr and dB_kr are formed a block of rows at a time.
    /// </summary>
    static (Tensor du, Tensor dB1, Tensor dB2) BSide(Tensor g, Tensor su, Tensor B1, Tensor B2, double s, long budget)
    {
        using var scope = NewDisposeScope();
        long m = B1.shape[0], r1 = B1.shape[1], r2 = B2.shape[1];
        Tensor? du = null;
        var (dB1s, dB2s) = (new List<Tensor>(), new List<Tensor>());
        foreach (var (start, rows) in Blocks(m, r1 * r2, budget))
        {
            using var block = NewDisposeScope();
            var (b1, b2, gb) = (B1.narrow(0, start, rows), B2.narrow(0, start, rows), g.narrow(1, start, rows));   // gb: (T, rows)
            using (var Bkr = BKr(b1, b2))
            {
                var part = gb.matmul(Bkr);                                                // (T, r1 r2)
                if (du is null) du = part.MoveToOuterDisposeScope(); else du.add_(part);
            }
            using var dBkr = gb.t().matmul(su).view(rows, r1, r2);                        // (rows, r1, r2)
            dB1s.Add(dBkr.matmul(b2.unsqueeze(2)).squeeze(2).MoveToOuterDisposeScope());   // Σ_j dB_kr[:, i, j] B2[:, j]: (rows, r1, r2)(rows, r2, 1) -> (rows, r1)
            dB2s.Add(b1.unsqueeze(1).matmul(dBkr).squeeze(1).MoveToOuterDisposeScope());   // Σ_i B1[:, i] dB_kr[:, i, j]: (rows, 1, r1)(rows, r1, r2) -> (rows, r2)
        }
        using (var scalar = s.ToScalar()) du!.mul_(scalar);
        return (du.MoveToOuterDisposeScope(), Joined(dB1s, 0).MoveToOuterDisposeScope(), Joined(dB2s, 0).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// dx = du A_kr (T x n) when x needs it, and dA1, dA2 from dA_kr^T = x^T du (n x r1 r2), reduced by batched products over
    /// the n columns as on the B side: dA1[i, :] = Σ_j dA_kr[i r2 + j, :] ⊙ A2[j, :] and dA2[j, :] = Σ_i dA_kr[i r2 + j, :] ⊙ A1[i, :].
    /// A_kr and dA_kr are formed a block of columns at a time.
    /// </summary>
    static (Tensor? dx, Tensor dA1, Tensor dA2) ASide(Tensor du, Tensor x2, Tensor A1, Tensor A2, bool inputGradient, long budget)
    {
        using var scope = NewDisposeScope();
        long r1 = A1.shape[0], r2 = A2.shape[0], n = A1.shape[1];
        var blocks = Blocks(n, r1 * r2, budget).ToArray();
        // dx: one block's product itself, or each block's written into its columns (never the blocks and dx alive at once).
        var dx = inputGradient && blocks.Length > 1 ? empty(x2.shape[0], n, du.dtype, du.device) : null;
        var (dA1s, dA2s) = (new List<Tensor>(), new List<Tensor>());
        foreach (var (start, cols) in blocks)
        {
            using var block = NewDisposeScope();
            var (a1, a2) = (A1.narrow(1, start, cols), A2.narrow(1, start, cols));
            if (inputGradient)
                using (var Akr = AKr(a1, a2))
                {
                    var part = du.matmul(Akr);                                                                 // (T, cols)
                    if (dx is null) dx = part.MoveToOuterDisposeScope(); else dx.narrow(1, start, cols).copy_(part);
                }
            using var dAkrT = x2.narrow(1, start, cols).t().matmul(du).view(cols, r1, r2);                    // (cols, r1, r2)
            dA1s.Add(dAkrT.matmul(a2.t().contiguous().unsqueeze(2)).squeeze(2).MoveToOuterDisposeScope());   // (cols, r1, r2)(cols, r2, 1) -> (cols, r1)
            dA2s.Add(a1.t().contiguous().unsqueeze(1).matmul(dAkrT).squeeze(1).MoveToOuterDisposeScope());   // (cols, 1, r1)(cols, r1, r2) -> (cols, r2)
        }
        return (dx?.MoveToOuterDisposeScope(), Joined(dA1s, 0).t().contiguous().MoveToOuterDisposeScope(), Joined(dA2s, 0).t().contiguous().MoveToOuterDisposeScope());
    }

    /// <summary>The one block itself, or the blocks concatenated along <paramref name="dim"/>.</summary>
    static Tensor Joined(List<Tensor> blocks, long dim) => blocks.Count == 1 ? blocks[0] : cat(blocks, dim);

    static Tensor Scaled(Tensor t, double value)
    {
        using var scalar = value.ToScalar();
        return t.mul(scalar);
    }
}
