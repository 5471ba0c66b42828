using Abba.Core.Reconstruction;

namespace Abba.Experiments.Reconstruction;

/// <summary>Turns the stored units into the CSV rows.</summary>
public static class ReconstructionRows
{
    /// <summary>The CSV rows, in plan order: one per planned fit (a shared ABBA unit gives a row to each budget that
    /// uses it), and one per settling fit run.</summary>
    public static (List<ReconstructionRow> Rows, List<ReconstructionSettleRow> Settle) Build(
        ReconstructionOptions o, IReadOnlyList<int> seeds, IReadOnlyDictionary<string, FitRecord> fits,
        IReadOnlyDictionary<string, SettleRecord> settles, IReadOnlyDictionary<(string, int, string), double> paper)
    {
        var rows = new List<ReconstructionRow>();
        var settleRows = new List<ReconstructionSettleRow>();
        foreach (var type in ReconstructionPlan.Types(o))
            foreach (int seed in seeds)
                foreach (var f in ReconstructionPlan.Fits(o, seed == seeds[0]))
                {
                    var row = Row(o, type, seed, f, fits[ReconstructionIds.Fit(type, f, seed)], paper);
                    if (f.IsEqualPoint)
                    {
                        var ran = ReconstructionPlan.SettleUnits(o)
                            .Select(u => (u.Start, Record: settles[ReconstructionIds.Settle(type, f.Rank, u, seed)]))
                            .Where(s => s.Record.Ran).ToArray();
                        row = Settled(row, f, ran);
                        settleRows.AddRange(ran.Select(s => SettleRow(type, o.N, f.Rank, seed, s.Start, s.Record)));
                    }
                    rows.Add(row);
                }
        return (rows, settleRows);
    }

    /// <summary>A fit's row, its best_* columns empty.</summary>
    static ReconstructionRow Row(ReconstructionOptions o, MatrixType type, int seed, Fit f, FitRecord fit,
        IReadOnlyDictionary<(string, int, string), double> paper)
    {
        bool abba = f.Method == FitMethod.Abba;
        double? paperValue = f.Method == FitMethod.Hira || (abba && f.R1 != f.R2) ? null
            : paper.TryGetValue((type.Name(), f.Rank, f.Method.Id()), out var v) ? v : null;
        return new ReconstructionRow(
            MatrixType: type.Name(), N: o.N, Method: f.Method.Id(), Budget: f.Budget, Rank: f.Rank,
            R1: abba ? f.R1 : null, R2: abba ? f.R2 : null, Params: fit.Params, Seed: seed,
            RelSqError: fit.RelSqError, RankBoundError: fit.RankBoundError, PaperValue: paperValue,
            Steps: fit.Steps, HitCap: fit.HitCap, Settle: "", BestRelSqError: null, BestStart: "",
            BestR1: null, BestR2: null, BestSteps: null, BestHitCap: null, FitSeconds: fit.Seconds);
    }

    /// <summary>
    /// An equal-budget point's row with its best fit among the protocol fit and the settling fits run.
    /// </summary>
    static ReconstructionRow Settled(ReconstructionRow row, Fit f, (string Start, SettleRecord Record)[] ran)
    {
        var best = ReconstructionSettle.Best([
            new(ReconstructionSettle.Protocol, f.R1, f.R2, row.RelSqError, row.Steps, row.HitCap),
            .. ran.Select(s => new ReconstructionSettle.Candidate(s.Start, s.Record.R1, s.Record.R2,
                s.Record.RelSqError, s.Record.Steps, s.Record.HitCap))]);
        return row with
        {
            Settle = ran.Length > 0 ? ran[0].Record.Reason : "", BestRelSqError = best.RelSqError,
            BestStart = best.Start, BestR1 = best.R1, BestR2 = best.R2, BestSteps = best.Steps,
            BestHitCap = best.HitCap,
        };
    }

    static ReconstructionSettleRow SettleRow(MatrixType type, int n, int rank, int seed, string start,
        SettleRecord s) =>
        new(MatrixType: type.Name(), N: n, Rank: rank, Seed: seed, Reason: s.Reason, Start: start, R1: s.R1, R2: s.R2,
            MaxSteps: s.MaxSteps, RelSqError: s.RelSqError, ProtocolRelSqError: s.ProtocolRelSqError,
            LoraRelSqError: s.LoraRelSqError, Steps: s.Steps, HitCap: s.HitCap, FitSeconds: s.Seconds);

    /// <summary>The paper's digitised values by (matrix type, rank, method), shipped beside the program.</summary>
    public static IReadOnlyDictionary<(string Type, int Rank, string Method), double> PaperValues() =>
        Pipeline.ReferenceData.Read<PaperReconstructionRow>(ReconstructionFiles.PaperReference)
            .ToDictionary(p => (p.MatrixType, p.Rank, p.Method), p => p.RelSqError);
}
