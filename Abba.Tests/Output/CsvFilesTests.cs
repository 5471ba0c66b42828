using System.Globalization;
using System.Text;
using Abba.Experiments.Output;
using Abba.Tests.Support;
using CsvHelper;

namespace Abba.Tests.Output;

[CsvRecord]
public partial record ProbeRow
{
    [CsvColumn("step")] public int Step { get; init; }
    [CsvColumn("train_loss")] public double TrainLoss { get; init; }
    [CsvColumn("method")] public string Method { get; init; } = "";
}

public class CsvFilesTests
{
    static IEnumerable<ProbeRow> Rows(int count, int throwAfter = int.MaxValue)
    {
        for (int i = 0; i < count; i++)
        {
            if (i == throwAfter) throw new InvalidOperationException("interrupted mid-write");
            yield return new ProbeRow { Step = i, TrainLoss = 1.5 + i / 4.0, Method = i % 2 == 0 ? "abba" : "lora" };
        }
    }

    [Fact]
    public void Write_RowsThrowMidway_LeavesPreviousFileIdenticalAndNoTempFiles()
    {
        using var dir = new TempFolder();
        string path = dir.File("curve.csv");
        CsvFiles.Write(path, Rows(3));
        var before = File.ReadAllBytes(path);

        // Enough rows that the writer has flushed part of the new file before the enumerator throws.
        var e = Assert.Throws<InvalidOperationException>(() => CsvFiles.Write(path, Rows(100_000, throwAfter: 50_000)));

        Assert.Equal("interrupted mid-write", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["curve.csv"], dir.Entries());
    }

    [Fact]
    public void Write_UnderACommaDecimalCulture_UsesInvariantNumbersLfAndTheHeader()
    {
        using var dir = new TempFolder();
        string path = dir.File("curve.csv");
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CommaDecimalCulture();
            Assert.Equal("1,5", 1.5.ToString(CultureInfo.CurrentCulture));   // the culture is in effect

            CsvFiles.Write(path, Rows(2));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }

        string text = Encoding.UTF8.GetString(File.ReadAllBytes(path));
        Assert.Equal("step,train_loss,method\n0,1.5,abba\n1,1.75,lora\n", text);
        Assert.Equal(Rows(2), CsvFiles.Read<ProbeRow>(path));
    }

    [Fact]
    public void Write_OverAnExistingFile_ReplacesIt()
    {
        using var dir = new TempFolder();
        string path = dir.File("curve.csv");
        CsvFiles.Write(path, Rows(5));
        CsvFiles.Write(path, Rows(1));

        Assert.Equal(["step,train_loss,method", "0,1.5,abba"], File.ReadAllLines(path));
        Assert.Equal(["curve.csv"], dir.Entries());
    }

    /// <summary>
    /// A German-style number format. The build runs with invariant globalization, where de-DE itself carries
    /// invariant data, so the separators are set by hand.
    /// </summary>
    static CultureInfo CommaDecimalCulture()
    {
        var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        culture.NumberFormat.NumberDecimalSeparator = ",";
        culture.NumberFormat.NumberGroupSeparator = ".";
        culture.TextInfo.ListSeparator = ";";
        return culture;
    }
}
