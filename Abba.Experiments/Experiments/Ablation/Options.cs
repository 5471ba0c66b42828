using Abba.Core.Data;
using Abba.Core.Models;

namespace Abba.Experiments.Experiments.Ablation;

/// <summary>Settings of the component ablation (paper Fig. 3) on a synthetic arithmetic stand-in.</summary>
/// <param name="Model">Decoder shapes.</param>
/// <param name="Digits">Operand digits of the arithmetic task.</param>
/// <param name="TestSize">Held-out problems per operation (the accuracy set).</param>
/// <param name="PretrainBatchSize">Problems per pre-training step.</param>
/// <param name="PretrainSteps">Steps of pre-training on task P (addition) from scratch.</param>
/// <param name="PretrainLearningRate">Peak learning rate of pre-training.</param>
/// <param name="FinetuneSteps">Steps of fine-tuning on task F (subtraction), the same for every arm.</param>
/// <param name="LearningRate">Peak fine-tuning learning rate, the same for every arm.</param>
/// <param name="FinetuneBatchSize">Problems per fine-tuning step.</param>
/// <param name="Rank">LoRA and HiRA rank r; ABBA uses r1 = r2 = r/2 (the paper's equal-budget rule).</param>
/// <param name="AbbaAlpha">ABBA alpha; s = alpha^2 / sqrt(r1 r2) (paper scaling).</param>
/// <param name="LoraAlpha">LoRA alpha; s = alpha / r.</param>
/// <param name="PerComponentMethods">Methods run on each projection type alone (ABBA always; LoRA and HiRA on request).</param>
/// <param name="DefaultSeeds">Fine-tuning seeds when --seeds is not given.</param>
public sealed record AblationOptions(
    LlamaConfig Model, int Digits, int TestSize, int PretrainBatchSize, int PretrainSteps, double PretrainLearningRate,
    int FinetuneSteps, double LearningRate, int FinetuneBatchSize, int Rank, double AbbaAlpha, double LoraAlpha,
    IReadOnlyList<string> PerComponentMethods, int DefaultSeeds)
{
    /// <summary>CPU minutes: 2-digit operands, a 2-block decoder, one seed.</summary>
    public static AblationOptions Quick => new(LlamaConfig.Quick(ArithmeticTask.VocabSize), Digits: 2, TestSize: 500,
        PretrainBatchSize: 128, PretrainSteps: 1000, PretrainLearningRate: 1e-3,
        FinetuneSteps: 1000, LearningRate: 3e-3, FinetuneBatchSize: 64, Rank: 8, AbbaAlpha: 16, LoraAlpha: 16,
        PerComponentMethods: ["abba"], DefaultSeeds: 1);

    /// <summary>3-digit operands, a 4-block decoder, three seeds (the paper averages three).</summary>
    public static AblationOptions Paper => Quick with
    {
        Model = LlamaConfig.Paper(ArithmeticTask.VocabSize), Digits = 3, TestSize = 1000, PretrainSteps = 1200, DefaultSeeds = 3,
    };

    /// <summary>Seconds: the smoke test's preset (a one-block decoder of width 16, a few steps).</summary>
    public static AblationOptions Tiny => Quick with
    {
        Model = new LlamaConfig(ArithmeticTask.VocabSize, HiddenSize: 16, IntermediateSize: 32, Layers: 1, Heads: 2, KvHeads: 1, HeadDim: 8, MaxPositions: 16, InitStd: 0.05),
        TestSize = 40, PretrainBatchSize = 16, PretrainSteps = 20, FinetuneSteps = 10, FinetuneBatchSize = 16, Rank = 4,
    };
}
