"""Reductions vs PyTorch: values, dtypes, grad_fn names, 1st/2nd derivatives, errors."""
# ruff: noqa: B023  (loop lambdas are called at once, inside their own iteration)
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import assert_same, check, fd_check, raises_like, to_both

import chainrule
import chainrule.linalg

F32 = np.float32


def r(rng, *shape, dtype=F32):
    return rng.standard_normal(shape).astype(dtype)


# ---- sum / mean ---------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [
    {}, {"dim": 0}, {"dim": -1}, {"dim": (0, 2)}, {"dim": (-1, 0), "keepdim": True},
    {"dim": 1, "keepdim": True}, {"dim": ()},
])
@pytest.mark.parametrize("name", ["sum", "mean", "nansum"])
def test_sum_mean_dims(rng, name, kw):
    x = r(rng, 2, 3, 4)
    check(lambda t, a: getattr(t, name)(a, **kw), x)
    check(lambda t, a: getattr(a, name)(**kw) * a.sum(), x, seed=1)  # nested: 2nd order non-zero


def test_sum_grad_fn_names_and_dtypes(rng):
    c, t = to_both(r(rng, 2, 3))
    for f in (lambda m, a: m.sum(a), lambda m, a: a.sum(0), lambda m, a: a.mean(),
              lambda m, a: a.mean(1), lambda m, a: a.nansum(1), lambda m, a: a.sum(())):
        assert f(chainrule, c).grad_fn.name() == f(torch, t).grad_fn.name()
    for dt in ("int32", "uint8", "bool", "int64"):
        ci, ti = to_both(np.arange(6).reshape(2, 3).astype(dt))
        assert_same(ci.sum(), ti.sum())
        assert_same(ci.sum(1, keepdim=True), ti.sum(1, keepdim=True))
    ci, ti = to_both(np.arange(6.0).astype(F32), requires_grad=False)
    assert_same(chainrule.sum(ci, dtype=chainrule.float64), torch.sum(ti, dtype=torch.float64))
    assert_same(ci.sum(dtype=chainrule.int32), ti.sum(dtype=torch.int32))
    assert_same(ci.mean(dtype=chainrule.float64), ti.mean(dtype=torch.float64))


def test_sum_noncontiguous_0d_empty(rng):
    x = r(rng, 4, 3).T  # transposed view
    check(lambda t, a: a.sum(1) ** 2, x)
    check(lambda t, a: a.sum() * a.sum(0), np.array(2.5, F32))
    check(lambda t, a: a.sum(0), np.array(2.5, F32))
    check(lambda t, a: a.sum(-1, keepdim=True), np.array(2.5, F32))
    check(lambda t, a: a.sum(), np.zeros((0, 3), F32))
    check(lambda t, a: a.sum(0), np.zeros((0, 3), F32))
    with np.errstate(all="ignore"):
        check(lambda t, a: a.mean(), np.zeros((0,), F32), grad=False)


def test_sum_to_size(rng):
    check(lambda t, a: a.sum_to_size(1, 4) * 3, r(rng, 3, 4))
    check(lambda t, a: a.sum_to_size((3, 1)), r(rng, 2, 3, 4))
    c, t = to_both(r(rng, 2, 3))
    assert c.sum_to_size(2, 3) is c  # the engine's no-op case allocates nothing
    assert t.sum_to_size(2, 3) is t
    for shape in [(3, 3), (4,), (1, 2, 3)]:
        raises_like(RuntimeError, lambda: c.sum_to_size(*shape), lambda: t.sum_to_size(*shape))


def test_mean_refuses_integers():
    c, t = to_both(np.arange(3))
    raises_like(RuntimeError, lambda: c.mean(), lambda: t.mean())
    raises_like(RuntimeError, lambda: chainrule.nanmean(c), lambda: torch.nanmean(t))
    cf, tf = to_both(np.arange(3.0))
    raises_like(RuntimeError, lambda: cf.mean(dtype=chainrule.int64),
                lambda: tf.mean(dtype=torch.int64))


