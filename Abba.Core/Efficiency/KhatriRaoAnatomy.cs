using System.Diagnostics;
using Abba.Core.Adapters;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Core.Efficiency;

/// <summary>
/// Where ABBA's Khatri-Rao forward spends its time, beside LoRA's at the same parameter count: each piece of the
/// update path is timed alone (no autograd), interleaved, and the medians returned.
/// ABBA: B_kr = B1 ⊙_r B2 (m x r1 r2) and A_kr = A1ᵀ ⊙_r A2ᵀ (r1 r2 x n), then u = x A_krᵀ and B_kr u.
/// LoRA: x Aᵀ (inner size r) and B (x Aᵀ). Both beside the frozen product W0 x.
/// </summary>
public static class KhatriRaoAnatomy
{
    /// <summary>Piece names, in order.</summary>
    public static readonly IReadOnlyList<string> Pieces =
        ["base: W0 x", "abba: build B_kr and A_kr", "abba: u = x A_kr^T", "abba: B_kr u", "lora: v = x A^T",
            "lora: B v"];

    /// <summary>Median seconds of each of <see cref="Pieces"/> over
    /// <paramref name="repeats"/> interleaved rounds (after one warm-up round).</summary>
    public static double[] Measure(AbbaLinear abba, LoraLinear lora, Tensor x, int repeats)
    {
        using var _ = no_grad();
        Tensor Akr() => abba.KhatriRaoFactors().Akr;
        (Func<Tensor[]> Prepare, Func<Tensor[], Tensor[]> Run)[] pieces =
        [
            (() => [], _ => [nn.functional.linear(x, abba.Base.weight!)]),
            (() => [], _ => { var (b, a) = abba.KhatriRaoFactors(); return [b, a]; }),
            (() => [Akr()], t => [nn.functional.linear(x, t[0])]),
            (() => { var (b, a) = abba.KhatriRaoFactors(); return [b, nn.functional.linear(x, a)]; },
                t => [nn.functional.linear(t[1], t[0])]),
            (() => [], _ => [nn.functional.linear(x, lora.A)]),
            (() => [nn.functional.linear(x, lora.A)], t => [nn.functional.linear(t[0], lora.B)]),
        ];
        var samples = pieces.Select(_ => new List<double>()).ToArray();
        for (int round = -1; round < repeats; round++)
            for (int i = 0; i < pieces.Length; i++)
            {
                double seconds = TimeOnce(x.device, pieces[i].Prepare, pieces[i].Run);
                if (round >= 0) samples[i].Add(seconds);
            }
        return samples.Select(InterleavedTiming.Median).ToArray();
    }

    /// <summary>Times <paramref name="run"/> alone; its inputs are made untimed
    /// by <paramref name="prepare"/>, everything is disposed after.</summary>
    static double TimeOnce(Device device, Func<Tensor[]> prepare, Func<Tensor[], Tensor[]> run)
    {
        using var scope = NewDisposeScope();
        var inputs = prepare();
        var clock = Stopwatch.StartNew();
        run(inputs);
        if (device.type == DeviceType.CUDA) cuda.synchronize();
        return clock.Elapsed.TotalSeconds;
    }
}
