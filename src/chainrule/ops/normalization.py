"""Batch, layer and group normalisation: one fused node each.

All three are ``y = (x - mean) * invstd * weight + bias`` with statistics over some axes of
a view of x (batch norm: every axis but channels; layer norm: the trailing
``normalized_shape``; group norm: each (sample, group) of an (N, G, -1) view) and an affine
that broadcasts over x differently. One ``Normalize`` op covers them, parameterised by
that geometry; only its ``node_name`` differs (one subclass each).

The forward centres once and takes the variance of the centred values (stable; no
E[x²] - E[x]² cancellation). The backward is the closed form
``gx = invstd * (ĝ - mean(ĝ) - x̂ * mean(ĝ x̂))`` with ``ĝ = grad * weight``, written in
chainrule ops; under ``create_graph`` the statistics are recomputed from x with chainrule
ops so that second derivatives see their dependence on x.
"""
from .._backend import xp
from .._tensor import Tensor
from ..autograd.grad_mode import state
from ..autograd.graph import apply
from ._core import Op, constant_array
from .reductions import sum_last, sum_leading

__all__ = []


class Geometry:
    """Where the statistics and the affine parameters live, for one call.

    stat_shape: x reshaped to this for the statistics (None: x's own shape); axes: the
    reduced axes of that view; aff_shape: weight/bias reshaped to this to broadcast over x;
    red_axes: the axes of x that weight/bias gradients sum over.
    """

    __slots__ = ("aff_shape", "axes", "eps", "red_axes", "stat_shape")

    def __init__(self, stat_shape, axes, aff_shape, red_axes, eps):
        self.stat_shape, self.axes, self.aff_shape = stat_shape, axes, aff_shape
        self.red_axes, self.eps = red_axes, eps


def _asum(a, axes, keepdims):
    """``a.sum(axes)`` of an array, through the BLAS sums for the last axis (layer norm's
    statistics) and for leading axes (its weight and bias gradients)."""
    axes = tuple(axes)
    if keepdims and axes == (a.ndim - 1,):
        return sum_last(a, True)
    if not keepdims and axes == tuple(range(len(axes))):
        return sum_leading(a, len(axes))
    return a.sum(axes, keepdims=keepdims)


def _stats(xs, axes, eps):
    # sum * (1/n) rather than mean(): same pairwise summation, without mean()'s Python layer
    n = 1
    for a in axes:
        n *= xs.shape[a]
    inv_n = 1.0 / max(n, 1)
    mean = _asum(xs, axes, True)
    mean *= inv_n
    xc = xs - mean
    var = _asum(xc * xc, axes, True)
    var *= inv_n
    return mean, var, xc


class Normalize(Op):
    """args: (geometry, fixed) where fixed = (mean, invstd) arrays in stat shape (eval batch
    norm) or None (statistics from the batch). Outputs (y, mean, biased var)."""

    node_name = "NativeBatchNormBackward0"
    operands = ("input", "weight", "bias")
    formulas = {
        "input": "invstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂)),  ĝ = grad · weight",
        "weight": "sum(grad · x̂)",
        "bias": "sum(grad)",
    }
    saves = (0, 1)
    multi_output = True
    array_backward = True  # (and on Tensors: create_graph, or a backward the explainer watches)

    def forward(ctx, x, w, b, geo, fixed):
        xs = x if geo.stat_shape is None else x.reshape(geo.stat_shape)
        if fixed is None:
            mean, var, xc = _stats(xs, geo.axes, geo.eps)
            invstd = 1.0 / xp.sqrt(var + geo.eps)
        else:
            mean, invstd = fixed
            var = invstd  # (unused: eval mode updates no running statistics)
            xc = xs - mean
        xhat = xc * invstd
        if geo.stat_shape is not None:
            xhat = xhat.reshape(x.shape)
        y = xhat if w is None else xhat * w.reshape(geo.aff_shape)
        if b is not None:
            if y is xhat:
                y = xhat + b.reshape(geo.aff_shape)
            else:
                y += b.reshape(geo.aff_shape)
        if ctx is not None:
            # x̂ for the array backward (two broadcast passes fewer there), unless the output
            # is x̂ itself: the caller may edit that in place
            ctx.extra = (mean, invstd, None if y is xhat else xhat)
        return y.astype(x.dtype, copy=False), mean, var

    def backward(ctx, grad):
        x, w = ctx.saved
        geo, fixed = ctx.args
        mean, invstd, xhat = ctx.extra
        if state.enabled:
            return _backward(x, w, grad, geo, fixed, mean, invstd, ctx, Tensor._make, _mean_t)
        # Plain backward: the same formulas straight on arrays (no graph to record). The engine
        # passes arrays; a backward the explainer watches passes Tensors, unwrapped here.
        wrapped = isinstance(grad, Tensor)
        if wrapped:
            x, w, grad = x._data, None if w is None else w._data, grad._data
        if xhat is not None and fixed is None and ctx.op is LayerNormalize and x.dtype.kind == "f" \
                and x.itemsize >= 4 and invstd.size:
            gs = _layer_norm_backward(w, grad, invstd, xhat, ctx, invstd.size)
        else:
            gs = _backward(x, w, grad, geo, fixed, mean, invstd, ctx, _same, _mean_a, xhat)
        return tuple(None if g is None else Tensor._make(g) for g in gs) if wrapped else gs


