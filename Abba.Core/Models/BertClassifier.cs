using Abba.Core.Randomness;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Abba.Core.Models;

/// <summary>
/// Sentence classification on a BERT encoder: the masked mean of the last hidden states over real tokens (the pooling
/// all-MiniLM-L6-v2 was trained with), then a linear head. Module names: <c>bert.*</c> for the encoder (as HF's
/// <c>BertForSequenceClassification</c>) and <c>classifier</c> for the head.
/// </summary>
public sealed class BertClassifier : Module<Tensor, Tensor, Tensor>
{
    readonly BertEncoder bert;
    readonly Linear classifier;

    /// <summary>
    /// Puts a head of <paramref name="classes"/> outputs on <paramref name="encoder"/>, on the encoder's device:
    /// weight N(0, 0.02^2) drawn from <paramref name="generator"/> (HF's <c>initializer_range</c>), bias zero.
    /// </summary>
    public BertClassifier(BertEncoder encoder, int classes, Generator generator) : base(nameof(BertClassifier))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        bert = encoder;
        var device = encoder.parameters().First().device;
        classifier = nn.Linear(encoder.Config.HiddenSize, classes, device: device);
        using (no_grad())
        {
            using var w = Draw.Normal(generator, [classes, encoder.Config.HiddenSize], std: 0.02, device: device);
            classifier.weight!.copy_(w);
            classifier.bias!.zero_();
        }
        RegisterComponents();
    }

    /// <summary>The encoder (module <c>bert</c>).</summary>
    public BertEncoder Encoder => bert;

    /// <summary>The head (module <c>classifier</c>): Linear(H, classes).</summary>
    public Linear Classifier => classifier;

    /// <summary>Logits (B, classes) of token ids and attention mask (B, T).</summary>
    public override Tensor forward(Tensor ids, Tensor mask) => classifier.call(Pooled(ids, mask));

    /// <summary>Mean of the last hidden states over the positions where <paramref name="mask"/> is 1: (B, H).</summary>
    public Tensor Pooled(Tensor ids, Tensor mask)
    {
        var h = bert.call(ids, mask);                           // (B, T, H)
        var m = mask.to(h.dtype).unsqueeze(-1);                 // (B, T, 1)
        return (h * m).sum(1) / m.sum(1).clamp_min(1e-9);      // (B, H)
    }
}
