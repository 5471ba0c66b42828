using System.Buffers.Binary;
using System.Text;

namespace Abba.Tests.Native;

/// <summary>
/// A minimal 64-bit little-endian ELF shared object, written field by field from the ELF/gABI layout, with a
/// .dynstr string table and a .gnu.version_r (SHT_GNU_verneed) section of two Verneed records with two Vernaux
/// entries each. It knows where it put every vna_flags field, so tests do not rely on the parser under test.
/// </summary>
static class SyntheticElf
{
    public const string Target = "GLIBCXX_3.4.32";
    const uint ShtStrtab = 3, ShtGnuVerneed = 0x6ffffffe;
    const int HeaderSize = 64, SectionHeaderSize = 64, VerneedSize = 16, VernauxSize = 16;

    /// <summary>Builds the image; <paramref name="targetName"/> replaces the name of the entry tests look for.</summary>
    /// <returns>The bytes and the file offset of the target entry's 2-byte vna_flags field.</returns>
    public static (byte[] Image, int TargetFlagsOffset) Build(string targetName = Target, ushort targetFlags = 0)
    {
        // Verneed 0: libc.so.6 {GLIBC_2.2.5, GLIBC_2.14}; Verneed 1: libstdc++.so.6 {GLIBCXX_3.4.26, target}.
        // The target is last in both lists, so a parser must follow vn_next and vna_next to reach it.
        string[] strings = ["libc.so.6", "GLIBC_2.2.5", "GLIBC_2.14", "libstdc++.so.6", "GLIBCXX_3.4.26", targetName];
        var (dynstr, nameAt) = StringTable(strings);
        const int dynstrAt = HeaderSize;
        int verneedAt = Align(dynstrAt + dynstr.Length, 8);
        int verneedSize = 2 * (VerneedSize + 2 * VernauxSize);
        int shoff = Align(verneedAt + verneedSize, 8);
        var image = new byte[shoff + 3 * SectionHeaderSize];

        WriteElfHeader(image, shoff, sectionCount: 3);
        dynstr.CopyTo(image, dynstrAt);
        int at = verneedAt;
        at = WriteVerneed(image, at, nameAt["libc.so.6"], last: false,
            (nameAt["GLIBC_2.2.5"], 0, 3), (nameAt["GLIBC_2.14"], 0, 4));
        int libstdcxx = at;
        WriteVerneed(image, at, nameAt["libstdc++.so.6"], last: true,
            (nameAt["GLIBCXX_3.4.26"], 0, 5), (nameAt[targetName], targetFlags, 6));
        int targetFlagsOffset = libstdcxx + VerneedSize + VernauxSize + 4;

        WriteSectionHeader(image, shoff + 1 * SectionHeaderSize, ShtStrtab, dynstrAt, dynstr.Length, link: 0, info: 0);
        WriteSectionHeader(image, shoff + 2 * SectionHeaderSize, ShtGnuVerneed, verneedAt, verneedSize, link: 1, info: 2);
        return (image, targetFlagsOffset);
    }

    static (byte[] Bytes, Dictionary<string, uint> Offsets) StringTable(string[] strings)
    {
        var bytes = new List<byte> { 0 };
        var offsets = new Dictionary<string, uint>();
        foreach (var s in strings)
        {
            offsets[s] = (uint)bytes.Count;
            bytes.AddRange(Encoding.ASCII.GetBytes(s));
            bytes.Add(0);
        }
        return ([.. bytes], offsets);
    }

    static void WriteElfHeader(byte[] b, int shoff, int sectionCount)
    {
        b[0] = 0x7F; b[1] = (byte)'E'; b[2] = (byte)'L'; b[3] = (byte)'F';
        b[4] = 2;                                        // EI_CLASS: ELFCLASS64
        b[5] = 1;                                        // EI_DATA: little-endian
        b[6] = 1;                                        // EI_VERSION
        U16(b, 0x10, 3);                                 // e_type: ET_DYN
        U16(b, 0x12, 62);                                // e_machine: x86-64
        U32(b, 0x14, 1);                                 // e_version
        U64(b, 0x28, (ulong)shoff);                      // e_shoff
        U16(b, 0x34, HeaderSize);                        // e_ehsize
        U16(b, 0x3A, SectionHeaderSize);                 // e_shentsize
        U16(b, 0x3C, (ushort)sectionCount);              // e_shnum
        U16(b, 0x3E, 0);                                 // e_shstrndx: none
    }

    /// <returns>The offset just past this record and its auxiliary entries.</returns>
    static int WriteVerneed(byte[] b, int at, uint file, bool last, params (uint Name, ushort Flags, ushort Other)[] aux)
    {
        int size = VerneedSize + aux.Length * VernauxSize;
        U16(b, at, 1);                                   // vn_version
        U16(b, at + 2, (ushort)aux.Length);              // vn_cnt
        U32(b, at + 4, file);                            // vn_file
        U32(b, at + 8, VerneedSize);                     // vn_aux
        U32(b, at + 12, last ? 0u : (uint)size);         // vn_next
        for (int i = 0; i < aux.Length; i++)
        {
            int a = at + VerneedSize + i * VernauxSize;
            U32(b, a, 0x0d696910u + (uint)i);            // vna_hash (any value: nothing checks it)
            U16(b, a + 4, aux[i].Flags);                 // vna_flags
            U16(b, a + 6, aux[i].Other);                 // vna_other
            U32(b, a + 8, aux[i].Name);                  // vna_name
            U32(b, a + 12, i == aux.Length - 1 ? 0u : VernauxSize); // vna_next
        }
        return at + size;
    }

    static void WriteSectionHeader(byte[] b, int at, uint type, int offset, int size, uint link, uint info)
    {
        U32(b, at + 4, type);                            // sh_type
        U64(b, at + 24, (ulong)offset);                  // sh_offset
        U64(b, at + 32, (ulong)size);                    // sh_size
        U32(b, at + 40, link);                           // sh_link
        U32(b, at + 44, info);                           // sh_info
        U64(b, at + 48, type == ShtGnuVerneed ? 8u : 1u);  // sh_addralign
    }

    static int Align(int value, int to) => (value + to - 1) / to * to;
    static void U16(byte[] b, int at, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at), v);
    static void U32(byte[] b, int at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), v);
    static void U64(byte[] b, int at, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), v);
}