def test_nan_reductions(rng):
    x = r(rng, 3, 4).astype(np.float64)
    x[0, 1] = x[2, 3] = np.nan
    check(lambda t, a: t.nansum(a, 1), x)
    check(lambda t, a: t.nanmean(a), x)
    check(lambda t, a: a.nanmean(dim=0, keepdim=True), x)
    c, t = to_both(x)
    assert c.nanmean().grad_fn.name() == t.nanmean().grad_fn.name() == "DivBackward0"


# ---- prod ---------------------------------------------------------------------------------
@pytest.mark.parametrize("zeros", [(), ((0, 1),), ((0, 1), (1, 2)), ((0, 1), (0, 2))])
@pytest.mark.parametrize("kw", [{}, {"dim": 1}, {"dim": 0, "keepdim": True}, {"dim": -1}])
def test_prod_with_zeros(rng, zeros, kw):
    x = r(rng, 3, 4).astype(np.float64)
    for i in zeros:
        x[i] = 0.0
    check(lambda t, a: t.prod(a, **kw), x)
    fd_check(lambda t, a: t.prod(a, **kw), x)


def test_prod_names_dtypes():
    c, t = to_both(np.array([[1.0, 2.0], [3.0, 4.0]], F32))
    assert c.prod().grad_fn.name() == t.prod().grad_fn.name()
    assert c.prod(1).grad_fn.name() == t.prod(1).grad_fn.name()
    ci, ti = to_both(np.arange(1, 5, dtype=np.int32))
    assert_same(ci.prod(), ti.prod())
    check(lambda t, a: a.prod(), np.zeros((0,), F32))
    check(lambda t, a: a.prod(0), np.array(3.0, F32))


@pytest.mark.parametrize("zero", [False, True])
def test_prod_whole_gradient_of_size_one(rng, zero):
    # Factors near 1 keep the whole product (and so its gradient) far above the tolerance,
    # in the plain backward (rule on arrays) and under create_graph alike.
    x = rng.uniform(0.5, 1.5, (3, 4))
    if zero:
        x[1, 2] = 0.0
    check(lambda t, a: a.prod(), x)
    check(lambda t, a: a.prod(), x.astype(F32))


# ---- max / min / amax / amin / arg* -------------------------------------------------------
TIES = np.array([[1.0, 3.0, 3.0, 0.5], [2.0, 2.0, 2.0, 2.0], [-1.0, 4.0, 0.0, 4.0]], F32)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_whole_and_ties(rng, name):
    check(lambda t, a: getattr(a, name)(), TIES)
    check(lambda t, a: getattr(t, name)(a) * a, r(rng, 3, 4))
    c, t = to_both(TIES)
    assert getattr(c, name)().grad_fn.name() == getattr(t, name)().grad_fn.name()


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, True), (-1, False)])
def test_max_min_dim_named_tuple(rng, name, dim, keepdim):
    x = r(rng, 3, 4)
    cout, _ = check(lambda t, a: getattr(t, name)(a, dim, keepdim), x)
    values, indices = cout  # unpacks
    assert cout.values is values and cout.indices is indices
    assert str(cout.indices.dtype) == "torch.int64"
    c, t = to_both(x)
    assert getattr(c, name)(dim=dim).values.grad_fn.name() == getattr(t, name)(dim=dim).values.grad_fn.name()
    c, t = to_both(np.array([[1.0, 3.0], [2.0, 0.0]], F32))
    assert repr(c.max(1)) == repr(t.max(1))
    assert repr(c.min(0, keepdim=True)) == repr(t.min(0, keepdim=True))


def test_max_binary_is_maximum(rng):
    a, b = r(rng, 3, 4), r(rng, 4)
    check(lambda t, x, y: t.max(x, y), a, b)
    check(lambda t, x, y: x.min(y), a, b)


