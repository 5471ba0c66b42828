using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
namespace Abba.Experiments.Reconstruction;

/// <summary>
/// Which equal-budget points (r1 = r2 = r/2) get settling fits, with which starts, and which fit a point's verdict
/// rests
/// on. Decided from the point's protocol fit alone, so every shard and every rerun decides alike.
/// </summary>
public static class ReconstructionSettle
{
    /// <summary>
    /// Reasons: the protocol fit is not below LoRA rank r on the same target, or it is but stopped at its step cap.
    /// </summary>
    public const string Loses = "loses", Capped = "capped";

    /// <summary>
    /// Starts: the protocol fit itself; the protocol's SVD-times-ones start with a longer schedule; random start k;
    /// ABBA(r - 1, 1).
    /// </summary>
    public const string Protocol = "protocol", SvdOnes = "svd_ones", RandomPrefix = "random_", Warm = "warm";

    /// <summary>
    /// <see cref="Loses"/> when ABBA's error is at or above LoRA's, else <see cref="Capped"/> when the fit hit its cap,
    /// else null (not settled).
    /// </summary>
    public static string? Reason(double abbaError, double loraError, bool hitCap) =>
        !(abbaError < loraError) ? Loses : hitCap ? Capped : null;

    /// <summary>Every start a point can get, in run order.</summary>
    public static IReadOnlyList<string> AllStarts(int randomStarts) =>
        [SvdOnes, .. Enumerable.Range(1, randomStarts).Select(k => RandomPrefix + k), Warm];

    /// <summary>
    /// The starts a point settled for <paramref name="reason"/> gets: all for a losing point; the longer SVD-times-ones
    /// fit alone for a capped one unless <paramref name="cappedAllStarts"/>.
    /// </summary>
    public static IReadOnlyList<string> Starts(string? reason, int randomStarts, bool cappedAllStarts) => reason switch
    {
        Loses => AllStarts(randomStarts),
        Capped => cappedAllStarts ? AllStarts(randomStarts) : [SvdOnes],
        _ => [],
    };

    /// <summary>The kind a start belongs to, as <c>--settle-starts</c> names it (random_k is random).</summary>
    public static string KindOf(string start) => IsRandom(start) ? RandomKind : start;

    /// <summary>The random starts' kind.</summary>
    public const string RandomKind = "random";

    /// <summary>True for the random starts.</summary>
    public static bool IsRandom(string start) => start.StartsWith(RandomPrefix, StringComparison.Ordinal);

    /// <summary>
    /// ABBA (r1, r2) of a start at LoRA rank <paramref name="rank"/>: the caption's r/2, r/2, except the warm start
    /// ABBA(r - 1, 1), whose rank-(r - 1) SVD times the all-ones rank-1 pair is LoRA rank r - 1 exactly, at the same
    /// parameter count 2 n r.
    /// </summary>
    public static (int R1, int R2) Ranks(string start, int rank) =>
        start == Warm ? (rank - 1, 1) : (rank / 2, rank / 2);

    /// <summary>One candidate for a point's best fit.</summary>
    public sealed record Candidate(string Start, int R1, int R2, double RelSqError, int Steps, bool HitCap);

    /// <summary>The candidate with the lowest error; on a tie the earlier one (list the protocol fit first).</summary>
    public static Candidate Best(IReadOnlyList<Candidate> candidates)
    {
        if (candidates.Count == 0) throw new ArgumentException("no candidates", nameof(candidates));
        var best = candidates[0];
        foreach (var c in candidates.Skip(1)) if (c.RelSqError < best.RelSqError) best = c;
        return best;
    }
}
