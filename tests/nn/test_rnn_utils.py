"""nn.utils.rnn.pad_sequence / unpad_sequence against PyTorch (values, gradients, errors)."""
import numpy as np
import pytest
import torch
from oracle import assert_same, check, raises_like

import chainrule

RNG = np.random.default_rng(0)


def seqs(lengths, trail=(2,), dtype=np.float32):
    return [RNG.standard_normal((n, *trail)).astype(dtype) for n in lengths]


def pad(lib, *xs, **kw):
    return lib.nn.utils.rnn.pad_sequence(list(xs), **kw)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize(("lengths", "trail"), [((3, 1, 4), (2,)), ((2, 2), ()),
                                                ((0, 3), (2, 3)), ((0, 0), (2,))])
def test_pad_sequence_matches_torch(batch_first, side, lengths, trail):
    c, t = check(lambda lib, *xs: pad(lib, *xs, batch_first=batch_first, padding_value=-1.5,
                                      padding_side=side), *seqs(lengths, trail))
    if t.grad_fn is not None:
        # CopySlices, as PyTorch (compared by repr: indexing's CopySlices lacks PyTorch's
        # namespaced name())
        assert repr(c.grad_fn).split()[0] == repr(t.grad_fn).split()[0]


def test_pad_sequence_tensor_input_non_contiguous_and_dtype():
    a = RNG.standard_normal((4, 3)).astype(np.float32)
    check(lambda lib, x: lib.nn.utils.rnn.pad_sequence(x), a)  # a tensor: its rows
    check(lambda lib, x, y: pad(lib, x.t(), y), *seqs((3, 2), (3,)))
    # later sequences are cast to the first one's dtype, as PyTorch's copy does
    xs = [seqs((2,))[0], seqs((3,), dtype=np.float64)[0]]
    assert_same(pad(chainrule, *map(chainrule.tensor, xs)), pad(torch, *map(torch.tensor, xs)))
    ints = [np.arange(3), np.arange(1)]
    assert_same(pad(chainrule, *map(chainrule.tensor, ints), padding_value=7),
                pad(torch, *map(torch.tensor, ints), padding_value=7))


def test_unpad_sequence_roundtrip():
    lengths = [3, 1, 4]
    for bf in (False, True):
        def fn(lib, *xs, bf=bf):
            p = pad(lib, *xs, batch_first=bf)
            return tuple(lib.nn.utils.rnn.unpad_sequence(p, lib.tensor(lengths), batch_first=bf))

        check(fn, *seqs(lengths))


def test_pad_sequence_errors_match_torch():
    a, b = seqs((3,))[0], seqs((2,), (3,))[0]
    raises_like(RuntimeError, lambda: pad(chainrule), lambda: pad(torch))
    raises_like(RuntimeError, lambda: pad(chainrule, chainrule.tensor(a), padding_side="mid"),
                lambda: pad(torch, torch.tensor(a), padding_side="mid"))
    raises_like(RuntimeError, lambda: pad(chainrule, chainrule.tensor(a), chainrule.tensor(b)),
                lambda: pad(torch, torch.tensor(a), torch.tensor(b)))
