using Abba.Experiments.Cli;
using Abba.Experiments.Pipeline;
using Abba.Experiments.Output;

namespace Abba.Tests.Support;

/// <summary>Runs an experiment the way <c>abba run</c> does: configure with default options, then the Runner.</summary>
static class ExperimentRun
{
    /// <summary>
    /// Configures <paramref name="experiment"/> (<paramref name="profile"/>, default quick; seed 0; CPU) and runs it under
    /// <paramref name="root"/> (<paramref name="seeds"/> seeds; 0: the profile's), asserting it configured cleanly and finished ok; returns its results folder.
    /// </summary>
    public static string Ok(IExperiment experiment, string root, int threads = 0, Profile profile = Profile.Quick, int seeds = 0)
    {
        var settings = new RunSettings(profile, Seed: 0, Seeds: seeds, Device: "cpu", Threads: threads, OutputRoot: root);
        var configured = experiment.Configure(OptionValues.Defaults, settings);
        Assert.Empty(configured.Problems);
        using var log = new RunLog();
        string command = $"abba run {experiment.Info.Name} --profile {profile.ToString().ToLowerInvariant()}";
        var outcome = new Runner(settings, log, command, CancellationToken.None).Run(experiment, configured.Plan!);
        Assert.True(outcome.Status == "ok", outcome.Error);
        return outcome.Folder;
    }
}
