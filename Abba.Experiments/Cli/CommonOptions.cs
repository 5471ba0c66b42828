using System.CommandLine;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Report;
using Abba.Experiments.Units;
using Profile = Abba.Experiments.Pipeline.Profile;

namespace Abba.Experiments.Cli;

/// <summary>The options every run shares (profile, seeds, device, threads, results folder, resume, shards), read
/// once.</summary>
sealed class CommonOptions
{
    public readonly Option<string> Profile = new("--profile")
    {
        Description = "quick (CPU-friendly default), paper (the paper's settings) or tiny (seconds, for smoke tests)",
        DefaultValueFactory = _ => "quick",
    };
    public readonly Option<int> Seed = new("--seed") { Description = "first seed", DefaultValueFactory = _ => 0 };
    public readonly Option<int?> Seeds = new("--seeds")
    {
        Description = "number of seeds (seed, seed+1, ...); default: the profile's",
    };
    public readonly Option<string> Device = new("--device")
    {
        Description = "auto, cpu or cuda", DefaultValueFactory = _ => "auto",
    };
    public readonly Option<int> Threads = new("--threads")
    {
        Description = "libtorch threads (0 = libtorch's default; ablation then uses 1)", DefaultValueFactory = _ => 0,
    };
    public readonly Option<string> Output = new("--out")
    {
        Description = "results root folder", DefaultValueFactory = _ => RunSettings.DefaultOutputRoot,
    };
    public readonly Option<bool> Fresh = new("--fresh")
    {
        Description = "start over: remove the experiment's stored units and pre-training cache first " +
                      "(default: resume, re-using units stored with the same settings)",
    };
    public readonly Option<string?> Shard = new("--shard")
    {
        Description = "I/N: compute only shard I of N (counting from 1) of the units and store them; abba merge then " +
                      "builds the outputs",
    };
    public readonly Option<string[]> From = new("--from")
    {
        Description = "another results root whose units to merge (a shard's --out); repeat for each",
        AllowMultipleArgumentsPerToken = false,
    };
    public readonly Option<int> Jobs = new("--jobs")
    {
        Description = "experiments run side by side, each in its own process with cores/jobs libtorch threads (or " +
                      "--threads); memory and efficiency then run alone. 0 = one per core on the CPU, 1 on a GPU",
        DefaultValueFactory = _ => 0,
    };
    public readonly Option<string?> Readme = new("--readme")
    {
        Description = "also rewrite the generated results section (runs, claims, figures) of this README",
    };

    /// <summary>Adds the options of a run that may compute: the settings, --fresh and --shard.</summary>
    public void AddRunOptions(Command cmd)
    {
        AddSettingsOptions(cmd);
        cmd.Options.Add(Fresh);
        cmd.Options.Add(Shard);
    }

    /// <summary>Adds the options that decide a run's results (and so its units): a merge takes the same as its
    /// shards.</summary>
    public void AddSettingsOptions(Command cmd)
    {
        foreach (var o in new Option[] { Profile, Seed, Seeds, Device, Threads, Output }) cmd.Options.Add(o);
    }

    /// <summary>The run's settings, or null with one line per problem added to <paramref name="problems"/>.</summary>
    public RunSettings? Read(ParseResult parse, List<string> problems)
    {
        int before = problems.Count;
        string profileText = parse.GetValue(Profile)!;
        Profile? p = ParseProfile(profileText);
        if (p is null) problems.Add($"--profile must be quick, paper or tiny (got '{profileText}')");
        int s = parse.GetValue(Seed);
        if (s < 0) problems.Add($"--seed must be 0 or more (got {s})");
        int? k = parse.GetValue(Seeds);
        if (k is < 1) problems.Add($"--seeds must be 1 or more (got {k})");
        string d = parse.GetValue(Device)!;
        if (d is not ("auto" or "cpu" or "cuda")) problems.Add($"--device must be auto, cpu or cuda (got '{d}')");
        int t = parse.GetValue(Threads);
        if (t < 0) problems.Add($"--threads must be 0 or more (got {t})");
        string o = parse.GetValue(Output)!;
        if (string.IsNullOrWhiteSpace(o)) problems.Add("--out must name a folder");
        Shard? part = null;
        if (parse.GetResult(Shard) is not null && parse.GetValue(Shard) is { } shardText)
        {
            part = Units.Shard.Parse(shardText, out string? shardProblem);
            if (part is null) problems.Add(shardProblem!);
        }
        bool fresh = parse.GetResult(Fresh) is not null && parse.GetValue(Fresh);
        return problems.Count > before ? null : new RunSettings(p!.Value, s, k ?? 0, d, t, o, part, fresh);
    }

    /// <summary>The profile's results folder for plot and report (OUT/PROFILE), or null with the problem.</summary>
    public string? ReadRoot(ParseResult parse, out string? problem)
    {
        problem = null;
        string profileText = parse.GetValue(Profile)!;
        string o = parse.GetValue(Output)!;
        if (ParseProfile(profileText) is not { } p)
            problem = $"--profile must be quick, paper or tiny (got '{profileText}')";
        else if (File.Exists(o)) problem = $"--out: '{o}' is a file; give the results root folder";
        else return new RunSettings(p, 0, 0, "cpu", 0, o).ProfileRoot;
        return null;
    }

    static Profile? ParseProfile(string text) =>
        Profiles.Parse(text);

    /// <summary>Why results cannot be written under <c>--out</c> (a file, or not writable), or null; creates the
    /// profile folder.</summary>
    public static string? OutputProblem(RunSettings settings)
    {
        if (File.Exists(settings.OutputRoot))
            return $"--out: '{settings.OutputRoot}' is a file; give a folder for the results";
        try
        {
            Directory.CreateDirectory(settings.ProfileRoot);
            string probe = Path.Combine(settings.ProfileRoot, $".write-test-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return null;
        }
        catch (Exception e)
            when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return $"--out: cannot write results under '{settings.OutputRoot}' ({e.Message})";
        }
    }

    /// <summary>Why <paramref name="path"/> cannot take the generated results section, or null when it can.</summary>
    public static string? ReadmeProblem(string? path)
    {
        if (path is null) return null;
        if (!File.Exists(path)) return $"--readme: no file '{path}'";
        try
        {
            ReadmeSection.Replace(File.ReadAllText(path), "");
            return null;
        }
        catch (InvalidDataException e) { return $"--readme: {path}: {e.Message}"; }
    }
}
