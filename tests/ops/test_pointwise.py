"""Pointwise math and activations against PyTorch (values, dtypes, grad_fn names, first and
second derivatives, errors) and against float64 finite differences."""
# ruff: noqa: B023  (loop lambdas are called at once, inside raises_like)
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from oracle import assert_same, check, fd_check, raises_like, to_both

import chainrule
from chainrule.ops import pointwise as CF


def F(lib):
    """The functional namespace: torch.nn.functional, or chainrule's pointwise module."""
    return CF if lib is chainrule else TF


# ---- inputs ----------------------------------------------------------------------------
def _domain(kind, shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "pos":
        a = rng.uniform(0.5, 2.0, shape)
    elif kind == "unit":
        a = rng.uniform(-0.9, 0.9, shape)
    elif kind == "gt1":
        a = rng.uniform(1.1, 3.0, shape)
    elif kind == "wide":  # both sides of the ±3 / 0 / 6 kinks, never on them
        a = rng.choice([-1, 1], shape) * rng.uniform(0.2, 7.0, shape)
    else:  # "nz": standard-ish normal kept away from 0 (kinks of abs, relu, sign)
        a = rng.choice([-1, 1], shape) * rng.uniform(0.1, 2.0, shape)
    return np.asarray(a, dtype=dtype)


def _variants(kind, dtype=np.float32):
    """A 2-d array, a 0-d one, an empty one and a non-contiguous (transposed) one."""
    base = _domain(kind, (3, 4), dtype)
    return [base, _domain(kind, (), dtype, 1), np.zeros((0, 3), dtype),
            np.asarray(_domain(kind, (4, 3), dtype, 2)).T]


# name, f(lib, x), domain
UNARY = [
    ("abs", lambda L, x: L.abs(x), "nz"),
    ("absolute", lambda L, x: L.absolute(x), "nz"),
    ("sign", lambda L, x: L.sign(x), "nz"),
    ("exp", lambda L, x: L.exp(x), "nz"),
    ("exp2", lambda L, x: L.exp2(x), "nz"),
    ("expm1", lambda L, x: L.expm1(x), "nz"),
    ("log", lambda L, x: L.log(x), "pos"),
    ("log2", lambda L, x: L.log2(x), "pos"),
    ("log10", lambda L, x: L.log10(x), "pos"),
    ("log1p", lambda L, x: L.log1p(x), "pos"),
    ("sqrt", lambda L, x: L.sqrt(x), "pos"),
    ("rsqrt", lambda L, x: L.rsqrt(x), "pos"),
    ("reciprocal", lambda L, x: L.reciprocal(x), "nz"),
    ("square", lambda L, x: L.square(x), "nz"),
    ("sin", lambda L, x: L.sin(x), "nz"),
    ("cos", lambda L, x: L.cos(x), "nz"),
    ("tan", lambda L, x: L.tan(x), "unit"),
    ("tanh", lambda L, x: L.tanh(x), "nz"),
    ("sinh", lambda L, x: L.sinh(x), "nz"),
    ("cosh", lambda L, x: L.cosh(x), "nz"),
    ("asin", lambda L, x: L.asin(x), "unit"),
    ("acos", lambda L, x: L.acos(x), "unit"),
    ("atan", lambda L, x: L.atan(x), "nz"),
    ("asinh", lambda L, x: L.asinh(x), "nz"),
    ("acosh", lambda L, x: L.acosh(x), "gt1"),
    ("atanh", lambda L, x: L.atanh(x), "unit"),
    ("arcsin", lambda L, x: L.arcsin(x), "unit"),
    ("arctan", lambda L, x: L.arctan(x), "nz"),
    ("erf", lambda L, x: L.erf(x), "nz"),
    ("sigmoid", lambda L, x: L.sigmoid(x), "nz"),
    ("relu", lambda L, x: L.relu(x), "nz"),
    ("floor", lambda L, x: L.floor(x), "wide"),
    ("ceil", lambda L, x: L.ceil(x), "wide"),
    ("round", lambda L, x: L.round(x), "wide"),
    ("round_decimals", lambda L, x: L.round(x, decimals=1), "wide"),
    ("trunc", lambda L, x: L.trunc(x), "wide"),
    ("fix", lambda L, x: L.fix(x), "wide"),
    ("frac", lambda L, x: L.frac(x), "wide"),
    ("clamp", lambda L, x: L.clamp(x, -0.5, 0.7), "nz"),
    ("clamp_min", lambda L, x: L.clamp(x, min=-0.3), "nz"),
    ("clamp_max", lambda L, x: L.clamp(x, max=0.4), "nz"),
    ("clip", lambda L, x: L.clip(x, -0.5, 0.7), "nz"),
    ("where_scalar", lambda L, x: L.where(x > 0, x, 0.5), "nz"),
    # activations, with PyTorch's functional signatures
    ("F.relu", lambda L, x: F(L).relu(x), "nz"),
    ("F.relu6", lambda L, x: F(L).relu6(x), "wide"),
    ("F.leaky_relu", lambda L, x: F(L).leaky_relu(x, 0.2), "nz"),
    ("F.leaky_relu_default", lambda L, x: F(L).leaky_relu(x), "nz"),
    ("F.elu", lambda L, x: F(L).elu(x, alpha=0.7), "nz"),
    ("F.selu", lambda L, x: F(L).selu(x), "nz"),
    ("F.celu", lambda L, x: F(L).celu(x, alpha=1.3), "nz"),
    ("F.gelu", lambda L, x: F(L).gelu(x), "wide"),
    ("F.gelu_tanh", lambda L, x: F(L).gelu(x, approximate="tanh"), "wide"),
    ("F.silu", lambda L, x: F(L).silu(x), "wide"),
    ("F.mish", lambda L, x: F(L).mish(x), "wide"),
    ("F.softplus", lambda L, x: F(L).softplus(x), "wide"),
    ("F.softplus_beta", lambda L, x: F(L).softplus(x, beta=2.0, threshold=5.0), "wide"),
    ("F.hardtanh", lambda L, x: F(L).hardtanh(x, -0.5, 0.8), "nz"),
    ("F.hardsigmoid", lambda L, x: F(L).hardsigmoid(x), "wide"),
    ("F.hardswish", lambda L, x: F(L).hardswish(x), "wide"),
    ("F.logsigmoid", lambda L, x: F(L).logsigmoid(x), "wide"),
    ("F.softsign", lambda L, x: F(L).softsign(x), "nz"),
    ("F.tanhshrink", lambda L, x: F(L).tanhshrink(x), "nz"),
    ("F.sigmoid", lambda L, x: F(L).sigmoid(x), "nz"),
    ("F.tanh", lambda L, x: F(L).tanh(x), "nz"),
    ("torch.selu", lambda L, x: L.selu(x), "nz"),
    ("torch.celu", lambda L, x: L.celu(x), "nz"),
]
UNARY_IDS = [u[0] for u in UNARY]

# Methods: x.name() exists on both for these
METHODS = [
    "abs", "absolute", "sign", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
    "rsqrt", "reciprocal", "square", "sin", "cos", "tan", "tanh", "sinh", "cosh", "asin", "acos",
    "atan", "asinh", "atanh", "arcsin", "arccos", "arctan", "erf", "sigmoid", "relu", "floor",
    "ceil", "round", "trunc", "fix", "frac",
]
POSITIVE = {"log", "log2", "log10", "log1p", "sqrt", "rsqrt"}
TORCH_HAS_NO_INPLACE_GRAD = {"asinh", "atanh"}  # torch: "derivative ... not implemented"
UNIT = {"asin", "acos", "atanh", "arcsin", "arccos", "tan"}


@pytest.mark.parametrize("name,fn,kind", UNARY, ids=UNARY_IDS)
def test_unary_matches_torch_all_layouts(name, fn, kind):
    for arr in _variants(kind):
        check(fn, arr, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,fn,kind", UNARY, ids=UNARY_IDS)
def test_unary_float64_and_finite_differences(name, fn, kind):
    arr = _domain(kind, (2, 3), np.float64, seed=3)
    check(fn, arr, rtol=1e-7, atol=1e-9)
    fd_check(fn, arr)


# Ops torch's CPU kernels support in float16 (all of the table in torch 2.13).
@pytest.mark.parametrize("name,fn,kind", UNARY, ids=UNARY_IDS)
def test_unary_float16(name, fn, kind):
    arr = _domain(kind, (3, 4), np.float16, seed=4)
    check(fn, arr, second=False, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("name,fn,kind", UNARY, ids=UNARY_IDS)
def test_grad_fn_names(name, fn, kind):
    c, t = to_both(_domain(kind, (2,), np.float32))
    co, to = fn(chainrule, c), fn(torch, t)
    assert co.grad_fn.name() == to.grad_fn.name()
    cn = [type(n).__name__ if n is not None else None for n, _ in co.grad_fn.next_functions]
    tn = [n.name().split("::")[-1] if n is not None else None
          for n, _ in to.grad_fn.next_functions]
    assert [n is None for n in cn] == [n is None for n in tn]


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int8", "bool"])
@pytest.mark.parametrize("name,fn,kind", UNARY, ids=UNARY_IDS)
def test_integer_and_bool_inputs_promote_or_refuse_like_torch(name, fn, kind, dtype):
    arr = np.array([0, 1, 2, 3], dtype=dtype)
    c, t = chainrule.tensor(arr), torch.tensor(arr)
    try:
        expected = fn(torch, t)
    except Exception as e:  # noqa: BLE001 - the class and wording are what we compare
        raises_like(type(e), lambda: fn(chainrule, c), lambda: fn(torch, t))
        return
    assert_same(fn(chainrule, c), expected)


@pytest.mark.parametrize("name", METHODS)
def test_methods_and_inplace_forms(name):
    kind = "pos" if name in POSITIVE else "unit" if name in UNIT else "nz"
    arr = _domain(kind, (3, 2), np.float32)
    # method form
    check(lambda L, x: getattr(x, name)(), arr, rtol=1e-4, atol=1e-5)
    # in-place on a non-leaf: values, and first/second derivatives through it
    check(lambda L, x: getattr(x * 1, name + "_")(), arr, rtol=1e-4, atol=1e-5,
          grad=name not in TORCH_HAS_NO_INPLACE_GRAD)
    if name in TORCH_HAS_NO_INPLACE_GRAD:  # chainrule does differentiate it
        fd_check(lambda L, x: getattr(x * 1, name + "_")(), arr.astype(np.float64))
    # the in-place form returns self, bumps its version and matches the out-of-place one
    c = chainrule.tensor(arr)
    v = c._version_counter
    r = getattr(c, name + "_")()
    assert r is c and c._version_counter == v + 1
    assert_same(c, getattr(torch.tensor(arr), name)(), rtol=1e-5)
    # a leaf that requires grad refuses, with PyTorch's words
    cl, tl = to_both(arr)
    raises_like(RuntimeError, lambda: getattr(cl, name + "_")(), lambda: getattr(tl, name + "_")())


def test_inplace_integer_tensor_cannot_hold_float_result():
    c, t = chainrule.tensor([1, 2]), torch.tensor([1, 2])
    raises_like(RuntimeError, lambda: c.exp_(), lambda: t.exp_())
    raises_like(RuntimeError, lambda: c.sqrt_(), lambda: t.sqrt_())


def test_top_level_inplace_functions_and_activation_inplace_flags():
    arr = _domain("wide", (5,), np.float32)
    for name in ["relu_", "sigmoid_", "tanh_", "exp_", "selu_", "celu_", "clamp_"]:
        c, t = chainrule.tensor(arr), torch.tensor(arr)
        args = (-1.0, 1.0) if name == "clamp_" else ()
        getattr(chainrule, name)(c, *args)
        getattr(torch, name)(t, *args)
        assert_same(c, t)
    for name, kw in [("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.1}),
                     ("elu", {"alpha": 0.5}), ("selu", {}), ("celu", {"alpha": 2.0}),
                     ("hardtanh", {}), ("silu", {}), ("mish", {}), ("hardsigmoid", {}),
                     ("hardswish", {})]:
        # through the in-place flag on a non-leaf: same value, node and gradients
        def f(L, x, name=name, kw=kw):
            y = x * 1
            r = getattr(F(L), name)(y, inplace=True, **kw)
            assert r is y
            return r

        co, to = check(f, arr, rtol=1e-4, atol=1e-5)
        assert co.grad_fn.name() == to.grad_fn.name(), name
        cl, tl = to_both(arr)
        raises_like(RuntimeError, lambda: getattr(F(chainrule), name)(cl, inplace=True, **kw),
                    lambda: getattr(TF, name)(tl, inplace=True, **kw))


@pytest.mark.parametrize("name", ["leaky_relu", "elu"])
def test_inplace_negative_slope_backward_is_refused_like_torch(name):
    def run(L, x):
        y = getattr(F(L), name)(x * 1, -0.1, inplace=True)
        y.sum().backward()

    c, t = to_both(np.array([1.0, -2.0], np.float32))
    raises_like(RuntimeError, lambda: run(chainrule, c), lambda: run(torch, t))


# ---- numerics --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["sigmoid", "logsigmoid", "softplus", "silu", "mish", "elu",
                                  "gelu", "selu", "celu"])
def test_stable_at_extremes(name, dtype):
    arr = np.array([-1e4, -100.0, -30.0, 0.0, 30.0, 100.0, 1e4], dtype=dtype)
    fn = (lambda L, x: getattr(F(L), name)(x)) if name != "sigmoid" else (lambda L, x: x.sigmoid())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow / invalid-value RuntimeWarning from NumPy
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            c, t = to_both(arr)
            co = fn(chainrule, c)
            (g,) = chainrule.autograd.grad(co.sum(), c)
    to = fn(torch, t)
    (tg,) = torch.autograd.grad(to.sum(), t)
    assert_same(co, to, rtol=1e-6, atol=1e-6)
    assert_same(g, tg, rtol=1e-6, atol=1e-6)
    assert np.isfinite(co.detach().numpy()).all() and np.isfinite(g.numpy()).all()


def test_sigmoid_float16_extremes():
    c, t = to_both(np.array([-1e4, -20, 0, 20, 1e4], np.float16))
    assert_same(c.sigmoid(), t.sigmoid())


def test_gelu_is_one_fused_node_in_both_forms():
    x = chainrule.tensor([0.3, -1.2], requires_grad=True)
    for approximate in ("none", "tanh"):
        y = CF.gelu(x, approximate=approximate)
        assert y.grad_fn.name() == "GeluBackward0"
        assert [type(n).__name__ for n, _ in y.grad_fn.next_functions] == ["AccumulateGrad"]
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        CF.gelu(x, approximate="fast")
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        TF.gelu(torch.ones(1), approximate="fast")


def test_third_derivative_of_gelu_and_softplus():
    for name in ("gelu", "softplus", "silu"):
        c, t = to_both(np.array([0.3, -1.2, 2.0]))
        outs = []
        for L, x in ((chainrule, c), (torch, t)):
            y = getattr(F(L), name)(x).sum()
            (g1,) = L.autograd.grad(y, x, create_graph=True)
            (g2,) = L.autograd.grad(g1.sum(), x, create_graph=True)
            (g3,) = L.autograd.grad(g2.sum(), x)
            outs.append(g3)
        assert_same(*outs, rtol=1e-9, atol=1e-9)


def test_erf_full_float64_precision():
    arr = np.linspace(-6, 6, 101)
    assert_same(chainrule.erf(chainrule.tensor(arr)), torch.erf(torch.tensor(arr)),
                rtol=1e-14, atol=1e-15)


def test_sign_of_nan_and_zero_and_round_half_even():
    arr = np.array([np.nan, 0.0, -0.0, 2.5, -2.5, 0.5, 1.5, -3.7], np.float32)
    for fn in (lambda L, x: L.sign(x), lambda L, x: L.round(x),
               lambda L, x: L.round(x, decimals=1), lambda L, x: L.round(x * 100, decimals=-2),
               lambda L, x: L.frac(x), lambda L, x: L.trunc(x)):
        check(fn, arr, grad=False)


# ---- clamp / maximum / minimum / where / lerp / addcmul / addcdiv / atan2 ----------------
def test_clamp_gradient_at_the_bounds_like_torch():
    arr = np.array([-1.0, -0.5, 0.0, 0.7, 1.0], np.float32)
    for lo, hi in [(-0.5, 0.7), (None, 0.7), (-0.5, None), (0.7, -0.5)]:
        check(lambda L, x, lo=lo, hi=hi: L.clamp(x, lo, hi), arr)


def test_clamp_tensor_bounds_gradients_to_all_three_like_torch():
    x = np.array([0.0, 1.0, 2.0, 3.0, 1.5], np.float32)
    lo = np.array([1.0, 1.0, 1.0, 1.0, 2.0], np.float32)
    hi = np.array([2.0, 2.0, 2.0, 2.0, 1.0], np.float32)
    check(lambda L, a, b, c: L.clamp(a, b, c), x, lo, hi)
    check(lambda L, a, b: L.clamp(a, b), x, lo)
    check(lambda L, a, c: L.clamp(a, max=c), x, hi)
    # broadcasting bounds
    check(lambda L, a, b, c: L.clamp(a, b, c), np.arange(6, dtype=np.float32).reshape(2, 3),
          np.array([[1.0], [4.0]], np.float32), np.array(4.5, np.float32))
    x2 = np.random.default_rng(0).standard_normal((2, 3))
    fd_check(lambda L, a, b, c: L.clamp(a, b, c), x2, x2 * 0 - 0.5, x2 * 0 + 0.5)


def test_clamp_dtypes_and_errors():
    for arr in (np.array([1, 5, 9]), np.array([1, 5, 9], np.uint8)):
        for lo, hi in [(2, 6), (2.5, None), (None, 6.5)]:
            check(lambda L, x, lo=lo, hi=hi: L.clamp(x, lo, hi), arr, grad=False)
    c, t = to_both(np.ones(3, np.float32))
    raises_like(RuntimeError, lambda: chainrule.clamp(c), lambda: torch.clamp(t))
    raises_like(TypeError, lambda: chainrule.clamp(c, chainrule.ones(3), 2),
                lambda: torch.clamp(t, torch.ones(3), 2))
    raises_like(RuntimeError, lambda: chainrule.clamp(c, chainrule.ones(2)),
                lambda: torch.clamp(t, torch.ones(2)))
    b = np.array([True, False])
    for lo, hi in [(0, 1), (-0.5, 0.7), (None, 1), (0.5, None)]:
        check(lambda L, x, lo=lo, hi=hi: L.clamp(x, lo, hi), b, grad=False)
    for kw in [{"min": True}, {"max": False}, {"min": False, "max": True}]:
        raises_like(NotImplementedError, lambda: chainrule.clamp(chainrule.tensor(b), **kw),
                    lambda: torch.clamp(torch.tensor(b), **kw))


def test_maximum_minimum_split_ties_like_torch():
    a = np.array([1.0, 2.0, 3.0, 2.0], np.float32)
    b = np.array([1.0, 3.0, 1.0, 2.0], np.float32)
    for name in ("maximum", "minimum"):
        check(lambda L, x, y, name=name: getattr(L, name)(x, y), a, b)
        check(lambda L, x, y, name=name: getattr(x, name)(y), a, b)
        check(lambda L, x, y, name=name: getattr(L, name)(x, y), a.reshape(4, 1), b)  # broadcast
        check(lambda L, x, y, name=name: getattr(L, name)(x, y), a, b[:1].reshape(()))  # 0-d
        fd_check(lambda L, x, y, name=name: getattr(L, name)(x, y), a + [0.1, 0, 0, 0.3], b)


def test_maximum_dtypes_nan_and_errors():
    check(lambda L, x, y: L.maximum(x, y), np.array([1, 2]), np.array([1.5], np.float32),
          grad=False)
    check(lambda L, x, y: L.minimum(x, y), np.array([np.nan, 1.0]), np.array([0.0, np.nan]),
          grad=False)
    check(lambda L, x, y: L.maximum(x, y), np.array([True, False]), np.array([False, False]),
          grad=False)
    c, t = to_both(np.ones(2, np.float32))
    raises_like(TypeError, lambda: chainrule.maximum(c, 2.0), lambda: torch.maximum(t, 2.0))
    raises_like(RuntimeError, lambda: chainrule.minimum(c, chainrule.ones(3)),
                lambda: torch.minimum(t, torch.ones(3)))


def test_where_gradients_broadcasting_and_scalars():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    y = rng.standard_normal((4,)).astype(np.float32)
    check(lambda L, a, b: L.where(a > 0, a, b), x, y)
    check(lambda L, a, b: L.where(b > 0, a * 2, b), x, y)
    check(lambda L, a: L.where(a > 0, 1.0, a), x)
    check(lambda L, a: a.where(a > 0, -1.0), x)
    fd_check(lambda L, a, b: L.where(a > 0, a * a, b), x.astype(np.float64), y)
    for xs, ys in [(1, 2.5), (1, 2), (True, 2), (2.5, 1.5)]:
        co = chainrule.where(chainrule.tensor([True, False]), xs, ys)
        assert_same(co, torch.where(torch.tensor([True, False]), xs, ys))
    ci, ti = to_both(np.array([1, 2], np.int64))
    assert_same(chainrule.where(ci > 1, ci, 0.5), torch.where(ti > 1, ti, 0.5))


def test_where_single_argument_is_nonzero_and_errors():
    arr = np.array([[True, False, True], [False, True, False]])
    c, t = chainrule.tensor(arr), torch.tensor(arr)
    assert_same(chainrule.where(c), torch.where(t))
    assert_same(chainrule.where(chainrule.tensor(True)), torch.where(torch.tensor(True)))
    x, tx = to_both(np.ones(3, np.float32))
    raises_like(RuntimeError, lambda: chainrule.where(x, x, x), lambda: torch.where(tx, tx, tx))
    raises_like(RuntimeError, lambda: chainrule.where(chainrule.ones(2) > 0, x, x),
                lambda: torch.where(torch.ones(2) > 0, tx, tx))
    raises_like(RuntimeError, lambda: chainrule.where(x > 0, x, chainrule.ones(2)),
                lambda: torch.where(tx > 0, tx, torch.ones(2)))


def test_lerp_scalar_and_tensor_weight():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3, 4)).astype(np.float32)
    w = rng.uniform(0, 1, (4,)).astype(np.float32)
    for weight in (0.3, 0.8, 0.0, 1.0):
        check(lambda L, x, y, weight=weight: L.lerp(x, y, weight), a, b)
    check(lambda L, x, y, z: L.lerp(x, y, z), a, b, w)
    check(lambda L, x, y, z: x.lerp(y, z), a, b[0], w)
    fd_check(lambda L, x, y, z: L.lerp(x, y, z), a[0], b[0], w)
    c, t = to_both(a)
    raises_like(RuntimeError, lambda: chainrule.lerp(c, c.double(), 0.5),
                lambda: torch.lerp(t, t.double(), 0.5))
    raises_like(RuntimeError, lambda: chainrule.lerp(c, c, chainrule.ones(4).double()),
                lambda: torch.lerp(t, t, torch.ones(4).double()))
    check(lambda L, x, y, z: L.lerp(x, y, z), a, b, np.array(0.25))  # 0-d float64 weight
    ci, ti = chainrule.tensor([1, 2]), torch.tensor([1, 2])
    raises_like(NotImplementedError, lambda: chainrule.lerp(ci, ci, 0.5),
                lambda: torch.lerp(ti, ti, 0.5))


