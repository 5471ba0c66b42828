using System.Text;
using System.Text.Json;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using static Abba.Experiments.Report.Markdown;

namespace Abba.Experiments.Report;

/// <summary>
/// Every setting of a run with its value (from the manifest's <c>configuration</c>) and its source (stated by the
/// paper, inferred, chosen here) and why. A setting the manifest lacks (the run predates it) shows the value the
/// run's profile gives it today, marked as such.
/// </summary>
static class SettingsTable
{
    /// <summary>REPORT.md's table of the run in <paramref name="folder"/>.</summary>
    public static void AppendRun(StringBuilder md, IExperiment experiment, string folder)
    {
        var rows = Rows(experiment, folder);
        if (rows.Count == 0) return;
        md.AppendLine("Settings of this run, each **stated** by the paper, **inferred** from it, or **chosen** here:")
            .AppendLine();
        md.AppendLine("| setting | value | source | why |").AppendLine("|---|---|---|---|");
        foreach (var (name, value, p) in rows)
            md.AppendLine($"| `{name}` | {Cell(value)} | {p.Word} | {Cell(p.Note)} |");
        md.AppendLine();
    }

    /// <summary>The README's table: every experiment's settings with their sources, folded.</summary>
    public static void AppendAll(StringBuilder md, string root, IReadOnlyList<IExperiment> experiments)
    {
        md.AppendLine("### Settings: stated by the paper, inferred from it, or chosen here").AppendLine();
        md.AppendLine("Every experiment setting of the committed runs " +
                      "(values from each `manifest.json`'s `configuration`; " +
                      "the same sources are written beside it as `configuration_provenance`).").AppendLine();
        md.AppendLine("<details><summary>The table</summary>").AppendLine();
        md.AppendLine("| experiment | setting | value | source | why |").AppendLine("|---|---|---|---|---|");
        foreach (var e in experiments)
            foreach (var (name, value, p) in Rows(e, Path.Combine(root, e.Info.Name)))
                md.AppendLine($"| `{e.Info.Name}` | `{name}` | {Cell(Shorten(value, 60))} | {p.Word} | " +
                              $"{Cell(p.Note)} |");
        md.AppendLine().AppendLine("</details>").AppendLine();
    }

    static List<(string Name, string Value, SettingProvenance Provenance)> Rows(IExperiment experiment, string folder)
    {
        var entries = SettingSources.Of(experiment);
        string path = Path.Combine(folder, "manifest.json");
        if (entries.Count == 0 || !File.Exists(path)) return [];
        using var doc = Manifest.Load(path);
        var root = doc.RootElement;
        bool has = root.TryGetProperty("configuration", out var configuration)
                   && configuration.ValueKind == JsonValueKind.Object;
        var defaults = new Lazy<JsonElement?>(() => ProfileDefaults(experiment, root));
        return [.. entries.Select(e => (e.ManifestName, Value(e.ManifestName), e.Provenance))];

        string Value(string name)
        {
            if (has && configuration.TryGetProperty(name, out var v)) return SettingValue(v);
            return defaults.Value is { } d && d.TryGetProperty(name, out var dv)
                ? $"{SettingValue(dv)} (not in this run's manifest: its profile's value today)"
                : "not in this run's manifest";
        }
    }

    /// <summary>The options the run's profile gives today, as the manifest would record them.</summary>
    static JsonElement? ProfileDefaults(IExperiment experiment, JsonElement manifest)
    {
        if (!manifest.TryGetProperty("profile", out var p) || Profiles.Parse(p.GetString()) is not { } profile)
            return null;
        var defaults = new RunSettings(profile, 0, 0, "cpu", 0, RunSettings.DefaultOutputRoot);
        var plan = experiment.Configure(OptionValues.Defaults, defaults);
        return plan.Plan is { } run ? Manifest.ToJson(run.Options) : null;
    }

    static string SettingValue(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Array => string.Join(", ", v.EnumerateArray().Select(SettingValue)),
        JsonValueKind.Object => string.Join(", ", v.EnumerateObject().Select(p => $"{p.Name} {SettingValue(p.Value)}")),
        JsonValueKind.String when Path.IsPathRooted(v.GetString()) => MachinePath(v.GetString()!),
        _ => v.ToString(),
    };

    /// <summary>An absolute path of the machine that ran the experiment, shortened to its last two parts
    /// (".../data/mnist").</summary>
    static string MachinePath(string path)
    {
        var parts = path.TrimEnd('/', '\\').Split('/', '\\');
        return ".../" + string.Join('/', parts.TakeLast(2));
    }
}
