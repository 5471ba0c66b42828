using Abba.Experiments.Reconstruction;
using S = Abba.Experiments.Reconstruction.ReconstructionSettle;

namespace Abba.Tests.Experiments;

public class ReconstructionSettleTests
{
    [Theory]
    [InlineData(0.6977, 0.6875, true, S.Loses)]     // low_rank r = 40: above LoRA, at the cap
    [InlineData(0.6977, 0.6875, false, S.Loses)]    // above LoRA on a plateau: still settled
    [InlineData(0.6875, 0.6875, false, S.Loses)]    // a tie is not "below LoRA"
    [InlineData(double.NaN, 0.6875, false, S.Loses)]
    [InlineData(0.8620, 0.9680, true, S.Capped)]    // below LoRA but stopped at the cap
    [InlineData(0.2428, 0.2429, false, null)]        // below LoRA on a plateau: not settled
    public void Reason_FollowsTheRule(double abba, double lora, bool hitCap, string? expected) =>
        Assert.Equal(expected, S.Reason(abba, lora, hitCap));

    [Fact]
    public void Starts_LosingPointsGetEveryStart_CappedOnesTheLongerProtocolStartUnlessAskedForAll()
    {
        Assert.Equal(["svd_ones", "random_1", "random_2", "warm"], S.Starts(S.Loses, 2, cappedAllStarts: false));
        Assert.Equal(["svd_ones"], S.Starts(S.Capped, 2, cappedAllStarts: false));
        Assert.Equal(["svd_ones", "random_1", "random_2", "warm"], S.Starts(S.Capped, 2, cappedAllStarts: true));
        Assert.Empty(S.Starts(null, 2, cappedAllStarts: true));
        Assert.Equal((39, 1), S.Ranks(S.Warm, 40));
        Assert.Equal((20, 20), S.Ranks("random_1", 40));
        Assert.Equal((20, 20), S.Ranks(S.SvdOnes, 40));
    }

    [Fact]
    public void Best_IsTheLowestError_AndTheProtocolFitOnATie()
    {
        var protocol = new S.Candidate(S.Protocol, 20, 20, 0.6977, 1500, true);
        var longer = new S.Candidate(S.SvdOnes, 20, 20, 0.6960, 3000, true);
        var random = new S.Candidate("random_1", 20, 20, 0.7400, 2100, false);
        var warm = new S.Candidate(S.Warm, 39, 1, 0.6953, 160, false);
        Assert.Same(warm, S.Best([protocol, longer, random, warm]));
        Assert.Same(longer, S.Best([protocol, longer, random]));
        Assert.Same(protocol, S.Best([protocol, protocol with { Start = S.SvdOnes }]));
        Assert.Throws<ArgumentException>(() => S.Best([]));
    }
}
