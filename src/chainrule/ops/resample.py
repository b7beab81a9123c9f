"""Resampling (``F.interpolate``'s nearest / nearest-exact / linear / bicubic modes) as
one fused node.

Every mode is separable and linear: along each spatial axis, output position j reads a
few input positions (``taps``: index array, weight array) with PyTorch's source-index
arithmetic. The forward gathers with ``take``; the backward is the adjoint (a scatter-add,
done with ``add.reduceat`` because each tap's indices are non-decreasing) recorded as
another op, whose own backward is the resampling again, so every order of derivative is
exact.

Short axes (input length <= ``_DENSE_MAX``) run instead as one BLAS product with the
axis's small dense (out x in) interpolation matrix: several times faster than gathers and
``reduceat`` there. The product would turn an inf into NaNs along its row (0 · inf), so
non-finite data takes the gather path.
"""
import functools
import math

from .._backend import xp
from ..autograd.graph import apply, call1
from ._core import Op

__all__ = []

# PyTorch computes nearest indices in float, linear/cubic ones in the input's opmath type.
_CUBIC_A = -0.75
_DENSE_MAX = 128  # longest input axis resampled by a dense matrix product


def _scale(n_in, n_out, scale, align_corners, cubic_or_linear, ft):
    if cubic_or_linear and align_corners:
        return ft((n_in - 1) / (n_out - 1)) if n_out > 1 else ft(0)
    if scale is not None and scale > 0:
        return ft(1.0) / ft(scale)
    return ft(n_in) / ft(n_out)


@functools.lru_cache(maxsize=256)
def _taps(mode, n_in, n_out, scale, align_corners, dtype):
    """((index, weight or None), ...) for one axis, with reduceat starts for the adjoint."""
    ft = xp.float64 if dtype == xp.float64 else xp.float32
    dst = xp.arange(n_out)
    if mode in ("nearest", "nearest-exact"):
        s = _scale(n_in, n_out, scale, False, False, xp.float32)
        off = xp.float32(0.5 if mode == "nearest-exact" else 0.0)
        idx = xp.floor((dst.astype(xp.float32) + off) * s).astype(xp.intp)
        if mode == "nearest" and n_out in (n_in, 2 * n_in):  # PyTorch's exact shortcuts
            idx = dst if n_out == n_in else dst >> 1
        taps = [(xp.minimum(idx, n_in - 1), None)]
    else:
        s = _scale(n_in, n_out, scale, align_corners, True, ft)
        d = dst.astype(ft)
        src = s * d if align_corners else s * (d + ft(0.5)) - ft(0.5)
        if mode == "linear":
            src = xp.maximum(src, ft(0))
            i0 = xp.minimum(xp.floor(src).astype(xp.intp), n_in - 1)
            lam = xp.clip(src - i0.astype(ft), ft(0), ft(1))
            i1 = xp.minimum(i0 + 1, n_in - 1)
            taps = [(i0, ft(1) - lam), (i1, lam)]
        else:  # bicubic: four taps, indices clamped to the edge
            i = xp.floor(src)
            t = src - i
            a = ft(_CUBIC_A)

            def near(x):
                return ((a + 2) * x - (a + 3)) * x * x + 1

            def far(x):
                return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

            ws = (far(t + 1), near(t), near(1 - t), far(2 - t))
            i = i.astype(xp.intp)
            taps = [(xp.clip(i - 1 + k, 0, n_in - 1), w) for k, w in enumerate(ws)]
    out = []
    for idx, w in taps:
        starts = xp.flatnonzero(xp.diff(idx)) + 1 if n_out else idx
        starts = xp.concatenate(([0], starts)).astype(xp.intp) if n_out else starts
        out.append((idx, None if w is None else w.astype(dtype), starts, idx[starts]))
    return tuple(out)


@functools.lru_cache(maxsize=256)
def _dense(mode, n_in, n_out, scale, align_corners, dtype):
    """(M, Mᵀ) with M the (out, in) matrix of one axis's taps, or None for a long axis."""
    if n_in > _DENSE_MAX:
        return None
    m = xp.zeros((n_out, n_in), dtype=dtype)
    rows = xp.arange(n_out)
    for idx, w, _, _ in _taps(mode, n_in, n_out, scale, align_corners, dtype):
        xp.add.at(m, (rows, idx), 1 if w is None else w)
    return m, xp.ascontiguousarray(m.T)


def _matmul_along(x, m, axis):
    """Apply the (out, in) matrix m along ``axis`` (negative) of x."""
    if axis == -1:
        return x @ m.T
    if axis == -2:
        return m @ x
    return xp.swapaxes(m @ xp.swapaxes(x, axis, -2), axis, -2)


