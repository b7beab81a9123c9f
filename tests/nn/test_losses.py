"""Every loss against PyTorch: forward, first and second derivatives (oracle.check), all
reductions, class weights, ignore_index, label smoothing, probability targets, errors."""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import check, fd_check, raises_like, to_both

import chainrule

REDUCTIONS = ("none", "mean", "sum")
R = np.random.default_rng(0)


def _x(*shape):
    return R.standard_normal(shape).astype(np.float32)


def _probs(*shape):
    return R.uniform(0.05, 0.95, shape).astype(np.float32)


def _idx(n, c, *spatial):
    return R.integers(0, c, (n, *spatial)).astype(np.int64)


def _F(lib):
    return lib.nn.functional


# ---- cross-entropy -----------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4), (2, 3, 2, 2), (5,)])
def test_cross_entropy_indices(reduction, shape):
    x = _x(*shape)
    t = (_idx(shape[0], shape[1], *shape[2:]) if len(shape) > 1
         else np.array(R.integers(0, shape[0]), dtype=np.int64))
    check(lambda lib, x, t: _F(lib).cross_entropy(x, t, reduction=reduction), x, t)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_weight_ignore_smoothing(reduction, smoothing):
    x = _x(6, 4)
    t = np.array([0, 3, -100, 2, 1, 3], dtype=np.int64)
    w = np.array([0.5, 1.0, 2.0, 0.25], dtype=np.float32)

    def f(lib, x, t):
        return _F(lib).cross_entropy(x, t, weight=lib.tensor(w), reduction=reduction,
                                     label_smoothing=smoothing)

    check(f, x, t)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_custom_ignore_index_spatial(reduction):
    x = _x(2, 3, 4)
    t = np.array([[0, 1, 2, 1], [2, 2, 0, 1]], dtype=np.int64)
    w = np.array([0.5, 2.0, 1.5], np.float32)
    check(lambda lib, x, t: _F(lib).cross_entropy(x, t, ignore_index=1, label_smoothing=0.1,
                                                  weight=lib.tensor(w), reduction=reduction), x, t)


def test_cross_entropy_all_ignored_and_empty_are_nan_like_torch():
    t = np.array([-100, -100], dtype=np.int64)
    check(lambda lib, x, t: _F(lib).cross_entropy(x, t), _x(2, 3), t)
    check(lambda lib, x, t: _F(lib).cross_entropy(x, t), _x(0, 3), np.zeros(0, np.int64))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets(reduction):
    x = _x(3, 5)
    p = _probs(3, 5)
    p /= p.sum(1, keepdims=True)
    w = np.linspace(0.5, 1.5, 5).astype(np.float32)
    # gradients for the logits and the (differentiable) target probabilities
    check(lambda lib, x, p: _F(lib).cross_entropy(x, p, reduction=reduction, label_smoothing=0.1,
                                                  weight=lib.tensor(w)), x, p)


def test_cross_entropy_is_one_fused_node_and_stable():
    x = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]], dtype=np.float32)
    t = np.array([1, 2], dtype=np.int64)
    cx, _ = to_both(x)
    out = chainrule.nn.functional.cross_entropy(cx, chainrule.tensor(t))
    assert out.grad_fn.name() == "NllLossBackward0"
    assert all(e is None or isinstance(e, chainrule.Tensor) for e in out.grad_fn.edges)  # 1 node
    check(lambda lib, x, t: _F(lib).cross_entropy(x, t), x, t)
    out.backward()
    assert np.isfinite(cx.grad.numpy()).all()


