using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Abba.Core.Efficiency;
using Abba.Core.Memory;
using Abba.Core.Models;
using Abba.Core.Native;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Units;

namespace Abba.Experiments.Memory;

/// <summary>One (model, method) memory measurement to run in a fresh process.</summary>
/// <param name="Model">Model name, for messages and the result.</param>
/// <param name="Shape">The decoder to build.</param>
/// <param name="Method">A <see cref="CostMethod"/> name.</param>
/// <param name="Rank">LoRA-equivalent rank (ABBA uses r/2 and r/2).</param>
/// <param name="SequenceLength">Tokens per step (batch 1).</param>
/// <param name="WarmupSteps">Untimed steps before the peak is reset.</param>
/// <param name="MeasuredSteps">Steps in the measured window.</param>
/// <param name="Seed">The measurement's unit seed (model weights and tokens).</param>
/// <param name="Threads">libtorch threads (0 = default).</param>
/// <param name="Device">cpu or cuda.</param>
/// <param name="Dtype">float32 or bfloat16: the whole model, its adapters and AdamW's state.</param>
public sealed record MeasureRequest(string Model, LlamaConfig Shape, string Method, int Rank, int SequenceLength,
    int WarmupSteps, int MeasuredSteps, long Seed, int Threads, string Device, string Dtype = "float32");

/// <summary>What the child reports: one JSON line on stdout.</summary>
/// <param name="Model">Model name.</param>
/// <param name="Method">Method name.</param>
/// <param name="BaselineBytes">Memory in use before the model was built.</param>
/// <param name="PeakBytes">Peak during the measured steps.</param>
/// <param name="StepBytes">Peak minus baseline.</param>
/// <param name="TrainableParameters">Parameters that received gradients.</param>
/// <param name="StepSeconds">Wall time of each measured step.</param>
/// <param name="Probe">What was measured.</param>
public sealed record MeasureResult(string Model, string Method, long BaselineBytes, long PeakBytes, long StepBytes,
    long TrainableParameters, double[] StepSeconds, string Probe);

/// <summary>A child measurement failed; the message says which, how, and the tail of its stderr.</summary>
public sealed class ChildMeasurementException(string message) : Exception(message);

/// <summary>
/// Runs one memory measurement per fresh process, so peaks do not contaminate each other: the parent starts this same
/// executable with the hidden <c>abba internal-measure</c> command, which measures and prints one JSON line.
/// </summary>
public static class ChildMeasurement
{
    /// <summary>The hidden subcommand's name.</summary>
    public const string CommandName = "internal-measure";

    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Exit codes of the child: abba's own <c>Ok</c> and <c>Failed</c>.</summary>
    const int Ok = 0, Failed = 1;

    /// <summary>
    /// How to start the <c>abba</c> program, wherever this code runs (the CLI itself, or a test host that loaded
    /// abba.dll): its apphost beside abba.dll when there is one, else <c>dotnet abba.dll</c>.
    /// </summary>
    public static (string FileName, IReadOnlyList<string> Prefix) CurrentExecutable()
    {
        string dll = typeof(ChildMeasurement).Assembly.Location;
        string apphost = Path.ChangeExtension(dll, OperatingSystem.IsWindows() ? ".exe" : null);
        if (File.Exists(apphost)) return (apphost, []);
        string? process = Environment.ProcessPath;
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH")
                      ?? (process is not null && Path.GetFileNameWithoutExtension(process).Equals("dotnet",
                          StringComparison.OrdinalIgnoreCase) ? process : "dotnet");
        return (host, [dll]);
    }

