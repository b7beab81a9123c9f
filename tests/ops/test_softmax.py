"""softmax / log_softmax / softmin vs PyTorch: fused single nodes, stable, 1st and 2nd order."""
# ruff: noqa: B023  (loop lambdas are called at once, inside their own iteration)
import importlib

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import assert_same, check, fd_check, raises_like, to_both

import chainrule

S = importlib.import_module("chainrule.ops.softmax")  # the package re-exports a function of that name
F32 = np.float32
BIG = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [3.0, 3.0, 3.0], [1e4, 1e4, -5.0]], F32)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_values_and_two_orders(rng, name, dim):
    x = rng.standard_normal((3, 4)).astype(F32)
    check(lambda t, a: getattr(t, name)(a, dim), x)
    check(lambda t, a: getattr(a, name)(dim) * a, x)  # second order non-trivial
    fd_check(lambda t, a: getattr(t, name)(a, dim), x.astype(np.float64))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_big_logits_no_overflow(name):
    for dim in (0, 1):
        cout, _ = check(lambda t, a: getattr(t, name)(a, dim), BIG)
        assert np.isfinite(cout.detach().numpy()).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_unshifted_and_shifted_paths_are_exact(rng, dtype):
    # softmax exponentiates without the row-maximum shift when that is safe (every row sum in
    # [2**-20, max]) and falls back to the shift otherwise: both must stay within a few ulps of
    # the exact (float64 from the shifted formula in extended precision) and agree with torch.
    def exact(a):
        a = a.astype(np.longdouble)
        e = np.exp(a - np.nanmax(np.where(np.isneginf(a), np.nan, a), -1, keepdims=True))
        e = np.where(np.isneginf(a), 0, e)
        return e / e.sum(-1, keepdims=True)

    tol = 16 * np.finfo(dtype).eps
    scores = rng.standard_normal((6, 2, 32, 32)).astype(dtype) * 3
    scores[..., np.triu(np.ones((32, 32), bool), 1)] = -np.inf  # causal: row 0 has one term
    cases = {
        "attention": scores,  # the unshifted path
        "large": rng.uniform(60, 85, (64, 10)).astype(dtype),  # sums near float32's top
        "overflow": np.concatenate([rng.standard_normal((63, 10)), [[100.0] + [0.0] * 9]]).astype(dtype),
        "low_row": np.concatenate([rng.standard_normal((63, 10)), [[-30.0] * 10]]).astype(dtype),
        "underflow_row": np.concatenate([rng.standard_normal((63, 10)), [[-90.0, -91.0] + [-110.0] * 8]]).astype(dtype),
        "denormal_band": np.concatenate([rng.standard_normal((63, 10)) + 20, [[-95.0, 10] + [0.0] * 8]]).astype(dtype),
    }
    for name, a in cases.items():
        c, t = to_both(a)
        got = chainrule.softmax(c, -1).detach().numpy()
        assert np.isfinite(got).all(), name
        np.testing.assert_allclose(got, exact(a), rtol=tol, atol=1e-30, err_msg=name)
        assert_same(chainrule.softmax(c, -1), torch.softmax(t, -1), rtol=tol, atol=1e-30)
    for bad in ([[np.inf, 0.0]], [[-np.inf, -np.inf]], [[np.nan, 1.0]]):  # NaN rows, as torch
        c, t = to_both(np.repeat(np.array(bad, dtype), 300, 0))
        assert_same(chainrule.softmax(c, -1), torch.softmax(t, -1))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_single_fused_node(name):
    c, t = to_both(np.ones((2, 3), F32))
    y = getattr(chainrule, name)(c, 1)
    assert y.grad_fn.name() == getattr(torch, name)(t, 1).grad_fn.name()
    # one node straight onto the leaf
    assert len(y.grad_fn.next_functions) == 1
    assert y.grad_fn.next_functions[0][0].name() == "torch::autograd::AccumulateGrad"


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_shapes_0d_empty_noncontiguous_3d(rng, name):
    check(lambda t, a: getattr(t, name)(a, 0), np.array(1.5, F32))
    check(lambda t, a: getattr(t, name)(a, -1), np.zeros((2, 0), F32))
    check(lambda t, a: getattr(t, name)(a, 0), np.zeros((0, 3), F32))
    x = rng.standard_normal((4, 3)).astype(F32).T
    check(lambda t, a: getattr(t, name)(a, 1), x)
    check(lambda t, a: getattr(t, name)(a, 1), rng.standard_normal((2, 3, 4)).astype(F32))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_dtype_argument_and_int_errors(rng, name):
    x = rng.standard_normal((2, 3)).astype(F32)
    check(lambda t, a: getattr(t, name)(a, 1, dtype=t.float64), x)
    check(lambda t, a: getattr(t, name)(a, 1, t.float64), x)  # torch.softmax(x, dim, dtype)
    check(lambda t, a: getattr(a, name)(0, dtype=t.float64), x)
    ci, ti = to_both(np.arange(6).reshape(2, 3))
    assert_same(getattr(chainrule, name)(ci, 0, dtype=chainrule.float32),
                getattr(torch, name)(ti, 0, dtype=torch.float32))
    raises_like(NotImplementedError, lambda: getattr(chainrule, name)(ci, 1),
                lambda: getattr(torch, name)(ti, 1))
    raises_like(NotImplementedError, lambda: getattr(chainrule, name)(ci, 0),
                lambda: getattr(torch, name)(ti, 0))
    c, t = to_both(x)
    raises_like(IndexError, lambda: getattr(chainrule, name)(c, 2), lambda: getattr(torch, name)(t, 2))


