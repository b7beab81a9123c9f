"""Pooling as fused single-node ops over strided window views (2-d; 1-d runs with unit height).

Each pooling is linear in its input once the max positions are fixed, so each op's
backward is its adjoint applied as another op, and that op's backward is the pooling
again: double backward works without any extra rules.

* max pooling: ``MaxPool`` saves the argmax indices (flat into each input plane, as
  PyTorch's ``return_indices``); its adjoint ``MaxPoolScatter`` adds the gradient at them
  (one ``bincount``), whose adjoint ``MaxPoolGather`` reads at them.
* average pooling: ``AvgPool`` sums a window view and divides; ``AvgPoolAdjoint`` spreads
  ``grad / divisor`` back with one strided add per kernel tap.
* adaptive average pooling is ``Ph @ x @ Pw^T`` with two small averaging matrices.
"""
from .._backend import xp
from ..autograd.graph import apply, call1
from ._core import Op
from .conv import _as_strided, _to4

__all__ = []


def pool_out_size(n, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape (the last window must start inside input + left pad)."""
    span = n + 2 * p - d * (k - 1) - 1
    o = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (o - 1) * s >= n + p:
        o -= 1
    return o


def _windows(xpad, k, s, d, out):
    """(N, C, Ho, Wo, kh, kw) read-only window view of a padded (N, C, H, W) array."""
    n, c = xpad.shape[:2]
    s0, s1, s2, s3 = xpad.strides
    return _as_strided(
        xpad, (n, c, out[0], out[1], k[0], k[1]),
        (s0, s1, s2 * s[0], s3 * s[1], s2 * d[0], s3 * d[1]), writeable=False,
    )


def _pad_for(shape, k, s, p, d, out, value):
    """Padding (lo, hi) per spatial dim so every window lies inside the array."""
    return tuple(
        (p[i], max(0, (out[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - shape[2 + i] - p[i]))
        for i in range(2)
    )


def _padded(x, pads, value):
    if any(lo or hi for lo, hi in pads):
        return xp.pad(x, ((0, 0), (0, 0)) + pads, constant_values=value)
    return x


def _spread(g, in_shape, k, s, p, d, pads):
    """Adjoint of the window view: add each tap's (N, C, Ho, Wo) values back into place."""
    n, c, ho, wo = g.shape
    h, w = in_shape[2], in_shape[3]
    gx = xp.zeros((n, c, h + pads[0][0] + pads[0][1], w + pads[1][0] + pads[1][1]), g.dtype)
    for i in range(k[0]):
        hs = slice(i * d[0], i * d[0] + (ho - 1) * s[0] + 1, s[0])
        for j in range(k[1]):
            gx[:, :, hs, j * d[1]:j * d[1] + (wo - 1) * s[1] + 1:s[1]] += g
    return gx[:, :, p[0]:p[0] + h, p[1]:p[1] + w]


# ---- max ---------------------------------------------------------------------------------
def _max_pool(x, k, s, p, d, out, want_idx):
    """Running maximum over the kernel taps, each a strided view: no window copy, no argmax
    over a tiny axis (both slow in NumPy). Ties keep the first tap and a NaN wins, as in
    PyTorch's kernel (``val > max || isnan(val)``)."""
    x4 = _to4(x)
    pads = _pad_for(x4.shape, k, s, p, d, out, None)
    low = -xp.inf if x4.dtype.kind == "f" else xp.iinfo(x4.dtype).min
    win = _windows(_padded(x4, pads, low), k, s, d, out)
    if out[1] < _SHORT_ROWS:
        # Narrow outputs: each tap's strided view has rows of a few elements, and NumPy pays
        # per row. One copy into tap-major order makes every later pass contiguous (~2x).
        win = xp.ascontiguousarray(win.transpose(4, 5, 0, 1, 2, 3))
        at = win.__getitem__
    else:
        at = (lambda ij: win[..., ij[0], ij[1]])
    taps = [(i, j) for i in range(k[0]) for j in range(k[1])]
    best, arg = _running_max(at, taps, want_idx, nan=False)
    if arg is not None and best.dtype.kind == "f" and xp.isnan(best).any():
        best, arg = _running_max(at, taps, want_idx, nan=True)  # rare: NaN picks the tap
    n, c, ho, wo = best.shape
    y = best.reshape(n, c, wo) if x.ndim == 3 else best
    if arg is None:
        return y, None
    # Flat index into the (unpadded) input plane, as PyTorch returns it.
    w = x4.shape[3]
    tap_off = xp.array([i * d[0] * w + j * d[1] for i, j in taps], dtype=xp.int64)
    base = ((xp.arange(ho) * s[0] - p[0]) * w)[:, None] + (xp.arange(wo) * s[1] - p[1])
    idx = xp.take(tap_off, arg) + base  # take: ~2x a fancy index with a small-int array
    return y, (idx.reshape(n, c, wo) if x.ndim == 3 else idx)


_SHORT_ROWS = 32


def _running_max(at, taps, want_idx, nan):
    """(max over the kernel taps, index of the tap that gave it or None). A later tap wins
    only if greater (ties keep the first), or with ``nan`` if it is NaN: PyTorch's
    ``val > max || isnan(val)``. Without ``nan`` the indices are right wherever the max is
    not NaN (max itself propagates NaN either way). ``at((i, j))``: the tap's (N, C, Ho, Wo)
    values."""
    best = at(taps[0]).copy()
    arg = xp.zeros(best.shape, xp.int8 if len(taps) < 128 else xp.int32) if want_idx else None
    for t, ij in enumerate(taps[1:], 1):
        tap = at(ij)
        if arg is None:
            xp.maximum(best, tap, out=best)  # NaN propagates, as in PyTorch
            continue
        m = tap > best
        if nan:
            m |= xp.isnan(tap)
        xp.maximum(best, tap, out=best)
        mi = m.view(xp.int8) if arg.dtype == xp.int8 else m.astype(arg.dtype)
        mi *= arg.dtype.type(t)
        xp.maximum(arg, mi, out=arg)  # arg = t where m: t exceeds every earlier tap's index
    return best, arg


def _scatter(g, idx, in_shape, disjoint=False):
    """Sum g into an input-shaped array at the flat plane indices idx: a plain assignment
    when windows cannot overlap (each index is distinct), else one bincount."""
    planes = in_shape[0] * in_shape[1]
    hw = in_shape[-1] * (in_shape[-2] if len(in_shape) == 4 else 1)
    base = (xp.arange(planes) * hw).reshape(in_shape[0], in_shape[1], *(1,) * (idx.ndim - 2))
    if disjoint:
        gx = xp.zeros(planes * hw, dtype=g.dtype)
        gx[(idx + base).ravel()] = g.ravel()
        return gx.reshape(in_shape)
    gx = xp.bincount((idx + base).ravel(), weights=g.ravel(), minlength=planes * hw)
    return gx.astype(g.dtype, copy=False).reshape(in_shape)


def _disjoint(k, s, d):
    """Windows never overlap: each stride is at least the dilated kernel's extent."""
    as_t = (lambda v: v if isinstance(v, (tuple, list)) else (v,))
    return all(st >= (kk - 1) * dd + 1 for kk, st, dd in zip(as_t(k), as_t(s), as_t(d)))


def _gather(u, idx):
    n, c = u.shape[:2]
    return xp.take_along_axis(u.reshape(n, c, -1), idx.reshape(n, c, -1), 2).reshape(idx.shape)


class MaxPool(Op):
    """args: (k, s, p, d, out, return_indices); returns (values, indices or None).
    Indices are only computed when asked for or needed by the backward."""

    node_name = "MaxPool2DWithIndicesBackward0"
    formulas = {"self": "1 at each window's argmax (indices), else 0"}
    multi_output = True
    array_backward = True  # (the scatter takes the array, or records on a Tensor)

    def forward(ctx, x, k, s, p, d, out, return_indices):
        y, idx = _max_pool(x, k, s, p, d, out, return_indices or ctx is not None)
        if ctx is not None:
            ctx.extra = idx
        return (y, idx) if return_indices else (y,)

    def backward(ctx, grad):
        a = ctx.args  # (k, s, p, d, ...) for max_pool; adaptive pooling has no fixed windows
        disjoint = len(a) >= 4 and _disjoint(a[0], a[1], a[3])
        return call1(MaxPoolScatter, grad, (ctx.extra, ctx.metas[0][0], disjoint))


class MaxPoolScatter(Op):
    node_name = "MaxPool2DWithIndicesBackwardBackward0"
    formulas = {"grad_output": "1 at indices (gather)"}
    array_backward = True

    def forward(ctx, g, idx, in_shape, disjoint=False):
        return _scatter(g, idx, in_shape, disjoint)

    def backward(ctx, grad):
        return call1(MaxPoolGather, grad, ctx.args[:2])


class MaxPoolGather(Op):
    node_name = "MaxPoolGatherBackward0"
    formulas = {"self": "scatter-add at indices"}
    array_backward = True

    def forward(ctx, u, idx, in_shape):
        return _gather(u, idx)

    def backward(ctx, grad):
        return call1(MaxPoolScatter, grad, ctx.args)


def max_pool(x, k, s, p, d, out, return_indices=False):
    """values, or (values, indices) Tensors; indices are int64 and carry no gradient."""
    r = apply(MaxPool, (x,), (x._data,), (k, s, p, d, out, return_indices))
    return r if return_indices else r[0]


# ---- adaptive max ------------------------------------------------------------------------
def _adaptive_taps(n, o):
    """(o, kmax) input positions of each adaptive window, the short ones padded by repeating
    their last position (harmless for a max; argmax still finds the first occurrence)."""
    i = xp.arange(o)
    start = (i * n) // o
    end = -((-(i + 1) * n) // o)
    kmax = int((end - start).max())
    return xp.minimum(start[:, None] + xp.arange(kmax), end[:, None] - 1)


def _adaptive_max(x, out, want_idx):
    x4 = _to4(x)
    h, w = x4.shape[2:]
    rows, cols = _adaptive_taps(h, out[0]), _adaptive_taps(w, out[1])
    # One gather: (N, C, Ho, Wo, kh, kw) windows of variable size, padded to the largest.
    win = x4[:, :, rows[:, None, :, None], cols[None, :, None, :]]
    n, c, ho, wo, kh, kw = win.shape
    flat = win.reshape(n, c, ho, wo, kh * kw)
    y = flat.max(-1)
    if x.ndim == 3:
        y = y.reshape(n, c, wo)
    if not want_idx:
        return y, None
    ki, kj = xp.divmod(flat.argmax(-1), kw)
    idx = rows[xp.arange(ho)[:, None], ki] * w + cols[xp.arange(wo), kj]
    return y, (idx.reshape(n, c, wo) if x.ndim == 3 else idx)


class AdaptiveMaxPool(Op):
    """args: (out, return_indices); the backward scatters at the argmax like MaxPool."""

    node_name = "AdaptiveMaxPool2DBackward0"
    formulas = {"self": "1 at each window's argmax (indices), else 0"}
    multi_output = True

    def forward(ctx, x, out, return_indices):
        y, idx = _adaptive_max(x, out, return_indices or ctx is not None)
        if ctx is not None:
            ctx.extra = idx
        return (y, idx) if return_indices else (y,)

    backward = MaxPool.backward
    array_backward = True


# ---- average -----------------------------------------------------------------------------
def avg_divisor(in_hw, k, s, p, out, count_include_pad, divisor_override):
    """(Ho, Wo) divisors exactly as PyTorch's avg_pool2d kernel computes them."""
    if divisor_override:
        return divisor_override
    sizes = []
    for i in range(2):
        start = xp.arange(out[i]) * s[i] - p[i]
        end = xp.minimum(start + k[i], in_hw[i] + p[i])
        if count_include_pad:
            sizes.append(end - start)
        else:
            sizes.append(xp.minimum(end, in_hw[i]) - xp.maximum(start, 0))
    return xp.multiply.outer(sizes[0], sizes[1])


class AvgPool(Op):
    """args: (k, s, p, out, divisor) with divisor a number or an (Ho, Wo) array."""

    node_name = "AvgPool2DBackward0"
    formulas = {"self": "1 / divisor over each window"}
    array_backward = True

    def forward(ctx, x, k, s, p, out, div):
        x4 = _to4(x)
        pads = _pad_for(x4.shape, k, s, p, (1, 1), out, 0)
        win = _windows(_padded(x4, pads, 0), k, s, (1, 1), out)
        y = win[..., 0, 0].copy()
        for i in range(k[0]):  # tap by tap: a strided add each, faster than sum() over a view
            for j in range(k[1]):
                if i or j:
                    y += win[..., i, j]
        y /= div
        return y.reshape(x.shape[:2] + y.shape[-1:]) if x.ndim == 3 else y

    def backward(ctx, grad):
        return call1(AvgPoolAdjoint, grad, ctx.args + (ctx.metas[0][0],))


class AvgPoolAdjoint(Op):
    node_name = "AvgPool2DBackwardBackward0"
    formulas = {"grad_output": "avg_pool(ggI)"}
    array_backward = True

    def forward(ctx, g, k, s, p, out, div, in_shape):
        g4 = _to4(g) / div
        in4 = in_shape if len(in_shape) == 4 else (in_shape[0], in_shape[1], 1, in_shape[2])
        pads = _pad_for(in4, k, s, p, (1, 1), out, 0)
        gx = _spread(g4.astype(g.dtype, copy=False), in4, k, s, p, (1, 1), pads)
        return xp.ascontiguousarray(gx).reshape(in_shape)

    def backward(ctx, grad):
        return call1(AvgPool, grad, ctx.args[:-1])


# ---- adaptive average ----------------------------------------------------------------------
def adaptive_matrix(n, o, dtype):
    """(o, n) averaging matrix: row i averages input [floor(i*n/o), ceil((i+1)*n/o))."""
    i = xp.arange(o)
    start = (i * n) // o
    end = -((-(i + 1) * n) // o)
    j = xp.arange(n)
    m = (j >= start[:, None]) & (j < end[:, None])
    return (m / (end - start)[:, None]).astype(dtype)


class AdaptiveAvgPool(Op):
    """x @ matrices: args (ph, pw) with ph (Ho, H), pw (Wo, W); y = ph @ x @ pw^T."""

    node_name = "AdaptiveAvgPool2DBackward0"
    formulas = {"self": "Ph^T grad Pw (averaging matrices)"}
    array_backward = True

    def forward(ctx, x, ph, pw):
        y = xp.matmul(x, pw.T)
        return y if ph is None else xp.matmul(ph, y)  # ph is None for 1-d pooling

    def backward(ctx, grad):
        return call1(AdaptiveAvgPoolAdjoint, grad, _transposed(ctx.args))


class AdaptiveAvgPoolAdjoint(AdaptiveAvgPool):
    node_name = "AdaptiveAvgPool2DBackwardBackward0"

    def backward(ctx, grad):
        return call1(AdaptiveAvgPool, grad, _transposed(ctx.args))


def _transposed(mats):
    return tuple(None if m is None else m.T for m in mats)
