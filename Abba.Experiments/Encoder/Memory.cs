using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using Abba.Core.Data;
using Abba.Core.Memory;
using Abba.Core.Models;
using Abba.Core.Native;
using Abba.Core.Pretrained;
using Abba.Core.Training;
using Abba.Experiments.Memory;
using Abba.Experiments.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace Abba.Experiments.Encoder;

/// <summary>What one arm's training holds in memory, measured in a fresh process (a unit's payload).</summary>
/// <param name="Arm">The arm's label.</param>
/// <param name="Params">Trainable parameters (the head included).</param>
/// <param name="BatchSize">Glosses in the measured batch.</param>
/// <param name="SequenceLength">The batch's padded length in tokens.</param>
/// <param name="Steps">Training steps measured.</param>
/// <param name="BaselineBytes">In use before the model was built: the runtime, libtorch, the tokenizer, the batch, and
/// the pre-trained weights as read from the package (a per-process cache every model copies from).</param>
/// <param name="ModelBytes">What building the classifier added: its copy of the pre-trained weights, the head and
/// the adapters.</param>
/// <param name="PeakBytes">Peak during the training steps, above the baseline: weights, gradients, AdamW's moments
/// and the activations kept for the backward pass.</param>
/// <param name="Probe">What was measured.</param>
public sealed record EncoderMemoryResult(string Arm, long Params, int BatchSize, int SequenceLength, int Steps,
    long BaselineBytes, long ModelBytes, long PeakBytes, string Probe);

/// <summary>
/// Peak memory per arm. Each measurement runs in its own process (the hidden <c>abba internal-encoder-memory</c>
/// command), as the memory experiment's do: in one process the allocator re-uses memory freed by earlier runs, so
/// later runs would show no growth. The child builds the arm's classifier, trains it for a few steps on one fixed batch
/// (the first training glosses, padded to their longest) and reports its resident peak.
/// </summary>
public static class EncoderMemory
{
    /// <summary>The hidden subcommand's name.</summary>
    public const string CommandName = "internal-encoder-memory";

    /// <summary>Training steps measured: the first allocates AdamW's moments, the others show the steady
    /// state.</summary>
    public const int Steps = 3;

    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Measures <paramref name="arm"/> of <paramref name="o"/> in a child process.</summary>
    /// <exception cref="ChildMeasurementException">The child failed or printed no result.</exception>
    public static EncoderMemoryResult Measure(EncoderOptions o, EncoderArm arm, int threads, Device device)
    {
        var (file, prefix) = ChildMeasurement.CurrentExecutable();
        string what = $"encoder memory measurement of {arm.Label}";
        string[] arguments =
        [
            .. prefix, CommandName, "--arm", arm.Label, "--rank", $"{o.Rank}", "--batch", $"{o.BatchSize}",
            "--max-tokens", $"{o.MaxTokens}", "--threads", $"{threads}",
            "--device", device.type == DeviceType.CUDA ? "cuda" : "cpu",
        ];
        string stdout = ChildMeasurement.RunProcess(file, arguments, TimeSpan.FromMinutes(10), what);
        string line = stdout.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith('{'))
            ?? throw new ChildMeasurementException($"{what}: the child printed no JSON result");
        return JsonSerializer.Deserialize<EncoderMemoryResult>(line, Json)
            ?? throw new ChildMeasurementException($"{what}: unreadable result line '{line}'");
    }

    /// <summary>The hidden command: measures one arm in this process and prints one JSON line.</summary>
    public static Command Command(TextWriter stdout, TextWriter stderr)
    {
        Option<T> Req<T>(string name) => new(name) { Required = true };
        var arm = Req<string>("--arm"); var rank = Req<int>("--rank"); var batch = Req<int>("--batch");
        var maxTokens = Req<int>("--max-tokens"); var threads = Req<int>("--threads");
        var device = Req<string>("--device");
        var cmd = new Command(CommandName,
            "measure one encoder arm's training memory in this process and print a JSON line (used by the encoder " +
            "experiment)") { Hidden = true };
        foreach (Option option in new Option[] { arm, rank, batch, maxTokens, threads, device })
            cmd.Options.Add(option);
        cmd.SetAction(parse =>
        {
            try
            {
                var o = EncoderOptions.Paper with
                {
                    Rank = parse.GetValue(rank), BatchSize = parse.GetValue(batch),
                    MaxTokens = parse.GetValue(maxTokens), Arms = [parse.GetValue(arm)!],
                };
                var chosen = EncoderArm.All(o).SingleOrDefault()
                    ?? throw new ArgumentException($"no encoder arm '{parse.GetValue(arm)}'");
                TorchRuntime.Initialise();
                TorchRuntime.SetThreads(parse.GetValue(threads));
                var dev = TorchRuntime.ResolveDevice(parse.GetValue(device)!);
                stdout.WriteLine(JsonSerializer.Serialize(MeasureHere(o, chosen, dev), Json));
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException
                                          or TorchUnavailableException or PretrainedModelException
                                          or ExternalException or IOException)
            {
                stderr.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return cmd;
    }

    static EncoderMemoryResult MeasureHere(EncoderOptions o, EncoderArm arm, Device device)
    {
        using IPeakMemoryProbe probe = device.type == DeviceType.CUDA
            ? CudaMemoryProbe.TryCreate(device.index < 0 ? 0 : device.index, TimeSpan.FromMilliseconds(1),
                out string why) ?? throw new InvalidOperationException(why)
            : ResidentMemoryProbe.TryCreate(out string reason) ?? throw new InvalidOperationException(reason);
        var (ids, labels, classes, padId) = FirstBatch(o);
        int[] all = [.. Enumerable.Range(0, ids.Length)];
        MiniLm.Weights();   // read from the package once per process and kept: part of the baseline, not the model
        GC.Collect();
        long baseline = probe.CurrentBytes();
        using var model = EncoderFineTuning.Build(device, arm, seed: 0, classes);
        long parameters = Abba.Core.Adapters.Injector.TrainableParameterCount(model);
        long built = probe.CurrentBytes();
        probe.ResetPeak();
        TorchSharp.Modules.Parameter[]? head =
            arm.Training == EncoderTraining.HeadOnly ? null : [.. model.Classifier.parameters()];
        double rate = o.RateGrids[arm.Method][o.RateGrids[arm.Method].Count / 2];
        TextClassifierTrainer.Train(model, _ => EncodedSplits.Pad(ids, labels, all, padId, device),
            new TrainingSchedule(Steps, rate), head, o.HeadRate, CancellationToken.None);
        long peak = probe.PeakBytes();
        return new EncoderMemoryResult(arm.Label, parameters, ids.Length, ids.Max(i => i.Length), Steps, baseline,
            built - baseline, peak - baseline, probe.Description);
    }

    /// <summary>The first <see cref="EncoderOptions.BatchSize"/> training glosses as WordPiece ids, their labels, the
    /// number of classes and the padding id.</summary>
    static (int[][] Ids, int[] Labels, int Classes, int PadId) FirstBatch(EncoderOptions o)
    {
        var data = SupersenseDataset.Load(EncodedSplits.DataPath);
        var tokenizer = MiniLm.Tokenizer();
        var first = data.Train.Take(o.BatchSize).ToArray();
        int[][] ids = [.. first.Select(g => tokenizer.Encode(g.Text, o.MaxTokens).ToArray())];
        return (ids, [.. first.Select(g => g.Label)], data.Classes.Count, tokenizer.PadId);
    }
}
