// Fine-tuning a sequence classifier (token ids and an attention mask in, class logits out) with cross-entropy, and
// scoring it: the same optimiser recipe as the language-model trainer (AdamW, linear warm-up, cosine decay, gradient
// clip), batches that group examples of similar length so that padding to the batch's longest costs little, and the
// three scores every classification arm reports (cross-entropy, accuracy, macro-F1).
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Abba.Core.Training;

/// <summary>Scores of a classifier on a labelled set.</summary>
/// <param name="CrossEntropy">Mean cross-entropy of the true class (nats per example).</param>
/// <param name="Accuracy">Fraction of examples whose arg-max class is the label.</param>
/// <param name="MacroF1">Unweighted mean over classes of F1 (classes in the labels or the predictions; a class never
/// predicted correctly counts 0), as scikit-learn's <c>f1_score(average="macro")</c>.</param>
public sealed record TextScore(double CrossEntropy, double Accuracy, double MacroF1);

/// <summary>A padded batch of token ids with its attention mask and labels, all int64 on one device.</summary>
/// <param name="Ids">(B, T) token ids, padded to the longest sequence of the batch.</param>
/// <param name="Mask">(B, T): 1 on real tokens, 0 on padding.</param>
/// <param name="Labels">(B) class indices.</param>
public sealed record TextBatch(Tensor Ids, Tensor Mask, Tensor Labels);

/// <summary>Batches of example indices whose members have similar lengths.</summary>
public static class LengthBuckets
{
    /// <summary>
    /// The example indices of <paramref name="steps"/> batches of <paramref name="batchSize"/>: examples are drawn
    /// without replacement from a fresh seeded permutation each epoch, <paramref name="bucketBatches"/> batches' worth
    /// at a time; each such draw is sorted by length (ties by draw order), cut into batches, and those batches are
    /// shuffled. Every example of a draw is used once, so the data seen do not depend on lengths; only which examples
    /// share a batch does.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below one, or the batch exceeds the
    /// examples.</exception>
    public static IReadOnlyList<int[]> Plan(
        IReadOnlyList<int> lengths, int batchSize, int steps, int bucketBatches, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketBatches, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchSize, lengths.Count);
        var rng = Randomness.UnitSeed.NewRandom(seed);
        var batches = new List<int[]>(steps);
        int[] order = [];
        int next = order.Length;
        while (batches.Count < steps)
        {
            int want = Math.Min(bucketBatches, steps - batches.Count);
            var draw = new List<int>(want * batchSize);
            while (draw.Count < want * batchSize)
            {
                if (next == order.Length)
                {
                    order = [.. Enumerable.Range(0, lengths.Count)];
                    rng.Shuffle(order);
                    next = 0;
                }
                draw.Add(order[next++]);
            }
            var sorted = draw.Select((index, k) => (index, k)).OrderBy(e => lengths[e.index]).ThenBy(e => e.k)
                .Select(e => e.index).ToArray();
            var group = Enumerable.Range(0, want).Select(b => sorted[(b * batchSize)..((b + 1) * batchSize)]).ToArray();
            rng.Shuffle(group);
            batches.AddRange(group);
        }
        return batches;
    }
}

