using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using static TorchSharp.torch;

namespace Abba.Core.Randomness;

/// <summary>
/// Seeds for units of work. A unit (one fit, one fine-tuning arm, one measurement, one adapted module) derives its own
/// seed from the run's seed and its stable identity, and draws only from generators made from that seed, so its result
/// does not depend on which units ran before it or in which order. Nothing in Abba.Core uses torch's global generator.
/// </summary>
public static class UnitSeed
{
    /// <summary>
    /// A seed in [0, 2^63) from <paramref name="runSeed"/> and <paramref name="identity"/> (for example
    /// <c>"mnist/finetune/method=abba/seed=3"</c>): the first 8 bytes of SHA-256 over both, stable across processes,
    /// machines and .NET versions (unlike <see cref="string.GetHashCode()"/>).
    /// </summary>
    public static long Derive(long runSeed, string identity)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{runSeed}\u001f{identity}"), hash);
        return (long)(BinaryPrimitives.ReadUInt64LittleEndian(hash) & long.MaxValue);
    }

    /// <summary>A fresh .NET generator seeded with <paramref name="seed"/>
    /// (its 63 bits folded to the 31 that <see cref="Random"/> takes).</summary>
    public static Random NewRandom(long seed) => new((int)((seed ^ (seed >> 31) ^ (seed >> 62)) & int.MaxValue));

    /// <summary>A fresh CPU torch generator seeded with <paramref name="seed"/>
    /// (draw on the CPU, then move the tensor).</summary>
    public static Generator NewGenerator(long seed) => new((ulong)seed, CPU);
}