@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize("kw", [{}, {"dim": 1}, {"dim": (0, 1)}, {"dim": 0, "keepdim": True}, {"dim": -1}])
def test_amax_amin_split_ties(name, kw):
    check(lambda t, a: getattr(t, name)(a, **kw), TIES)
    check(lambda t, a: getattr(t, name)(a * a, **kw), TIES.astype(np.float64))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(rng, name):
    x = r(rng, 3, 4, 2)
    for kw in ({}, {"dim": 1}, {"dim": -1, "keepdim": True}, {"keepdim": True}):
        check(lambda t, a: getattr(t, name)(a, **kw), x, grad=False)
    check(lambda t, a: getattr(a, name)(), TIES, grad=False)  # ties: first occurrence
    check(lambda t, a: getattr(a, name)(1), TIES, grad=False)
    check(lambda t, a: getattr(a, name)(0), np.array(2.0, F32), grad=False)


def test_empty_reduction_errors():
    c, t = to_both(np.zeros((0, 3), F32))
    for f in (lambda m: m.max(), lambda m: m.min(), lambda m: m.amax(), lambda m: m.amin()):
        raises_like(RuntimeError, lambda: f(c), lambda: f(t))
    for f in (lambda m: m.max(0), lambda m: m.amax(0), lambda m: m.argmax(0), lambda m: m.argmin(0)):
        raises_like(IndexError, lambda: f(c), lambda: f(t))
    raises_like(IndexError, lambda: c.argmax(), lambda: t.argmax())
    cv, tv = c.max(1), t.max(1)
    assert_same(tuple(cv), tuple(tv))
    assert_same(c.argmin(1), t.argmin(1))
    assert_same(c.sum(), t.sum())
    assert_same(c.prod(), t.prod())


def test_bad_dims():
    c, t = to_both(np.zeros((2, 3), F32))
    for f in (lambda m: m.sum(2), lambda m: m.mean(-3), lambda m: m.amax(5), lambda m: m.var(2),
              lambda m: m.norm(dim=5), lambda m: m.logsumexp(2), lambda m: m.cumsum(2),
              lambda m: m.max(2), lambda m: m.argmax(-3), lambda m: m.prod(2),
              lambda m: m.all(2), lambda m: m.count_nonzero(3)):
        raises_like(IndexError, lambda: f(c), lambda: f(t))
    raises_like(RuntimeError, lambda: c.sum((0, 0)), lambda: t.sum((0, 0)))
    raises_like(RuntimeError, lambda: c.amax((1, -1)), lambda: t.amax((1, -1)))
    c0, t0 = to_both(np.array(1.0, F32))
    raises_like(IndexError, lambda: c0.sum(1), lambda: t0.sum(1))


# ---- var / std ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("kw", [
    {}, {"dim": 1}, {"dim": (0, 2), "keepdim": True}, {"dim": -1, "unbiased": False},
    {"dim": 1, "correction": 0}, {"correction": 2}, {"dim": 0, "correction": 1, "keepdim": True},
])
def test_var_std(rng, name, kw):
    x = r(rng, 3, 4, 2)
    check(lambda t, a: getattr(t, name)(a, **kw), x, rtol=1e-4)
    fd_check(lambda t, a: getattr(t, name)(a, **kw), x[:2, :3].astype(np.float64))


def test_var_std_misc(rng):
    x = r(rng, 3, 4)
    c, t = to_both(x)
    assert c.var().grad_fn.name() == t.var().grad_fn.name()
    assert c.std(1).grad_fn.name() == t.std(1).grad_fn.name()
    check(lambda t, a: t.var(a, True), x)  # legacy (input, unbiased)
    check(lambda t, a: a.std(1, True, True), x)
    check(lambda t, a: t.var_mean(a, 1), x)
    check(lambda t, a: t.std_mean(a, dim=0, correction=0), x)
    check(lambda t, a: t.std_mean(a), x)
    # constant rows: std is 0, PyTorch's gradient there is 0 (not nan)
    check(lambda t, a: a.std(1), np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]), second=False)
    ci, ti = to_both(np.arange(3))
    raises_like(RuntimeError, lambda: ci.var(), lambda: ti.var())
    raises_like(RuntimeError, lambda: ci.std(), lambda: ti.std())
    with pytest.warns(UserWarning, match="degrees of freedom"):
        v = chainrule.tensor([1.0]).var()
    assert math.isnan(v.item())