def test_cross_entropy_grad_is_softmax_minus_onehot():
    x = _x(3, 4).astype(np.float64)
    t = np.array([0, 3, 1])
    cx = chainrule.tensor(x, requires_grad=True)
    chainrule.nn.functional.cross_entropy(cx, chainrule.tensor(t), reduction="sum").backward()
    p = np.exp(x - x.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(cx.grad.numpy(), p - np.eye(4)[t], rtol=1e-12, atol=1e-12)


def test_cross_entropy_finite_differences():
    t = chainrule.tensor(np.array([2, 0, 1]))
    fd_check(lambda lib, x: lib.nn.functional.cross_entropy(x, t, label_smoothing=0.3), _x(3, 3))


def test_cross_entropy_grad_fn_names_match_torch():
    x, t, p = _x(2, 3), np.array([0, 2]), _probs(2, 3)
    for kw in ({}, {"label_smoothing": 0.1}):
        for red in REDUCTIONS:
            for tgt in (t, p):
                names = [
                    type(_F(lib).cross_entropy(lib.tensor(x, requires_grad=True), lib.tensor(tgt),
                                               reduction=red, **kw).grad_fn).__name__
                    if lib is torch else
                    _F(lib).cross_entropy(lib.tensor(x, requires_grad=True), lib.tensor(tgt),
                                          reduction=red, **kw).grad_fn.name()
                    for lib in (torch, chainrule)
                ]
                assert names[0] == names[1], (kw, red, tgt.dtype)


# ---- nll -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction):
    x = _x(5, 4)
    t = np.array([0, 3, 2, -100, 1], dtype=np.int64)
    w = np.array([1.0, 0.5, 2.0, 1.5], dtype=np.float32)
    check(lambda lib, x, t: _F(lib).nll_loss(x, t, weight=lib.tensor(w), reduction=reduction),
          x, t)
    t2 = _idx(2, 3, 2)
    check(lambda lib, x: _F(lib).nll_loss(x, lib.tensor(t2), reduction=reduction), _x(2, 3, 2))


def test_nll_after_log_softmax_matches_cross_entropy():
    x, t = _x(4, 6), _idx(4, 6)
    check(lambda lib, x, t: _F(lib).nll_loss(_F(lib).log_softmax(x, 1), t), x, t)


# ---- elementwise -------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw", [
    ("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
    ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {"delta": 0.7}),
])
def test_elementwise_losses(name, kw, reduction):
    a, b = _x(3, 4), _x(3, 4)
    check(lambda lib, a, b: getattr(_F(lib), name)(a, b, reduction=reduction, **kw), a, b)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_elementwise_losses_0d_empty_and_noncontiguous(name):
    check(lambda lib, a, b: getattr(_F(lib), name)(a, b), np.float32(0.3), np.float32(-1.2))
    check(lambda lib, a, b: getattr(_F(lib), name)(a, b, reduction="sum"),
          np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32))
    check(lambda lib, a, b: getattr(_F(lib), name)(a, b),
          np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32), grad=False)  # nan
    check(lambda lib, a: getattr(_F(lib), name)(a.t(), lib.ones(3, 4)), _x(4, 3))


def test_mse_broadcast_warns_like_torch():
    a, b = _x(3, 1), _x(3)
    with pytest.warns(UserWarning, match="different to the input size"):
        check(lambda lib, a, b: _F(lib).mse_loss(a, b), a, b)


def test_elementwise_fd():
    fd_check(lambda lib, a, b: lib.nn.functional.huber_loss(a, b, delta=0.5), _x(2, 3), _x(2, 3))
    fd_check(lambda lib, a, b: lib.nn.functional.smooth_l1_loss(a, b, beta=0.5), _x(5), _x(5))


# ---- binary cross-entropy -----------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce(reduction):
    p, t, w = _probs(3, 4), _probs(3, 4), _probs(4)
    check(lambda lib, p, t: _F(lib).binary_cross_entropy(p, t, reduction=reduction), p, t)
    check(lambda lib, p, t, w: _F(lib).binary_cross_entropy(p, t, weight=w, reduction=reduction),
          p, t, w, requires_grad=False, grad=False)
    check(lambda lib, p: _F(lib).binary_cross_entropy(p, lib.tensor(t), weight=lib.tensor(w),
                                                      reduction=reduction), p)


def test_bce_log_clamped_at_minus_100():
    p = np.array([0.0, 1.0, 0.5], np.float32)
    t = np.array([1.0, 0.0, 1.0], np.float32)
    check(lambda lib, p, t: _F(lib).binary_cross_entropy(p, t, reduction="none"), p, t, grad=False)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits(reduction):
    x, t = _x(3, 4), _probs(3, 4)
    w, pw = _probs(4), _probs(4) * 3
    check(lambda lib, x, t: _F(lib).binary_cross_entropy_with_logits(x, t, reduction=reduction),
          x, t)
    check(lambda lib, x, t: _F(lib).binary_cross_entropy_with_logits(
        x, t, weight=lib.tensor(w), pos_weight=lib.tensor(pw), reduction=reduction), x, t)


