"""Batch, layer, group and instance norm vs PyTorch (functional and modules)."""
import numpy as np
import pytest
import torch
from oracle import assert_same, check, fd_check, raises_like

import chainrule

TOL = {"rtol": 1e-4, "atol": 1e-5}


def _arr(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 4, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training(rng, shape, affine):
    x, w, b = _arr(rng, *shape), _arr(rng, 3), _arr(rng, 3)
    if affine:
        check(lambda t, x, w, b: t.nn.functional.batch_norm(x, None, None, w, b, True), x, w, b,
              **TOL)
    else:
        check(lambda t, x: t.nn.functional.batch_norm(x, None, None, training=True), x, **TOL)


def test_batch_norm_eval_and_running_stats(rng):
    x, w, b = _arr(rng, 5, 3, 4), _arr(rng, 3), _arr(rng, 3)
    rm, rv = _arr(rng, 3), rng.random(3).astype(np.float32) + 0.5
    check(lambda t, x, w, b: t.nn.functional.batch_norm(x, t.tensor(rm), t.tensor(rv), w, b),
          x, w, b, **TOL)
    c_rm, c_rv = chainrule.tensor(rm), chainrule.tensor(rv)
    t_rm, t_rv = torch.tensor(rm), torch.tensor(rv)
    for _ in range(3):
        x = _arr(rng, 5, 3, 4) * 2 + 1
        chainrule.nn.functional.batch_norm(chainrule.tensor(x), c_rm, c_rv, training=True,
                                           momentum=0.3)
        torch.nn.functional.batch_norm(torch.tensor(x), t_rm, t_rv, training=True, momentum=0.3)
    assert_same(c_rm, t_rm, **TOL)
    assert_same(c_rv, t_rv, **TOL)


@pytest.mark.parametrize("shape,ns", [((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)),
                                      ((4, 5, 6), (6,))])  # (20 rows of 6: the row fast path)
def test_layer_norm(rng, shape, ns):
    """Values, gradients and second derivatives (create_graph) vs PyTorch."""
    x, w = _arr(rng, *shape), _arr(rng, *ns)
    check(lambda t, x, w, b: t.nn.functional.layer_norm(x, ns, w, b, 1e-3), x, w, w + 1, **TOL)
    check(lambda t, x: t.nn.functional.layer_norm(x, ns), x, **TOL)


@pytest.mark.parametrize("affine", ["none", "weight", "bias", "both"])
def test_layer_norm_output_edited_in_place_leaves_gradients_alone(rng, affine):
    # The backward reads x̂ kept from the forward, never the output: editing the output in
    # place changes no gradient (PyTorch's rule reads only x, mean and rstd).
    x, w, b, up = _arr(rng, 4, 6), _arr(rng, 6), _arr(rng, 6), _arr(rng, 4, 6)
    grads = []
    for L in (chainrule, torch):
        xt = L.tensor(x, requires_grad=True)
        wt = L.tensor(w, requires_grad=True) if affine in ("weight", "both") else None
        bt = L.tensor(b, requires_grad=True) if affine in ("bias", "both") else None
        y = L.nn.functional.layer_norm(xt, (6,), wt, bt)
        with L.no_grad():
            y.mul_(3.0)
        y.backward(L.tensor(up))
        grads.append([t.grad for t in (xt, wt, bt) if t is not None])
    for c, t in zip(*grads):
        assert_same(c, t, **TOL)


def test_layer_norm_large_offset_is_stable(rng):
    x = _arr(rng, 3, 8) * 0.1 + 300  # E[x²] - E[x]² would lose every digit here in float32
    check(lambda t, x: t.nn.functional.layer_norm(x, (8,)), x, rtol=2e-3, atol=2e-3,
          second=False)


@pytest.mark.parametrize("shape,groups", [((2, 6, 3), 3), ((2, 6, 2, 2), 1), ((3, 4), 2)])
def test_group_norm(rng, shape, groups):
    x, w = _arr(rng, *shape), _arr(rng, shape[1])
    check(lambda t, x, w, b: t.nn.functional.group_norm(x, groups, w, b), x, w, w - 1, **TOL)


def test_instance_norm(rng):
    x, w = _arr(rng, 2, 3, 5), _arr(rng, 3)
    check(lambda t, x, w, b: t.nn.functional.instance_norm(x, weight=w, bias=b), x, w, w + 2,
          **TOL)


def test_norm_grad_fn_names(rng):
    F = chainrule.nn.functional
    x = chainrule.tensor(_arr(rng, 4, 3, 2), requires_grad=True)
    assert F.batch_norm(x, None, None, training=True).grad_fn.name() == "NativeBatchNormBackward0"
    assert F.layer_norm(x, (2,)).grad_fn.name() == "NativeLayerNormBackward0"
    assert F.group_norm(x, 3).grad_fn.name() == "NativeGroupNormBackward0"


def test_norm_fd_float64(rng):
    x, w, b = rng.standard_normal((3, 2, 2)), rng.standard_normal(2), rng.standard_normal(2)
    fd_check(lambda t, x, w, b: t.nn.functional.batch_norm(x, None, None, w, b, True), x, w, b)
    fd_check(lambda t, x, w, b: t.nn.functional.layer_norm(x, (2,), w, b), x, w, b)
    xr, wr = rng.standard_normal((9, 5)), rng.standard_normal(5)  # (the row fast path)
    fd_check(lambda t, x, w, b: t.nn.functional.layer_norm(x, (5,), w, b), xr, wr, wr + 1)
    fd_check(lambda t, x, w, b: t.nn.functional.group_norm(x, 1, w, b), x, w, b)


def both(fn, *arrays):
    c = [chainrule.tensor(a) for a in arrays]
    t = [torch.tensor(a) for a in arrays]
    return (lambda: fn(chainrule.nn.functional, *c)), (lambda: fn(torch.nn.functional, *t))


@pytest.mark.parametrize("exc,call", [
    (RuntimeError, lambda F, x, v: F.batch_norm(x, v, v)),
    (RuntimeError, lambda F, x, v: F.batch_norm(x, None, None)),
    (RuntimeError, lambda F, x, v: F.layer_norm(x, (4,))),
    (RuntimeError, lambda F, x, v: F.layer_norm(x, (5,), weight=v)),
    (RuntimeError, lambda F, x, v: F.group_norm(x, 2)),
])
def test_norm_errors_like_torch(rng, exc, call):
    raises_like(exc, *both(call, _arr(rng, 2, 3, 5), _arr(rng, 4)))


def test_batch_norm_single_value_error(rng):
    raises_like(ValueError, *both(lambda F, x: F.batch_norm(x, None, None, training=True),
                                  _arr(rng, 1, 3)))


# ---- modules ------------------------------------------------------------------------------
from layer_oracle import compare, twin


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("BatchNorm1d", (3,), {}, (4, 3)),
    ("BatchNorm1d", (3,), {"affine": False, "momentum": None}, (4, 3, 5)),
    ("BatchNorm2d", (3,), {"track_running_stats": False}, (2, 3, 4, 4)),
    ("BatchNorm2d", (3,), {"bias": False, "eps": 1e-3}, (2, 3, 2, 3)),
    ("InstanceNorm1d", (3,), {"affine": True, "track_running_stats": True, "momentum": 0.2},
     (2, 3, 5)),
])
def test_batch_norm_modules_train_eval_and_buffers(rng, name, args, kwargs, shape):
    c, t = twin(name, *args, **kwargs)
    assert repr(c) == repr(t)
    for step in range(3):  # running statistics after several steps, then eval mode
        compare(c, t, _arr(rng, *shape) * (step + 1) + step, seed=step)
    for (cn, cb), (tn, tb) in zip(c.named_buffers(), t.named_buffers()):
        assert cn == tn
        assert_same(cb, tb, **TOL)
    c.eval()
    t.eval()
    compare(c, t, _arr(rng, *shape))


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("LayerNorm", (4,), {}, (2, 3, 4)),
    ("LayerNorm", ((3, 4),), {"bias": False, "eps": 1e-3}, (2, 3, 4)),
    ("LayerNorm", (4,), {"elementwise_affine": False}, (5, 4)),
    ("GroupNorm", (2, 4), {}, (3, 4, 5)),
    ("GroupNorm", (4, 4), {"affine": False}, (3, 4, 2, 2)),
    ("InstanceNorm1d", (3,), {"affine": True}, (2, 3, 6)),
    ("InstanceNorm2d", (3,), {}, (2, 3, 3, 3)),
])
def test_norm_modules_match_torch(rng, name, args, kwargs, shape):
    c, t = twin(name, *args, **kwargs)
    assert repr(c) == repr(t)
    compare(c, t, _arr(rng, *shape) * 3 + 1)


