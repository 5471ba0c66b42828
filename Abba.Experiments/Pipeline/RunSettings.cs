using Abba.Experiments.Units;

namespace Abba.Experiments.Pipeline;

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
/// <param name="OutputRoot">Results root: each profile gets a folder in it, each experiment a folder in that.</param>
/// <param name="Shard">Run only this shard's units and store them (no CSVs); null runs every unit.</param>
/// <param name="Fresh">Remove the experiment's stored units and pre-training cache first.</param>
public sealed record RunSettings(
    Profile Profile, int Seed, int Seeds, string Device, int Threads, string OutputRoot, Shard? Shard = null,
    bool Fresh = false)
{
    /// <summary>The profile's name on the command line and as a folder: tiny, quick or paper.</summary>
    public string ProfileName => Profile.ToString().ToLowerInvariant();

    /// <summary>The folder of this profile's results: <c>OUT/PROFILE/</c>.</summary>
    public string ProfileRoot => Path.GetFullPath(Path.Combine(OutputRoot, ProfileName));

    /// <summary>The folder of one experiment's results: <c>OUT/PROFILE/NAME/</c>.</summary>
    public string FolderOf(string experiment) => Path.Combine(ProfileRoot, experiment);

    /// <summary>Default output root: <c>results/</c> under the current directory.</summary>
    public const string DefaultOutputRoot = "results";

    /// <summary>The seeds to run: <paramref name="profileDefault"/> of them unless <see cref="Seeds"/> says
    /// otherwise.</summary>
    public IReadOnlyList<int> SeedList(int profileDefault) =>
        Enumerable.Range(Seed, Seeds > 0 ? Seeds : profileDefault).ToArray();

    /// <summary>The preset of <see cref="Profile"/>: one of an experiment's three.</summary>
    public T Preset<T>(T tiny, T quick, T paper) => Profiles.Pick(Profile, tiny, quick, paper);
}

/// <summary>Profiles by name, as the command line and the manifests write them.</summary>
public static class Profiles
{
    /// <summary>The profile called <paramref name="name"/> ("quick", "paper" or "tiny"), or null.</summary>
    public static Profile? Parse(string? name) =>
        Enum.GetValues<Profile>().Cast<Profile?>().FirstOrDefault(p => p.ToString()!.ToLowerInvariant() == name);

    /// <summary>The value of <paramref name="profile"/> among an experiment's three presets.</summary>
    public static T Pick<T>(Profile profile, T tiny, T quick, T paper) =>
        profile switch { Profile.Tiny => tiny, Profile.Paper => paper, _ => quick };

    /// <summary>
    /// What a claim's criterion adds for the run in <paramref name="folder"/>: nothing for the paper profile,
    /// " (quick profile)" and the like for the others, so a verdict on a smaller run is never read as the paper's.
    /// </summary>
    public static string LabelOf(string folder) =>
        Output.Manifest.ProfileOf(folder) is var name && Parse(name) == Profile.Paper ? "" : $" ({name} profile)";
}