# ---- norm ---------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [2, "fro", 1, 3, 1.5, 0.5, float("inf"), -float("inf"), 0, -1])
@pytest.mark.parametrize("kw", [{}, {"dim": 1}, {"dim": (0, 1), "keepdim": True}, {"dim": -1, "keepdim": True}])
def test_norm(rng, p, kw):
    x = r(rng, 3, 4).astype(np.float64)
    x[1, 2] = -x[0, 0]  # a tie in |x| for the inf norms
    check(lambda t, a: t.norm(a, p=p, **kw), x, rtol=1e-5)
    check(lambda t, a: a.norm(p, **kw), x.astype(F32), rtol=1e-4, second=False)


def test_norm_at_zero_and_linalg(rng):
    z = np.zeros((2, 3))
    z[1] = [1.0, -2.0, 2.0]
    for p in (2, 3, 1, float("inf")):
        # first order as PyTorch (0 at a zero norm); PyTorch's second order there is nan,
        # chainrule's stays finite
        check(lambda t, a: t.norm(a, p=p, dim=1), z, second=False)
    check(lambda t, a: t.norm(a), np.zeros(4), second=False)
    x0 = chainrule.zeros(4, dtype=chainrule.float64, requires_grad=True)
    (g,) = chainrule.autograd.grad(x0.norm(), x0, create_graph=True)
    (g2,) = chainrule.autograd.grad(g.sum(), x0)
    assert np.isfinite(g2.numpy()).all()
    x = r(rng, 2, 3)
    check(lambda t, a: t.linalg.vector_norm(a, 3, dim=0), x, rtol=1e-4)
    check(lambda t, a: t.linalg.vector_norm(a), x)
    check(lambda t, a: t.linalg.norm(a), x)
    check(lambda t, a: t.linalg.norm(a, dim=1), x)
    check(lambda t, a: t.linalg.vector_norm(a, dtype=t.float64), x)
    c, tt = to_both(x)
    assert c.norm().grad_fn.name() == tt.norm().grad_fn.name()
    ci, ti = to_both(np.arange(3))
    raises_like(RuntimeError, lambda: ci.norm(), lambda: ti.norm())
    ce, te = to_both(np.zeros((0, 3), F32))
    raises_like(RuntimeError, lambda: ce.norm(float("inf")), lambda: te.norm(float("inf")))
    raises_like(RuntimeError, lambda: chainrule.linalg.vector_norm(ce, -1, 0),
                lambda: torch.linalg.vector_norm(te, -1, 0))
    assert_same(chainrule.linalg.vector_norm(ce, float("inf"), 1),
                torch.linalg.vector_norm(te, float("inf"), 1))
    assert_same(ce.norm(), te.norm())


def test_norm_fd():
    x = np.array([[0.3, -1.2, 2.0], [1.0, 0.5, -0.7]])
    for p in (2, 1, 3, 0.5, float("inf")):
        fd_check(lambda t, a: t.norm(a, p=p, dim=1), x)


# ---- logsumexp ----------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{"dim": 1}, {"dim": (0, 1)}, {"dim": -1, "keepdim": True}, {"dim": 0}])
def test_logsumexp(rng, kw):
    check(lambda t, a: t.logsumexp(a, **kw), r(rng, 3, 4))
    big = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [3.0, 3.0, 3.0]], F32)
    check(lambda t, a: a.logsumexp(**kw), big)
    fd_check(lambda t, a: t.logsumexp(a, **kw), r(rng, 2, 3).astype(np.float64))


def test_logsumexp_inf_empty_int():
    x = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [-np.inf, 0.0]], F32)
    check(lambda t, a: t.logsumexp(a, 1), x, grad=False)
    check(lambda t, a: t.logsumexp(a, 0), np.zeros((0,), F32), grad=False)
    check(lambda t, a: t.logsumexp(a, 0), np.arange(3), grad=False)
    c, t = to_both(np.ones((2, 2), F32))
    assert c.logsumexp(1).grad_fn.name() == t.logsumexp(1).grad_fn.name()


# ---- cumulative ---------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum(rng, dim):
    x = r(rng, 3, 4)
    check(lambda t, a: t.cumsum(a, dim) ** 2, x)
    check(lambda t, a: a.cumsum(dim=dim, dtype=t.float64), x)
    fd_check(lambda t, a: t.cumsum(a, dim) ** 2, x.astype(np.float64))