    /// <summary>Runs <paramref name="request"/> in a child process of <paramref name="executable"/> (default: this
    /// program).</summary>
    /// <exception cref="ChildMeasurementException">The child could not start, timed out, failed, or printed no
    /// result.</exception>
    public static MeasureResult Run(MeasureRequest request, TimeSpan timeout,
        (string FileName, IReadOnlyList<string> Prefix)? executable = null)
    {
        var (file, prefix) = executable ?? CurrentExecutable();
        string what = $"memory measurement of ({request.Model}, {request.Method})";
        string stdout = RunProcess(file, [.. prefix, CommandName, .. Arguments(request)], timeout, what);
        string? line = stdout.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith('{'));
        if (line is null) throw new ChildMeasurementException($"{what}: the child exited normally but printed no " +
            $"JSON result. Its output: {Tail(stdout)}");
        try { return JsonSerializer.Deserialize<MeasureResult>(line, Json) ?? throw new JsonException("null"); }
        catch (JsonException e) { throw new ChildMeasurementException($"{what}: unreadable result line '{line}': " +
            $"{e.Message}"); }
    }

    /// <summary>
    /// Starts <paramref name="file"/> with <paramref name="arguments"/> and returns its stdout. glibc is told to serve
    /// every allocation of 128 KiB or more with mmap, so freed tensors leave the resident set at once and its peak
    /// tracks live tensors.
    /// </summary>
    /// <exception cref="ChildMeasurementException">It could not start, ran past <paramref name="timeout"/>, or exited
    /// non-zero.</exception>
    public static string RunProcess(string file, IEnumerable<string> arguments, TimeSpan timeout, string what)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true,
            UseShellExecute = false };
        foreach (string a in arguments) info.ArgumentList.Add(a);
        info.Environment["MALLOC_MMAP_THRESHOLD_"] = "131072";
        Process process;
        try { process = Process.Start(info) ?? throw new ChildMeasurementException($"{what}: '{file}' did not start"); }
        catch (System.ComponentModel.Win32Exception e) { throw new ChildMeasurementException($"{what}: cannot start " +
            $"'{file}': {e.Message}"); }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new ChildMeasurementException($"{what}: the child ran past {timeout.TotalSeconds:0} s and was " +
                    $"stopped");
            }
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new ChildMeasurementException($"{what}: the child exited with code {process.ExitCode}: " +
                    $"{Tail(stderr.Result)}");
            return stdout.Result;
        }
    }

    /// <summary>The child's command-line arguments for <paramref name="r"/>.</summary>
    public static IReadOnlyList<string> Arguments(MeasureRequest r)
    {
        var s = r.Shape;
        return
        [
            "--model", r.Model, "--method", r.Method, "--rank", $"{r.Rank}",
            "--vocab", $"{s.VocabSize}", "--hidden", $"{s.HiddenSize}", "--intermediate", $"{s.IntermediateSize}",
            "--layers", $"{s.Layers}", "--heads", $"{s.Heads}", "--kv-heads", $"{s.KvHeads}", "--head-dim",
                $"{s.HeadDim}",
            "--tied", s.TiedEmbeddings ? "true" : "false", "--seq", $"{r.SequenceLength}", "--warmup-steps",
                $"{r.WarmupSteps}",
            "--steps", $"{r.MeasuredSteps}", "--seed", $"{r.Seed}", "--threads", $"{r.Threads}", "--device", r.Device,
                "--dtype", r.Dtype,
        ];
    }

    /// <summary>The hidden <c>internal-measure</c> command: runs <see cref="TrainingStepMeasurement"/> and prints one
    /// JSON line.</summary>
    public static Command Command(TextWriter stdout, TextWriter stderr)
    {
        Option<T> Req<T>(string name) => new(name) { Required = true };
        var model = Req<string>("--model"); var method = Req<string>("--method"); var rank = Req<int>("--rank");
        var vocab = Req<int>("--vocab"); var hidden = Req<int>("--hidden");
        var intermediate = Req<int>("--intermediate");
        var layers = Req<int>("--layers"); var heads = Req<int>("--heads"); var kvHeads = Req<int>("--kv-heads");
        var headDim = Req<int>("--head-dim"); var tied = Req<bool>("--tied"); var seq = Req<int>("--seq");
        var warmup = Req<int>("--warmup-steps"); var steps = Req<int>("--steps"); var seed = Req<long>("--seed");
        var threads = Req<int>("--threads"); var device = Req<string>("--device"); var dtype = Req<string>("--dtype");
        var cmd = new Command(CommandName,
            "measure one (model, method) training step in this process and print a JSON line (used by the memory " +
                "experiment)")
        {
            Hidden = true,
        };
        foreach (Option o in new Option[] { model, method, rank, vocab, hidden, intermediate, layers, heads, kvHeads,
            headDim, tied, seq, warmup, steps, seed, threads, device, dtype })
            cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            try
            {
                var shape = new LlamaConfig(parse.GetValue(vocab), parse.GetValue(hidden),
                    parse.GetValue(intermediate), parse.GetValue(layers),
                    parse.GetValue(heads), parse.GetValue(kvHeads), parse.GetValue(headDim), parse.GetValue(tied),
                        MaxPositions: Math.Max(2048, parse.GetValue(seq)));
                var cost = CostMethod.ByName(parse.GetValue(method)!, parse.GetValue(rank));
                if (cost.Config is null) throw new ArgumentException("the frozen base alone has nothing to train");
                TorchRuntime.Initialise();
                TorchRuntime.SetThreads(parse.GetValue(threads));
                var dev = TorchRuntime.ResolveDevice(parse.GetValue(device)!);
                using var probe = Probe(dev);
                var m = TrainingStepMeasurement.Run(shape, cost.Config, parse.GetValue(seq), parse.GetValue(warmup),
                    parse.GetValue(steps), probe, dev,
                    parse.GetValue(seed), Dtype(parse.GetValue(dtype)!));
                var result = new MeasureResult(parse.GetValue(model)!, cost.Name, m.BaselineBytes, m.PeakBytes,
                    m.StepBytes,
                    m.TrainableParameters, [.. m.StepSeconds], m.Probe);
                stdout.WriteLine(JsonSerializer.Serialize(result, Json));
                return Ok;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException
                                          or TorchUnavailableException or ExternalException)
            {
                stderr.WriteLine($"error: {e.Message}");
                return Failed;
            }
        });
        return cmd;
    }

    static TorchSharp.torch.ScalarType Dtype(string name) => name switch
    {
        "float32" => TorchSharp.torch.ScalarType.Float32,
        "bfloat16" => TorchSharp.torch.ScalarType.BFloat16,
        _ => throw new ArgumentException($"--dtype: expected float32 or bfloat16 (got '{name}')"),
    };

    static IPeakMemoryProbe Probe(TorchSharp.torch.Device device)
    {
        string reason;
        IPeakMemoryProbe? probe = device.type == TorchSharp.DeviceType.CUDA
            ? CudaMemoryProbe.TryCreate(device.index < 0 ? 0 : device.index, TimeSpan.FromMilliseconds(1), out reason)
            : ResidentMemoryProbe.TryCreate(out reason);
        return probe ?? throw new InvalidOperationException(reason);
    }

    static string Tail(string text, int max = 1500)
    {
        text = text.Trim();
        return text.Length == 0 ? "(nothing on stderr)" : text.Length <= max ? text : "..." + text[^max..];
    }
}