def test_functional_signature_and_implicit_dim(rng):
    x = rng.standard_normal((2, 3)).astype(F32)
    assert S.__all_functional__ == ["softmax", "log_softmax", "softmin"]
    check(lambda t, a: (S.softmax if t is chainrule else TF.softmax)(a, 1, 3, t.float64), x)
    check(lambda t, a: (S.softmin if t is chainrule else TF.softmin)(a, dim=0), x)
    check(lambda t, a: (S.log_softmax if t is chainrule else TF.log_softmax)(a, dim=-1, dtype=t.float64), x)
    c, t = to_both(x)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = S.softmax(c)
    with pytest.warns(UserWarning):
        assert_same(y, TF.softmax(t))
    for shape in [(3,), (2, 3, 4), (2, 3, 4, 5)]:
        c, t = to_both(rng.standard_normal(shape).astype(F32))
        with pytest.warns(UserWarning, match="log_softmax"):
            y = S.log_softmax(c)
        with pytest.warns(UserWarning):
            assert_same(y, TF.log_softmax(t))


def test_cross_entropy_pattern_double_backward(rng):
    # log_softmax → pick → mean, differentiated twice (Hessian-vector products of a loss)
    x = rng.standard_normal((4, 5))
    onehot = np.eye(5)[[0, 3, 1, 4]]
    check(lambda t, a: -(t.log_softmax(a, 1) * t.tensor(onehot)).sum(1).mean(), x)
    check(lambda t, a: (t.softmax(a, 0) ** 2).sum(), x)


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3), data=st.data(),
       scale=st.sampled_from([1.0, 100.0, 1e4]))
def test_random_shapes(shape, data, scale):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = np.random.default_rng(len(shape)).standard_normal(shape) * scale
    check(lambda t, a: t.softmax(a, dim), x, rtol=1e-5, atol=1e-6)
    check(lambda t, a: t.log_softmax(a, dim), x, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_float16(rng, name):
    check(lambda t, a: getattr(t, name)(a, 1), rng.standard_normal((3, 4)).astype(np.float16))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_plain_backward_array_path(rng, name):
    # second=False: the first derivative comes from the plain (no create_graph) array rule.
    for x, dim in ((np.array(1.5, F32), 0), (np.zeros((2, 0), F32), -1), (BIG, 1), (BIG, 0),
                   (rng.standard_normal((4, 3)).astype(F32).T, 1),
                   (rng.standard_normal((2, 3, 4)), 1)):
        check(lambda t, a: getattr(t, name)(a, dim), x, second=False)
    check(lambda t, a: getattr(t, name)(a, 1, dtype=t.float64), BIG, second=False)
    # a broadcast (zero-stride) upstream gradient, as from sum()
    check(lambda t, a: getattr(t, name)(a, -1).sum(), BIG, second=False)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_many_rows_blas_sums(rng, name):
    # 64 rows of 32: the row sums go through BLAS, forward and both backward paths.
    x = (rng.standard_normal((64, 32)) * 5).astype(F32)
    check(lambda t, a: getattr(t, name)(a, -1), x)
    check(lambda t, a: getattr(t, name)(a, -1), x, second=False)
    check(lambda t, a: getattr(t, name)(a, 0), x, second=False)
    x[3, :] = -np.inf
    x[3, 5] = 0.0
    check(lambda t, a: getattr(t, name)(a, -1), x, grad=False)


def test_max_last_is_numpy_max_exactly(rng):
    # The softmax shift: a transposed reduction for short rows, NumPy's own for long ones;
    # bit-identical to a.max(-1, keepdims=True), NaN and infinities included.
    from chainrule.ops.reductions import max_last

    # (512, 64), (16, 2, 32, 32), (1024, 16): transposed 16 bytes at a time, every float dtype
    cases = [(s, F32) for s in [(3,), (4, 5), (300, 1), (64, 10), (8, 65), (3, 200)]]
    cases += [(s, dt) for s in [(512, 64), (16, 2, 32, 32), (1024, 16)]
              for dt in (np.float16, F32, np.float64)]
    for shape, dt in cases:
        a = rng.standard_normal(shape).astype(dt)
        if a.size > 20:
            flat = a.reshape(-1)
            flat[[1, 7]], flat[11], flat[13] = -np.inf, np.inf, np.nan
        a[..., 0] = -np.inf  # a fully masked row where it is the only column
        got, want = max_last(a), a.max(-1, keepdims=True)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    strided = rng.standard_normal((40, 64)).astype(F32)[:, ::2]
    np.testing.assert_array_equal(max_last(strided), strided.max(-1, keepdims=True))
    for view in (rng.standard_normal((64, 512)).astype(F32).T,  # large, not C-contiguous
                 rng.standard_normal((600, 64)).astype(F32)[1:-1]):  # contiguous, offset
        np.testing.assert_array_equal(max_last(view), view.max(-1, keepdims=True))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_many_short_rows_with_masks(rng, name):
    # 1024 rows of 32 (attention scores): the transposed-max shift, a causal -inf mask and a
    # fully masked row (NaN, as PyTorch) in both engine modes and the second order.
    x = (rng.standard_normal((16, 2, 32, 32)) * 3).astype(F32)
    x[..., np.triu(np.ones((32, 32), bool), 1)] = -np.inf
    check(lambda t, a: getattr(t, name)(a, -1), x, rtol=1e-4, atol=1e-5)
    x[0, 0, 5, :] = -np.inf
    check(lambda t, a: getattr(t, name)(a, -1), x, grad=False)