def _layer_norm_forward(ctx, x, w, b, eps):
    """Layer norm's y for statistics over the last axis of a contiguous float array (its
    usual case) in ten NumPy calls where the general form takes ~16: each row's mean and
    mean square as one BLAS product with a column of 1/d, x̂ and 1/σ in place. Inside a
    training step each NumPy call costs ~2-3 µs whatever its size."""
    shape = x.shape
    d = shape[-1]
    rows = x.size // d
    x2 = x.reshape(rows, d)
    col = constant_array("mean", d, x.dtype)
    mean = x2 @ col  # (rows,)
    xc = x2 - mean[:, None]
    var = (xc * xc) @ col  # (vecdot would spare the square's buffer, but calls BLAS per row)
    invstd = var + eps
    xp.sqrt(invstd, out=invstd)
    xp.divide(1, invstd, out=invstd)
    xhat = xp.multiply(xc, invstd[:, None], out=xc).reshape(shape)
    y = xhat if w is None else xhat * w
    if b is not None:
        if y is xhat:
            y = xhat + b
        else:
            y += b
    if ctx is not None:  # (as the general form: x̂ unless the output is x̂ itself)
        stat = shape[:-1] + (1,)
        ctx.extra = (mean.reshape(stat), invstd.reshape(stat), None if y is xhat else xhat)
    return y.astype(x.dtype, copy=False)


def _same(a):
    return a


def _mean_t(t, axes):
    return t.mean(axes, keepdim=True)


def _mean_a(a, axes):
    n = 1
    for ax in axes:
        n *= a.shape[ax]
    m = _asum(a, axes, True)
    m *= 1.0 / max(n, 1)
    return m


def _backward(x, w, grad, geo, fixed, mean, invstd, ctx, const, mean_fn, xhat=None):
    """gx, gw, gb on Tensors (create_graph) or arrays alike: the operators and reshape/sum
    are common to both; ``const`` wraps a stashed array, ``mean_fn`` is a keepdim mean;
    ``xhat``: the forward's x̂ (arrays), else recomputed."""
    shape = tuple(x.shape)
    view = (lambda t: t) if geo.stat_shape is None else (lambda t: t.reshape(geo.stat_shape))
    if xhat is not None:
        xhat = view(xhat)
        invstd = const(invstd)
    elif fixed is None and isinstance(x, Tensor):  # create_graph: stats depend on x
        xc = view(x) - mean_fn(view(x), geo.axes)
        invstd = (mean_fn(xc * xc, geo.axes) + geo.eps) ** -0.5
        xhat = xc * invstd
    else:
        invstd = const(invstd)
        xhat = (view(x) - const(mean)) * invstd
    gx = gw = gb = None
    if ctx.edges[0] is not None:
        gh = view(grad if w is None else grad * w.reshape(geo.aff_shape))
        if fixed is None:
            gh = gh - mean_fn(gh, geo.axes) - xhat * mean_fn(gh * xhat, geo.axes)
        gx = (gh * invstd).reshape(shape)
    total = (lambda t: t.sum(geo.red_axes)) if isinstance(grad, Tensor) else (
        lambda a: _asum(a, geo.red_axes, False))
    if ctx.edges[1] is not None:
        gw = total(grad * xhat.reshape(shape)).reshape(tuple(w.shape))
    if ctx.edges[2] is not None:
        gb = total(grad).reshape(ctx.metas[2][0])
    return gx, gw, gb


