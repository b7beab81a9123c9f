"""ops/misc.py against PyTorch: values, dtypes, first and second derivatives, errors."""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import assert_same, check, fd_check, raises_like

import chainrule


def both(fn):
    return fn(chainrule), fn(torch)


def same_error(exc, make, match=None):
    """make(lib) raises the same class and wording under both libraries."""
    raises_like(exc, lambda: make(chainrule), lambda: make(torch), match=match)


# ---- differentiable ---------------------------------------------------------------------
@pytest.mark.parametrize("sa,sb,dim", [((4, 3), (4, 3), 1), ((2, 3, 5), (1, 3, 1), -2), ((1, 3), (2, 3), -1)])
def test_cross_matches_torch(rng, sa, sb, dim):
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    out, _ = check(lambda t, x, y: t.cross(x, y, dim=dim), a, b)
    assert out.grad_fn.name() == "LinalgCrossBackward0"
    fd_check(lambda t, x, y: t.cross(x, y, dim=dim), a, b)


def test_cross_default_dim_warns_and_errors():
    a = np.arange(12.0).reshape(4, 3)
    with pytest.warns(UserWarning, match="without specifying the dim"):
        c = chainrule.cross(chainrule.tensor(a), chainrule.tensor(a[::-1].copy()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(c, torch.cross(torch.tensor(a), torch.tensor(a[::-1].copy())))
        raises_like(RuntimeError, lambda: chainrule.cross(chainrule.ones(4, 2), chainrule.ones(4, 2)),
                    lambda: torch.cross(torch.ones(4, 2), torch.ones(4, 2)))
    for sa, sb in [((4,), (4,)), ((2, 3), (5, 3)), ((3,), (2, 3))]:
        same_error(RuntimeError, lambda L, sa=sa, sb=sb: L.cross(L.ones(*sa), L.ones(*sb), dim=-1))
    raises_like(RuntimeError, lambda: chainrule.ones(3).cross(chainrule.ones(3, dtype=chainrule.float64), dim=0),
                lambda: torch.ones(3).cross(torch.ones(3, dtype=torch.float64), dim=0))


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5])
def test_cdist_values_and_gradients(rng, p):
    a, b = rng.standard_normal((2, 4, 3)), rng.standard_normal((5, 3))
    # PyTorch has no second derivative of cdist to compare with; first order also vs differences
    out, _ = check(lambda t, x, y: t.cdist(x, y, p=p), a, b, rtol=1e-4, second=False)
    assert out.grad_fn.name() == "CdistBackward0"
    fd_check(lambda t, x, y: t.cdist(x, y, p=p), a[0], b)


def test_cdist_zero_distance_has_zero_gradient_and_forward_only_norms(rng):
    a = rng.standard_normal((3, 2)).astype(np.float32)
    check(lambda t, x: t.cdist(x, x), a, second=False)
    for p in (0.0, float("inf")):
        check(lambda t, x, y, p=p: t.cdist(x, y, p=p), a, a[::-1] + 1, grad=False)


@pytest.mark.parametrize("p", [2.0, 3.0])
def test_cdist_zero_distance_gradient_is_zero_even_under_a_nan_upstream(p):
    # PyTorch masks the zero-distance pairs: a NaN arriving there leaves no trace
    x = np.array([[0.0, 0.0], [1.0, 2.0]], np.float32)
    y = np.array([[0.0, 0.0], [3.0, 1.0]], np.float32)
    g = np.array([[np.nan, 1.0], [1.0, 1.0]], np.float32)
    grads = []
    for L in (chainrule, torch):
        a, b = L.tensor(x, requires_grad=True), L.tensor(y, requires_grad=True)
        L.cdist(a, b, p=p).backward(L.tensor(g))
        grads.append((a.grad.numpy(), b.grad.numpy()))
    for ours, theirs in zip(*grads):
        assert not np.isnan(ours).any()
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_cdist_errors():
    for make in (lambda L: L.cdist(L.ones(3, 2), L.ones(4, 3)), lambda L: L.cdist(L.ones(3), L.ones(4, 3)),
                 lambda L: L.cdist(L.ones(3, 2), L.ones(4, 2), p=-1),
                 lambda L: L.cdist(L.ones(3, 2, dtype=L.float64), L.ones(4, 2)),
                 lambda L: L.cdist(L.arange(4).view(2, 2), L.arange(4).view(2, 2))):
        same_error(RuntimeError, make)


