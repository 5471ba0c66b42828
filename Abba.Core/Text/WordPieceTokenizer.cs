using Microsoft.ML.Tokenizers;
using static TorchSharp.torch;

namespace Abba.Core.Text;

/// <summary>
/// BERT uncased WordPiece tokenisation (Microsoft.ML.Tokenizers' <c>BertTokenizer</c>: basic tokenisation, lower
/// casing, accent stripping, greedy longest-match pieces with <c>##</c> continuations) and padded batches.
/// </summary>
public sealed class WordPieceTokenizer
{
    readonly BertTokenizer bert;

    /// <summary>Reads a vocabulary of one token per line (line n, counted from 0, is token id n).</summary>
    public WordPieceTokenizer(Stream vocabulary) =>
        bert = BertTokenizer.Create(vocabulary, new BertOptions { LowerCaseBeforeTokenization = true });

    /// <summary>Id of <c>[PAD]</c>.</summary>
    public int PadId => bert.PaddingTokenId;

    /// <summary>Id of <c>[CLS]</c>, the first token of every sequence.</summary>
    public int ClsId => bert.ClassificationTokenId;

    /// <summary>Id of <c>[SEP]</c>, the last token of every sequence.</summary>
    public int SepId => bert.SeparatorTokenId;

    /// <summary>
    /// <c>[CLS]</c>, the pieces of <paramref name="text"/>, <c>[SEP]</c>; pieces past
    /// <paramref name="maxTokens"/> - 2 are cut so the sequence (with <c>[SEP]</c> kept) fits.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxTokens"/> is under 2.</exception>
    public IReadOnlyList<int> Encode(string text, int maxTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 2);
        var pieces = bert.EncodeToIds(text, addSpecialTokens: false);
        int keep = Math.Min(pieces.Count, maxTokens - 2);
        var ids = new int[keep + 2];
        ids[0] = ClsId;
        for (int i = 0; i < keep; i++) ids[i + 1] = pieces[i];
        ids[^1] = SepId;
        return ids;
    }

    /// <summary>
    /// Ids and attention mask, both int64 (B, Tmax) on <paramref name="device"/>, padded with <see cref="PadId"/> to
    /// the longest of <paramref name="sequences"/>; the mask is 1 on real tokens and 0 on padding.
    /// </summary>
    /// <exception cref="ArgumentException">No sequences, or an empty one.</exception>
    public (Tensor Ids, Tensor Mask) Batch(IReadOnlyList<IReadOnlyList<int>> sequences, Device? device = null)
    {
        if (sequences.Count == 0 || sequences.Any(s => s.Count == 0))
            throw new ArgumentException("a batch needs at least one sequence and no empty ones", nameof(sequences));
        int B = sequences.Count, T = sequences.Max(s => s.Count);
        var ids = new long[B * T];
        var mask = new long[B * T];
        Array.Fill(ids, PadId);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < sequences[b].Count; t++)
                (ids[b * T + t], mask[b * T + t]) = (sequences[b][t], 1);
        return (tensor(ids, [B, T], device: device), tensor(mask, [B, T], device: device));
    }
}
