// Character-level arithmetic, generated in code: the stand-in for MetaMathQA -> GSM8K in the component ablation.
// Every number is written least-significant digit first and zero-padded to a fixed width: 123 + 45 = 168 reads
// "321+540=8610$" (operands of `digits` places, the result of digits+1 places, then an end mark). With this layout
// answer digit i sits a constant distance after operand digits i, so a causal model with relative (rotary) positions
// finds them with one fixed attention offset, and it emits each digit after the carries (or borrows) it depends on.
// Every sequence of a task has the same length, so batches need no padding.
using Abba.Core.Models;
using Abba.Core.Randomness;
using static TorchSharp.torch;

namespace Abba.Core.Data;

/// <summary>The operation of a problem.</summary>
public enum ArithmeticOperation
{
    /// <summary>a + b.</summary>
    Add,
    /// <summary>a - b with a &gt;= b.</summary>
    Subtract,
}

/// <summary>One problem: two non-negative operands and an operation.</summary>
/// <param name="A">First operand.</param>
/// <param name="B">Second operand (at most <paramref name="A"/> for subtraction).</param>
/// <param name="Operation">What to compute.</param>
public readonly record struct ArithmeticProblem(int A, int B, ArithmeticOperation Operation)
{
    /// <summary>The correct result.</summary>
    public int Answer => Operation == ArithmeticOperation.Add ? A + B : A - B;
}

/// <summary>Formats, encodes, samples and parses fixed-width arithmetic
/// problems with <see cref="Digits"/>-digit operands.</summary>
public sealed class ArithmeticTask
{
    /// <summary>Every character the task uses; a token id is the index of its character here.</summary>
    public const string Alphabet = "0123456789+-=$";

    /// <summary>
    /// Token value that the loss ignores (positions before the answer): PyTorch's default ignore_index, the value the
    /// language-model trainer skips (a test pins the two together; Data does not depend on Training).
    /// </summary>
    public const long IgnoreIndex = -100;

    /// <summary>Creates a task with operands below 10^<paramref name="digits"/>.</summary>
    public ArithmeticTask(int digits)
    {
        if (digits is < 1 or > 8) throw new ArgumentOutOfRangeException(nameof(digits), digits, "digits must be 1..8");
        Digits = digits;
    }

    /// <summary>Digits of each operand.</summary>
    public int Digits { get; }

    /// <summary>Number of token ids.</summary>
    public static int VocabSize => Alphabet.Length;

    /// <summary>Length of "a+b=": two operands, the operator and '='.</summary>
    public int PromptLength => 2 * Digits + 2;

    /// <summary>Length of the answer: digits+1 reversed digits and the end mark.</summary>
    public int AnswerLength => Digits + 2;

    /// <summary>Length of a whole problem.</summary>
    public int SequenceLength => PromptLength + AnswerLength;

    /// <summary>Number of distinct operand values, 10^Digits.</summary>
    public int OperandLimit => (int)Math.Pow(10, Digits);

    /// <summary>"aaa+bbb=": both operands reversed (least-significant digit first)
    /// and zero-padded to <see cref="Digits"/> places.</summary>
    public string Prompt(ArithmeticProblem p) =>
        $"{Reversed(p.A, Digits)}{(p.Operation == ArithmeticOperation.Add ? '+' : '-')}{Reversed(p.B, Digits)}=";

    /// <summary>The answer text: the result reversed and zero-padded to digits+1 places, then '$'.</summary>
    public string Answer(ArithmeticProblem p) => Reversed(p.Answer, Digits + 1) + "$";

    /// <summary>Prompt followed by answer.</summary>
    public string Text(ArithmeticProblem p) => Prompt(p) + Answer(p);

