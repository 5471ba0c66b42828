namespace Abba.Experiments.Units;

/// <summary>
/// Shard <see cref="Index"/> of <see cref="Count"/> (1-based: 1/3, 2/3, 3/3). Units are dealt out deterministically:
/// sorted by estimated cost (largest first, then by identity), each goes to the shard with the least cost so far
/// (longest-processing-time first), so equal-cost units are dealt round-robin and unequal ones balance by cost.
/// </summary>
public sealed record Shard(int Index, int Count)
{
    /// <summary>"I/N".</summary>
    public override string ToString() => $"{Index}/{Count}";

    /// <summary>Parses "I/N" with 1 &lt;= I &lt;= N; null and a problem otherwise.</summary>
    public static Shard? Parse(string text, out string? problem)
    {
        problem = null;
        if (text.Split('/') is [var a, var b] && int.TryParse(a, out int i) && int.TryParse(b, out int n)
            && n >= 1 && i >= 1 && i <= n)
            return new Shard(i, n);
        problem = $"--shard must be I/N with 1 <= I <= N, counting from 1 (got '{text}'; "
            + "Slurm's 0-based task id T is shard $((T+1))/N)";
        return null;
    }

    /// <summary>The identities among <paramref name="units"/> that this shard runs.</summary>
    public IReadOnlySet<string> Select(IEnumerable<(string Identity, double Cost)> units)
    {
        var load = new double[Count];
        var mine = new HashSet<string>();
        foreach (var (identity, cost) in
            units.OrderByDescending(u => u.Cost).ThenBy(u => u.Identity, StringComparer.Ordinal))
        {
            int least = Array.IndexOf(load, load.Min());
            load[least] += Math.Max(cost, 1e-9);
            if (least == Index - 1) mine.Add(identity);
        }
        return mine;
    }
}
