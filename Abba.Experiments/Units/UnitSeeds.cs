using Abba.Core.Randomness;

namespace Abba.Experiments.Units;

/// <summary>
/// Seeds of units of work (one fit, one fine-tuning arm, one pre-training, one measurement): each comes from the
/// replicate's seed and the unit's identity through <see cref="UnitSeed.Derive"/>, so a unit's result does not depend
/// on which units ran before it. Identities name a purpose: what every arm of a replicate must share (pre-trained
/// model, data order, held-out set, target) leaves the arm out; what belongs to one arm (adapter initialisation)
/// names it. Each experiment writes its identities in one place, its <c>Units</c> class.
/// </summary>
public static class UnitSeeds
{
    /// <summary>The seed of the unit <paramref name="identity"/> of replicate <paramref name="seed"/>.</summary>
    public static long Of(int seed, string identity) => UnitSeed.Derive(seed, identity);
}
