using Abba.Core.Reconstruction;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;
using static TorchSharp.torch;

namespace Abba.Experiments.Reconstruction;

/// <summary>What a fit unit stores.</summary>
public sealed record FitRecord(double RelSqError, long Params, int Steps, bool HitCap, double RankBoundError,
    double Seconds);

/// <summary>What a settling unit stores; Ran is false (and the fit fields empty) when the point's protocol fit did not
/// call for this start.</summary>
public sealed record SettleRecord(bool Ran, string Reason, int R1, int R2, int MaxSteps, double RelSqError, int Steps,
    bool HitCap, double Seconds, double ProtocolRelSqError, double LoraRelSqError);

/// <summary>
/// An equal-budget point to settle: its target, LoRA rank, and the units of its protocol fit and LoRA.
/// </summary>
public sealed record SettlePoint(MatrixType Type, int Seed, int Rank, UnitPlan Protocol, UnitPlan Lora);

/// <summary>A target and its SVD.</summary>
public sealed record Target(MatrixType Type, Tensor M, TargetSvd Svd, int Seed) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        Svd.Dispose();
        M.Dispose();
    }
}

/// <summary>The last target made: consecutive fits on one target share it and its SVD (a cache; results do not
/// depend on it).</summary>
public sealed class TargetCache
{
    Target? last;

    /// <summary>The target of <paramref name="type"/> at this size and seed, made once for consecutive fits.</summary>
    public Target Of(MatrixType type, int size, int seed)
    {
        if (last is { } t && t.Type == type && t.Seed == seed && t.M.shape[0] == size) return t;
        last?.Dispose();
        var M = MatrixGenerators.Generate(type, size, ReconstructionIds.Target(type, seed));
        return last = new Target(type, M, new TargetSvd(M), seed);
    }
}

/// <summary>The computations behind the units: one fit, one settling fit.</summary>
public static class ReconstructionFitting
{
    /// <summary>Fits <paramref name="f"/> to the target.</summary>
    public static FitRecord RunFit(ExperimentContext ctx, ReconstructionOptions o, Target t, Fit f)
    {
        var settings = new FitSettings(o.Steps, o.LearningRate, o.Patience, o.MinImprovement);
        var result = f.Method switch
        {
            FitMethod.Lora => ReconstructionFits.Lora(t.M, t.Svd, f.Rank),
            FitMethod.Abba => ReconstructionFits.Abba(t.M, f.R1, f.R2, settings, ctx.Device,
                ReconstructionIds.AbbaFit(t.Type, f.R1, f.R2, t.Seed), ctx.Cancel),
            _ => Hira(t, f.Rank, settings, ctx),
        };
        // Eckart-Young at the method's maximal rank: LoRA r, ABBA r1 r2, HiRA rank(W0) r (>= n: no bound).
        long maxRank = f.Method switch
        {
            FitMethod.Lora => f.Rank,
            FitMethod.Abba => (long)f.R1 * f.R2,
            _ => (long)o.N * f.Rank,
        };
        var record = new FitRecord(result.RelSqError, result.Params, result.Steps, result.HitCap,
            t.Svd.Bound(maxRank), result.Seconds);
        string ranks = f.Method == FitMethod.Abba ? $"r1={f.R1} r2={f.R2}" : $"r={f.Rank}";
        ctx.Log.Detail($"{t.Type.Name()} seed {t.Seed} {f.Method.Id()} {ranks}: {record.RelSqError:0.00000} " +
                       $"(bound {record.RankBoundError:0.00000}) in {record.Steps} steps" +
                       $"{(record.HitCap ? " (cap)" : "")}, {record.Seconds:0.0}s");
        return record;
    }

    /// <summary>Runs settling start <paramref name="unit"/> of <paramref name="p"/> when its protocol fit calls for
    /// it, else stores that it did not run.</summary>
    public static SettleRecord RunSettle(ExperimentContext ctx, ReconstructionOptions o, TargetCache targets,
        SettlePoint p, SettleUnit unit)
    {
        var protocol = ctx.Unit<FitRecord>(p.Protocol);
        var lora = ctx.Unit<FitRecord>(p.Lora);
        string? reason = ReconstructionSettle.Reason(protocol.RelSqError, lora.RelSqError, protocol.HitCap);
        var (r1, r2) = ReconstructionSettle.Ranks(unit.Start, p.Rank);
        int maxSteps = o.Steps * o.SettleStepMultiplier;
        if (reason != unit.Reason)
            return new SettleRecord(false, reason ?? "", r1, r2, maxSteps, double.NaN, 0, false, 0,
                protocol.RelSqError, lora.RelSqError);
        var t = targets.Of(p.Type, o.N, p.Seed);
        var settings = new FitSettings(maxSteps, o.LearningRate, o.Patience, o.MinImprovement);
        bool random = ReconstructionSettle.IsRandom(unit.Start);
        long fitSeed = random
            ? ReconstructionIds.RandomStart(p.Type, p.Rank, unit.Start, p.Seed)
            : ReconstructionIds.AbbaFit(p.Type, r1, r2, p.Seed);
        var result = ReconstructionFits.Abba(t.M, r1, r2, settings, ctx.Device, fitSeed, ctx.Cancel,
            random ? AbbaStart.Random : AbbaStart.SvdOnes);
        ctx.Log.Detail($"{p.Type.Name()} seed {p.Seed} settle r={p.Rank} ({reason}) {unit.Start} r1={r1} r2={r2}: " +
                       $"{result.RelSqError:0.00000} (protocol {protocol.RelSqError:0.00000}, " +
                       $"LoRA {lora.RelSqError:0.00000}) in {result.Steps} steps{(result.HitCap ? " (cap)" : "")}, " +
                       $"{result.Seconds:0.0}s");
        return new SettleRecord(Ran: true, Reason: reason!, R1: r1, R2: r2, MaxSteps: maxSteps,
            RelSqError: result.RelSqError, Steps: result.Steps, HitCap: result.HitCap, Seconds: result.Seconds,
            ProtocolRelSqError: protocol.RelSqError, LoraRelSqError: lora.RelSqError);
    }

    static ReconstructionResult Hira(Target t, int r, FitSettings settings, ExperimentContext ctx)
    {
        using var W0 = MatrixGenerators.GaussianBase((int)t.M.shape[0], ReconstructionIds.HiraBase(t.Type, t.Seed));
        return ReconstructionFits.Hira(t.M, W0, r, settings, ctx.Device, ctx.Cancel);
    }
}
