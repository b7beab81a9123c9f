"""Bit shifts, ``in``, in-place shape methods, resize_, fill_diagonal_, index_fill and
index_copy vs PyTorch (values, gradients to 2nd order, errors)."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import check, fd_check, raises_like

import chainrule

INTS = np.array([5, -6, 3, 0], dtype=np.int64)


@pytest.mark.parametrize("fn", [
    lambda t, x: x << 2, lambda t, x: x >> 1, lambda t, x: 1 << (x % 5),
    lambda t, x: 1000 >> (x % 5), lambda t, x: x << x, lambda t, x: x >> (x * 20),
    lambda t, x: x << 70, lambda t, x: x >> 70, lambda t, x: x << -1, lambda t, x: x >> 63,
    lambda t, x: t.bitwise_left_shift(x, 3), lambda t, x: t.bitwise_right_shift(x, x % 3),
    lambda t, x: x.bitwise_left_shift(x[:1]), lambda t, x: x.to(t.int8) << 7,
    lambda t, x: x.to(t.int8) << 9, lambda t, x: x.abs().to(t.uint8) >> 9,
    lambda t, x: x.to(t.int32) << x[0], lambda t, x: x.abs().to(t.uint8) >> -1,
    lambda t, x: x.abs().to(t.uint8) << -1, lambda t, x: 1 << x.abs().to(t.int32),
    lambda t, x: x.to(t.int8) >> 9, lambda t, x: x.to(t.int16) << (x * 4).to(t.int16),
])
def test_shifts(fn):
    check(fn, INTS, grad=False)


def test_shift_inplace():
    for name in ("__ilshift__", "__irshift__", "bitwise_left_shift_", "bitwise_right_shift_"):
        c, t = chainrule.tensor(INTS), torch.tensor(INTS)
        rc, rt = getattr(c, name)(2), getattr(t, name)(2)
        assert rc is c
        np.testing.assert_array_equal(c.numpy(), t.numpy())
        np.testing.assert_array_equal(rc.numpy(), rt.numpy())
    c, t = chainrule.tensor(INTS), torch.tensor(INTS)
    c <<= 3
    t <<= 3
    np.testing.assert_array_equal(c.numpy(), t.numpy())


@pytest.mark.parametrize("exc,fn", [
    (NotImplementedError, lambda t: t.tensor([1.0, 2.0]) << 1),
    (NotImplementedError, lambda t: t.tensor([1, 2]) << 1.5),
    (NotImplementedError, lambda t: t.tensor([1, 2]) >> t.tensor([1.0, 2.0])),
    (RuntimeError, lambda t: t.tensor([1, 2, 3]) << t.tensor([1, 2])),
    (TypeError, lambda t: t.tensor([1, 2]) << "x"),
])
def test_shift_errors(exc, fn):
    raises_like(exc, lambda: fn(chainrule), lambda: fn(torch))


@pytest.mark.parametrize("elem", [2, 5, -6.0, True, [1, 2], [[5, -6]], [9, 3]])
def test_contains(elem):
    data = np.array([[1, 2], [5, -6]])
    results = [
        (lib.tensor(elem) if isinstance(elem, list) else elem) in lib.tensor(data)
        for lib in (chainrule, torch)
    ]
    assert results[0] is results[1]


def test_contains_errors():
    raises_like(RuntimeError, lambda: chainrule.tensor([1, 2, 3]) in chainrule.tensor([1, 2]),
                lambda: torch.tensor([1, 2, 3]) in torch.tensor([1, 2]))
    raises_like(RuntimeError, lambda: "x" in chainrule.tensor([1]), lambda: "x" in torch.tensor([1]))


@pytest.mark.parametrize("name,args,shape", [
    ("t_", (), (2, 3)), ("transpose_", (0, 2), (2, 3, 4)), ("swapaxes_", (-1, 0), (2, 3)),
    ("squeeze_", (), (1, 3, 1)), ("squeeze_", (0,), (1, 3, 1)), ("unsqueeze_", (1,), (2, 3)),
    ("unsqueeze_", (-1,), ()), ("t_", (), (0, 3)),
])
def test_shape_inplace(rng, name, args, shape):
    x = rng.standard_normal(shape)

    def fn(t, a):
        b = a * 2
        r = getattr(b, name)(*args)
        assert r is b
        return b * b

    check(fn, x)
    # the tensor now views the same storage, as PyTorch's
    cb, tb = chainrule.tensor(x), torch.tensor(x)
    getattr(cb, name)(*args)
    getattr(tb, name)(*args)
    assert tuple(cb.shape) == tuple(tb.shape) and cb._version[0] == tb._version
    np.testing.assert_array_equal(cb.numpy(), tb.numpy())
    if x.size:
        fd_check(fn, x)


@pytest.mark.parametrize("name,args", [("t_", ()), ("unsqueeze_", (0,)), ("squeeze_", ())])
def test_shape_inplace_leaf_error(name, args):
    raises_like(RuntimeError,
                lambda: getattr(chainrule.ones(2, 2, requires_grad=True), name)(*args),
                lambda: getattr(torch.ones(2, 2, requires_grad=True), name)(*args))


@pytest.mark.parametrize("size", [(3, 2), (2,), (4, 2), (0,), (6,)])
def test_resize(size):
    x = np.arange(6.0).reshape(2, 3)
    c, t = chainrule.tensor(x), torch.tensor(x)
    rc = c.resize_(*size)
    t.resize_(*size)
    assert rc is c and tuple(c.shape) == tuple(t.shape)
    k = min(6, int(np.prod(size)))
    np.testing.assert_array_equal(c.numpy().reshape(-1)[:k], t.numpy().reshape(-1)[:k])
    c2 = chainrule.tensor(x)
    assert tuple(c2.resize_(size).shape) == size  # a tuple, as PyTorch accepts


def test_resize_errors():
    raises_like(RuntimeError, lambda: chainrule.ones(2, requires_grad=True).resize_(3),
                lambda: torch.ones(2, requires_grad=True).resize_(3))
    raises_like(RuntimeError, lambda: chainrule.ones(2).resize_(-1, 2),
                lambda: torch.ones(2).resize_(-1, 2))


@pytest.mark.parametrize("shape,wrap", [((3, 3), False), ((3, 4), False), ((7, 3), False),
                                        ((7, 3), True), ((3, 3, 3), False), ((0, 0), False)])
def test_fill_diagonal(rng, shape, wrap):
    x = rng.standard_normal(shape)
    check(lambda t, a: (a * 1).fill_diagonal_(-2.5, wrap=wrap), x)
    check(lambda t, a: a.fill_diagonal_(3, wrap), x.astype(np.int64))


def test_fill_diagonal_errors():
    for shape in [(3,), (2, 3, 4)]:
        raises_like(RuntimeError, lambda s=shape: chainrule.zeros(*s).fill_diagonal_(1),
                    lambda s=shape: torch.zeros(*s).fill_diagonal_(1))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_fill(rng, dim):
    x = rng.standard_normal((4, 5))
    idx = np.array([0, 2, 3])  # (PyTorch's backward refuses negative indices)
    check(lambda tt, a, i: a.index_fill(dim, i, -1.5), x, np.array([-1, 1]), grad=False)
    c, t = check(lambda tt, a, i: a.index_fill(dim, i, -1.5), x, idx)
    assert c.grad_fn.name() == t.grad_fn.name()
    check(lambda tt, a, i, v: tt.index_fill(a, dim, i, v * 2), x, idx, np.array(0.5))
    check(lambda tt, a, i: (a * 1).index_fill_(dim, i, 7), x, idx)
    check(lambda tt, a, i: a.index_fill(dim, i[:1], 7), x.astype(np.int64), idx, grad=False)
    fd_check(lambda tt, a: a.index_fill(dim, tt.tensor(idx), -1.5), x)


@pytest.mark.parametrize("dim", [0, 1, -2])
def test_index_copy(rng, dim):
    x = rng.standard_normal((4, 5))
    idx = np.array([3, 0])
    src = rng.standard_normal((2, 5) if dim % 2 == 0 else (4, 2))
    c, t = check(lambda tt, a, i, s: a.index_copy(dim, i, s), x, idx, src)
    assert c.grad_fn.name() == t.grad_fn.name()
    check(lambda tt, a, i, s: tt.index_copy(a * 1, dim, i, s), x, idx, src)
    check(lambda tt, a, i, s: (a * 1).index_copy_(dim, i, s), x, idx, src)
    fd_check(lambda tt, a, s: a.index_copy(dim, tt.tensor(idx), s), x, src)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.data())
def test_index_fill_copy_shapes(shape, data):
    dim = data.draw(st.integers(0, len(shape) - 1))
    n = shape[dim]
    idx = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=n, unique=True)),
                   dtype=np.int64)
    x = np.random.default_rng(0).standard_normal(shape)
    src_shape = list(shape)
    src_shape[dim] = len(idx)
    src = np.random.default_rng(1).standard_normal(src_shape)
    check(lambda t, a, i: a.index_fill(dim, i, 2.0), x, idx)
    check(lambda t, a, i, s: a.index_copy(dim, i, s), x, idx, src)


def _pair(fn, *arrays):
    return (lambda: fn(chainrule, *[chainrule.tensor(a) for a in arrays]),
            lambda: fn(torch, *[torch.tensor(a) for a in arrays]))


@pytest.mark.parametrize("exc,fn,arrays", [
    (IndexError, lambda t, x: x.index_fill(1, t.tensor([0.0]), 1), [np.ones((3, 4))]),
    (IndexError, lambda t, x: x.index_fill(1, t.tensor([5]), 1), [np.ones((3, 4))]),
    (IndexError, lambda t, x: x.index_fill(2, t.tensor([0]), 1), [np.ones((3, 4))]),
    (RuntimeError, lambda t, x: x.index_fill(1, t.tensor([[0]]), 1), [np.ones((3, 4))]),
    (RuntimeError, lambda t, x: x.index_fill(1, t.tensor([0]), t.ones(2)), [np.ones((3, 4))]),
    (IndexError, lambda t, x, s: x.index_copy(1, t.tensor([0, 2]), s),
     [np.ones((3, 4)), np.ones((3, 3))]),
    (RuntimeError, lambda t, x, s: x.index_copy(1, t.tensor([0, 2]), s),
     [np.ones((3, 4), dtype=np.float32), np.ones((3, 2))]),
    (IndexError, lambda t, x, s: x.index_copy(1, t.tensor([7, 2]), s),
     [np.ones((3, 4)), np.ones((3, 2))]),
])
def test_index_errors(exc, fn, arrays):
    raises_like(exc, *_pair(fn, *arrays))


@pytest.mark.parametrize("shape,mshape,sshape", [
    ((2, 3), (3,), (2, 3)), ((2, 3), (2, 3), (7,)), ((3,), (2, 3), (6,)), ((0, 3), (3,), (0,)),
    ((), (), (1,)),
])
def test_masked_scatter(rng, shape, mshape, sshape):
    x = rng.standard_normal(shape)
    mask = rng.random(mshape) > 0.4
    src = rng.standard_normal(sshape)
    c, t = check(lambda tt, a, m, s: a.masked_scatter(m, s), x, mask, src)
    assert c.grad_fn.name() == t.grad_fn.name()
    if shape == mshape or len(shape) > len(mshape):  # in place needs self's shape to hold it
        check(lambda tt, a, m, s: (a * 1).masked_scatter_(m, s), x, mask, src)
    check(lambda tt, a, m, s: tt.masked_scatter(a, m, s), x, mask, src)
    if x.size:
        fd_check(lambda tt, a, s: a.masked_scatter(tt.tensor(mask), s), x, src)


@pytest.mark.parametrize("fn,arrays", [
    (lambda t, x, m, s: x.masked_scatter(m, s), [np.ones((2, 3)), np.array([1, 0, 1]), np.ones(6)]),
    (lambda t, x, m, s: x.masked_scatter(m, s), [np.ones((2, 3)), np.ones(3, bool), np.ones(3)]),
    (lambda t, x, m, s: x.masked_scatter(m, s), [np.ones((2, 3)), np.ones(2, bool), np.ones(6)]),
    (lambda t, x, m, s: x.masked_scatter(m, s),
     [np.ones((2, 3), np.float32), np.ones(3, bool), np.ones(6)]),
])
def test_masked_scatter_errors(fn, arrays):
    raises_like(RuntimeError, *_pair(fn, *arrays))


@pytest.mark.parametrize("name,args", [("t_", ()), ("unsqueeze_", (0,)), ("transpose_", (1, 0))])
def test_shape_inplace_on_view_then_write(rng, name, args):
    """A view reshaped in place still writes through to its base under autograd."""
    def fn(t, a):
        b = a * 1
        v = b[0:2]
        getattr(v, name)(*args)
        v.mul_(3)
        return b * b

    check(fn, rng.standard_normal((2, 3)))
