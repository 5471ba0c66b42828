using System.Globalization;
using Abba.Experiments.Output;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Memory;

/// <summary>The report claims and deviations of the memory experiment, judged from its CSVs.</summary>
public static class MemoryClaims
{
    static readonly ClaimSpec CloseToLoraSpec = new("Figure 4", "ABBA's peak training memory is close to LoRA's",
        "ABBA/LoRA 1.02-1.03 (e.g. 17.45 vs 17.10 GB, Mistral-7B)",
        new ByCriterion("ABBA/LoRA <= 1.03 on every measured model (the paper's own figure); partly if on some"));

    static readonly ClaimSpec LessThanFullSpec = new("Figure 4",
        "ABBA needs about 3-3.5x less memory than full fine-tuning",
        "3-3.5x", new ByCriterion("each modelled ratio within ±15% of the paper's bar ratio"));

    static readonly ClaimSpec LessThanHiraSpec = new("Figure 4", "ABBA needs about 30-35% less memory than HiRA",
        "30-35%",
        new ByCriterion("each modelled saving within 0.05 of the paper's bar saving"));

    /// <summary>The claims, judged from the CSVs in <paramref name="folder"/>; the full-scale ones are
    /// modelled.</summary>
    public static IReadOnlyList<Claim> Judge(string folder)
    {
        var measured = CsvFiles.Read<MemoryMeasuredRow>(Path.Combine(folder, MemoryFiles.Measured));
        var claims = new List<Claim> { CloseToLora(folder, measured) };
        string full = Path.Combine(folder, MemoryFiles.FullScale);
        if (!File.Exists(full)) return claims;
        var rows = CsvFiles.Read<MemoryModelledRow>(full);
        MemoryModelledRow Row(string model, CostArm arm) => rows.Single(r => r.Model == model && CostArm.Of(r.Method)
            == arm);
        double Modelled(string model, CostArm arm) => Row(model, arm).ModelledGb;
        double Paper(string model, CostArm arm) => Row(model, arm).PaperGb ?? double.NaN;
        string Each(Func<string, double> value) => string.Join("; ",
            PaperModels.Names.Select(m => $"{m} {value(m).ToString("0.00", CultureInfo.InvariantCulture)}"));
        var (abba, ft, hira) = (CostArm.AbbaLean, CostArm.FullFineTuning, CostArm.Hira);

        Func<string, double> ftPaper = m => Paper(m, ft) / Paper(m, abba), ftModel = m => Modelled(m, ft) /
            Modelled(m, abba);
        claims.Add(ModelledClaim(LessThanFullSpec, Each(ftPaper), Each(ftModel),
            Verdicts.Judge(PaperModels.Names.Select(m => Math.Abs(ftModel(m) / ftPaper(m) - 1) <= 0.15))));
        Func<string, double> hiraPaper = m => 1 - Paper(m, abba) / Paper(m, hira),
            hiraModel = m => 1 - Modelled(m, abba) / Modelled(m, hira);
        claims.Add(ModelledClaim(LessThanHiraSpec, Each(hiraPaper), Each(hiraModel),
            Verdicts.Judge(PaperModels.Names.Select(m => Math.Abs(hiraModel(m) - hiraPaper(m)) <= 0.05))));
        return claims;
    }

    /// <summary>A full-scale claim: the paper's bars beside the analytic model's, flagged modelled.</summary>
    static Claim ModelledClaim(ClaimSpec spec, string paperBars, string modelled, Verdict verdict) =>
        (spec with { Paper = $"{spec.Paper}; bars: {paperBars}" }).Judge("modelled, full scale: " + modelled, verdict)
        with { Modelled = true };

    /// <summary>
    /// Fig. 4's ABBA/LoRA, judged against the paper's own 1.02-1.03 (at most 1.03 on every measured model). abba_kr is
    /// ABBA's default forward: the lean node since it exists; CSVs written before it (no abba_kr_plain rows) measured
    /// the plain autograd path under that name, and the text says so.
    /// </summary>
    static Claim CloseToLora(string folder, IReadOnlyList<MemoryMeasuredRow> measured)
    {
        long Bytes(string model, CostArm arm) =>
            measured.Single(r => r.Model == model && CostArm.Of(r.Method) == arm).MeasuredBytes;
        double Ratio(string model, CostArm arm) => (double)Bytes(model, arm) / Bytes(model, CostArm.Lora);
        bool lean = measured.Any(r => CostArm.Of(r.Method) == CostArm.AbbaPlain);
        var models = measured.Where(r => CostArm.Of(r.Method) == CostArm.AbbaLean).Select(r => r.Model).ToArray();
        var ratios = models.Select(m => (Model: m, Ratio: Ratio(m, CostArm.AbbaLean))).ToArray();
        string path = lean ? "lean Khatri-Rao node" : "Khatri-Rao through plain autograd";
        string text = $"measured, reduced models (float32, CPU), ABBA {path}: " +
                      string.Join("; ", ratios.Select(r => $"{r.Model} {r.Ratio:0.000}"));
        if (lean)
            text += "; plain autograd path: " + string.Join("; ", models.Select(m =>
                $"{m} {Ratio(m, CostArm.AbbaPlain):0.000}"));
        string bf16 = Path.Combine(folder, MemoryFiles.BFloat16);
        if (File.Exists(bf16))
            text += "; bf16 check (measured vs modelled under TorchSharp retention): " + string.Join("; ",
                CsvFiles.Read<MemoryBFloat16Row>(bf16).Select(r =>
                    $"{r.Model} {r.Method} modelled/measured {r.ModelledOverMeasured:0.00}"));
        int pass = ratios.Count(r => r.Ratio <= 1.03);
        return CloseToLoraSpec.Judge(text,
            pass == ratios.Length && pass > 0 ? Verdict.Reproduced : pass > 0 ? Verdict.Partly : Verdict.NotReproduced);
    }

    /// <summary>Every way this reproduction departs from the paper's setting.</summary>
    public static IReadOnlyList<string> Deviations { get; } =
    [
        "Measured on reduced copies of the four models (real hidden, intermediate and head sizes; fewer blocks, a " +
            "smaller vocabulary), in float32 on CPU, not on the full bf16 models on a GPU.",
        "The bf16 check (measured_bf16.csv) runs this repository's decoder in bf16 on the CPU, where TorchSharp " +
            "keeps every forward intermediate until backward: it checks the full-scale model's bf16 byte sizes, not " +
                "its PyTorch saved-for-backward retention, which stays modelled only.",
        "Full-scale numbers are modelled (analytic), not measured; they exclude the CUDA context and the caching " +
            "allocator, which the paper's measurements include.",
        "Gemma-2-9B is modelled as a Llama-style block (no extra norms, GeGLU or logit soft-capping).",
        "Full fine-tuning trains the seven projections of every block (embeddings, norms and LM head frozen); the " +
            "paper does not say what its full fine-tuning trained.",
        "The paper states neither the dtype, the optimiser nor the rank of its memory runs; bf16 AdamW (state in " +
            "bf16) at r = 32 (ABBA 16/16) is assumed.",
    ];
}
