using static TorchSharp.torch;

namespace Abba.Core.Randomness;

/// <summary>
/// Random tensors drawn from a unit's own generator (<see cref="UnitSeed.NewGenerator"/>): drawn on the CPU, where the
/// generator lives, then moved to <c>device</c>, so the values are the same on every device.
/// </summary>
public static class Draw
{
    /// <summary>N(0, <paramref name="std"/>^2) values of shape <paramref name="shape"/>.</summary>
    public static Tensor Normal(
        Generator generator, long[] shape, double std = 1, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        var z = randn(shape, dtype: dtype, generator: generator);
        return Moved(z.mul_(std), device);
    }

    /// <summary>Integers uniform in [0, <paramref name="high"/>) of shape <paramref name="shape"/>, as int64.</summary>
    public static Tensor Integers(Generator generator, long high, long[] shape, Device? device = null) =>
        Moved(randint(0, high, shape, dtype: ScalarType.Int64, generator: generator), device);

    static Tensor Moved(Tensor cpu, Device? device)
    {
        if (device is null || device.type == TorchSharp.DeviceType.CPU) return cpu;
        using (cpu) return cpu.to(device);
    }
}