def _layer_norm_backward(w, grad, invstd, xhat, ctx, rows):
    """Layer norm's plain backward over (rows, D), statistics along D: every row sum is one
    BLAS product (with w/D, or with ones), and ``gx = (ĝ − m₁ − x̂·m₂)·invstd`` with
    ĝ = g·w, m₁ = mean(ĝ), m₂ = mean(ĝ·x̂) per row: three full passes and three per-row
    broadcasts, eleven NumPy calls in all (x̂ from the forward)."""
    shape = xhat.shape
    d = xhat.size // rows if rows else 0  # one statistic per row (invstd): the row length
    g2 = grad.reshape(rows, d)
    if not g2.flags.c_contiguous:
        g2 = xp.ascontiguousarray(g2)
    xh = xhat.reshape(rows, d)
    need_x, need_w, need_b = (e is not None for e in ctx.edges)
    wv = None if w is None else w.reshape(d)
    p = g2 * xh if need_x or need_w else None  # g·x̂: the weight gradient's rows, and m₂
    ones_rows = constant_array("ones", rows, g2.dtype)
    gx = gw = gb = None
    if need_x:
        vec = constant_array("mean", d, g2.dtype) if wv is None else wv * (1.0 / max(d, 1))
        corr = xh * (p @ vec)[:, None]  # x̂·m₂
        corr += (g2 @ vec)[:, None]  # + m₁
        if wv is None:  # ĝ = g: into corr's buffer (g may be shared: not in place)
            gh = xp.subtract(g2, corr, out=corr)
        else:
            gh = g2 * wv
            gh -= corr
        gh *= invstd.reshape(rows, 1)
        gx = gh.reshape(shape)
    if need_w:
        gw = _shaped(ones_rows @ p, w.shape)
    if need_b:
        gb = _shaped(ones_rows @ g2, ctx.metas[2][0])
    return gx, gw, gb


def _shaped(a, shape):
    """``a`` in ``shape``, itself where it has it already: a reshape is a view, which the
    engine copies before keeping it as a parameter's .grad."""
    return a if a.shape == shape else a.reshape(shape)


class LayerNormalize(Normalize):
    """Layer norm's node: y alone (layer_norm returns nothing else; the statistics stay in
    ctx.extra), so no constant outputs are made for it."""

    node_name = "NativeLayerNormBackward0"
    multi_output = False

    def forward(ctx, x, w, b, geo, fixed):
        if len(geo.axes) == 1 and x.ndim >= 2 and x.dtype.kind == "f" and x.itemsize >= 4 \
                and x.flags.c_contiguous and x.shape[-1] > 1 and x.size >= 8 * x.shape[-1]:
            return _layer_norm_forward(ctx, x, w, b, geo.eps)  # (its one axis is the last)
        return Normalize.forward(ctx, x, w, b, geo, fixed)[0]


class GroupNormalize(Normalize):
    node_name = "NativeGroupNormBackward0"


def normalize(op, x, w, b, geo, fixed=None):
    """(y, mean, var) Tensors, mean/var (stat-shaped, keepdims) carrying no gradient; y alone
    for LayerNormalize."""
    arrays = (x._data, None if w is None else w._data, None if b is None else b._data)
    return apply(op, (x, w, b), arrays, (geo, fixed))
