"""Scaled dot-product attention as one fused node: softmax(q kᵀ · scale + mask) v.

The forward keeps the attention weights (and the dropout mask) for the backward, which
runs on arrays: dV = Aᵀ g, dA = g vᵀ, dS = A ⊙ (dA − rowsum(dA ⊙ A)), dQ = dS k · scale,
dK = dSᵀ q · scale, d(mask) = dS. Under ``create_graph`` the same formulas are written in
chainrule ops with A recomputed from q and k, so second derivatives are exact.

As PyTorch's CPU flash kernel, a row whose every position is masked out gives zeros.
"""
from .._backend import xp
from .._tensor import Tensor
from ..autograd.grad_mode import state
from ..autograd.graph import apply, array_of, like
from ._core import Op
from .reductions import max_last

__all__ = []


def _t(a):
    return xp.swapaxes(a, -1, -2)


def _softmax_rows(s):
    m = max_last(s)
    m[xp.isneginf(m)] = 0.0  # fully masked row: exp(-inf) = 0 everywhere, not NaN
    e = xp.exp(s - m)
    total = e.sum(-1, keepdims=True)
    total[total == 0] = 1.0
    e /= total
    return e


class ScaledDotProductAttention(Op):
    """args: (scale, keep) where keep is None or the dropout mask already scaled by 1/(1-p)."""

    node_name = "ScaledDotProductFlashAttentionForCpuBackward0"
    operands = ("query", "key", "value", "attn_mask")
    formulas = {
        "query": "dS · key · scale,  dS = A ⊙ (grad vᵀ − rowsum(grad vᵀ ⊙ A))",
        "key": "dSᵀ · query · scale",
        "value": "Aᵀ · grad",
        "attn_mask": "dS",
    }
    saves = (0, 1, 2, 3)
    array_backward = True  # (the arrays through array_of; like gives the results grad's form)

    def forward(ctx, q, k, v, mask, scale, keep):
        s = xp.matmul(q * scale, _t(k))
        if mask is not None:
            s = s + mask
        a = _softmax_rows(s)
        ad = a if keep is None else a * keep
        if ctx is not None:
            ctx.extra = (a, ad)
        return xp.matmul(ad, v)

    def backward(ctx, grad):
        q, k, v, mask = ctx.saved
        scale, keep = ctx.args
        if state.enabled:
            return _backward_graph(ctx, grad, q, k, v, mask, scale, keep)
        a, ad = ctx.extra
        g = array_of(grad)
        dv = xp.matmul(_t(ad), g) if ctx.edges[2] is not None else None
        da = xp.matmul(g, _t(array_of(v)))
        if keep is not None:
            da *= keep
        ds = a * (da - (da * a).sum(-1, keepdims=True))
        dq = xp.matmul(ds, array_of(k)) * scale if ctx.edges[0] is not None else None
        dk = xp.matmul(_t(ds), array_of(q)) * scale if ctx.edges[1] is not None else None
        return tuple(None if x is None else like(grad, x) for x in (dq, dk, dv, ds))


def _backward_graph(ctx, grad, q, k, v, mask, scale, keep):
    s = (q * scale).matmul(k.transpose(-2, -1))
    if mask is not None:
        s = s + mask
    a = s.softmax(-1)
    keep_t = None if keep is None else Tensor._make(keep)
    ad = a if keep_t is None else a * keep_t
    dv = ad.transpose(-2, -1).matmul(grad)
    da = grad.matmul(v.transpose(-2, -1))
    if keep_t is not None:
        da = da * keep_t
    ds = a * (da - (da * a).sum(-1, keepdim=True))
    dq = ds.matmul(k) * scale
    dk = ds.transpose(-2, -1).matmul(q) * scale
    return dq, dk, dv, (ds if ctx.edges[3] is not None else None)


def attention(q, k, v, mask, scale, keep):
    """Apply the fused op; ``mask`` is None or an additive float Tensor, ``keep`` an array."""
    arrays = (q._data, k._data, v._data, None if mask is None else mask._data)
    return apply(ScaledDotProductAttention, (q, k, v, mask), arrays, (scale, keep))
