"""The oracles every op test uses: PyTorch on the same inputs, and finite differences.

``check(fn, *inputs)`` runs ``fn(lib, *tensors)`` once with ``lib=chainrule`` and once with
``lib=torch`` on identical data, then compares

* the forward value, shape and dtype;
* first derivatives (``autograd.grad`` with a random upstream gradient);
* second derivatives (the first ones differentiated again with ``create_graph=True``);

and, in float64, ``fd_check`` compares chainrule's gradient with central differences.
"""
import numpy as np
import torch

import chainrule

GRAD_DTYPES = ("float32", "float64", "float16")


def to_both(a, requires_grad=None):
    """(chainrule tensor, torch tensor) holding the same data (an ndarray or a scalar)."""
    arr = np.asarray(a)
    rg = arr.dtype.kind == "f" if requires_grad is None else requires_grad
    c = chainrule.tensor(arr.copy(), requires_grad=rg)
    t = torch.tensor(arr.copy(), requires_grad=rg)
    return c, t


def as_np(x):
    if isinstance(x, chainrule.Tensor):
        return x.detach().numpy()
    if isinstance(x, torch.Tensor):
        return x.detach().numpy(force=True)  # force: torch's ZeroTensor gradients
    return np.asarray(x)


def assert_same(c, t, rtol=1e-5, atol=1e-6, what="value"):
    """chainrule result c equals torch result t: shape, dtype name and values."""
    if isinstance(t, (tuple, list)):
        assert isinstance(c, (tuple, list)) and len(c) == len(t), f"{what}: {c!r} vs {t!r}"
        for i, (ci, ti) in enumerate(zip(c, t)):
            assert_same(ci, ti, rtol, atol, f"{what}[{i}]")
        return
    if isinstance(t, torch.Tensor):
        assert isinstance(c, chainrule.Tensor), f"{what}: expected a Tensor, got {type(c)}"
        assert tuple(c.shape) == tuple(t.shape), f"{what}: shape {tuple(c.shape)} vs {tuple(t.shape)}"
        assert str(c.dtype) == str(t.dtype), f"{what}: dtype {c.dtype} vs {t.dtype}"
    cn, tn = as_np(c), as_np(t)
    if tn.dtype == np.float16:
        rtol, atol = max(rtol, 1e-2), max(atol, 1e-2)
    np.testing.assert_allclose(cn, tn, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def _diff_outputs(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, (chainrule.Tensor, torch.Tensor)) and o.requires_grad]


def check(fn, *inputs, rtol=1e-5, atol=1e-6, grad=True, second=True, requires_grad=None, seed=0):
    """Compare fn under chainrule and torch: forward, first and second derivatives."""
    rng = np.random.default_rng(seed)
    pairs = [to_both(a, requires_grad) for a in inputs]
    cin = [p[0] for p in pairs]
    tin = [p[1] for p in pairs]
    cout = fn(chainrule, *cin)
    tout = fn(torch, *tin)
    assert_same(cout, tout, rtol, atol, "forward")
    if not grad:
        return cout, tout
    c_outs, t_outs = _diff_outputs(cout), _diff_outputs(tout)
    assert len(c_outs) == len(t_outs), "different outputs require grad"
    c_leaves = [c for c in cin if c.requires_grad]
    t_leaves = [t for t in tin if t.requires_grad]
    if not t_outs or not t_leaves:
        return cout, tout
    ups = [rng.standard_normal(t.shape).astype(as_np(t).dtype) for t in t_outs]

    def grads(create_graph):
        return chainrule.autograd.grad(
            c_outs, c_leaves, [chainrule.tensor(u) for u in ups], create_graph=create_graph,
            retain_graph=True, allow_unused=True,
        )

    tg = torch.autograd.grad(
        t_outs, t_leaves, [torch.tensor(u) for u in ups], create_graph=second, allow_unused=True
    )
    # Both engine modes: rules run on bare arrays (no create_graph: what .backward() does)
    # and on Tensors (create_graph, which the second derivatives below differentiate).
    for mode in (False, True) if second else (False,):
        cg = grads(mode)
        for i, (a, b) in enumerate(zip(cg, tg)):
            where = f"grad[{i}]" + (" (create_graph)" if mode else "")
            if b is None:
                assert a is None or np.allclose(as_np(a), 0), f"{where}: torch has none"
                continue
            assert a is not None, f"{where}: chainrule gave None, torch {b}"
            assert_same(a, b, rtol * 10, atol * 10, where)
    if not second:
        return cout, tout
    # Second order: differentiate sum(grad_i * v_i) once more.
    pairs2 = [(a, b) for a, b in zip(cg, tg) if b is not None and b.requires_grad]
    if not pairs2:
        return cout, tout
    vs = [rng.standard_normal(b.shape).astype(as_np(b).dtype) for _, b in pairs2]
    cs = sum((a * chainrule.tensor(v)).sum() for (a, _), v in zip(pairs2, vs))
    ts = sum((b * torch.tensor(v)).sum() for (_, b), v in zip(pairs2, vs))
    if not cs.requires_grad:
        return cout, tout
    cg2 = chainrule.autograd.grad(cs, c_leaves, allow_unused=True)
    tg2 = torch.autograd.grad(ts, t_leaves, allow_unused=True)
    for i, (a, b) in enumerate(zip(cg2, tg2)):
        if b is None:
            assert a is None or np.allclose(as_np(a), 0), f"grad2[{i}]: torch has none"
            continue
        assert a is not None, f"grad2[{i}]: chainrule gave None"
        assert_same(a, b, rtol * 100, atol * 100, f"grad2[{i}]")
    return cout, tout


def fd_check(fn, *inputs, eps=1e-6, rtol=1e-4, atol=1e-5, seed=0):
    """chainrule's gradient of sum(fn(...) * u) against central finite differences, float64."""
    rng = np.random.default_rng(seed)
    arrs = [np.asarray(a, dtype=np.float64) for a in inputs]
    cin = [chainrule.tensor(a.copy(), requires_grad=True) for a in arrs]
    out = fn(chainrule, *cin)
    out = out[0] if isinstance(out, (tuple, list)) else out
    u = rng.standard_normal(tuple(out.shape))
    grads = chainrule.autograd.grad((out * chainrule.tensor(u)).sum(), cin, allow_unused=True)

    def f(vals):
        with chainrule.no_grad():
            o = fn(chainrule, *[chainrule.tensor(v) for v in vals])
            o = o[0] if isinstance(o, (tuple, list)) else o
            return float((o.numpy() * u).sum())

    for k, a in enumerate(arrs):
        num = np.zeros_like(a)
        it = np.nditer(a, flags=["multi_index"])
        for _ in it:
            idx = it.multi_index
            plus = [x.copy() for x in arrs]
            minus = [x.copy() for x in arrs]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            num[idx] = (f(plus) - f(minus)) / (2 * eps)
        g = grads[k]
        got = np.zeros_like(a) if g is None else g.numpy()
        np.testing.assert_allclose(got, num, rtol=rtol, atol=atol, err_msg=f"input {k}")


def raises_like(exc_type, fn_c, fn_t, match=None):
    """Both libraries raise the same exception class; chainrule's message contains ``match``
    (default: torch's own message)."""
    import pytest

    with pytest.raises(exc_type) as et:
        fn_t()
    with pytest.raises(exc_type) as ec:
        fn_c()
    expected = match if match is not None else str(et.value)
    assert expected in str(ec.value), f"chainrule said {ec.value!r}; expected {expected!r}"
    return ec.value
