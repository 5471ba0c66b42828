using Abba.Core.Adapters;
using Abba.Core.Models;

namespace Abba.Core.Memory;

/// <summary>One part of a modelled peak.</summary>
/// <param name="Name">One of <see cref="TrainingMemoryModel.ComponentNames"/>.</param>
/// <param name="Bytes">Its size at the peak.</param>
public sealed record MemoryComponent(string Name, long Bytes);

/// <summary>A modelled training-step peak and its breakdown.</summary>
/// <param name="Components">Sizes at the peak, in <see cref="TrainingMemoryModel.ComponentNames"/> order.</param>
/// <param name="PeakPhase">"forward_backward" or "optimiser_step": when the peak happens.</param>
/// <param name="TrainableParameters">Parameters that receive gradients.</param>
public sealed record MemoryEstimate(
    IReadOnlyList<MemoryComponent> Components, string PeakPhase, long TrainableParameters)
{
    /// <summary>The modelled peak: the sum of the components.</summary>
    public long PeakBytes => Components.Sum(c => c.Bytes);

    /// <summary>The size of component <paramref name="name"/>.</summary>
    public long Bytes(string name) => Components.Single(c => c.Name == name).Bytes;
}

/// <summary>
/// Analytic peak memory of one training step (forward, cross-entropy, backward, AdamW) of a Llama-style decoder with
/// a fine-tuning method on all seven projections of every block; embeddings, norms and the LM head stay frozen.
/// The peak is the larger of two moments:
/// forward/backward = weights + trainable + gradients + AdamW moments + activations + what the adapters keep +
/// logits + the largest transient (one projection's temporaries, a block's backward, or the loss's backward);
/// optimiser step = weights + trainable + gradients + AdamW moments + AdamW's temporaries.
/// Not modelled: the CUDA context and allocator caching (GPU), the runtime and libraries (measured runs subtract a
/// baseline taken before the model is built).
/// </summary>
public static class TrainingMemoryModel
{
    /// <summary>Component names, in breakdown order.</summary>
    public static readonly IReadOnlyList<string> ComponentNames =
        ["frozen_weights", "trainable_parameters", "gradients", "optimiser_state", "activations", "adapter_saved",
            "logits", "transient"];

    /// <summary>Models one step of <paramref name="shape"/> trained with
    /// <paramref name="method"/> under <paramref name="settings"/>.</summary>
    public static MemoryEstimate Estimate(LlamaConfig shape, AdapterConfig method, MemorySettings settings)
    {
        long T = settings.Tokens;
        int wb = MemorySettings.BytesPerElement(settings.WeightDtype),
            tb = MemorySettings.BytesPerElement(settings.TrainableDtype);
        int ob = MemorySettings.BytesPerElement(settings.OptimiserStateDtype),
            ab = MemorySettings.BytesPerElement(settings.ActivationDtype);
        var projections = Projections(shape);
        long projectionWeights = projections.Sum(p => p.Out * p.In);
        long trainable = projections.Sum(p => method.TrainableParameters(p.Out, p.In));
        long frozen = shape.ParameterCount() - (method.TrainsBaseWeights ? projectionWeights : 0);
        var costs = projections.Select(p => method.MemoryTerms(p.Out, p.In, T, p.InputNeedsGrad)).ToArray();
        long persistent = frozen * wb + trainable * tb + trainable * tb + 2 * trainable * ob;
        long activations = DecoderActivationBytes(shape, settings);
        long adapterSaved = costs.Sum(c => c.SavedBytes(tb, ab));
        var (logitsKept, logitsBackward) = LogitsBytes(shape, settings);
        long blockBackward = 3L * T * (shape.IntermediateSize + shape.HiddenSize) * ab;
        long transient = Math.Max(Math.Max(costs.Max(c => c.TransientBytes(tb, ab)), blockBackward), logitsBackward);
        long forwardBackward = persistent + activations + adapterSaved + logitsKept + transient;
        long optimiserTransient = settings.OptimiserTemporaries * trainable * tb;
        bool optimiserPeak = persistent + optimiserTransient > forwardBackward;

        long[] sizes = optimiserPeak
            ? [frozen * wb, trainable * tb, trainable * tb, 2 * trainable * ob, 0, 0, 0, optimiserTransient]
            : [frozen * wb, trainable * tb, trainable * tb, 2 * trainable * ob, activations, adapterSaved, logitsKept,
                transient];
        return new MemoryEstimate(ComponentNames.Zip(sizes, (n, b) => new MemoryComponent(n, b)).ToArray(),
            optimiserPeak ? "optimiser_step" : "forward_backward", trainable);
    }

    /// <summary>Every projection of the decoder as (out, in, whether its input needs a gradient).</summary>
    /// <remarks>With frozen embeddings, block 0's q, k and v read
    /// a tensor no trainable parameter has touched yet.</remarks>
    public static IReadOnlyList<(long Out, long In, bool InputNeedsGrad)> Projections(LlamaConfig shape) =>
        Enumerable.Range(0, shape.Layers)
            .SelectMany(layer => shape.ProjectionShapes().Select(p =>
                ((long)p.Value.Out, (long)p.Value.In, layer > 0 || p.Key is not ("q_proj" or "k_proj" or "v_proj"))))
            .ToArray();

    /// <summary>Bytes of the decoder's own activations alive at
    /// the end of forward (adapters' extras excluded).</summary>
    public static long DecoderActivationBytes(LlamaConfig shape, MemorySettings settings)
    {
        long T = settings.Tokens, C = shape.HiddenSize, Q = shape.QOut, K = shape.KvOut, I = shape.IntermediateSize;
        int ab = MemorySettings.BytesPerElement(settings.ActivationDtype);
        if (settings.Retention == ActivationRetention.EveryIntermediate)
        {
            // Per block, from LlamaDecoder.cs: 2 RMSNorms (x^2, x rsqrt, * weight: 3 (T, C) each), o_proj, two residual
            // sums and down_proj (4 (T, C)); q_proj, RoPE on q (4.5), repeat_interleave of k and v (2), attention
            // output and its reshaped copy (9.5 (T, Q)); k_proj, v_proj and
            // RoPE on k (6.5 (T, KV)); gate, silu, up, product (4 (T, I)).
            double perBlock = 10 * C + 9.5 * Q + 6.5 * K + 4 * I;
            double outside = C + 3 * C;                              // embedding output, final norm
            return (long)((shape.Layers * perBlock + outside) * T * ab);
        }
        // Hugging Face Llama under PyTorch: each RMSNorm saves its float32 upcast (T, C) and its output; attention
        // saves q, repeated k and v, its output and the reshaped copy o_proj reads (5 (T, Q)); the MLP saves 4 (T, I).
        long perBlockSaved = (2 * C * 4) + (2 * C + 5 * Q + 4 * I) * ab;
        return shape.Layers * perBlockSaved * T + C * 4 * T;   // + the final norm's float32 upcast
    }

    /// <summary>Bytes of the logits kept for the loss's backward, and the
    /// loss backward's transient (two float32 (T, V) gradients).</summary>
    public static (long Kept, long Backward) LogitsBytes(LlamaConfig shape, MemorySettings settings)
    {
        long TV = settings.Tokens * shape.VocabSize;
        int ab = MemorySettings.BytesPerElement(settings.ActivationDtype);
        long upcast = ab == 4 ? 0 : TV * 4;                      // Hugging Face's logits.float() before the loss
        return (TV * ab + upcast + TV * 4, 2 * TV * 4);          // logits (+ float32 copy) + log-softmax
    }
}
