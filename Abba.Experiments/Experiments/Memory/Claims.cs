using System.Globalization;
using Abba.Experiments.Output;

namespace Abba.Experiments.Experiments.Memory;

/// <summary>The report claims and deviations of the memory experiment, judged from its CSVs.</summary>
public sealed partial class MemoryExperiment
{
    /// <inheritdoc />
    public IReadOnlyList<Claim> Claims(string folder)
    {
        var measured = CsvFiles.Read<MemoryMeasuredRow>(Path.Combine(folder, MemoryFiles.Measured));
        var claims = new List<Claim>();
        var ratios = measured.Where(r => r.Method == "abba_kr")
            .Select(a => (a.Model, Ratio: (double)a.MeasuredBytes / measured.Single(l => l.Model == a.Model && l.Method == "lora").MeasuredBytes)).ToArray();
        int close = ratios.Count(r => r.Ratio <= 1.10);
        claims.Add(new Claim("Figure 4", "ABBA's peak training memory is close to LoRA's", "ABBA/LoRA 1.02-1.03 (e.g. 17.45 vs 17.10 GB, Mistral-7B)",
            "measured, reduced models (float32, CPU): " + string.Join("; ", ratios.Select(r => $"{r.Model} {r.Ratio:0.000}")),
            "ABBA/LoRA <= 1.10 on every measured model", close == ratios.Length ? Verdict.Reproduced : close > 0 ? Verdict.Partly : Verdict.NotReproduced));
        string full = Path.Combine(folder, MemoryFiles.FullScale);
        if (!File.Exists(full)) return claims;
        var rows = CsvFiles.Read<MemoryModelledRow>(full);
        double Modelled(string model, string method) => rows.Single(r => r.Model == model && r.Method == method).ModelledGb;
        double Paper(string model, string method) => rows.Single(r => r.Model == model && r.Method == method).PaperGb ?? double.NaN;
        string Each(Func<string, double> value, string format) => string.Join("; ", PaperModels.Names.Select(m => $"{m} {value(m).ToString(format, CultureInfo.InvariantCulture)}"));

        Func<string, double> ftPaper = m => Paper(m, "full_ft") / Paper(m, "abba_kr"), ftModel = m => Modelled(m, "full_ft") / Modelled(m, "abba_kr");
        claims.Add(new Claim("Figure 4", "ABBA needs about 3-3.5x less memory than full fine-tuning", "3-3.5x; bars: " + Each(ftPaper, "0.00"),
            "modelled, full scale: " + Each(ftModel, "0.00"), "each modelled ratio within ±15% of the paper's bar ratio",
            Verdicts.Judge(PaperModels.Names.Select(m => Math.Abs(ftModel(m) / ftPaper(m) - 1) <= 0.15))));
        Func<string, double> hiraPaper = m => 1 - Paper(m, "abba_kr") / Paper(m, "hira"), hiraModel = m => 1 - Modelled(m, "abba_kr") / Modelled(m, "hira");
        claims.Add(new Claim("Figure 4", "ABBA needs about 30-35% less memory than HiRA", "30-35%; bars: " + Each(hiraPaper, "0.00"),
            "modelled, full scale: " + Each(hiraModel, "0.00"), "each modelled saving within 0.05 of the paper's bar saving",
            Verdicts.Judge(PaperModels.Names.Select(m => Math.Abs(hiraModel(m) - hiraPaper(m)) <= 0.05))));
        return claims;
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Deviations =>
    [
        "Measured on reduced copies of the four models (real hidden, intermediate and head sizes; fewer blocks, a smaller vocabulary), in float32 on CPU, not on the full bf16 models on a GPU.",
        "Full-scale numbers are modelled (analytic), not measured; they exclude the CUDA context and the caching allocator, which the paper's measurements include.",
        "Gemma-2-9B is modelled as a Llama-style block (no extra norms, GeGLU or logit soft-capping).",
        "Full fine-tuning trains the seven projections of every block (embeddings, norms and LM head frozen); the paper does not say what its full fine-tuning trained.",
        "The paper states neither the dtype, the optimiser nor the rank of its memory runs; bf16 AdamW (state in bf16) at r = 32 (ABBA 16/16) is assumed.",
    ];
}
