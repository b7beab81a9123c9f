"""F.interpolate / nn.Upsample against PyTorch: values, grad_fn names, first and second
derivatives, float64 finite differences and errors."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import check, fd_check, raises_like

import chainrule

RNG = np.random.default_rng(0)


def rand(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


CASES = [
    ((2, 3, 5), {"size": 7, "mode": "linear"}),
    ((2, 3, 5), {"scale_factor": 0.6, "mode": "linear", "align_corners": True}),
    ((2, 3, 5), {"scale_factor": 2, "mode": "nearest"}),
    ((1, 2, 5), {"size": 3, "mode": "nearest"}),
    ((2, 3, 5, 4), {"scale_factor": 1.7, "mode": "bilinear"}),
    ((2, 3, 5, 4), {"scale_factor": 2, "mode": "bilinear", "align_corners": True}),
    ((2, 3, 5, 4), {"size": (2, 9), "mode": "bilinear", "align_corners": False}),
    ((2, 3, 5, 4), {"size": (1, 1), "mode": "bilinear", "align_corners": True}),
    ((2, 3, 5, 4), {"scale_factor": (2, 0.5), "mode": "nearest"}),
    ((2, 3, 5, 4), {"size": (5, 9), "mode": "nearest"}),
    ((1, 2, 5, 4), {"size": (3, 9), "mode": "nearest-exact"}),
    ((1, 2, 5, 4), {"size": (3, 9), "mode": "bicubic", "align_corners": True}),
    ((1, 2, 5, 4), {"scale_factor": 1.5, "mode": "bicubic"}),
    ((1, 2, 3, 4, 5), {"size": (4, 2, 7), "mode": "trilinear"}),
    ((1, 2, 3, 4, 5), {"scale_factor": 2, "mode": "nearest"}),
    ((1, 2, 6, 6), {"size": (3, 4), "mode": "area"}),
    ((0, 2, 3, 3), {"scale_factor": 2, "mode": "bilinear"}),
    ((2, 3, 5), {"scale_factor": 1.5, "mode": "linear", "recompute_scale_factor": True}),
]


@pytest.mark.parametrize(("shape", "kw"), CASES)
def test_interpolate_matches_torch(shape, kw):
    c, t = check(lambda lib, x: lib.nn.functional.interpolate(x, **kw), rand(*shape), rtol=1e-5,
                 atol=5e-6)
    if c.grad_fn is not None:
        assert c.grad_fn.name() == t.grad_fn.name()


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_interpolate_double_backward_node_and_fd(mode):
    fd_check(lambda lib, x: lib.nn.functional.interpolate(x, size=(3, 5), mode=mode),
             rand(1, 2, 4, 3, dtype=np.float64))
    # the gradient is itself differentiable with respect to the upstream gradient
    x = chainrule.randn(1, 1, 3, 3, requires_grad=True)
    y = chainrule.nn.functional.interpolate(x, scale_factor=2, mode=mode)
    u = chainrule.randn(*y.shape, requires_grad=True)
    (g,) = chainrule.autograd.grad(y, x, u, create_graph=True)
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    ut = torch.tensor(u.detach().numpy(), requires_grad=True)
    (gt,) = torch.autograd.grad(torch.nn.functional.interpolate(xt, scale_factor=2, mode=mode),
                                xt, ut, create_graph=True)
    assert g.grad_fn.name() == gt.grad_fn.name()
    w = rand(*g.shape)
    (gu,) = chainrule.autograd.grad((g * chainrule.tensor(w)).sum(), u)
    (gut,) = torch.autograd.grad((gt * torch.tensor(w)).sum(), ut)
    np.testing.assert_allclose(gu.numpy(), gut.numpy(), rtol=1e-5, atol=1e-6)


def test_interpolate_non_contiguous_and_dtypes():
    a = rand(2, 5, 3, 4)
    check(lambda lib, x: lib.nn.functional.interpolate(x.transpose(1, 3), size=(6, 7),
                                                       mode="bilinear"), a)
    check(lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=3, mode="bilinear"),
          rand(1, 1, 2, 3, dtype=np.float64))


@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 6), w=st.integers(1, 6), oh=st.integers(1, 9), ow=st.integers(1, 9),
       mode=st.sampled_from(["nearest", "bilinear", "nearest-exact", "bicubic"]),
       ac=st.booleans())
def test_interpolate_sizes_hypothesis(h, w, oh, ow, mode, ac):
    kw = {"size": (oh, ow), "mode": mode}
    if mode in ("bilinear", "bicubic"):
        kw["align_corners"] = ac
    check(lambda lib, x: lib.nn.functional.interpolate(x, **kw), rand(1, 2, h, w), second=False,
          rtol=1e-5, atol=5e-6)


def test_upsample_modules():
    x = rand(1, 2, 3, 4)
    for args, kw in [((), {"scale_factor": 2, "mode": "bilinear"}), ((), {"size": (3, 4)}),
                     ((), {"scale_factor": (2, 3)}),
                     ((), {"scale_factor": 2.0, "align_corners": True, "mode": "bilinear"})]:
        c, t = chainrule.nn.Upsample(*args, **kw), torch.nn.Upsample(*args, **kw)
        assert repr(c) == repr(t)
        np.testing.assert_allclose(c(chainrule.tensor(x)).numpy(), t(torch.tensor(x)).numpy(),
                                   rtol=1e-5, atol=1e-6)
    for name in ("UpsamplingNearest2d", "UpsamplingBilinear2d"):
        c, t = getattr(chainrule.nn, name)(scale_factor=2), getattr(torch.nn, name)(scale_factor=2)
        assert repr(c) == repr(t)
        np.testing.assert_allclose(c(chainrule.tensor(x)).numpy(), t(torch.tensor(x)).numpy(),
                                   rtol=1e-5, atol=1e-6)


def test_interpolate_errors_match_torch():
    def both(exc, **kw):
        shape = kw.pop("shape", (1, 2, 3, 4))
        a = rand(*shape)
        raises_like(exc, lambda: chainrule.nn.functional.interpolate(chainrule.tensor(a), **kw),
                    lambda: torch.nn.functional.interpolate(torch.tensor(a), **kw))

    both(NotImplementedError, shape=(2, 3), size=4)
    both(ValueError, size=4, align_corners=True)
    both(ValueError, size=4, scale_factor=2)
    both(ValueError)
    both(NotImplementedError, size=4, mode="linear")
    both(NotImplementedError, shape=(1, 2, 3), size=4, mode="bilinear")
    both(NotImplementedError, size=4, mode="foo")
    both(ValueError, size=(4, 5, 6))
    both(ValueError, scale_factor=(2, 3, 4))
    both(RuntimeError, size=0)
    both(ValueError, size=4, recompute_scale_factor=True)


# On input axes longer than the dense-matrix limit (128), linear interpolation's source
# positions are computed in float32 a little differently from PyTorch's: results differ by
# up to ~5e-4 relative (2e-5 absolute) there. The looser tolerance states that difference.
@pytest.mark.parametrize("mode,tol", [("nearest", 1e-5), ("nearest-exact", 1e-5), ("linear", 1e-3)])
def test_interpolate_long_axis_gather_path(mode, tol):
    # an input axis longer than the dense-matrix limit runs the gather / reduceat path
    check(lambda lib, x: lib.nn.functional.interpolate(x, size=203, mode=mode),
          rand(2, 2, 150), rtol=tol, atol=5e-6 if tol < 1e-4 else 5e-5)
    check(lambda lib, x: lib.nn.functional.interpolate(x, size=61, mode=mode),
          rand(1, 2, 140), rtol=tol, atol=5e-6 if tol < 1e-4 else 5e-5)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_interpolate_non_finite_stays_local(mode):
    # the dense product would smear inf into NaN across a row; the result must match torch
    a = rand(1, 1, 4, 5)
    a[0, 0, 1, 2] = np.inf
    a[0, 0, 3, 0] = np.nan
    check(lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2, mode=mode), a,
          grad=False)
    g = rand(1, 1, 8, 10)
    g[0, 0, 2, 3] = np.inf
    outs = []
    for lib in (chainrule, torch):
        x = lib.tensor(rand(1, 1, 4, 5), requires_grad=True)
        (gx,) = lib.autograd.grad(lib.nn.functional.interpolate(x, scale_factor=2, mode=mode),
                                  x, lib.tensor(g))
        outs.append(gx.numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6, equal_nan=True)
