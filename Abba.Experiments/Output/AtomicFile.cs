namespace Abba.Experiments.Output;

/// <summary>
/// Writes files so that an interrupted run leaves either the old file or the new one, never half of one:
/// the content goes to a temporary file in the same folder, which is then renamed over the target.
/// </summary>
public static class AtomicFile
{
    /// <summary>Calls <paramref name="write"/> with a temporary path, then renames it to <paramref
    /// name="path"/>.</summary>
    public static void Write(string path, Action<string> write)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        // Same folder (so the rename is atomic), hidden, and keeping the extension for writers that check it.
        string temp = Path.Combine(Path.GetDirectoryName(full)!,
            "." + Path.GetFileNameWithoutExtension(full) + ".tmp-" + Guid.NewGuid().ToString("N")[..8]
            + Path.GetExtension(full));
        try
        {
            write(temp);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Writes <paramref name="text"/> (UTF-8, no BOM) atomically.</summary>
    public static void WriteText(string path, string text) => Write(path, t => File.WriteAllText(t, text));

    /// <summary>Writes <paramref name="bytes"/> atomically.</summary>
    public static void WriteBytes(string path, byte[] bytes) => Write(path, t => File.WriteAllBytes(t, bytes));
}
