using System.Security.Cryptography;
using System.Text;

namespace Abba.Experiments.Units;

/// <summary>
/// A unit of work (one fit, one fine-tuning arm, one pre-training, one measurement) is named by its identity
/// (<c>reconstruction/fit/method=abba/type=random/r1=4/r2=4/seed=0</c>: what it computes) and by the settings hash of
/// the run (every resolved option that changes its result, the device and <see cref="Format"/>). Its file name is the
/// SHA-256 of both, so a changed setting never re-uses an old unit.
/// </summary>
public static class UnitIdentity
{
    /// <summary>Bump when a unit's payload or the code that computes it changes meaning: old units then no longer
    /// match.</summary>
    public const int Format = 1;

    /// <summary>Lower-case hex SHA-256 of <paramref name="text"/> (UTF-8).</summary>
    public static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>The unit's hash: its file name without extension.</summary>
    public static string Hash(string settingsHash, string identity) => Sha256(settingsHash + "\n" + identity);

    /// <summary>The kind of a unit: its identity's leading segments without settings
    /// (<c>reconstruction/fit</c>).</summary>
    public static string Kind(string identity) =>
        string.Join('/', identity.Split('/').TakeWhile(s => !s.Contains('=')));
}