def test_bce_with_logits_stable_at_large_logits():
    x = np.array([1e4, -1e4, 30.0, -30.0], np.float32)
    t = np.array([0.0, 1.0, 1.0, 0.0], np.float32)
    check(lambda lib, x, t: _F(lib).binary_cross_entropy_with_logits(x, t, reduction="none"), x, t)


# ---- kl_div ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ("none", "sum", "batchmean", "mean"))
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    x = np.log(_probs(3, 4))
    t = np.log(_probs(3, 4)) if log_target else _probs(3, 4)
    t[0, 0] = -np.inf if log_target else 0.0  # a zero-probability target contributes 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda lib, x: _F(lib).kl_div(x, lib.tensor(t), reduction=reduction,
                                            log_target=log_target), x)


# ---- modules -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,kw,make", [
    ("MSELoss", {}, lambda: (_x(2, 3), _x(2, 3))),
    ("L1Loss", {"reduction": "sum"}, lambda: (_x(2, 3), _x(2, 3))),
    ("SmoothL1Loss", {"beta": 0.3}, lambda: (_x(2, 3), _x(2, 3))),
    ("HuberLoss", {"delta": 0.3, "reduction": "none"}, lambda: (_x(2, 3), _x(2, 3))),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 0}, lambda: (_x(4, 3), _idx(4, 3))),
    ("NLLLoss", {}, lambda: (_x(4, 3), _idx(4, 3))),
    ("BCELoss", {}, lambda: (_probs(2, 3), _probs(2, 3))),
    ("BCEWithLogitsLoss", {}, lambda: (_x(2, 3), _probs(2, 3))),
    ("KLDivLoss", {"reduction": "batchmean"}, lambda: (np.log(_probs(2, 3)), _probs(2, 3))),
])
def test_loss_modules(name, kw, make):
    a, b = make()
    check(lambda lib, a, b: getattr(lib.nn, name)(**kw)(a, b), a, b)
    assert repr(getattr(chainrule.nn, name)(**kw)) == repr(getattr(torch.nn, name)(**kw))


def test_weighted_loss_modules_keep_weight_as_buffer():
    w = np.array([1.0, 2.0, 3.0], np.float32)
    for name in ("CrossEntropyLoss", "NLLLoss"):
        c = getattr(chainrule.nn, name)(weight=chainrule.tensor(w))
        t = getattr(torch.nn, name)(weight=torch.tensor(w))
        assert list(c.state_dict()) == list(t.state_dict()) == ["weight"]
    c = chainrule.nn.BCEWithLogitsLoss(pos_weight=chainrule.tensor(w))
    t = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w))
    assert list(c.state_dict()) == list(t.state_dict())
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        assert chainrule.nn.MSELoss(size_average=False).reduction == "sum"


# ---- errors --------------------------------------------------------------------------------------------
def _both(fn, *arrays):
    cs = [chainrule.tensor(a) for a in arrays]
    ts = [torch.tensor(a) for a in arrays]
    return (lambda: fn(chainrule, *cs)), (lambda: fn(torch, *ts))


