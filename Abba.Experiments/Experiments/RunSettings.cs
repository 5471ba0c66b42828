namespace Abba.Experiments.Experiments;

/// <summary>How much compute an experiment spends.</summary>
public enum Profile
{
    /// <summary>CPU-friendly defaults that finish in minutes.</summary>
    Quick,
    /// <summary>The paper's settings.</summary>
    Paper,
    /// <summary>Seconds, for smoke tests: every experiment's smallest run that still writes every file.</summary>
    Tiny,
}

/// <summary>The options every experiment shares, validated before any work starts.</summary>
/// <param name="Profile">Quick, paper or tiny settings.</param>
/// <param name="Seed">First seed.</param>
/// <param name="Seeds">Number of seeds (seed, seed+1, ...); 0 means the profile's own default.</param>
/// <param name="Device">auto, cpu or cuda.</param>
/// <param name="Threads">libtorch intra-op threads; 0 keeps the default.</param>
/// <param name="OutputRoot">Folder that receives one sub-folder per experiment.</param>
public sealed record RunSettings(Profile Profile, int Seed, int Seeds, string Device, int Threads, string OutputRoot)
{
    /// <summary>Default output root: <c>results/</c> under the current directory.</summary>
    public const string DefaultOutputRoot = "results";

    /// <summary>The seeds to run: <paramref name="profileDefault"/> of them unless <see cref="Seeds"/> says otherwise.</summary>
    public IReadOnlyList<int> SeedList(int profileDefault) =>
        Enumerable.Range(Seed, Seeds > 0 ? Seeds : profileDefault).ToArray();

    /// <summary>The preset of <see cref="Profile"/>: one of an experiment's three.</summary>
    public T Preset<T>(T tiny, T quick, T paper) => Profile switch { Profile.Tiny => tiny, Profile.Paper => paper, _ => quick };
}
