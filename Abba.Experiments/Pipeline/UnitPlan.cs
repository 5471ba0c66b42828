using Abba.Experiments.Units;
namespace Abba.Experiments.Pipeline;

/// <summary>
/// One unit of an experiment's run: its identity (what it computes, e.g. <c>mnist/finetune/method=abba/seed=0</c>), an
/// estimate of its cost (any unit, the same for all units of an experiment: shards balance by it), and how to compute
/// its result. The result is a JSON-serialisable value (the rows it contributes); a unit that needs another (a
/// fine-tuning arm needs its pre-training) asks the context for it, which loads it or computes and stores it.
/// </summary>
/// <param name="Identity">Stable, unique within the experiment; the unit's seed identity plus its settings.</param>
/// <param name="Cost">Relative cost estimate (seconds, steps, flops: any unit).</param>
/// <param name="Compute">Computes the result; must be deterministic given the settings and identity.</param>
public sealed record UnitPlan(string Identity, double Cost, Func<ExperimentContext, object> Compute);
