using Abba.Core.Statistics;

namespace Abba.Tests.Statistics;

public class RankCorrelationTests
{
    [Fact]
    public void Spearman_WithoutTies_EqualsTheClosedForm()
    {
        double[] x = [3.1, 0.2, 5.5, 4.0, 1.7, 9.9, 2.2];
        double[] y = [10, 30, 20, 60, 40, 70, 50];
        // ranks of x: 4 1 6 5 2 7 3; of y: 1 3 2 6 4 7 5; rho = 1 - 6 sum d^2 / (n (n^2 - 1))
        int[] d = [4 - 1, 1 - 3, 6 - 2, 5 - 6, 2 - 4, 7 - 7, 3 - 5];
        double expected = 1 - 6.0 * d.Sum(v => v * v) / (7 * 48);
        Assert.Equal(expected, RankCorrelation.Spearman(x, y), 12);
    }

    [Fact]
    public void PermutationPValue_PerfectAgreementOfSeven_IsOneOver5040()
    {
        double[] x = [1, 2, 3, 4, 5, 6, 7];
        double[] y = [0.5, 0.9, 1.0, 1.2, 3.0, 4.0, 8.0];
        Assert.Equal(1.0, RankCorrelation.Spearman(x, y), 12);
        Assert.Equal(1.0 / 5040, RankCorrelation.PermutationPValue(x, y), 15);
        Assert.Equal(1.0, RankCorrelation.PermutationPValue(x.Reverse().ToArray(), y), 15);
    }

    [Fact]
    public void PermutationPValue_OfThree_CountsOrderingsByHand()
    {
        // orderings of (1,2,3) against (1,2,3): rho = 1, 0.5, 0.5, -0.5, -0.5, -1; observed (1,3,2) has rho 0.5
        Assert.Equal(3.0 / 6, RankCorrelation.PermutationPValue([1, 3, 2], [1, 2, 3]), 15);
    }
}
