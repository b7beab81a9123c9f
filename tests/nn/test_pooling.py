"""Pooling vs PyTorch: values, indices, first and second derivatives, errors."""
import numpy as np
import pytest
import torch
from oracle import check, fd_check, raises_like

import chainrule


def _arr(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


MAX_CASES = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": (2, 3), "stride": (1, 2), "dilation": 2},
    {"kernel_size": (3, 2), "stride": 2, "padding": (1, 0), "dilation": (1, 2), "ceil_mode": True},
]


@pytest.mark.parametrize("kw", MAX_CASES)
def test_max_pool2d(rng, kw):
    x = _arr(rng, 2, 3, 7, 6)
    check(lambda t, x: t.nn.functional.max_pool2d(x, **kw), x)
    c, _t = check(lambda t, x: t.nn.functional.max_pool2d(x, return_indices=True, **kw), x)
    assert c[1].dtype == chainrule.int64


def test_max_pool2d_unbatched_and_grad_fn(rng):
    check(lambda t, x: t.nn.functional.max_pool2d(x, 2, 1), _arr(rng, 3, 4, 5))
    x = chainrule.tensor(_arr(rng, 1, 1, 4, 4), requires_grad=True)
    assert chainrule.nn.functional.max_pool2d(x, 2).grad_fn.name() == \
        "MaxPool2DWithIndicesBackward0"


def test_max_pool2d_ties_pick_first(rng):
    x = np.zeros((1, 1, 4, 4), np.float32)
    check(lambda t, x: t.nn.functional.max_pool2d(x, 2, return_indices=True), x)


@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1,
                                "ceil_mode": True, "dilation": 2}])
def test_max_pool1d(rng, kw):
    check(lambda t, x: t.nn.functional.max_pool1d(x, return_indices=True, **kw), _arr(rng, 2, 3, 9))


AVG_CASES = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": (2, 3), "stride": (1, 2), "padding": (1, 1), "count_include_pad": False},
    {"kernel_size": 2, "stride": 1, "divisor_override": 3},
]


@pytest.mark.parametrize("kw", AVG_CASES)
def test_avg_pool2d(rng, kw):
    check(lambda t, x: t.nn.functional.avg_pool2d(x, **kw), _arr(rng, 2, 3, 7, 6))


@pytest.mark.parametrize("kw", AVG_CASES[:4])
def test_avg_pool1d(rng, kw):
    check(lambda t, x: t.nn.functional.avg_pool1d(x, **kw), _arr(rng, 2, 3, 9))


