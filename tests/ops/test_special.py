"""Special/pointwise functions vs PyTorch (values, dtypes, grad_fn names, 1st and 2nd order),
finite differences, in-place and method forms, and errors."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import check, fd_check, raises_like

import chainrule


def _unit(rng, shape):
    return rng.uniform(0.1, 0.9, shape)


def _pos(rng, shape):
    return rng.uniform(0.5, 3.0, shape)


def _any(rng, shape):
    return rng.standard_normal(shape)


UNARY = [
    ("erfc", lambda t, x: t.erfc(x), _any),
    ("erfinv", lambda t, x: t.erfinv(x * 1.6 - 0.8), _unit),
    ("lgamma", lambda t, x: t.lgamma(x), _pos),
    ("digamma", lambda t, x: t.digamma(x), _pos),
    ("polygamma1", lambda t, x: t.polygamma(1, x), _pos),
    ("polygamma2", lambda t, x: x.polygamma(2), _pos),
    ("sgn", lambda t, x: t.sgn(x) * x, _any),
    ("deg2rad", lambda t, x: t.deg2rad(x), _any),
    ("rad2deg", lambda t, x: x.rad2deg(), _any),
    ("sinc", lambda t, x: t.sinc(x), _any),
    ("logit", lambda t, x: t.logit(x), _unit),
    ("logit_eps", lambda t, x: t.logit(x * 1.2 - 0.1, eps=0.05), _unit),
    ("clamp_min", lambda t, x: t.clamp_min(x, 0.2), _any),
    ("clamp_max", lambda t, x: x.clamp_max(-0.1), _any),
    ("logcumsumexp0", lambda t, x: t.logcumsumexp(x, 0), _any),
    ("logcumsumexp-1", lambda t, x: x.logcumsumexp(-1), _any),
    ("xlogy_scalar", lambda t, x: t.xlogy(x, 2.5), _any),
    ("xlogy_rscalar", lambda t, x: t.xlogy(1.5, x), _pos),
    ("copysign_scalar", lambda t, x: t.copysign(x, -1.0), _any),
]

BINARY = [
    ("logaddexp", lambda t, x, y: t.logaddexp(x, y), _any),
    ("logaddexp2", lambda t, x, y: x.logaddexp2(y), _any),
    ("hypot", lambda t, x, y: t.hypot(x, y), _any),
    ("copysign", lambda t, x, y: t.copysign(x, y), _any),
    ("xlogy", lambda t, x, y: t.xlogy(x, y), _pos),
    ("clamp_min_t", lambda t, x, y: t.clamp_min(x, y), _any),
    ("clamp_max_t", lambda t, x, y: x.clamp_max(y), _any),
]


@pytest.mark.parametrize("name,fn,gen", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("shape", [(2, 3), (), (0, 3)])
def test_unary(rng, name, fn, gen, shape):
    x = gen(rng, shape)
    c, t = check(fn, x.astype(np.float32), rtol=1e-4, atol=1e-5)
    if c.requires_grad and c.grad_fn is not None:
        assert c.grad_fn.name() == t.grad_fn.name()
    check(fn, x)
    if x.size:
        fd_check(fn, x)


@pytest.mark.parametrize("name,fn,gen", BINARY, ids=[b[0] for b in BINARY])
def test_binary_broadcast(rng, name, fn, gen):
    x, y = gen(rng, (2, 3)), gen(rng, (3,))
    c, t = check(fn, x, y)
    assert c.grad_fn.name() == t.grad_fn.name()
    check(fn, x.astype(np.float32), y.astype(np.float32), rtol=1e-4, atol=1e-5)
    check(fn, x[:, :0], y[:0])
    fd_check(fn, x, y)


def test_noncontiguous(rng):
    x = rng.standard_normal((3, 4))
    check(lambda t, a: t.logaddexp(a.mT, a.mT * 2).hypot(a.mT), x)
    check(lambda t, a: t.logcumsumexp(a.mT, 0), x)


def test_stability():
    big = np.array([1000.0, -1000.0, 0.0])
    # torch's second derivative overflows to NaN here; chainrule's sigmoid form stays finite
    check(lambda t, x, y: t.logaddexp(x, y), big, -big, second=False)
    x = chainrule.tensor(big, requires_grad=True)
    (g,) = chainrule.autograd.grad(x.logaddexp(-x).sum(), x, create_graph=True)
    (g2,) = chainrule.autograd.grad(g.sum(), x)
    assert np.isfinite(g2.numpy()).all()
    check(lambda t, x: t.logcumsumexp(x, 0), np.array([-50.0, 0.0, 30.0, 29.0]))
    check(lambda t, x: t.sinc(x), np.array([0.0, 1.0, -2.5]), second=False)
    x = chainrule.tensor([0.0], requires_grad=True)
    (g,) = chainrule.autograd.grad(x.sinc().sum(), x, create_graph=True)
    (g2,) = chainrule.autograd.grad(g.sum(), x)  # sinc''(0) = −π²/3 (torch: NaN)
    np.testing.assert_allclose(g2.numpy(), [-np.pi ** 2 / 3])
    check(lambda t, x, y: t.xlogy(x, y), np.array([0.0, 0.0, 2.0]), np.array([0.0, 3.0, 2.0]),
          second=False)


@pytest.mark.parametrize("fn", [
    lambda t, x: t.sgn(x), lambda t, x: t.deg2rad(x), lambda t, x: t.logit(x),
    lambda t, x: t.erfc(x), lambda t, x: t.lgamma(x + 1), lambda t, x: t.clamp_min(x, 2),
    lambda t, x: t.clamp_max(x, 1.5), lambda t, x: t.xlogy(x, x + 1), lambda t, x: t.sinc(x),
    lambda t, x: t.copysign(x, -x),
])
def test_integer_dtypes(fn):
    check(fn, np.arange(4, dtype=np.int64), grad=False)


@pytest.mark.parametrize("name,args", [
    ("clamp_min_", (0.3,)), ("clamp_max_", (0.3,)), ("logit_", ()), ("erfc_", ()),
    ("erfinv_", ()), ("lgamma_", ()), ("digamma_", ()), ("polygamma_", (1,)), ("sgn_", ()),
    ("deg2rad_", ()), ("rad2deg_", ()), ("sinc_", ()), ("xlogy_", (2.0,)),
    ("copysign_", (-1.0,)), ("hypot_", (None,)),
])
def test_inplace(rng, name, args):
    x = _unit(rng, (3,))

    def fn(t, a):
        b = a * 1.0
        extra = tuple(a * 2 if v is None else v for v in args)
        r = getattr(b, name)(*extra)
        assert r is b
        return b

    check(fn, x)


def test_inplace_functions_in_namespace(rng):
    x = _unit(rng, (3,))
    for name in ("clamp_min_", "logit_", "deg2rad_", "xlogy_", "sinc_"):
        args = {"clamp_min_": (0.5,), "xlogy_": (2.0,)}.get(name, ())
        check(lambda t, a, name=name, args=args: getattr(t, name)(a * 1.0, *args), x)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(0, 2))
def test_logcumsumexp_shapes(shape, d):
    d = d % len(shape)
    x = np.random.default_rng(len(shape)).standard_normal(shape) * 5
    check(lambda t, a: t.logcumsumexp(a, d), x)


def _pair(fn, *arrays):
    return (lambda: fn(chainrule, *[chainrule.tensor(a) for a in arrays]),
            lambda: fn(torch, *[torch.tensor(a) for a in arrays]))


@pytest.mark.parametrize("exc,fn,arrays", [
    (NotImplementedError, lambda t, x: t.logaddexp(x, x), [np.arange(3)]),
    (NotImplementedError, lambda t, x: t.hypot(x, x), [np.arange(3)]),
    (RuntimeError, lambda t, x, y: t.hypot(x, y), [np.ones(3), np.ones(2)]),
    (RuntimeError, lambda t, x, y: t.xlogy(x, y), [np.ones((2, 3)), np.ones(4)]),
    (RuntimeError, lambda t, x, y: t.clamp_min(x, y), [np.ones(3), np.ones(2)]),
    (IndexError, lambda t, x: t.logcumsumexp(x, 2), [np.ones((2, 3))]),
    (NotImplementedError, lambda t, x: t.logcumsumexp(x, 0), [np.arange(3)]),
    (TypeError, lambda t, x: t.erfinv([0.5]), [np.ones(1)]),
])
def test_errors(exc, fn, arrays):
    raises_like(exc, *_pair(fn, *arrays))


def test_inplace_leaf_error():
    c = chainrule.ones(3, requires_grad=True)
    t = torch.ones(3, requires_grad=True)
    raises_like(RuntimeError, lambda: c.clamp_min_(0.5), lambda: t.clamp_min_(0.5))


@pytest.mark.parametrize("name,args", [
    ("expit", ()), ("psi", ()), ("gammaln", ()), ("digamma", ()), ("erfinv", ()), ("erfc", ()),
    ("logit", ()), ("sinc", ()), ("xlogy", (2.0,)), ("polygamma", None), ("logsumexp", (0,)),
    ("softmax", (0,)), ("log_softmax", (0,)), ("expm1", ()), ("log1p", ()), ("exp2", ()),
])
def test_special_namespace(rng, name, args):
    x = _unit(rng, (4,))
    if args is None:
        check(lambda t, a: getattr(t.special, name)(2, a), x)
    else:
        check(lambda t, a: getattr(t.special, name)(a, *args), x)
