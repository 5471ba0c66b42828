// TorchSharp keeps process-wide state (the global generator that manual_seed resets and initialisers draw from,
// the intra-op thread count), so tests that seed it must not interleave with tests that draw from it.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