@pytest.mark.parametrize("zeros", [(), ((0, 1),), ((0, 1), (0, 3)), ((1, 0), (2, 2))])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod_with_zeros(rng, zeros, dim):
    x = r(rng, 3, 4).astype(np.float64)
    for i in zeros:
        x[i] = 0.0
    check(lambda t, a: t.cumprod(a, dim), x)
    fd_check(lambda t, a: t.cumprod(a, dim), x)


def test_cum_dtypes_0d_names():
    for dt in ("int32", "bool", "uint8"):
        ci, ti = to_both(np.array([1, 0, 1]).astype(dt))
        assert_same(ci.cumsum(0), ti.cumsum(0))
        assert_same(ci.cumprod(0), ti.cumprod(0))
    check(lambda t, a: a.cumsum(0) * 2, np.array(1.5, F32))
    check(lambda t, a: a.cumprod(-1) * 2, np.array(1.5, F32))
    c, t = to_both(np.ones(3, F32))
    assert c.cumsum(0).grad_fn.name() == t.cumsum(0).grad_fn.name()
    assert c.cumprod(0).grad_fn.name() == t.cumprod(0).grad_fn.name()


# ---- logical ------------------------------------------------------------------------------
def test_all_any_count_nonzero(rng):
    x = (rng.standard_normal((3, 4, 2)) > 0).astype(F32)
    x[0] = 1.0
    for kw in ({}, {"dim": 1}, {"dim": -1, "keepdim": True}, {"dim": (0, 2)}):
        check(lambda t, a: t.all(a, **kw), x, grad=False)
        check(lambda t, a: a.any(**kw), x, grad=False)
    for kw in ({}, {"dim": 1}, {"dim": (0, 2)}):
        check(lambda t, a: t.count_nonzero(a, **kw), x, grad=False)
    check(lambda t, a: t.all(a), np.zeros((0,), F32), grad=False)
    check(lambda t, a: t.any(a, 0), np.zeros((0, 2), bool), grad=False)


# ---- hypothesis: random shapes and dims -----------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    data=st.data(),
)
def test_reductions_random_shapes(shape, data):
    nd = len(shape)
    dims = data.draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd,
                              unique_by=lambda d: d % nd))
    keepdim = data.draw(st.booleans())
    x = np.random.default_rng(len(shape)).standard_normal(shape).astype(np.float64)
    dims = tuple(dims)
    check(lambda t, a: t.sum(a, dims, keepdim) * t.mean(a, dims, keepdim), x)
    check(lambda t, a: t.amax(a, dims, keepdim) + t.logsumexp(a, dims, keepdim), x)
    check(lambda t, a: t.linalg.vector_norm(a, dim=dims, keepdim=keepdim), x)
    if all(x.shape[d] > 1 for d in dims):
        check(lambda t, a: t.var(a, dims, keepdim=keepdim), x)
    check(lambda t, a: t.prod(a, dims[0], keepdim), x)


def test_int_only_dims_and_empty_dim_tuple():
    c, t = to_both(np.ones((2, 3), F32))
    for f in (lambda m: m.prod((0, 1)), lambda m: m.max(dim=(0, 1)), lambda m: m.min((1,)),
              lambda m: m.argmax(dim=(0,)), lambda m: m.cumsum((0,)), lambda m: m.cumprod([1])):
        with pytest.raises(TypeError):
            f(t)
        with pytest.raises(TypeError, match="argument 'dim' must be int"):
            f(c)
    raises_like(TypeError, lambda: c.logsumexp(None), lambda: t.logsumexp(None))
    assert_same(c.all(()), t.all(()))
    assert_same(c.any(()), t.any(()))
    assert_same(c.count_nonzero(()), t.count_nonzero(()))
    assert_same(c.amax(()), t.amax(()))
    assert_same(c.norm(dim=()), t.norm(dim=()))


