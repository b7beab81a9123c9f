"""Embedding vs PyTorch: lookup, padding_idx (no gradient to that row), max_norm, errors."""
import numpy as np
import pytest
import torch
from oracle import assert_same, check, raises_like

import chainrule

IDX = np.array([[1, 2, 1], [5, 0, 2]])


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_lookup_and_grads(rng, padding_idx):
    w = rng.standard_normal((6, 3)).astype(np.float32)
    check(lambda t, w: t.nn.functional.embedding(t.tensor(IDX), w, padding_idx=padding_idx), w)


def test_embedding_grad_fn_and_0d_index(rng):
    w = chainrule.tensor(rng.standard_normal((4, 2)).astype(np.float32), requires_grad=True)
    y = chainrule.nn.functional.embedding(chainrule.tensor(3), w)
    assert y.grad_fn.name() == "EmbeddingBackward0" and tuple(y.shape) == (2,)


def test_embedding_max_norm_renormalises_used_rows(rng):
    w = rng.standard_normal((6, 3)).astype(np.float32) * 3
    cw, tw = chainrule.tensor(w.copy()), torch.tensor(w.copy())
    cy = chainrule.nn.functional.embedding(chainrule.tensor(IDX), cw, max_norm=1.0)
    ty = torch.nn.functional.embedding(torch.tensor(IDX), tw, max_norm=1.0)
    assert_same(cy, ty)
    assert_same(cw, tw)  # the weight itself is rescaled in place, rows 3 and 4 untouched


def _both(fn, idx, w):
    return (lambda: fn(chainrule.nn.functional, chainrule.tensor(idx), chainrule.tensor(w)),
            lambda: fn(torch.nn.functional, torch.tensor(idx), torch.tensor(w)))


def test_embedding_errors_like_torch(rng):
    w = rng.standard_normal((5, 3)).astype(np.float32)
    raises_like(IndexError, *_both(lambda F, i, w: F.embedding(i, w), np.array([7]), w))
    raises_like(RuntimeError, *_both(lambda F, i, w: F.embedding(i, w), np.array([1.0]), w))


def test_embedding_module_and_from_pretrained(rng):
    from layer_oracle import compare, twin

    for kwargs in ({}, {"padding_idx": 1}, {"padding_idx": -2, "max_norm": 1.5}):
        c, t = twin("Embedding", 6, 3, **kwargs)
        assert repr(c) == repr(t)
        compare(c, t, IDX)
    m = chainrule.nn.Embedding(5, 2, padding_idx=0)
    assert (m.weight.detach().numpy()[0] == 0).all()
    pre = rng.standard_normal((4, 3)).astype(np.float32)
    ce = chainrule.nn.Embedding.from_pretrained(chainrule.tensor(pre))
    te = torch.nn.Embedding.from_pretrained(torch.tensor(pre))
    assert not ce.weight.requires_grad and repr(ce) == repr(te)
    assert_same(ce(chainrule.tensor(IDX[:, :2] % 4)), te(torch.tensor(IDX[:, :2] % 4)))


@pytest.mark.parametrize("vocab", [2, 7, 64, 1000, 40000])  # (40000: past int16 sort keys)
@pytest.mark.parametrize("padding_idx", [None, 0])
@pytest.mark.parametrize("shape", [(16, 32), (64, 160)])
def test_embedding_backward_sums_repeated_rows(rng, vocab, padding_idx, shape):
    """The weight gradient adds each index's rows in order of appearance, from zero: bitwise
    np.add.at (PyTorch's loop) on every path: a small gradient by np.add.at itself, a larger
    one (64·160·8 elements) by slabs of a padded block, or in chunks of np.add.at where one
    index repeats too often for slabs (vocab 2, 7); a plain backward runs it on arrays."""
    idx = rng.integers(0, vocab, shape)
    w = rng.standard_normal((vocab, 8)).astype(np.float32)
    up = rng.standard_normal(shape + (8,)).astype(np.float32)
    grads = []
    for L in (chainrule, torch):
        wt = L.tensor(w, requires_grad=True)
        L.nn.functional.embedding(L.tensor(idx), wt, padding_idx=padding_idx).backward(L.tensor(up))
        grads.append(wt.grad)
    assert_same(*grads, rtol=1e-5, atol=1e-5)
    ref = np.zeros_like(w)
    np.add.at(ref, idx.ravel(), up.reshape(-1, 8))
    if padding_idx is not None:
        ref[padding_idx] = 0
    assert grads[0].numpy().tobytes() == ref.tobytes()


def test_embedding_backward_adds_from_plus_zero():
    """An index whose every gradient row is -0.0 gets +0.0 (the sum starts from zero), as
    np.add.at and PyTorch; the slab reduction starts there too."""
    idx = np.array([[1, 2, 1, 3]])
    up = np.ones((1, 4, 2), np.float32)
    up[0, 0] = up[0, 2] = -0.0  # index 1: -0.0 twice (the most repeats: a full slab column)
    grads = []
    for L in (chainrule, torch):
        wt = L.ones(4, 2, requires_grad=True)
        L.nn.functional.embedding(L.tensor(idx), wt).backward(L.tensor(up))
        grads.append(wt.grad.numpy())
    assert grads[0].tobytes() == grads[1].tobytes()
    assert not np.signbit(grads[0][1]).any()


def test_embedding_backward_of_no_indices():
    w = chainrule.ones(5, 3, requires_grad=True)
    chainrule.nn.functional.embedding(chainrule.zeros(0, 4, dtype=chainrule.long), w).sum().backward()
    assert w.grad.tolist() == [[0.0] * 3] * 5


@pytest.mark.parametrize("shape", [(16, 32), (64, 160)])
def test_embedding_backward_int32_indices(rng, shape):
    """int32 indices (PyTorch takes Int as well as Long) on both gradient paths: the same
    bits as int64 ones and as PyTorch."""
    idx = rng.integers(0, 50, shape)
    w = rng.standard_normal((50, 8)).astype(np.float32)
    up = rng.standard_normal(shape + (8,)).astype(np.float32)
    grads = []
    for L, ix in ((chainrule, idx.astype(np.int32)), (chainrule, idx), (torch, idx.astype(np.int32))):
        wt = L.tensor(w, requires_grad=True)
        L.nn.functional.embedding(L.tensor(ix), wt).backward(L.tensor(up))
        grads.append(wt.grad.numpy())
    assert grads[0].tobytes() == grads[1].tobytes()
    np.testing.assert_allclose(grads[0], grads[2], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("bad", [[-1], [10], [3, -5], [[0, 9], [11, 2]]])
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_embedding_index_out_of_range_is_pytorchs_error(bad, dtype):
    # one unsigned maximum catches negative and too large indices alike
    ce, te = chainrule.nn.Embedding(10, 3), torch.nn.Embedding(10, 3)
    idx = np.array(bad, dtype)
    raises_like(IndexError, lambda: ce(chainrule.tensor(idx)), lambda: te(torch.tensor(idx)))
    ok = np.array([0, 9, 4], dtype)
    assert tuple(ce(chainrule.tensor(ok)).shape) == (3, 3)