def test_norm_module_input_checks_like_torch():
    raises_like(ValueError, lambda: chainrule.nn.BatchNorm2d(3)(chainrule.ones(2, 3)),
                lambda: torch.nn.BatchNorm2d(3)(torch.ones(2, 3)))
    raises_like(ValueError, lambda: chainrule.nn.GroupNorm(3, 4),
                lambda: torch.nn.GroupNorm(3, 4))


def test_norms_empty_batch_and_noncontiguous(rng):
    z = np.zeros((0, 4, 3), np.float32)
    check(lambda t, x: t.nn.functional.group_norm(x, 2), z)
    check(lambda t, x: t.nn.functional.layer_norm(x, (3,)), z)
    x = _arr(rng, 3, 4, 5)
    check(lambda t, x: t.nn.functional.layer_norm(x.transpose(1, 2), (4,)), x, **TOL)
    check(lambda t, x: t.nn.functional.batch_norm(x.transpose(0, 2), None, None, training=True),
          x, **TOL)
    check(lambda t, x: t.nn.functional.group_norm(x.transpose(1, 2), 5), x, **TOL)


@pytest.mark.parametrize("affine", ["weight", "bias"])
@pytest.mark.parametrize("shape,ns", [((5, 3, 4), (3, 4)), ((5, 3, 4), (4,)), ((0, 3), (3,))])
def test_layer_norm_row_backward_with_one_affine_part(rng, affine, shape, ns):
    """The row form's row length is the normalized size (not the last dim, nor the weight's
    size when there is none); an empty batch keeps the general form."""
    x, p, up = _arr(rng, *shape), _arr(rng, *ns), _arr(rng, *shape)
    got = []
    for L in (chainrule, torch):
        xt, pt = L.tensor(x, requires_grad=True), L.tensor(p, requires_grad=True)
        kw = {affine: pt}
        L.nn.functional.layer_norm(xt, ns, **kw).backward(L.tensor(up))
        got.append((xt.grad, pt.grad))
    for c, t in zip(*got):
        assert_same(c, t, **TOL)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("needs", ["xwb", "x", "wb", "xb", "w"])
def test_layer_norm_row_backward(rng, dtype, needs):
    """The plain backward's row form (BLAS row sums, gx in three passes) for each subset of
    operands needing a gradient, both BLAS dtypes, and an upstream gradient that is a
    transposed view; transformer-sized rows (512 of 64) and a small odd shape."""
    for shape, ns in (((16, 32, 64), (64,)), ((5, 3, 7), (3, 7))):
        x = rng.standard_normal(shape).astype(dtype) * 2 + 0.5
        w = rng.standard_normal(ns).astype(dtype)
        b = rng.standard_normal(ns).astype(dtype)
        up = rng.standard_normal(shape[::-1]).astype(dtype)
        got = []
        for L in (chainrule, torch):
            ts = [L.tensor(a, requires_grad=k in needs) for a, k in ((x, "x"), (w, "w"), (b, "b"))]
            y = L.nn.functional.layer_norm(ts[0], ns, ts[1], ts[2])
            y.backward(L.tensor(up).permute(*range(len(shape) - 1, -1, -1)))
            got.append([t.grad for t in ts if t.requires_grad])
        tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-10}
        for c, t in zip(*got):
            assert_same(c, t, **tol)
