using System.Globalization;
using System.Text.RegularExpressions;

namespace Abba.Tests.Native;

/// <summary>binutils' readelf, an independent reader of the version-needs section.</summary>
static partial class Readelf
{
    public static bool Available { get; } =
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, "readelf")));

    /// <summary>The requirement <paramref name="name"/> as <c>readelf -V</c> shows it.</summary>
    /// <returns>File offset of its vna_flags (section offset + entry offset + 4) and its flags text.</returns>
    public static (long FlagsOffset, string Flags) VersionNeed(string path, string name)
    {
        string text = ElfVersionPatchTests.Run("readelf", "-V", "-W", path);
        int section = text.IndexOf("Version needs section", StringComparison.Ordinal);
        Assert.True(section >= 0, "readelf -V shows no version-needs section");
        var header = SectionOffset().Match(text, section);
        var entry = Entry(Regex.Escape(name)).Match(text, section);
        Assert.True(header.Success && entry.Success, $"readelf -V does not list {name}");
        long at = Hex(header.Groups[1].Value) + Hex(entry.Groups[1].Value) + 4;
        return (at, entry.Groups[2].Value);
    }

    static long Hex(string s) => long.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"Offset: 0x([0-9a-fA-F]+)")]
    private static partial Regex SectionOffset();

    static Regex Entry(string name) => new($@"0x([0-9a-fA-F]+):\s+Name: {name}\s+Flags: (\S+)");
}
