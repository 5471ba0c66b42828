using System.Reflection;
using Abba.Core.Randomness;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Core.Adapters;

/// <summary>
/// Puts a fine-tuning method into a model by module name. A target matches a module's full dotted name exactly or
/// as a dotted suffix (<c>q_proj</c> matches <c>model.layers.0.self_attn.q_proj</c>, never <c>xq_proj</c>); only
/// <see cref="Linear"/> modules are adapted. The replaced child is swapped both in its parent's field and in the
/// parent's module registry, so <c>forward</c> really routes through the adapter.
/// </summary>
public static class Injector
{
    /// <summary>Whether <paramref name="target"/> names
    /// <paramref name="moduleName"/> (exactly or as a dotted suffix).</summary>
    public static bool Matches(string moduleName, string target) =>
        moduleName == target || moduleName.EndsWith("." + target, StringComparison.Ordinal);

    /// <summary>Names of the plain Linear modules of <paramref name="model"/>
    /// (those not already inside an adapter).</summary>
    public static IReadOnlyList<string> LinearModuleNames(nn.Module model)
    {
        var insideAdapters = model.named_modules().Where(m => m.module is AdapterLinear)
            .Select(m => m.name + ".").ToArray();
        return model.named_modules()
            .Where(m => m.module is Linear
                && !insideAdapters.Any(prefix => m.name.StartsWith(prefix, StringComparison.Ordinal)))
            .Select(m => m.name).ToArray();
    }

    /// <summary>
    /// Freezes every parameter of <paramref name="model"/>, then adapts each Linear module named by
    /// <paramref name="targets"/>: wrapped in the adapter for <paramref name="config"/>, or, for
    /// <see cref="FullFineTuneConfig"/>, unfrozen in place. Each adapter draws its initial values from its own
    /// generator, seeded from <paramref name="seed"/> and the module's full name (<see cref="UnitSeed.Derive"/>),
    /// so the result does not depend on the order of modules or on anything that ran before.
    /// </summary>
    /// <returns>The full names of the adapted modules, in model order.</returns>
    /// <exception cref="ArgumentException">A target matches no
    /// Linear module; the message lists those available.</exception>
    public static IReadOnlyList<string> Inject(
        nn.Module model, IReadOnlyList<string> targets, AdapterConfig config, long seed = 0)
    {
        if (targets.Count == 0) throw new ArgumentException("Name at least one target module.");
        var linears = LinearModuleNames(model);
        var unmatched = targets.Where(t => !linears.Any(n => Matches(n, t))).ToArray();
        if (unmatched.Length > 0)
            throw new ArgumentException(
                $"No Linear module matches {string.Join(", ", unmatched.Select(t => $"'{t}'"))}. " +
                $"Linear modules available: {string.Join(", ", linears)}");
        var chosen = linears.Where(n => targets.Any(t => Matches(n, t))).ToArray();
        foreach (var p in model.parameters()) p.requires_grad = false;
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        foreach (string name in chosen)
        {
            var linear = (Linear)modules[name];
            using var generator = UnitSeed.NewGenerator(UnitSeed.Derive(seed, name));
            if (config.Wrap(linear, generator) is { } adapter)
                Replace(model, modules, name, adapter);
            else
                foreach (var p in linear.parameters()) p.requires_grad = true;
        }
        return chosen;
    }

    /// <summary>The adapter that wraps <paramref name="linear"/> under
    /// <paramref name="config"/>, initialised from <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentException">The method trains the layer in place instead of wrapping it.</exception>
    public static AdapterLinear Create(Linear linear, AdapterConfig config, long seed = 0)
    {
        using var generator = UnitSeed.NewGenerator(seed);
        return config.Wrap(linear, generator)
            ?? throw new ArgumentException($"{config.Method} is not a wrapping adapter.");
    }

    /// <summary>Every adapter in <paramref name="model"/> by full module name.</summary>
    public static IReadOnlyDictionary<string, AdapterLinear> Adapters(nn.Module model) =>
        model.named_modules().Where(m => m.module is AdapterLinear)
            .ToDictionary(m => m.name, m => (AdapterLinear)m.module);

    /// <summary>Number of parameters that will receive gradients.</summary>
    public static long TrainableParameterCount(nn.Module model) =>
        model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());

    /// <summary>Merges every adapter of <paramref name="model"/> into its base weight.</summary>
    public static void MergeAll(nn.Module model)
    {
        foreach (var a in Adapters(model).Values) a.Merge();
    }

    /// <summary>Unmerges every adapter of <paramref name="model"/>, restoring W0.</summary>
    public static void UnmergeAll(nn.Module model)
    {
        foreach (var a in Adapters(model).Values) a.Unmerge();
    }

    /// <summary>
    /// Fills every adapter factor of <paramref name="model"/> (and <paramref name="model"/> itself if it is an adapter)
    /// with N(0, <paramref name="std"/>^2) values, each tensor from its own generator derived from
    /// <paramref name="seed"/> and its module name and key; DoRA's magnitude keeps its W0 row norms. For cost
    /// measurements, where the values do not matter but every gradient must be non-zero.
    /// </summary>
    public static void RandomiseFactors(nn.Module model, long seed, double std = 0.02)
    {
        using var _ = no_grad();
        var adapters = Adapters(model).ToDictionary();
        if (model is AdapterLinear root) adapters[""] = root;        // named_modules() leaves out the module itself
        foreach (var (name, adapter) in adapters)
            foreach (var (key, p) in adapter.AdapterParameters
                .Where(p => !p.Key.Contains("magnitude", StringComparison.Ordinal)))
            {
                using var generator = UnitSeed.NewGenerator(UnitSeed.Derive(seed, $"{name}.{key}"));
                using var values = Draw.Normal(generator, p.shape, std, p.dtype);
                p.copy_(values);
            }
    }

    static void Replace(nn.Module root, Dictionary<string, nn.Module> modules, string name, AdapterLinear adapter)
    {
        int dot = name.LastIndexOf('.');
        var parent = dot < 0 ? root : modules[name[..dot]];
        string child = name[(dot + 1)..];
        var old = modules[name];
        var field = FindField(parent.GetType(), parent, old)
            ?? throw new InvalidOperationException(
                $"{parent.GetType().Name} keeps '{child}' in no field that can hold an adapter: " +
                "declare the field as Module<Tensor, Tensor>.");
        field.SetValue(parent, adapter);
        // register_module refuses an existing name, so replace the registry entry itself (TorchSharp keeps submodules
        // in a managed ordered dictionary; nothing native refers to it).
        var registry =
            typeof(nn.Module).GetField("_internal_submodules", BindingFlags.Instance | BindingFlags.NonPublic)
                ?.GetValue(parent) as TorchSharp.Utils.OrderedDict<string, nn.Module>
            ?? throw new InvalidOperationException(
                "This TorchSharp version keeps submodules where the injector cannot replace them.");
        registry[child] = adapter;
    }

    static FieldInfo? FindField(Type? type, object owner, object old)
    {
        const BindingFlags flags =
            BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        for (; type is not null; type = type.BaseType)
            foreach (var f in type.GetFields(flags))
                if (f.FieldType.IsAssignableFrom(typeof(AdapterLinear)) && ReferenceEquals(f.GetValue(owner), old))
                    return f;
        return null;
    }
}