@pytest.mark.parametrize("size", [(3, 4), 2, 1, (7, 5), (None, 2)])
def test_adaptive_avg_pool2d(rng, size):
    check(lambda t, x: t.nn.functional.adaptive_avg_pool2d(x, size), _arr(rng, 2, 3, 7, 5),
          rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("size", [1, 3, 4])
def test_adaptive_avg_pool1d(rng, size):
    check(lambda t, x: t.nn.functional.adaptive_avg_pool1d(x, size), _arr(rng, 2, 3, 10),
          rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("size", [(3, 2), 1, (7, 5), (None, 3), (4, 4)])
def test_adaptive_max_pool2d(rng, size):
    x = _arr(rng, 2, 3, 7, 5)
    check(lambda t, x: t.nn.functional.adaptive_max_pool2d(x, size, return_indices=True), x)
    check(lambda t, x: t.nn.functional.adaptive_max_pool2d(x[0], size), x)  # unbatched


def test_adaptive_max_pool1d(rng):
    check(lambda t, x: t.nn.functional.adaptive_max_pool1d(x, 3, return_indices=True),
          _arr(rng, 2, 3, 10))


def test_pooling_fd_float64(rng):
    x = rng.standard_normal((1, 2, 5, 4))
    fd_check(lambda t, x: t.nn.functional.max_pool2d(x, 2, 2, 1, ceil_mode=True), x)
    fd_check(lambda t, x: t.nn.functional.avg_pool2d(x, 3, 2, 1, count_include_pad=False), x)
    fd_check(lambda t, x: t.nn.functional.adaptive_avg_pool2d(x, (3, 3)), x)
    fd_check(lambda t, x: t.nn.functional.adaptive_max_pool2d(x, (3, 2)), x)


def both(fn, *arrays):
    c = [chainrule.tensor(a) for a in arrays]
    t = [torch.tensor(a) for a in arrays]
    return (lambda: fn(chainrule.nn.functional, *c)), (lambda: fn(torch.nn.functional, *t))


@pytest.mark.parametrize("shape,call", [
    ((2, 3, 5, 5), lambda F, x: F.max_pool2d(x, 3, padding=2)),
    ((2, 3, 5, 5), lambda F, x: F.max_pool2d(x, 7)),
    ((2, 3, 5, 5), lambda F, x: F.max_pool2d(x, 0)),
    ((5, 5), lambda F, x: F.max_pool2d(x, 2)),
    ((2, 3, 5, 5), lambda F, x: F.avg_pool2d(x, 7)),
    ((2, 3, 5, 5), lambda F, x: F.avg_pool2d(x, 3, padding=2)),
    ((2, 3, 5, 5), lambda F, x: F.adaptive_avg_pool2d(x, (2,))),
])
def test_pool_errors_like_torch(rng, shape, call):
    raises_like(RuntimeError, *both(call, _arr(rng, *shape)))


# ---- modules ------------------------------------------------------------------------------
from layer_oracle import compare, twin


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("MaxPool2d", (3, 2), {"padding": 1, "ceil_mode": True}, (2, 3, 7, 6)),
    ("MaxPool2d", (2,), {"return_indices": True}, (2, 3, 6, 6)),
    ("MaxPool1d", (3,), {"stride": 2, "dilation": 2}, (2, 3, 11)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}, (2, 3, 7, 6)),
    ("AvgPool2d", (2,), {"divisor_override": 3, "ceil_mode": True}, (2, 3, 5, 5)),
    ("AvgPool1d", (3,), {"stride": 1, "padding": 1}, (2, 3, 8)),
    ("AdaptiveAvgPool2d", ((2, None),), {}, (2, 3, 7, 5)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 4, 4)),
    ("AdaptiveAvgPool1d", (3,), {}, (2, 3, 8)),
    ("AdaptiveMaxPool2d", ((3, 2),), {"return_indices": True}, (2, 3, 7, 5)),
    ("AdaptiveMaxPool1d", (4,), {}, (2, 3, 9)),
])
def test_pool_modules_match_torch(rng, name, args, kwargs, shape):
    c, t = twin(name, *args, **kwargs)
    assert repr(c) == repr(t)
    compare(c, t, _arr(rng, *shape))


def test_pooling_empty_batch_and_noncontiguous(rng):
    z = np.zeros((0, 3, 5, 5), np.float32)
    check(lambda t, x: t.nn.functional.max_pool2d(x, 2, return_indices=True), z)
    check(lambda t, x: t.nn.functional.avg_pool2d(x, 2), z)
    x = _arr(rng, 2, 3, 6, 5)
    check(lambda t, x: t.nn.functional.max_pool2d(x.transpose(2, 3), 2, 1), x)
    check(lambda t, x: t.nn.functional.avg_pool2d(x.transpose(2, 3), 3, 2, 1), x)
    check(lambda t, x: t.nn.functional.adaptive_avg_pool2d(x.transpose(2, 3), 3), x)


@pytest.mark.parametrize("width", [9, 70])  # narrow outputs go tap-major, wide ones strided
@pytest.mark.parametrize("kw", MAX_CASES)
def test_max_pool2d_nan_ties_and_inf_on_both_paths(rng, width, kw):
    x = rng.integers(-2, 3, (2, 3, 6, width)).astype(np.float32)  # many ties
    x[0, 0, 1, 2] = np.nan
    x[1, 2, 3, 1] = -np.inf
    x[1, 1, :2, :4] = np.inf
    c, t = check(lambda L, x: L.nn.functional.max_pool2d(x, return_indices=True, **kw), x,
                 grad=False)
    np.testing.assert_array_equal(c[1].numpy(), t[1].numpy())
    finite = np.nan_to_num(x, nan=0.5, posinf=7.0, neginf=-7.0)
    check(lambda L, x: L.nn.functional.max_pool2d(x, **kw), finite)