def test_trace(rng):
    out, _ = check(lambda t, x: t.trace(x), rng.standard_normal((3, 5)))
    assert out.grad_fn.name() == "TraceBackward0"
    assert_same(*both(lambda L: L.arange(9, dtype=L.int32).view(3, 3).trace()))
    raises_like(RuntimeError, lambda: chainrule.ones(2, 3, 4).trace(), lambda: torch.ones(2, 3, 4).trace())
    raises_like(NotImplementedError, lambda: chainrule.ones(2, 2, dtype=chainrule.bool).trace(),
                lambda: torch.ones(2, 2, dtype=torch.bool).trace())


@pytest.mark.parametrize("kw", [{}, {"n": 2, "dim": 0}, {"n": 5}, {"prepend": "t", "dim": 0},
                                {"append": "t"}, {"prepend": "t", "append": "t", "n": 2, "dim": 0}])
def test_diff(rng, kw):
    a = rng.standard_normal((3, 4))
    extra = rng.standard_normal((1, 4)) if kw.get("dim") == 0 else rng.standard_normal((3, 1))

    def f(t, x, e):
        k = {key: (e if v == "t" else v) for key, v in kw.items()}
        return t.diff(x, **k)

    out, _ = check(f, a, extra)
    assert out.grad_fn is None or out.grad_fn.name() == "SubBackward0"


def test_diff_integer_bool_and_errors():
    assert_same(*both(lambda L: L.tensor([1, 4, 9, 16]).diff(n=2)))
    assert_same(*both(lambda L: L.tensor([True, False, False]).diff()))
    raises_like(RuntimeError, lambda: chainrule.tensor(1.0).diff(), lambda: torch.tensor(1.0).diff())
    raises_like(RuntimeError, lambda: chainrule.ones(3).diff(n=-1), lambda: torch.ones(3).diff(n=-1))
    same_error(TypeError, lambda L: L.ones(3).diff(append=1.5))
    raises_like(RuntimeError, lambda: chainrule.ones(3).diff(prepend=chainrule.ones(1, 1)),
                lambda: torch.ones(3).diff(prepend=torch.ones(1, 1)))


def test_meshgrid_and_cartesian_prod(rng):
    a, b, c = rng.standard_normal(3), rng.standard_normal(2), rng.standard_normal(4)
    for ix in ("ij", "xy"):
        out, _ = check(lambda t, x, y, z, ix=ix: t.meshgrid(x, y, z, indexing=ix), a, b, c)
        assert out[0].grad_fn.name() == "ExpandBackward0"
        check(lambda t, x, y, ix=ix: t.meshgrid([x, y], indexing=ix), a, b)
    check(lambda t, x: t.meshgrid(x[0], x, indexing="ij"), a)
    out, _ = check(lambda t, x, y: t.cartesian_prod(x, y), a, b)
    assert out.grad_fn.name() == "StackBackward0"
    assert_same(*both(lambda L: L.cartesian_prod(L.tensor([1, 2]), L.tensor([3, 4, 5]), L.tensor([0]))))
    with pytest.warns(UserWarning, match="indexing"):
        chainrule.meshgrid(chainrule.ones(2), chainrule.ones(3))
    same_error(RuntimeError, lambda L: L.meshgrid(L.ones(2, 2), indexing="ij"),
               match="torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got:")
    for make in (
                 lambda L: L.meshgrid(L.ones(2), L.ones(3), indexing="foo"),
                 lambda L: L.meshgrid(L.ones(2), L.ones(3, dtype=L.float64), indexing="ij"),
                 lambda L: L.meshgrid(indexing="ij"), lambda L: L.cartesian_prod(L.ones(2, 2))):
        same_error(RuntimeError, make)