@pytest.mark.parametrize("exc,fn,arrays", [
    (IndexError, lambda lib, x, t: _F(lib).cross_entropy(x, t), (_x(3, 4), np.array([0, 1, 5]))),
    (IndexError, lambda lib, x, t: _F(lib).nll_loss(x, t), (_x(3, 4), np.array([0, -3, 1]))),
    (ValueError, lambda lib, x, t: _F(lib).cross_entropy(x, t), (_x(3, 4), np.array([0, 1]))),
    (RuntimeError, lambda lib, x, t: _F(lib).cross_entropy(x, t), (_x(3, 4), np.zeros(3, np.float32))),
    (RuntimeError, lambda lib, x, t: _F(lib).cross_entropy(x, t), (_x(3, 4), np.zeros((3, 2), np.int64))),
    (RuntimeError, lambda lib, x, t: _F(lib).cross_entropy(x, t), (_x(2, 3, 4), np.zeros((2, 3), np.int64))),
    (RuntimeError, lambda lib, x, t: _F(lib).nll_loss(x, t), (_x(2, 3, 4, 5), np.zeros((2, 4, 4), np.int64))),
    (RuntimeError, lambda lib, x, t: _F(lib).cross_entropy(x, t, weight=lib.ones(3)), (_x(3, 4), np.zeros(3, np.int64))),
    (RuntimeError, lambda lib, x, t: _F(lib).cross_entropy(x, t, label_smoothing=1.5), (_x(3, 4), np.zeros(3, np.int64))),
    (ValueError, lambda lib, x, t: _F(lib).cross_entropy(x, t, reduction="foo"), (_x(3, 4), np.zeros(3, np.int64))),
    (ValueError, lambda lib, x, t: _F(lib).mse_loss(x, t, reduction="avg"), (_x(3), _x(3))),
    (ValueError, lambda lib, x, t: _F(lib).binary_cross_entropy(x, t), (_probs(3, 4), _probs(3, 5))),
    (ValueError, lambda lib, x, t: _F(lib).binary_cross_entropy_with_logits(x, t), (_x(3, 4), _probs(3, 5))),
    (RuntimeError, lambda lib, x, t: _F(lib).binary_cross_entropy(x * 2, t), (_probs(3, 4), _probs(3, 4))),
    (RuntimeError, lambda lib, x, t: _F(lib).smooth_l1_loss(x, t, beta=-1.0), (_x(3), _x(3))),
    (RuntimeError, lambda lib, x, t: _F(lib).huber_loss(x, t, delta=0.0), (_x(3), _x(3))),
])
def test_errors_match_torch(exc, fn, arrays):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c, t = _both(fn, *arrays)
        raises_like(exc, c, t)


@pytest.mark.parametrize("dtype", ["int32", "int16", "int8", "bool", "float64", "float16"])
def test_class_target_dtype_errors(dtype):
    t = np.array([0, 1, 1]).astype(dtype)
    for name in ("cross_entropy", "nll_loss"):
        c, tt = _both(lambda lib, x, t: getattr(_F(lib), name)(x, t), _x(3, 4), t)  # noqa: B023
        raises_like(RuntimeError, c, tt)
    # Byte targets are accepted
    check(lambda lib, x, t: _F(lib).cross_entropy(x, t), _x(3, 4), np.array([0, 3, 1], np.uint8))


def test_mse_shape_mismatch_error():
    c, t = _both(lambda lib, a, b: _F(lib).mse_loss(a, b), _x(3, 4), _x(2, 4))
    with pytest.warns(UserWarning):
        raises_like(RuntimeError, c, t)


def test_weight_requiring_grad_is_refused():
    x, t = _x(3, 4), np.array([0, 1, 2])
    raises_like(
        RuntimeError,
        lambda: chainrule.nn.functional.cross_entropy(
            chainrule.tensor(x), chainrule.tensor(t), weight=chainrule.ones(4, requires_grad=True)),
        lambda: torch.nn.functional.cross_entropy(
            torch.tensor(x), torch.tensor(t), weight=torch.ones(4, requires_grad=True)),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_elementwise_losses_with_weight(name, reduction):
    w = _probs(3, 4)
    check(lambda lib, a, b: getattr(_F(lib), name)(a, b, reduction=reduction, weight=lib.tensor(w)),
          _x(3, 4), _x(3, 4))
    raises_like(ValueError,
                lambda: getattr(chainrule.nn.functional, name)(
                    chainrule.ones(3, 4), chainrule.ones(3, 4), weight=chainrule.ones(4)),
                lambda: getattr(torch.nn.functional, name)(
                    torch.ones(3, 4), torch.ones(3, 4), weight=torch.ones(4)))


@pytest.mark.parametrize("fn", [
    lambda lib, x, t: _F(lib).binary_cross_entropy(x.sigmoid(), t, weight=lib.ones(2, 3, 4)),
    lambda lib, x, t: _F(lib).binary_cross_entropy_with_logits(x, t, pos_weight=lib.ones(5)),
    lambda lib, x, t: _F(lib).binary_cross_entropy_with_logits(x, t, weight=lib.ones(5)),
])
def test_bce_weight_broadcast_errors(fn):
    c, t = _both(fn, _x(3, 4), _probs(3, 4))
    raises_like(RuntimeError, c, t)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 4), c=st.integers(1, 5), spatial=st.lists(st.integers(1, 3), max_size=2),
    reduction=st.sampled_from(REDUCTIONS), smoothing=st.sampled_from([0.0, 0.15]),
    weighted=st.booleans(), seed=st.integers(0, 2**16),
)
def test_cross_entropy_shapes_property(n, c, spatial, reduction, smoothing, weighted, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, *spatial)).astype(np.float32)
    t = rng.integers(0, c, (n, *spatial))
    t[rng.random(t.shape) < 0.2] = -100
    w = rng.uniform(0.5, 2.0, c).astype(np.float32) if weighted else None
    check(lambda lib, x, t: _F(lib).cross_entropy(
        x, t, weight=None if w is None else lib.tensor(w), reduction=reduction,
        label_smoothing=smoothing), x, t, rtol=1e-4, atol=1e-5)