def test_addcmul_addcdiv():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 1)).astype(np.float32)
    b = rng.standard_normal((4,)).astype(np.float32)
    c = rng.uniform(0.5, 2, (3, 4)).astype(np.float32)
    for value in (1, 0.5, -2):
        check(lambda L, x, y, z, v=value: L.addcmul(x, y, z, value=v), a, b, c)
        check(lambda L, x, y, z, v=value: L.addcdiv(x, y, z, value=v), a, b, c)
    check(lambda L, x, y, z: x.addcmul(y, z), c, b, c)
    fd_check(lambda L, x, y, z: L.addcdiv(x, y, z, value=0.7), a, b, c)
    ci, ti = chainrule.tensor([1]), torch.tensor([1])
    raises_like(RuntimeError, lambda: chainrule.addcdiv(ci, ci, ci),
                lambda: torch.addcdiv(ti, ti, ti))
    assert_same(chainrule.addcmul(ci, ci, ci, value=3), torch.addcmul(ti, ti, ti, value=3))
    x, tx = to_both(np.ones(2, np.float32))
    raises_like(RuntimeError, lambda: chainrule.addcmul(x, chainrule.ones(3), x),
                lambda: torch.addcmul(tx, torch.ones(3), tx))


def test_atan2():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((4,)).astype(np.float32)
    check(lambda L, x, y: L.atan2(x, y), a, b)
    check(lambda L, x, y: L.arctan2(x, y), a, b)
    check(lambda L, x, y: x.atan2(y), b.reshape(()) if False else a, b)
    fd_check(lambda L, x, y: L.atan2(x, y), a, b)
    check(lambda L, x, y: L.atan2(x, y), np.array([1, -2]), np.array([3, 1]), grad=False)
    c, t = to_both(a)
    raises_like(TypeError, lambda: chainrule.atan2(c, 2.0), lambda: torch.atan2(t, 2.0))


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_binary_pointwise_broadcasting_property(data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    a = data.draw(hnp.arrays(np.float64, shapes.input_shapes[0],
                             elements=st.floats(-3, 3, width=64)))
    b = data.draw(hnp.arrays(np.float64, shapes.input_shapes[1],
                             elements=st.floats(-3, 3, width=64)))
    for fn in (lambda L, x, y: L.maximum(x, y), lambda L, x, y: L.atan2(x, y + 5),
               lambda L, x, y: L.where(x > y, x, y), lambda L, x, y: L.lerp(x, y, 0.25)):
        check(fn, a, b, rtol=1e-7, atol=1e-9)


# ---- exports -----------------------------------------------------------------------------
def test_exports_follow_torch():
    for name in CF.__all__:
        assert hasattr(torch, name), name
        top = getattr(chainrule, name)
        assert getattr(top, "__wrapped__", top) is getattr(CF, name), name  # (out= wrapper)
    for name in CF.__all_functional__:
        assert hasattr(TF, name), name
        assert hasattr(CF, name)
        assert hasattr(chainrule, name) == hasattr(torch, name), name
    for name in METHODS:
        assert hasattr(torch.Tensor, name + "_") and hasattr(chainrule.Tensor, name + "_"), name


def test_non_tensor_input_is_a_type_error():
    raises_like(TypeError, lambda: chainrule.exp([1.0]), lambda: torch.exp([1.0]))
    raises_like(TypeError, lambda: chainrule.relu(1.0), lambda: torch.relu(1.0))
    raises_like(TypeError, lambda: CF.gelu([1.0]), lambda: TF.gelu([1.0]), match="must be Tensor")


def test_numpy_fallbacks_used_without_scipy():
    # SciPy is optional: the NumPy forms must be as stable and accurate as SciPy's ufuncs.
    for dt in (np.float16, np.float32, np.float64):
        arr = np.array([-1e4, -100.0, -30.0, -1.5, 0.0, 2.0, 30.0, 1e4], dt)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            sig, logsig = CF._sigmoid_numpy(arr), CF._log_sigmoid_numpy(arr)
        assert sig.dtype == dt and logsig.dtype == dt
        assert_same(chainrule.tensor(sig), torch.sigmoid(torch.tensor(arr)), rtol=1e-6)
        assert_same(chainrule.tensor(logsig), TF.logsigmoid(torch.tensor(arr)), rtol=1e-6)
    assert CF._sigmoid_numpy(np.array(2.0)).shape == ()


def test_special_kernels_import_scipy_at_first_use_and_fall_back_without_it(monkeypatch):
    # scipy.special is imported by the first kernel call, not by `import chainrule` (its ~18k
    # objects would weigh on every full garbage collection); without SciPy the kernels run
    # the exact math-module forms, cast back to the input's dtype, 0-d input included.
    import math
    import subprocess
    import sys

    from chainrule.ops import special as CS

    code = "import sys, chainrule; sys.exit('scipy' in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)
    monkeypatch.setitem(sys.modules, "scipy", None)  # `from scipy import ...` raises ImportError
    kernels = {"erf": (CF._math_ufunc(math.erf), torch.erf),
               "erfc": (CF._math_ufunc(math.erfc), torch.erfc),
               "gammaln": (CF._math_ufunc(CS._lgamma_scalar), torch.lgamma)}
    for name, (fallback, oracle) in kernels.items():
        run = CF.special_kernel(name, fallback)
        for x in (np.linspace(-4, 4, 9).astype(np.float32), np.array(0.75), np.array([np.nan])):
            got = run(x)
            assert got.dtype == x.dtype and got.shape == x.shape
            assert_same(chainrule.tensor(got), oracle(torch.tensor(x)))
    # no NumPy form (erfinv, digamma, polygamma): the op says what to install
    with pytest.raises(ImportError, match=r"chainrule: erfinv needs SciPy .*install scipy"):
        CF.special_kernel("erfinv")(np.zeros(2, np.float32))
    with pytest.raises(ImportError, match="polygamma needs SciPy"):
        chainrule.polygamma(2, chainrule.tensor([0.5]))
    with pytest.raises(ImportError, match="digamma needs SciPy"):  # (SciPy's psi)
        chainrule.digamma(chainrule.tensor([0.5]))


def test_special_kernel_passes_extra_arguments_first_and_casts_back():
    # polygamma(n, a) in SciPy's order; float16 computed wider by SciPy comes back as float16
    x = np.array([0.25, 1.5, 3.0], np.float16)
    got = CF.special_kernel("polygamma")(x, 2)
    assert got.dtype == np.float16
    assert_same(chainrule.tensor(got), torch.polygamma(2, torch.tensor(x)))


def test_gelu_float32_fast_cdf_matches_torch_over_the_whole_range():
    # float32 GELU's Φ is a fitted erfc form (not SciPy's float64 erf): GELU within 3.9e-7 of
    # the exact value. (PyTorch's own float32 error depends on the kernel its CPU runs: ~3.7e-7
    # with AVX2, ~1.2e-6 with AVX-512; not compared.) Beyond x = 6 GELU is exactly x; below -6
    # it follows the exact tail x·Φ(x) down to -0.0, where PyTorch's kernel reaches 0 sooner.
    import math

    arr = np.concatenate([np.linspace(-9, 9, 40001), [0.0, -0.0, 1e-30, -1e-30]]).astype(np.float32)
    c, t = to_both(arr)
    assert_same(CF.gelu(c), TF.gelu(t), rtol=1e-5, atol=2e-6)
    exact = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in arr.astype(np.float64)])
    ours = CF.gelu(c).detach().numpy().astype(np.float64)
    assert np.abs(ours - exact).max() <= 3.9e-7
    # its gradient Φ(x) + x·φ(x) shares the forward's exp: as close to exact as PyTorch's
    x = chainrule.tensor(arr, requires_grad=True)
    CF.gelu(x).sum().backward()
    slope = np.array([0.5 * math.erfc(-v / math.sqrt(2)) + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi)
                      for v in arr.astype(np.float64)])
    assert np.abs(x.grad.numpy().astype(np.float64) - slope).max() <= 3e-7
    big = np.geomspace(6, 1e38, 2001).astype(np.float32)  # past the fit, to overflow
    big = np.concatenate([big, -big])
    c, t = to_both(big)
    assert_same(CF.gelu(c), TF.gelu(t), rtol=1e-6, atol=1e-8)
    got = CF.gelu(c).detach().numpy()
    assert (got[:2001] == big[:2001]).all()
    tail = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in big[2001:].astype(np.float64)])
    assert (got[2001:] <= 0).all() and np.abs(got[2001:] - tail).max() <= 1e-11
    assert (got[2030:] == 0).all()  # x < -14.4: exp(-x²/2) underflows
    edges = np.array([-np.inf, np.inf, -20.0, -1e4, np.nan], np.float32)
    got = CF.gelu(chainrule.tensor(edges)).numpy()
    assert np.isnan(got[0]) and got[1] == np.inf and np.isnan(got[4])  # -inf·0 is NaN
    assert got[2] == 0 and got[3] == 0 and np.signbit(got[2])  # -0.0, as PyTorch
    check(lambda L, x: F(L).gelu(x), np.random.default_rng(3).standard_normal((40, 30)).astype(np.float32))
    check(lambda L, x: F(L).gelu(x), np.float32(0.7))  # 0-d


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_relu_backward_masks_nan_and_inf_gradients_to_plus_zero(dtype):
    # Large enough for the bitwise where(mask, grad, 0) path; masked lanes must be +0.0
    # (printed "0.", not "-0.") even where the incoming gradient is NaN or ±inf.
    rng = np.random.default_rng(1)
    x = rng.standard_normal((33, 20)).astype(dtype)
    up = rng.standard_normal((33, 20)).astype(dtype)
    up.flat[:6] = [np.nan, np.inf, -np.inf, -2.0, np.nan, -0.0]
    x.flat[:6] = [-1, -1, -1, -1, 1, 1]
    grads = []
    for L in (chainrule, torch):
        xt = L.tensor(x, requires_grad=True)
        F(L).relu(xt).backward(L.tensor(up))
        grads.append(xt.grad)
    assert_same(*grads, rtol=0, atol=0)
    assert np.array_equal(np.signbit(grads[0].numpy()), np.signbit(grads[1].numpy()))


