using System.Text.Json;

namespace Abba.Experiments.Pipeline;

/// <summary>
/// The provenance of an experiment's settings (stated by the paper, inferred, or chosen), which each experiment keeps
/// beside its options (<c>&lt;Name&gt;/Options.cs</c>, <c>Provenance</c>). The manifest writes it beside the
/// configuration
/// (<c>configuration_provenance</c>, so unit hashes do not change) and the report renders it per experiment.
/// </summary>
public static class SettingSources
{
    /// <summary>The provenance of <paramref name="experiment"/>'s settings by their manifest (snake_case)
    /// names.</summary>
    public static IReadOnlyDictionary<string, SettingProvenance> ForManifest(IExperiment experiment) =>
        ForManifest(experiment.Provenance);

    /// <summary><paramref name="provenance"/> (by property name) by manifest (snake_case) names.</summary>
    public static IReadOnlyDictionary<string, SettingProvenance> ForManifest(
        IReadOnlyDictionary<string, SettingProvenance> provenance) =>
        provenance.ToDictionary(e => JsonNamingPolicy.SnakeCaseLower.ConvertName(e.Key), e => e.Value);

    /// <summary>The provenance of <paramref name="experiment"/>'s settings in declaration order, with their manifest
    /// names.</summary>
    public static IReadOnlyList<(string Name, string ManifestName, SettingProvenance Provenance)> Of(
        IExperiment experiment) =>
        [.. experiment.Provenance.Select(e => (e.Key, JsonNamingPolicy.SnakeCaseLower.ConvertName(e.Key), e.Value))];
}
