using Abba.Experiments.Output;

namespace Abba.Experiments.Report;

/// <summary>The working tree a run was made from.</summary>
enum Tree
{
    /// <summary>Tracked code equalled the recorded commit.</summary>
    Clean,
    /// <summary>Tracked code differed from the recorded commit.</summary>
    Dirty,
    /// <summary>No commit was recorded.</summary>
    Unknown,
}

/// <summary>Whether a run's results were made by the code of today's build, and from a clean tree.</summary>
/// <param name="Recorded">The run recorded the hashes of its sources (runs made before they were recorded did
/// not).</param>
/// <param name="Changes">The files changed, added or removed since the run ("path (changed)"), empty when
/// current.</param>
/// <param name="Tree">The tree it was made from.</param>
sealed record CodeCheck(bool Recorded, IReadOnlyList<string> Changes, Tree Tree)
{
    /// <summary>Made by today's code: recorded and nothing changed.</summary>
    public bool Current => Recorded && Changes.Count == 0;

    /// <summary>Compares <paramref name="run"/>'s recorded sources with <paramref name="today"/>.</summary>
    public static CodeCheck Of(RunFacts run, SourceHashes today)
    {
        string commit = run.Get("git_commit");
        var tree = commit is "?" or "" ? Tree.Unknown
            : commit.EndsWith("-dirty", StringComparison.Ordinal) ? Tree.Dirty : Tree.Clean;
        return run.Sources is { } recorded
            ? new CodeCheck(true, today.ChangesSince(recorded), tree)
            : new CodeCheck(false, [], tree);
    }

    /// <summary>The README table's cell: "today's", "changed (3 files)" or "not recorded".</summary>
    public string Cell => !Recorded ? "not recorded" : Current ? "today's" : $"changed ({Changes.Count} files)";

    /// <summary>One sentence for the report, naming up to <paramref name="shown"/> changed files.</summary>
    public string Sentence(int shown = 12)
    {
        string tree = Tree switch
        {
            Tree.Clean => "from a clean tree",
            Tree.Dirty => "from a dirty tree (tracked code differed from the recorded commit)",
            _ => "from an unrecorded tree",
        };
        if (!Recorded)
            return "Code: not recorded (the run predates source hashing, " +
                   $"so whether today's code gives the same results is unknown); made {tree}.";
        if (Current) return $"Code: made by today's code (every source it depends on is unchanged), {tree}.";
        string list = string.Join(", ", Changes.Take(shown).Select(c => $"`{c}`"))
                      + (Changes.Count > shown ? $" and {Changes.Count - shown} more" : "");
        return $"Code: **not today's**: {Changes.Count} of the files it depends on differ from this build " +
               $"({list}); made {tree}.";
    }
}
