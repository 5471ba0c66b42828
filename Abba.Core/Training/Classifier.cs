using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Abba.Core.Training;

/// <summary>Cross-entropy training step and whole-set evaluation for a classifier that returns logits.</summary>
public static class Classifier
{
    /// <summary>One optimiser step on the batch (<paramref name="x"/>, <paramref name="y"/>);
    /// returns the batch's mean loss before the step.</summary>
    public static float Step(Module<Tensor, Tensor> model, optim.Optimizer optimizer, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        var loss = functional.cross_entropy(model.call(x), y);
        loss.backward();
        optimizer.step();
        return loss.item<float>();
    }

    /// <summary>Mean cross-entropy over every example, computed in chunks without gradients.</summary>
    public static double MeanLoss(Module<Tensor, Tensor> model, Tensor x, Tensor y, int chunk = 8192) =>
        SumOverChunks(x, y, chunk, (xs, ys) => functional.cross_entropy(model.call(xs), ys, reduction: Reduction.Sum))
        / y.shape[0];

    /// <summary>Fraction of examples whose arg-max logit is the label.</summary>
    public static double Accuracy(Module<Tensor, Tensor> model, Tensor x, Tensor y, int chunk = 8192) =>
        SumOverChunks(x, y, chunk, (xs, ys) => model.call(xs).argmax(1).eq(ys).sum()) / y.shape[0];

    static double SumOverChunks(Tensor x, Tensor y, int chunk, Func<Tensor, Tensor, Tensor> sum)
    {
        using var noGrad = no_grad();
        double total = 0;
        for (long start = 0; start < y.shape[0]; start += chunk)
        {
            using var scope = NewDisposeScope();
            long end = Math.Min(start + chunk, y.shape[0]);
            total += sum(x.narrow(0, start, end - start), y.narrow(0, start, end - start))
                .to_type(ScalarType.Float64).item<double>();
        }
        return total;
    }
}

/// <summary>
/// Mini-batch indices drawn without replacement from a fresh permutation each epoch, from its own generator,
/// so that every method fine-tuned with the same seed sees the same batches in the same order.
/// </summary>
public sealed class MinibatchSampler : IDisposable
{
    readonly long count;
    readonly int batchSize;
    readonly Generator generator;
    Tensor? order;
    long next;

    /// <summary>Samples batches of <paramref name="batchSize"/> from <paramref name="count"/> examples.</summary>
    public MinibatchSampler(long count, int batchSize, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        this.count = count;
        this.batchSize = (int)Math.Min(batchSize, count);
        generator = new Generator((ulong)seed);
    }

    /// <summary>The next batch's indices (int64); a new epoch starts when fewer than a full batch remain.</summary>
    public Tensor Next()
    {
        if (order is null || next + batchSize > count)
        {
            order?.Dispose();
            // outlives the caller's step scope
            order = randperm(count, generator: generator).DetachFromDisposeScope();
            next = 0;
        }
        var batch = order.narrow(0, next, batchSize);
        next += batchSize;
        return batch;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        order?.Dispose();
        generator.Dispose();
    }
}