# ---- counting and searching ----------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-5, 5, width=32), max_size=30), st.integers(1, 12),
       st.sampled_from([(0, 0), (-2, 2), (0, 3)]))
def test_histc_fuzzed(values, bins, rng_):
    lo, hi = rng_
    assert_same(*both(lambda L: L.histc(L.tensor(values, dtype=L.float32), bins=bins, min=lo, max=hi)))


def test_histc_edges_and_errors():
    assert_same(*both(lambda L: L.tensor([2.0, 2.0]).histc(bins=3)))
    assert_same(*both(lambda L: L.tensor([1.0, 2, 5], dtype=L.float64).histc(bins=3)))
    assert not chainrule.histc(chainrule.ones(3, requires_grad=True), bins=3).requires_grad
    for exc, make in ((NotImplementedError, lambda L: L.histc(L.tensor([1, 2]), bins=3)),
                      (RuntimeError, lambda L: L.histc(L.tensor([1.0]), bins=3, min=3, max=1)),
                      (RuntimeError, lambda L: L.histc(L.tensor([1.0]), bins=0)),
                      (RuntimeError, lambda L: L.histc(L.tensor([1.0, float("inf")])))):
        same_error(exc, make)


def test_bincount():
    assert_same(*both(lambda L: L.bincount(L.tensor([0, 1, 1, 3]))))
    assert_same(*both(lambda L: L.tensor([0, 1, 1, 3]).bincount(L.tensor([0.5, 1, 1, 2]), minlength=6)))
    assert_same(*both(lambda L: L.bincount(L.tensor([0, 1]), weights=L.tensor([1, 2]))))
    assert_same(*both(lambda L: L.bincount(L.tensor([], dtype=L.int64))))
    for exc, make in ((RuntimeError, lambda L: L.bincount(L.tensor([-1, 2]))),
                      (NotImplementedError, lambda L: L.bincount(L.tensor([1.0, 2]))),
                      (RuntimeError, lambda L: L.bincount(L.tensor([[1, 2]]))),
                      (RuntimeError, lambda L: L.bincount(L.tensor([1, 2]), weights=L.tensor([1.0]))),
                      (RuntimeError, lambda L: L.bincount(L.tensor([1]), minlength=-1))):
        same_error(exc, make)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(-9, 9), min_size=1, max_size=10), st.lists(st.integers(-12, 12), max_size=10),
       st.booleans(), st.booleans())
def test_searchsorted_and_bucketize_fuzzed(seq, vals, right, int32):
    seq = sorted(seq)
    assert_same(*both(lambda L: L.searchsorted(L.tensor(seq), L.tensor(vals, dtype=L.int64), right=right,
                                               out_int32=int32)))
    assert_same(*both(lambda L: L.bucketize(L.tensor(vals, dtype=L.int64), L.tensor(seq), right=right)))


def test_searchsorted_batched_side_sorter_scalar_and_errors():
    assert_same(*both(lambda L: L.searchsorted(L.tensor([[1, 3, 5], [2, 4, 6]]), L.tensor([[3, 6], [1, 7]]),
                                               side="right")))
    assert_same(*both(lambda L: L.searchsorted(L.tensor([5.0, 1, 3]), L.tensor([2.0, 4]),
                                               sorter=L.tensor([1, 2, 0]))))
    assert_same(*both(lambda L: L.searchsorted(L.tensor([1.0, 3]), 2.0)))
    assert_same(*both(lambda L: L.searchsorted(L.tensor([1, 3]), L.tensor([2.0]))))
    for make in (lambda L: L.searchsorted(L.tensor([[1, 3], [2, 4]]), L.tensor([2])),
                 lambda L: L.searchsorted(L.tensor([1, 2]), L.tensor([1]), side="foo"),
                 lambda L: L.searchsorted(L.tensor([1, 2]), L.tensor([1]), side="left", right=True),
                 lambda L: L.bucketize(L.tensor([2]), L.tensor([[1, 3]]))):
        same_error(RuntimeError, make)