@pytest.mark.parametrize("n", [7, 5000, 70000])  # 0-d-like, the shared zero buffer, beyond it
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_relu_forward_with_nan_and_inf_matches_torch(n, dtype):
    x = np.random.default_rng(2).standard_normal(n).astype(dtype)
    x[:5] = [np.nan, np.inf, -np.inf, 0.0, -3.0]
    x[5:7] = [-0.0, -np.nan]
    c, t = to_both(x)
    assert_same(CF.relu(c), TF.relu(t), rtol=0, atol=0)
    assert_same(chainrule.relu(c.reshape(-1, 1)), torch.relu(t.reshape(-1, 1)), rtol=0, atol=0)
    # relu(-0.0) is -0.0 in PyTorch (values compare equal; the sign shows in printing)
    assert np.array_equal(np.signbit(CF.relu(c).detach().numpy()), np.signbit(TF.relu(t).detach().numpy()))


@pytest.mark.parametrize("n", [7, 5000])
def test_relu_gradient_passes_through_nan_results_like_torch(n):
    # PyTorch's threshold_backward zeroes the gradient where result <= 0: a NaN result is not,
    # so its gradient passes; a ±0 result's does not.
    x = np.random.default_rng(3).standard_normal(n).astype(np.float32)
    x[:5] = [np.nan, -0.0, 0.0, -np.nan, 2.0]
    up = np.random.default_rng(4).standard_normal(n).astype(np.float32)
    grads = []
    for L in (chainrule, torch):
        xt = L.tensor(x, requires_grad=True)
        L.relu(xt).backward(L.tensor(up))
        grads.append(xt.grad)
    assert_same(*grads, rtol=0, atol=0)
    assert grads[0][0].item() == up[0] and grads[0][3].item() == up[3]