def test_matrix_norms(rng):
    x = r(rng, 2, 3, 4)
    check(lambda t, a: t.linalg.matrix_norm(a), x)
    check(lambda t, a: t.linalg.norm(a, "fro", dim=(0, 2)), x)
    check(lambda t, a: t.linalg.norm(a[0], 3, dim=1), x, rtol=1e-4)
    check(lambda t, a: t.norm(a, "fro", dim=(1, 2)), x)
    c = chainrule.tensor(x[0])
    # not implemented (they need an SVD / per-axis extrema): a clear error, not wrong numbers
    for f in (lambda: c.norm("nuc"), lambda: chainrule.linalg.norm(c, 2),
              lambda: chainrule.linalg.matrix_norm(c, "nuc")):
        with pytest.raises(NotImplementedError):
            f()


@pytest.mark.parametrize("fn", [
    lambda t, a: a.sum(1), lambda t, a: a.mean(), lambda t, a: a.amax(0), lambda t, a: a.var(1),
    lambda t, a: a.norm(), lambda t, a: a.logsumexp(1), lambda t, a: a.cumsum(1),
    lambda t, a: a.prod(1), lambda t, a: a.max(1),
])
def test_float16(rng, fn):
    check(fn, r(rng, 3, 4, dtype=np.float16))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blas_row_and_column_sums(rng, dtype):
    # Many short runs take the BLAS (ones-vector) path; long runs, float16, non-contiguous
    # data and few rows keep NumPy's sum: every case must agree with torch.
    x = r(rng, 4, 16, 24, dtype=dtype)
    x[0, 0, :3] = [np.nan, np.inf, -np.inf]
    x[1, 2, :] = -0.0
    for dim, keep in ((-1, True), (-1, False), (0, False), (0, True), (2, False)):
        check(lambda t, a: a.sum(dim, keepdim=keep), x, second=False)
    check(lambda t, a: a.mean(-1), x)
    check(lambda t, a: a.sum(-1), r(rng, 3, 2000, dtype=dtype), rtol=1e-4)  # long rows: NumPy
    check(lambda t, a: a.sum(-1), r(rng, 24, 16, dtype=dtype).T, second=False)  # non-contiguous
    check(lambda t, a: a.sum(0), r(rng, 2, 40, dtype=dtype), second=False)  # few rows
    # the engine's unbroadcast of a bias-like gradient (leading axes) goes the same way
    check(lambda t, a, b: a + b, r(rng, 6, 5, 16, dtype=dtype), r(rng, 16, dtype=dtype), second=False)
    # batch and trailing axes (a conv bias gradient): a leading then a trailing BLAS sum
    y = r(rng, 8, 3, 6, 5, dtype=dtype)
    y[0, 1, 2, :3] = [np.nan, np.inf, -np.inf]
    for dims in ((0, 2, 3), (0, 3), (0, -1, -2)):
        for keep in (False, True):
            check(lambda t, a: a.sum(dims, keepdim=keep), y, second=False)
    check(lambda t, a: a.sum((0, 2)), r(rng, 8, 3, 40, dtype=dtype), second=False)
    check(lambda t, a: a.transpose(2, 3).sum((0, 2, 3)), r(rng, 6, 8, 3, 5, dtype=dtype),
          second=False)  # non-contiguous: NumPy's sums
    for empty in ((0, 3, 4, 5), (2, 0, 4, 5), (2, 3, 0, 5)):
        check(lambda t, a: a.sum((0, 2, 3)), r(rng, *empty, dtype=dtype), second=False)
    for other in (np.float16, np.int32, np.bool_):  # NumPy's own sum, PyTorch's result dtype
        v = (r(rng, 4, 3, 5, 2, dtype=np.float32) * 3).astype(other)
        check(lambda t, a: a.sum((0, 2, 3)), v, grad=False)
    x4 = r(rng, 4, 3, 5, 5, dtype=dtype)
    check(lambda t, x, w, b: t.nn.functional.conv2d(x, w, b), x4, r(rng, 2, 3, 3, 3, dtype=dtype),
          r(rng, 2, dtype=dtype), second=False)  # its bias gradient


def test_float16_sums_keep_numpy(rng):
    check(lambda t, a: a.sum(-1), r(rng, 16, 24, dtype=np.float16), grad=False)
