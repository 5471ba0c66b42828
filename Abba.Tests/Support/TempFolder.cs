namespace Abba.Tests.Support;

/// <summary>A fresh folder under the system temp directory, deleted on dispose.</summary>
sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("abba-tests-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string[] Entries() => [.. Directory.GetFileSystemEntries(Path).Select(e => System.IO.Path.GetFileName(e)).Order()];

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