    /// <summary>Reads a generated answer back into a number;
    /// null unless it is digits+1 digits followed by '$'.</summary>
    public int? ParseAnswer(string generated)
    {
        if (generated.Length < AnswerLength || generated[Digits + 1] != '$') return null;
        var digits = generated[..(Digits + 1)];
        if (!digits.All(char.IsAsciiDigit)) return null;
        return int.Parse(new string(digits.Reverse().ToArray()), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Token ids of <paramref name="text"/>.</summary>
    /// <exception cref="ArgumentException">A character is not in <see cref="Alphabet"/>.</exception>
    public static long[] Encode(string text) => text.Select(c => Alphabet.IndexOf(c) is var i and >= 0
        ? (long)i : throw new ArgumentException($"'{c}' is not in the alphabet", nameof(text))).ToArray();

    /// <summary>Text of token ids; ids outside the alphabet become '?'.</summary>
    public static string Decode(IEnumerable<long> ids) =>
        new(ids.Select(i => i >= 0 && i < Alphabet.Length ? Alphabet[(int)i] : '?').ToArray());

    /// <summary>A uniformly random problem of <paramref name="operation"/>
    /// (subtraction swaps operands so a &gt;= b).</summary>
    public ArithmeticProblem Sample(ArithmeticOperation operation, Random rng)
    {
        int a = rng.Next(OperandLimit), b = rng.Next(OperandLimit);
        if (operation == ArithmeticOperation.Subtract && a < b) (a, b) = (b, a);
        return new ArithmeticProblem(a, b, operation);
    }

    /// <summary>
    /// Teacher-forcing batch: inputs are each text without its last token, targets the text shifted by one with every
    /// position before the answer set to <see cref="IgnoreIndex"/>,
    /// so the loss covers answer tokens only. Both (B, L-1).
    /// </summary>
    public (Tensor Inputs, Tensor Targets) Batch(IReadOnlyList<ArithmeticProblem> problems, Device device)
    {
        int L = SequenceLength;
        var inputs = new long[problems.Count * (L - 1)];
        var targets = new long[problems.Count * (L - 1)];
        for (int b = 0; b < problems.Count; b++)
        {
            var ids = Encode(Text(problems[b]));
            for (int t = 0; t < L - 1; t++)
            {
                inputs[b * (L - 1) + t] = ids[t];
                targets[b * (L - 1) + t] = t + 1 >= PromptLength ? ids[t + 1] : IgnoreIndex;
            }
        }
        return (tensor(inputs, [problems.Count, L - 1], device: device),
            tensor(targets, [problems.Count, L - 1], device: device));
    }

    /// <summary>Prompt token ids (B, PromptLength).</summary>
    public Tensor Prompts(IReadOnlyList<ArithmeticProblem> problems, Device device) =>
        tensor(problems.SelectMany(p => Encode(Prompt(p))).ToArray(), [problems.Count, PromptLength], device: device);

    /// <summary>Fraction of <paramref name="problems"/> whose greedy answer
    /// from <paramref name="model"/> parses to the right number.</summary>
    public double Accuracy(
        LlamaDecoder model, IReadOnlyList<ArithmeticProblem> problems, Device device, int batchSize = 500)
    {
        int correct = 0;
        foreach (var chunk in problems.Chunk(batchSize))
        {
            using var scope = NewDisposeScope();
            var ids = model.Generate(Prompts(chunk, device), AnswerLength).cpu().data<long>().ToArray();
            for (int i = 0; i < chunk.Length; i++)
                if (ParseAnswer(Decode(ids.Skip(i * AnswerLength).Take(AnswerLength))) == chunk[i].Answer) correct++;
        }
        return (double)correct / problems.Count;
    }

    /// <summary>
    /// Scores <paramref name="model"/> on <paramref name="problems"/>: teacher-forced answer-token cross-entropy (the
    /// primary metric: it keeps moving when exact match saturates), and of the greedy answers the fraction of answer
    /// digits right (position by position, the end mark excluded) and the fraction of whole answers right.
    /// </summary>
    public ArithmeticScore Score(
        LlamaDecoder model, IReadOnlyList<ArithmeticProblem> problems, Device device, int batchSize = 500)
    {
        double lossSum = 0;
        long digitsRight = 0, exact = 0;
        foreach (var chunk in problems.Chunk(batchSize))
        {
            using var scope = NewDisposeScope();
            using (no_grad())
            {
                var (inputs, targets) = Batch(chunk, device);
                var logits = model.call(inputs);                                              // (B, L-1, V)
                lossSum += nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten(),
                    ignore_index: IgnoreIndex, reduction: nn.Reduction.Sum).item<float>();
            }
            // (B, AnswerLength)
            var ids = model.Generate(Prompts(chunk, device), AnswerLength).cpu().data<long>().ToArray();
            for (int i = 0; i < chunk.Length; i++)
            {
                string generated = Decode(ids.Skip(i * AnswerLength).Take(AnswerLength)), expected = Answer(chunk[i]);
                digitsRight += Enumerable.Range(0, Digits + 1).Count(k => generated[k] == expected[k]);
                if (ParseAnswer(generated) == chunk[i].Answer) exact++;
            }
        }
        return new ArithmeticScore(lossSum / ((long)problems.Count * AnswerLength),
            (double)digitsRight / ((long)problems.Count * (Digits + 1)), (double)exact / problems.Count);
    }

    static string Reversed(int value, int width) =>
        new(value.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(width, '0').Reverse().ToArray());
}

/// <summary>How well a model does on a set of problems.</summary>
/// <param name="CrossEntropy">Mean teacher-forced cross-entropy
/// per answer token (digits and end mark), in nats.</param>
/// <param name="DigitAccuracy">Fraction of answer digits the greedy answer gets right, position by position.</param>
/// <param name="ExactMatch">Fraction of greedy answers that parse to the right number.</param>
public readonly record struct ArithmeticScore(double CrossEntropy, double DigitAccuracy, double ExactMatch);

/// <summary>
/// A held-out test set per operation, drawn once from a seed, and a training sampler that never returns a held-out
/// problem (it redraws instead), so test problems cannot leak into training.
/// </summary>
public sealed class ArithmeticSplit
{
    readonly Dictionary<ArithmeticOperation, ArithmeticProblem[]> test = [], validation = [];
    readonly HashSet<ArithmeticProblem> heldOut = [];

