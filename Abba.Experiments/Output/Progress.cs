using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Abba.Experiments.Output;

/// <summary>Reports progress of a long loop.</summary>
public interface IProgressReporter
{
    /// <summary>Starts a task of <paramref name="total"/> units.</summary>
    IProgressTask Start(string description, double total);
}

/// <summary>One loop being reported; dispose it when the loop ends.</summary>
public interface IProgressTask : IDisposable
{
    /// <summary>Marks <paramref name="amount"/> more units done.</summary>
    void Advance(double amount = 1);
}

/// <summary>Chooses a live bar on an interactive terminal and plain lines otherwise.</summary>
public static class ProgressMode
{
    /// <summary>True when output goes to a terminal and CI is not set.</summary>
    public static bool Interactive =>
        !Console.IsOutputRedirected
        && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Runs <paramref name="body"/> with a reporter suited to the terminal.</summary>
    public static T Run<T>(RunLog log, Func<IProgressReporter, T> body)
    {
        if (!Interactive) return body(new PlainProgress(log));
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                log.ConsoleSink = line => AnsiConsole.MarkupLine(Markup.Escape(line));
                try { result = body(new LiveProgress(ctx)); }
                finally { log.ConsoleSink = null; }
            });
        return result;
    }
}

/// <summary>Timestamped lines at most every 10 seconds and at each tenth, for logs and CI.</summary>
public sealed class PlainProgress(RunLog log) : IProgressReporter
{
    /// <inheritdoc />
    public IProgressTask Start(string description, double total) => new Task(log, description, total);

    sealed class Task(RunLog log, string description, double total) : IProgressTask
    {
        readonly Stopwatch clock = Stopwatch.StartNew();
        double done;
        int lastTenth;
        double lastPrint;

        public void Advance(double amount = 1)
        {
            done += amount;
            int tenth = total > 0 ? (int)(10 * done / total) : 10;
            double now = clock.Elapsed.TotalSeconds;
            if (tenth > lastTenth || now - lastPrint >= 10)
            {
                lastTenth = tenth;
                lastPrint = now;
                log.Info(string.Create(CultureInfo.InvariantCulture,
                    $"[{DateTime.Now:HH:mm:ss}] {description}: {done:0.#}/{total:0.#} "
                    + $"({100 * done / Math.Max(total, 1e-12):0}%) {now:0.0}s"));
            }
        }

        public void Dispose() { }
    }
}

/// <summary>Spectre.Console live bars.</summary>
sealed class LiveProgress(ProgressContext ctx) : IProgressReporter
{
    public IProgressTask Start(string description, double total) =>
        new Task(ctx.AddTask(Markup.Escape(description), maxValue: Math.Max(total, 1e-12)));

    sealed class Task(ProgressTask task) : IProgressTask
    {
        public void Advance(double amount = 1) => task.Increment(amount);
        public void Dispose() => task.Value = task.MaxValue;
    }
}
