using Abba.Experiments.Cli;

// Ctrl+C: the first press asks experiments to stop after their current unit of work (files stay complete);
// a second press ends the process at once.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (cancel.IsCancellationRequested) return;
    e.Cancel = true;
    Console.Error.WriteLine("stopping after the current unit of work (press Ctrl+C again to abort)...");
    cancel.Cancel();
};
return new AbbaCli(Console.Out, Console.Error) { Cancel = cancel.Token }.Invoke(args);