@pytest.mark.parametrize("row,col,offset", [(3, 3, 0), (4, 3, -1), (3, 5, -2), (3, 4, 1), (0, 3, 0), (2, 2, 5)])
def test_tril_triu_indices(row, col, offset):
    assert_same(*both(lambda L: L.tril_indices(row, col, offset)))
    assert_same(*both(lambda L: L.triu_indices(row, col, offset, dtype=L.int32)))


def test_tri_indices_errors():
    raises_like(NotImplementedError, lambda: chainrule.tril_indices(3, 3, dtype=chainrule.float32),
                lambda: torch.tril_indices(3, 3, dtype=torch.float32))
    raises_like(RuntimeError, lambda: chainrule.tril_indices(-1, 3), lambda: torch.tril_indices(-1, 3))
    raises_like(RuntimeError, lambda: chainrule.triu_indices(3, -1), lambda: torch.triu_indices(3, -1))


def test_apply_and_map_inplace():
    def go(L):
        x = L.arange(6.0).view(2, 3)
        v = x[0]
        v.apply_(lambda e: e * e + 1)
        y = L.arange(6).view(2, 3).map_(L.tensor([10, 20, 30]), lambda a, b: a * b)
        return x, y
    assert_same(*both(go))
    raises_like(RuntimeError, lambda: chainrule.ones(2, requires_grad=True).apply_(float),
                lambda: torch.ones(2, requires_grad=True).apply_(float))
    raises_like(RuntimeError, lambda: chainrule.ones(2, requires_grad=True).map_(chainrule.ones(2), max),
                lambda: torch.ones(2, requires_grad=True).map_(torch.ones(2), max))


def test_finfo_iinfo_and_small_queries():
    for d in ("float16", "float32", "float64"):
        c, t = chainrule.finfo(getattr(chainrule, d)), torch.finfo(getattr(torch, d))
        assert repr(c) == repr(t)
        for k in ("eps", "max", "min", "tiny", "smallest_normal", "resolution", "bits", "dtype"):
            assert getattr(c, k) == getattr(t, k), k
    for d in ("uint8", "int8", "int16", "int32", "int64"):
        c, t = chainrule.iinfo(getattr(chainrule, d)), torch.iinfo(getattr(torch, d))
        assert (repr(c), c.max, c.min, c.bits, c.dtype) == (repr(t), t.max, t.min, t.bits, t.dtype)
    assert chainrule.finfo().dtype == torch.finfo().dtype
    same_error(TypeError, lambda L: L.finfo(L.int32))
    same_error(TypeError, lambda L: L.iinfo(L.float32))
    assert chainrule.numel(chainrule.ones(2, 3)) == 6
    assert chainrule.is_floating_point(chainrule.ones(1)) and not chainrule.is_floating_point(chainrule.ones(1).long())
    assert repr(chainrule.channels_last) == repr(torch.channels_last)
    assert chainrule.cuda.is_available() is torch.cuda.is_available() is False
    assert chainrule.cuda.device_count() == torch.cuda.device_count() == 0


def test_abs_and_reversed_protocols(rng):
    a = rng.standard_normal((3, 2))
    out, _ = check(lambda t, x: abs(x), a)
    assert out.grad_fn.name() == "AbsBackward0"
    check(lambda t, x: reversed(x), a)
    assert_same(*both(lambda L: reversed(L.tensor(2.5))))
    assert_same(*both(lambda L: abs(L.tensor([-3, 2]))))


@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize("shape,dim", [((5,), 0), ((3, 4), 1), ((3, 4), -2), ((), 0), ((0, 3), 0)])
def test_cummax_cummin_values_indices_gradients(rng, name, shape, dim):
    a = rng.integers(-2, 3, shape).astype(np.float64)  # many ties: indices and scatter-add matter
    out, _ = check(lambda t, x: getattr(t, name)(x, dim), a)
    assert out.values.grad_fn.name() == ("CummaxBackward0" if name == "cummax" else "CumminBackward0")
    if a.size:
        fd_check(lambda t, x: getattr(x, name)(dim).values, a + rng.standard_normal(shape) * 1e-3)


