"""nn.utils.rnn: pad_sequence and unpad_sequence.

PackedSequence (pack_padded_sequence, pad_packed_sequence, pack_sequence) is not provided:
chainrule's RNN modules do not accept packed input, and a PackedSequence they would refuse
would be a half feature.
"""
from ... import ops
from ..._backend import xp
from ..._tensor import Tensor
from ...ops._core import broadcast_error

__all__ = ["pad_sequence", "unpad_sequence"]


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack variable-length sequences (L_i, *) into (max L, B, *) (or (B, max L, *)),
    written like PyTorch's: a filled tensor with each sequence copied into its slice, so the
    gradient flows through a CopySlices node as there."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    first = sequences[0]
    max_len = max(s.shape[0] for s in sequences)
    trail = tuple(first.shape[1:])
    n = len(sequences)
    shape = (n, max_len, *trail) if batch_first else (max_len, n, *trail)
    out = ops.full(shape, padding_value, dtype=first.dtype)
    for i, s in enumerate(sequences):
        length = s.shape[0]
        if tuple(s.shape[1:]) != trail:  # PyTorch's copy_ error names the slice and sequence
            try:
                xp.broadcast_shapes((length, *trail), tuple(s.shape))
            except ValueError:
                raise broadcast_error((length, *trail), tuple(s.shape)) from None
        rows = slice(0, length) if padding_side == "right" else slice(max_len - length, max_len)
        if batch_first:
            out[i, rows] = s
        else:
            out[rows, i] = s
    return out


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The inverse of pad_sequence: a list of the unpadded sequences. Unlike PyTorch, the
    input is not transposed in place when ``batch_first`` is False."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[ops.arange(int(length))] for seq, length in zip(padded_sequences, lengths)]
