// Marks one symbol-version requirement of an ELF shared library as weak (VER_FLG_WEAK), so the dynamic
// loader accepts a library whose libstdc++ lacks that version. Used on TorchSharp's libLibTorchSharp.so,
// whose GLIBCXX_3.4.32 requirement covers only std::ios_base_library_init(), a link-time marker.
//
// This file is compiled twice: into Abba.Core (ABBA_CORE defined) and, by MSBuild's RoslynCodeTaskFactory,
// into the build task declared in Directory.Build.targets. Keep it to netstandard2.0 APIs and classic syntax.
#nullable enable
using System;
using System.IO;
using System.Text;

namespace Abba.Core.Native
{
    /// <summary>What <see cref="ElfVersionPatch"/> did to a library.</summary>
    public enum ElfPatchOutcome
    {
        /// <summary>The requirement was strong and is now weak.</summary>
        Patched,
        /// <summary>The requirement was already weak; nothing was written.</summary>
        AlreadyWeak,
        /// <summary>The library does not require that version; nothing was written.</summary>
        EntryAbsent,
    }

    /// <summary>The input is not a well-formed 64-bit little-endian ELF file.</summary>
    public sealed class ElfFormatException : Exception
    {
        /// <summary>Creates the exception with a message naming the problem.</summary>
        public ElfFormatException(string message) : base(message) { }
    }

    /// <summary>Edits the <c>vna_flags</c> of one <c>.gnu.version_r</c> auxiliary entry.</summary>
    public static class ElfVersionPatch
    {
        /// <summary>The weak-version flag of <c>vna_flags</c>.</summary>
        public const ushort VerFlagWeak = 0x2;
        const uint ShtGnuVerneed = 0x6ffffffe;
        const int MaxEntries = 1 << 16;

        /// <summary>
        /// Finds the file offset of the two-byte <c>vna_flags</c> field of the requirement named
        /// <paramref name="versionName"/>, or -1 when the library does not require it.
        /// </summary>
        public static long FindVersionFlagsOffset(byte[] image, string versionName)
        {
            RequireElf64LittleEndian(image);
            ulong shoff = U64(image, 0x28, "e_shoff");
            int shentsize = U16(image, 0x3A, "e_shentsize");
            int shnum = U16(image, 0x3C, "e_shnum");
            if (shoff == 0 || shnum == 0) return -1;
            if (shentsize < 64)
                throw new ElfFormatException("ELF section header size " + shentsize + " is smaller than 64 bytes.");
            for (int i = 0; i < shnum; i++)
            {
                long sh = Offset(shoff + (ulong)i * (ulong)shentsize, image, 64, "section header " + i);
                if (U32(image, sh + 4, "sh_type") != ShtGnuVerneed) continue;
                return SearchVerneed(image, sh, shoff, shentsize, shnum, versionName);
            }
            return -1;
        }

        /// <summary>Patches <paramref name="image"/> in place and says what it did.</summary>
        public static ElfPatchOutcome PatchBytes(byte[] image, string versionName)
        {
            long at = FindVersionFlagsOffset(image, versionName);
            if (at < 0) return ElfPatchOutcome.EntryAbsent;
            ushort flags = (ushort)(image[at] | (image[at + 1] << 8));
            if ((flags & VerFlagWeak) != 0) return ElfPatchOutcome.AlreadyWeak;
            flags |= VerFlagWeak;
            image[at] = (byte)(flags & 0xFF);
            image[at + 1] = (byte)(flags >> 8);
            return ElfPatchOutcome.Patched;
        }

        /// <summary>
        /// Patches the file at <paramref name="path"/>. The new bytes go to a temporary file that then replaces
        /// the original, so a hard link into a package cache is never written through.
        /// </summary>
        public static ElfPatchOutcome PatchFile(string path, string versionName)
        {
            if (!File.Exists(path)) throw new FileNotFoundException("No such library: " + path, path);
            byte[] image = File.ReadAllBytes(path);
            ElfPatchOutcome outcome = PatchBytes(image, versionName);
            if (outcome != ElfPatchOutcome.Patched) return outcome;
            string temp = path + ".abba-patch.tmp";
            File.WriteAllBytes(temp, image);
            File.Replace(temp, path, null);   // a rename: atomic, and never writes through a hard link
            return outcome;
        }

