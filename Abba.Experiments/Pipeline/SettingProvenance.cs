using Abba.Experiments.Units;
namespace Abba.Experiments.Pipeline;

/// <summary>Where a setting's value comes from.</summary>
public enum SettingSource
{
    /// <summary>The paper states it.</summary>
    Stated,
    /// <summary>Inferred from the paper (its figures, its released code), not stated.</summary>
    Inferred,
    /// <summary>Chosen here; the paper is silent.</summary>
    Chosen,
}

/// <summary>One setting's source and why.</summary>
/// <param name="Source">Stated, inferred or chosen.</param>
/// <param name="Note">The evidence or the reason, in a few words.</param>
public sealed record SettingProvenance(SettingSource Source, string Note)
{
    /// <summary>The note for a setting the paper says nothing about.</summary>
    public const string Silent = "the paper does not say";

    /// <summary>A setting the paper states.</summary>
    public static SettingProvenance Stated(string note) => new(SettingSource.Stated, note);

    /// <summary>A setting inferred from the paper (its figures, its released code).</summary>
    public static SettingProvenance Inferred(string note) => new(SettingSource.Inferred, note);

    /// <summary>A setting chosen here.</summary>
    public static SettingProvenance Chosen(string note) => new(SettingSource.Chosen, note);

    /// <summary>"stated", "inferred" or "chosen", as the manifest and the report write it.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Word => Source.ToString().ToLowerInvariant();
}