def test_cummax_nan_and_integers():
    nan = float("nan")
    assert_same(*both(lambda L: L.cummax(L.tensor([[1.0, 3, 3, 2, nan, 1, nan]]), 1)))
    assert_same(*both(lambda L: L.tensor([3, 1, 1, 2]).cummin(0)))
    assert str(chainrule.cummax(chainrule.ones(2), 0)).startswith("torch.return_types.cummax(")


def test_isin():
    assert_same(*both(lambda L: L.isin(L.tensor([1, 2, 3]), L.tensor([2, 5]), invert=True)))
    assert_same(*both(lambda L: L.isin(L.tensor([[1.0, 2], [3, 4]]), 2.0)))
    assert_same(*both(lambda L: L.isin(2, L.tensor([1, 2]))))


@pytest.mark.parametrize("k,dims", [(1, (0, 1)), (-1, (1, 0)), (2, (0, 2)), (3, (-1, 0)), (4, (1, 2))])
def test_rot90(rng, k, dims):
    out, _ = check(lambda t, x: t.rot90(x, k, dims), rng.standard_normal((2, 3, 4)))
    assert out.grad_fn.name() == "Rot90Backward0"


def test_rot90_errors():
    for make in (lambda L: L.rot90(L.arange(6), 1), lambda L: L.rot90(L.ones(2, 3), 1, [0, 0]),
                 lambda L: L.rot90(L.ones(2, 3), 1, [0, 1, 2])):
        same_error(RuntimeError, make)


def test_block_diag(rng):
    a, b, c = rng.standard_normal((2, 3)), rng.standard_normal(2), rng.standard_normal(())
    out, _ = check(lambda t, x, y, z: t.block_diag(x, y, z), a, b, c)
    assert out.grad_fn.name() == "BlockDiagBackward0"
    fd_check(lambda t, x, y: t.block_diag(x, y), a, b)
    assert_same(*both(lambda L: L.block_diag(L.tensor([1, 2]), L.tensor(3.0), L.ones(2, 1))))
    assert_same(*both(lambda L: L.block_diag()))
    same_error(RuntimeError, lambda L: L.block_diag(L.ones(2, 2, 2)))


@pytest.mark.parametrize("sa,sb", [((2, 3), (2, 2)), ((3,), (2,)), ((2,), (3, 1)), ((2, 1, 2), (2, 2))])
def test_kron(rng, sa, sb):
    check(lambda t, x, y: t.kron(x, y), rng.standard_normal(sa), rng.standard_normal(sb))
    assert_same(*both(lambda L: L.kron(L.tensor([1, 2]), L.tensor([[1.0], [3.0]]))))


def test_dstack_column_stack_diagflat(rng):
    a, b = rng.standard_normal((2, 2)), rng.standard_normal(2)
    out, _ = check(lambda t, x, y: t.column_stack([x, y]), a, b)
    assert out.grad_fn.name() == "CatBackward0"
    check(lambda t, x: t.dstack([x, x * 2]), a)
    check(lambda t, x: t.dstack([x, x]), b)
    assert_same(*both(lambda L: L.column_stack([L.tensor(1.0), L.tensor(2.0)])))
    out, _ = check(lambda t, x: t.diagflat(x, 1), a)
    assert out.grad_fn.name() == "DiagEmbedBackward0"
    check(lambda t, x: t.diagflat(x, -2), b)


@pytest.mark.parametrize("p", [2.0, 3.0])
def test_cdist_second_order_against_differences(rng, p):
    w = rng.standard_normal((4, 5))

    def first_grad(t, x, y):  # also evaluated under no_grad by fd_check's differences
        with t.enable_grad():
            xr = x if x.requires_grad else x.detach().requires_grad_()
            (g,) = t.autograd.grad((t.cdist(xr, y, p=p) * t.tensor(w)).sum(), xr,
                                   create_graph=x.requires_grad)
        return g

    fd_check(first_grad, rng.standard_normal((4, 3)), rng.standard_normal((5, 3)))