        static long SearchVerneed(byte[] image, long sh, ulong shoff, int shentsize, int shnum, string versionName)
        {
            long section = Offset(U64(image, sh + 24, "sh_offset"), image, 0, "version section");
            uint link = U32(image, sh + 40, "sh_link");
            uint count = U32(image, sh + 44, "sh_info");
            if (link >= shnum)
                throw new ElfFormatException("Version section links to missing string table " + link + ".");
            long strSh = Offset(shoff + link * (ulong)shentsize, image, 64, "string table header");
            long strtab = Offset(U64(image, strSh + 24, "sh_offset"), image, 0, "string table");
            long need = section;
            for (uint n = 0; n < count && n < MaxEntries; n++)
            {
                int auxCount = U16(image, need + 2, "vn_cnt");
                long aux = need + U32(image, need + 8, "vn_aux");
                for (int a = 0; a < auxCount; a++)
                {
                    string name = CString(image, strtab + U32(image, aux + 8, "vna_name"));
                    if (name == versionName) return aux + 4;
                    uint nextAux = U32(image, aux + 12, "vna_next");
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = U32(image, need + 12, "vn_next");
                if (next == 0) break;
                need += next;
            }
            return -1;
        }

        static void RequireElf64LittleEndian(byte[] image)
        {
            if (image.Length < 4 || image[0] != 0x7F || image[1] != (byte)'E' || image[2] != (byte)'L'
                || image[3] != (byte)'F')
                throw new ElfFormatException("Not an ELF file (the first four bytes are not 0x7F 'E' 'L' 'F').");
            if (image.Length < 64)
                throw new ElfFormatException(
                    "Truncated ELF file: " + image.Length + " bytes, shorter than the 64-byte header.");
            if (image[4] != 2 || image[5] != 1)
                throw new ElfFormatException("Only 64-bit little-endian ELF files are supported.");
        }

        static long Offset(ulong value, byte[] image, int need, string what)
        {
            if (value > (ulong)image.Length || (ulong)image.Length - value < (ulong)need)
                throw new ElfFormatException("Truncated ELF file: " + what + " at offset " + value +
                    " lies beyond its " + image.Length + " bytes.");
            return (long)value;
        }

        static int U16(byte[] b, long at, string what)
        {
            Offset((ulong)at, b, 2, what);
            return b[at] | (b[at + 1] << 8);
        }

        static uint U32(byte[] b, long at, string what)
        {
            Offset((ulong)at, b, 4, what);
            return (uint)(b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24));
        }

        static ulong U64(byte[] b, long at, string what)
        {
            Offset((ulong)at, b, 8, what);
            return U32(b, at, what) | ((ulong)U32(b, at + 4, what) << 32);
        }

        static string CString(byte[] b, long at)
        {
            Offset((ulong)at, b, 1, "version name");
            long end = at;
            while (end < b.Length && b[end] != 0) end++;
            if (end == b.Length)
                throw new ElfFormatException("Truncated ELF file: a version name runs past the end of the file.");
            return Encoding.ASCII.GetString(b, (int)at, (int)(end - at));
        }
    }

#if !ABBA_CORE
    /// <summary>MSBuild task wrapper: patches every given file, logging what it did.</summary>
    public class PatchElfVersionTask : Microsoft.Build.Utilities.Task
    {
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = new Microsoft.Build.Framework.ITaskItem[0];
        public string VersionName { get; set; } = "";

        public override bool Execute()
        {
            foreach (var item in Files)
            {
                string path = item.GetMetadata("FullPath");
                try
                {
                    ElfPatchOutcome outcome = ElfVersionPatch.PatchFile(path, VersionName);
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                        "abba: " + VersionName + " in " + path + ": " + outcome);
                }
                catch (Exception e)
                {
                    Log.LogError("abba: could not patch " + path + ": " + e.Message);
                }
            }
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