def test_cross_entropy_short_path_precision_and_overflow_fallback():
    # The short path shifts each row by its target's logit: exact where the target dominates
    # (tiny losses), and a target ~88 or more below the row's maximum (exp overflows) falls
    # back to the maximum's shift. Loss and gradient vs an extended-precision reference.
    rng = np.random.default_rng(7)
    x = rng.standard_normal((96, 16)).astype(np.float32)
    t = rng.integers(0, 16, 96)
    x[np.arange(32), t[:32]] = 20.0  # confident and right: losses ~1e-7
    x[32:48, 0], t[32:48] = 60.0, 1  # confidently wrong: losses ~60
    x[48, 2], x[48, t[48]] = 80.0, -40.0  # 120 below the row's maximum: overflow, fallback

    def exact(x, t):
        z = x.astype(np.longdouble)
        lse = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
        p = np.exp(z - lse[:, None])
        p[np.arange(len(t)), t] -= 1
        return lse - z[np.arange(len(t)), t], p

    for rows in (slice(0, 48), slice(0, 96)):  # without, then with, the overflowing row
        xs, ts = x[rows], t[rows]
        xc = chainrule.tensor(xs, requires_grad=True)
        loss = chainrule.nn.functional.cross_entropy(xc, chainrule.tensor(ts), reduction="none")
        loss.backward(chainrule.ones_like(loss))
        want, gwant = exact(xs, ts)
        np.testing.assert_allclose(loss.detach().numpy(), want, rtol=2e-6, atol=2e-7)
        np.testing.assert_allclose(xc.grad.numpy(), gwant, rtol=2e-6, atol=2e-7)
        check(lambda lib, a, b: _F(lib).cross_entropy(a, b, reduction="none"), xs, ts)
    bad = x.copy()
    bad[3, 4], bad[5, t[5]] = np.nan, np.inf  # NaN and inf logits: NaN losses, as PyTorch
    check(lambda lib, a, b: _F(lib).cross_entropy(a, b, reduction="none"), bad, t, grad=False)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(64, 10), (3, 1), (7, 300)])
def test_cross_entropy_classifier_path_is_the_general_one(reduction, shape):
    """The classifier's usual call ((N, C) logits, valid class indices, nothing else) has its
    own short path (shifted by the target's logit, not the row maximum); unit class weights
    take the general one. The same loss and gradient to within float32 rounding, and both
    as PyTorch's."""
    x, t = _x(*shape), _idx(shape[0], shape[1])
    got = []
    for weight in (None, chainrule.ones(shape[1])):
        xt = chainrule.tensor(x, requires_grad=True)
        loss = chainrule.nn.functional.cross_entropy(xt, chainrule.tensor(t), weight=weight,
                                                     reduction=reduction)
        loss.backward(chainrule.ones_like(loss))
        got.append((loss.detach().numpy(), xt.grad.numpy()))
    for short, general in zip(*got):
        np.testing.assert_allclose(short, general, rtol=4e-7, atol=1e-8)
    check(lambda lib, x, t: _F(lib).cross_entropy(x, t, reduction=reduction), x, t)
    # out-of-range and ignored targets leave the short path and are handled as before
    bad = t.copy()
    bad[0] = -100
    check(lambda lib, x, t: _F(lib).cross_entropy(x, t, reduction=reduction), x, bad)
    bad[0] = shape[1]
    (cx, tx), (cb, tb) = to_both(x), to_both(bad)
    raises_like(IndexError, lambda: _F(chainrule).cross_entropy(cx, cb),
                lambda: _F(torch).cross_entropy(tx, tb))
