using Abba.Experiments.Units;
namespace Abba.Experiments.Pipeline;

/// <summary>Comma-separated option values (<c>--ranks 8,16</c>, <c>--models a,b</c>), parsed one way
/// everywhere.</summary>
public static class ListOption
{
    /// <summary>The items of <paramref name="values"/>, each split at commas, trimmed, empties dropped; null when not
    /// given.</summary>
    public static string[]? Items(IEnumerable<string>? values) =>
        values is null
            ? null
            : [.. values.SelectMany(v =>
                v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];

    /// <inheritdoc cref="Items(IEnumerable{string}?)"/>
    public static string[]? Items(string? text) => text is null ? null : Items([text]);

    /// <summary>Positive whole numbers, distinct and ascending; a problem per bad item (then empty). Null when not
    /// given.</summary>
    public static int[]? PositiveInts(string? text, string option, List<string> problems)
    {
        if (Items(text) is not { } items) return null;
        var bad = items.Where(i => !int.TryParse(i, out int v) || v < 1).ToArray();
        foreach (var b in bad) problems.Add($"{option}: '{b}' is not a positive whole number");
        return bad.Length > 0 ? [] : [.. items.Select(int.Parse).Distinct().Order()];
    }

    /// <summary>Names from <paramref name="valid"/>, in its order; a problem per unknown item. Null when not
    /// given.</summary>
    public static string[]? Names(string? text, string option, IReadOnlyList<string> valid, List<string> problems)
    {
        if (Items(text) is not { } items) return null;
        foreach (var i in items.Where(i => !valid.Contains(i)))
            problems.Add($"{option}: unknown value '{i}' (valid: {string.Join(", ", valid)})");
        return [.. valid.Where(items.Contains)];
    }
}