def _along(w, axis):
    """Shape a per-position weight to broadcast along ``axis`` (negative)."""
    return w.reshape((-1,) + (1,) * (-axis - 1))


def _resample(x, plan):
    if not plan:
        return x.copy()
    finite = None
    for axis, taps, dense in plan:
        if dense is not None:
            if finite is None:
                finite = bool(xp.isfinite(x).all())
            if finite:
                x = _matmul_along(x, dense[0], axis)
                continue
        y = None
        for idx, w, _, _ in taps:
            t = xp.take(x, idx, axis=axis)
            if w is not None:
                t = t * _along(w, axis) if y is None else t.__imul__(_along(w, axis))
            y = t if y is None else y.__iadd__(t)
        x = y
    return x


def _adjoint(g, plan, in_sizes):
    finite = None
    for (axis, taps, dense), n_in in zip(reversed(plan), reversed(in_sizes)):
        if dense is not None:
            if finite is None:
                finite = bool(xp.isfinite(g).all())
            if finite:
                g = _matmul_along(g, dense[1], axis)
                continue
        shape = list(g.shape)
        shape[axis] = n_in
        y = xp.zeros(shape, dtype=g.dtype)
        if g.size:
            for idx, w, starts, targets in taps:
                gw = g if w is None else g * _along(w, axis)
                part = xp.add.reduceat(gw, starts, axis=axis)
                sl = [slice(None)] * g.ndim
                sl[axis] = targets
                y[tuple(sl)] += part  # targets are distinct: plain fancy add is exact
        g = y
    return g


class Resample(Op):
    """args: (plan, in_sizes); plan = ((axis, taps), ...) over the spatial axes."""

    node_name = "UpsampleNearest2DBackward0"
    formulas = {"self": "the interpolation weights (adjoint: scatter-add of grad)"}
    array_backward = True

    def forward(ctx, x, plan, in_sizes):
        return _resample(x, plan)

    def backward(ctx, grad):
        plan, in_sizes = ctx.args
        return call1(_ADJOINTS[ctx.op], grad, (plan, in_sizes))


class ResampleAdjoint(Op):
    node_name = "UpsampleNearest2DBackwardBackward0"
    formulas = {"grad": "the adjoint of interpolation (its backward is interpolation)"}
    operands = ("grad_output",)
    array_backward = True

    def forward(ctx, g, plan, in_sizes):
        return _adjoint(g, plan, in_sizes)

    def backward(ctx, grad):
        plan, in_sizes = ctx.args
        return call1(_FORWARDS[ctx.op], grad, (plan, in_sizes))


_KIND = {"nearest": "Nearest", "nearest-exact": "NearestExact", "linear": "Linear",
         "bicubic": "Bicubic"}
_LINEAR_NAMES = {1: "Linear1D", 2: "Bilinear2D", 3: "Trilinear3D"}
_OPS = {}
_ADJOINTS = {}
_FORWARDS = {}


def _op_for(mode, nd):
    key = (mode, nd)
    op = _OPS.get(key)
    if op is None:
        kind = _LINEAR_NAMES[nd] if mode == "linear" else f"{_KIND[mode]}{nd}D"
        name = f"Upsample{kind}Backward0"
        op = type(f"Upsample{kind}", (Resample,), {"node_name": name})
        adj = type(f"Upsample{kind}Backward", (ResampleAdjoint,),
                   {"node_name": f"Upsample{kind}BackwardBackward0"})
        _ADJOINTS[op] = adj
        _FORWARDS[adj] = op
        _OPS[key] = op
    return op


def resample(x, mode, out_sizes, scales, align_corners):
    """Interpolate the trailing ``len(out_sizes)`` axes of ``x`` (mode: nearest,
    nearest-exact, linear, bicubic; ``scales`` the user's scale factors or Nones)."""
    nd = len(out_sizes)
    in_sizes = tuple(x.shape[-nd:])
    dtype = x._data.dtype
    ac = bool(align_corners)
    plan = tuple(
        (k - nd, _taps(mode, n_in, n_out, s, ac, dtype),
         _dense(mode, n_in, n_out, s, ac, dtype))
        for k, (n_in, n_out, s) in enumerate(zip(in_sizes, out_sizes, scales))
    )
    # an axis that keeps its size under nearest is the identity: skip its gather
    plan = tuple(p for p, a, b in zip(plan, in_sizes, out_sizes)
                 if not (mode == "nearest" and a == b))
    plan_sizes = tuple(n for n, b in zip(in_sizes, out_sizes) if not (mode == "nearest" and n == b))
    return apply(_op_for(mode, nd), (x,), (x._data,), (plan, plan_sizes))


def output_size(n_in, scale):
    """PyTorch's floor(float(in) * scale)."""
    return math.floor(float(n_in) * scale)