/// <summary>Trains and scores a classifier <c>(ids, mask) -> logits</c>.</summary>
public static class TextClassifierTrainer
{
    /// <summary>
    /// Runs <see cref="TrainingSchedule.Steps"/> steps on batch <c>i</c> from <paramref name="batch"/>(i), with the
    /// trainable parameters (requires_grad) only; returns the training loss of every step and leaves the model in eval
    /// mode. Parameters in <paramref name="head"/> train at <paramref name="headRate"/>, the others at the schedule's
    /// rate, both under the schedule's warm-up and decay (two AdamW optimisers: the same updates as one optimiser with
    /// two parameter groups); the gradient clip acts on all of them together. Each step runs in its own dispose scope,
    /// so the batch and every intermediate are freed at its end.
    /// </summary>
    /// <exception cref="ArgumentException">A head is given without its rate, or nothing trains.</exception>
    public static double[] Train(nn.Module<Tensor, Tensor, Tensor> model, Func<int, TextBatch> batch,
        TrainingSchedule schedule, IReadOnlyCollection<Parameter>? head = null, double? headRate = null,
        CancellationToken cancel = default)
    {
        if (head is { Count: > 0 } && headRate is null) throw new ArgumentException("a head needs its own rate");
        var parameters = model.parameters().Where(p => p.requires_grad).ToArray();
        if (parameters.Length == 0) throw new ArgumentException("the model has no trainable parameters");
        var headSet = (head ?? []).Where(p => p.requires_grad).ToArray();
        var body = parameters.Where(p => !headSet.Any(h => h.Handle == p.Handle)).ToArray();
        var optimisers = new List<optim.Optimizer>();
        var schedulers = new List<optim.lr_scheduler.LRScheduler>();
        void Add(IEnumerable<Parameter> group, double rate)
        {
            var optimiser = optim.AdamW(group, rate,
                weight_decay: schedule.WeightDecay);
            optimisers.Add(optimiser);
            schedulers.Add(optim.lr_scheduler.LambdaLR(optimiser, schedule.Multiplier));
        }
        if (body.Length > 0) Add(body, schedule.LearningRate);
        if (headSet.Length > 0) Add(headSet, headRate!.Value);
        var losses = new double[schedule.Steps];
        try
        {
            model.train();
            for (int step = 0; step < schedule.Steps; step++)
            {
                cancel.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var b = batch(step);
                var loss = nn.functional.cross_entropy(model.call(b.Ids, b.Mask), b.Labels);
                foreach (var o in optimisers) o.zero_grad();
                loss.backward();
                if (schedule.MaxGradNorm > 0) nn.utils.clip_grad_norm_(parameters, schedule.MaxGradNorm);
                foreach (var o in optimisers) o.step();
                foreach (var s in schedulers) s.step();
                losses[step] = loss.item<float>();
            }
        }
        finally
        {
            foreach (var o in optimisers) o.Dispose();
        }
        model.eval();
        return losses;
    }

    /// <summary>
    /// Cross-entropy, accuracy and macro-F1 of <paramref name="model"/> on <paramref name="count"/> examples, scored
    /// without gradients in batches of <paramref name="batchSize"/> built by <paramref name="batch"/> from example
    /// indices (pass them in length order to pad little); cross-entropy summed in float64.
    /// </summary>
    public static TextScore Evaluate(nn.Module<Tensor, Tensor, Tensor> model, int count, int batchSize,
        Func<int[], TextBatch> batch, int classes)
    {
        using var noGrad = no_grad();
        model.eval();
        double loss = 0;
        var predicted = new List<int>(count);
        var labels = new List<int>(count);
        for (int start = 0; start < count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            int[] indices = [.. Enumerable.Range(start, Math.Min(batchSize, count - start))];
            var b = batch(indices);
            var logits = model.call(b.Ids, b.Mask);
            loss += nn.functional.cross_entropy(logits, b.Labels, reduction: nn.Reduction.Sum)
                .to_type(ScalarType.Float64).item<double>();
            predicted.AddRange(logits.argmax(1).cpu().data<long>().Select(v => (int)v));
            labels.AddRange(b.Labels.cpu().data<long>().Select(v => (int)v));
        }
        double accuracy = (double)predicted.Zip(labels).Count(p => p.First == p.Second) / count;
        return new TextScore(loss / count, accuracy, MacroF1(predicted, labels, classes));
    }

    /// <summary>
    /// Unweighted mean F1 over the classes that occur in <paramref name="labels"/> or <paramref name="predicted"/>;
    /// a class with no true positive scores 0.
    /// </summary>
    /// <exception cref="ArgumentException">The lists differ in length or are empty.</exception>
    public static double MacroF1(IReadOnlyList<int> predicted, IReadOnlyList<int> labels, int classes)
    {
        if (predicted.Count != labels.Count || labels.Count == 0)
            throw new ArgumentException("predictions and labels must be non-empty and of equal length");
        var tp = new int[classes];
        var predictedCount = new int[classes];
        var labelCount = new int[classes];
        for (int i = 0; i < labels.Count; i++)
        {
            predictedCount[predicted[i]]++;
            labelCount[labels[i]]++;
            if (predicted[i] == labels[i]) tp[labels[i]]++;
        }
        var present = Enumerable.Range(0, classes).Where(c => predictedCount[c] + labelCount[c] > 0).ToArray();
        return present.Average(c => 2.0 * tp[c] / (predictedCount[c] + labelCount[c]));
    }
}