    /// <summary>
    /// Draws <paramref name="testSize"/> distinct problems of each operation from <paramref name="seed"/>, then
    /// <paramref name="validationSize"/> more (disjoint from the test sets) for choosing settings; training never sees
    /// either. The test sets are the same whatever the validation size.
    /// </summary>
    public ArithmeticSplit(ArithmeticTask task, int testSize, long seed, int validationSize = 0)
    {
        Task = task;
        long distinct = (long)task.OperandLimit * task.OperandLimit / 2;
        if (testSize < 1 || testSize + validationSize > distinct / 4 || validationSize < 0)
            throw new ArgumentOutOfRangeException(nameof(testSize), testSize,
                $"test plus validation size must be 1..{distinct / 4} for {task.Digits}-digit operands");
        var rng = UnitSeed.NewRandom(seed);
        foreach (var op in Enum.GetValues<ArithmeticOperation>()) test[op] = Draw(op, testSize, rng);
        foreach (var op in Enum.GetValues<ArithmeticOperation>()) validation[op] = Draw(op, validationSize, rng);
    }

    ArithmeticProblem[] Draw(ArithmeticOperation op, int count, Random rng)
    {
        var set = new List<ArithmeticProblem>();
        while (set.Count < count)
            if (Task.Sample(op, rng) is var p && heldOut.Add(p)) set.Add(p);
        return [.. set];
    }

    /// <summary>The task the problems belong to.</summary>
    public ArithmeticTask Task { get; }

    /// <summary>The held-out problems of <paramref name="operation"/>.</summary>
    public IReadOnlyList<ArithmeticProblem> Test(ArithmeticOperation operation) => test[operation];

    /// <summary>The validation problems of <paramref name="operation"/>
    /// (for choosing settings, never for reporting).</summary>
    public IReadOnlyList<ArithmeticProblem> Validation(ArithmeticOperation operation) => validation[operation];

    /// <summary>Whether <paramref name="problem"/> belongs to a test or validation set.</summary>
    public bool IsHeldOut(ArithmeticProblem problem) => heldOut.Contains(problem);

    /// <summary><paramref name="count"/> random training problems
    /// of <paramref name="operation"/>, none held out.</summary>
    public ArithmeticProblem[] SampleTraining(ArithmeticOperation operation, int count, Random rng)
    {
        var batch = new ArithmeticProblem[count];
        for (int i = 0; i < count; i++)
            do batch[i] = Task.Sample(operation, rng); while (heldOut.Contains(batch[i]));
        return batch;
    }
}
