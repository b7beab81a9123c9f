"""Convolution (1-d and 2-d, plain and transposed) as fused single-node ops.

The array kernels work on 2-d spatial data; 1-d convolutions run as 2-d ones with a unit
height. A convolution ``y = B(x, w)`` is bilinear, so three array kernels cover it and all
its derivatives:

* ``_conv_forward``  y  = B(x, w)            im2col (one strided copy) + one batched matmul;
* ``_conv_input``    gx = B_x^T(gy; w)       one matmul + col2im (one add per tap: a flat
                                             run at stride 1, a strided one otherwise);
* ``_conv_weight``   gw = B_w^T(gy; x)       im2col + one matmul.

``Convolution`` (``ConvolutionBackward0``) applies B or, transposed, B_x^T; its backward
uses ``Convolution`` again for the input and ``ConvolutionWeight`` for the weight, and
``ConvolutionWeight``'s backward uses ``Convolution``: the three close under
differentiation, so double backward is exact.

Geometry is passed as ``geo = (stride, pads, dilation, groups)`` with 2-tuples
``stride``/``dilation`` and ``pads = ((top, bottom), (left, right))`` (asymmetric padding
is how ``padding='same'`` with an even kernel works; a negative far-side pad crops, which
a transposed convolution with output_padding >= stride needs).
"""
from .._backend import xp
from .._tensor import Tensor
from ..autograd.grad_mode import state
from ..autograd.graph import apply
from ._core import Op
from .reductions import Sum

__all__ = []


def _as_strided(x, shape, strides, writeable=False):
    """A read-only strided view of x. For a contiguous x the ndarray constructor is used
    directly (numpy's as_strided costs ~25 µs of Python per call)."""
    if x.flags.c_contiguous:
        v = xp.ndarray(shape, x.dtype, buffer=x, strides=strides)
        v.flags.writeable = False
        return v
    return xp.lib.stride_tricks.as_strided(x, shape, strides, writeable=writeable)


def _out_size(n, k, s, lo, hi, d):
    return (n + lo + hi - d * (k - 1) - 1) // s + 1


def _to4(a):
    """View a (N, C, L) array as (N, C, 1, L)."""
    return a if a.ndim == 4 else a[:, :, None, :]


def _cols(x, ksize, geo):
    """im2col: (G, C/G * kh * kw, N * Ho * Wo), contiguous (the one copy of the input)."""
    (sh, sw), ((pt, pb), (pl, pr)), (dh, dw), g = geo
    if pb < 0 or pr < 0:  # a negative far-side pad crops (transposed convs, see below)
        x = x[:, :, :x.shape[2] + min(pb, 0), :x.shape[3] + min(pr, 0)]
        pb, pr = max(pb, 0), max(pr, 0)
    if pt or pb or pl or pr:
        x = xp.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    n, c, h, w = x.shape
    kh, kw = ksize
    ho = (h - dh * (kh - 1) - 1) // sh + 1
    wo = (w - dw * (kw - 1) - 1) // sw + 1
    s0, s1, s2, s3 = x.strides
    win = _as_strided(
        x, (c, kh, kw, n, ho, wo), (s1, s2 * dh, s3 * dw, s0, s2 * sh, s3 * sw), writeable=False
    )
    return win.reshape(g, (c // g) * kh * kw, n * ho * wo), ho, wo


# The forward's im2col matrix is kept for the weight gradient up to this size (bytes);
# larger ones are recomputed in the backward rather than held (they are kh·kw times the input).
_KEEP_COLS = 8 << 20


def _conv_forward(x, w, geo, keep=None):
    """y = B(x, w); with ``keep`` (a list), the im2col matrix is appended to it when small."""
    x4, w4 = _to4(x), _to4(w)
    g = geo[3]
    n = x4.shape[0]
    o, cg, kh, kw = w4.shape
    cols, ho, wo = _cols(x4, (kh, kw), geo)
    if keep is not None and cols.nbytes <= _KEEP_COLS:
        keep.append(cols)
    y = xp.matmul(w4.reshape(g, o // g, cg * kh * kw), cols)  # (G, O/G, N*Ho*Wo)
    y = y.reshape(o, n, ho, wo).transpose(1, 0, 2, 3)
    y = xp.ascontiguousarray(y)
    return y if x.ndim == 4 else y.reshape(n, o, wo)


def _grad_rows(gy, g):
    """(N, O, Ho, Wo) -> (G, O/G, N*Ho*Wo), the layout the im2col matmuls use."""
    n, o, h, w = gy.shape
    rows = xp.ascontiguousarray(gy.reshape(n, o, h * w).transpose(1, 0, 2))
    return rows.reshape(g, o // g, n * h * w)  # explicit sizes: n may be 0


def _conv_input(gy, w, in_shape, geo):
    """The adjoint of B in x: col2im of W^T gy, by one strided add per kernel tap. The batch
    is the innermost axis throughout, so each add runs over long contiguous (width, batch)
    rows rather than rows of one output width (~3x fewer NumPy inner loops)."""
    (sh, sw), ((pt, _), (pl, _)), (dh, dw), g = geo
    gy4, w4 = _to4(gy), _to4(w)
    n, o, ho, wo = gy4.shape
    _, cg, kh, kw = w4.shape
    c = cg * g
    h, wd = (in_shape[2], in_shape[3]) if len(in_shape) == 4 else (1, in_shape[2])
    wmat = w4.reshape(g, o // g, cg * kh * kw).transpose(0, 2, 1)
    # Rows past the last window (or cropped by a negative pad) were never read: they get
    # zeros, hence the max() sizes.
    hp = max(h + pt, (ho - 1) * sh + dh * (kh - 1) + 1)
    wp = max(wd + pl, (wo - 1) * sw + dw * (kw - 1) + 1)
    gyt = gy4.transpose(1, 2, 3, 0)  # (O, Ho, Wo, N)
    if sh == sw == 1 and xp.isfinite(w4).all():
        # Stride 1: gy's rows laid out on the padded input's width (zeros beyond wo), so a
        # tap's window is one flat shift and its add one long contiguous run (~4x faster
        # than strided adds). The zero columns add exact zeros (hence finite weights only).
        rows = xp.zeros((o, ho, wp, n), dtype=gy4.dtype)
        rows[:, :, :wo] = gyt
        run = ho * wp * n
        gcols = xp.matmul(wmat, rows.reshape(g, o // g, run)).reshape(c, kh * kw, run)
        # (+ slack: the last row's zero columns, shifted by the widest tap)
        flat = xp.zeros((c, hp * wp * n + (kw - 1) * dw * n), dtype=gcols.dtype)
        for i in range(kh):
            for j in range(kw):
                at = (i * dh * wp + j * dw) * n
                flat[:, at:at + run] += gcols[:, i * kw + j]
        gx = flat[:, :hp * wp * n].reshape(c, hp, wp, n)
    else:
        rows = xp.ascontiguousarray(gyt).reshape(g, o // g, ho * wo * n)
        gcols = xp.matmul(wmat, rows).reshape(c, kh, kw, ho, wo, n)
        gx = xp.zeros((c, hp, wp, n), dtype=gcols.dtype)
        for i in range(kh):
            hs = slice(i * dh, i * dh + (ho - 1) * sh + 1, sh)
            for j in range(kw):
                gx[:, hs, j * dw:j * dw + (wo - 1) * sw + 1:sw] += gcols[:, i, j]
    gx = gx[:, pt:pt + h, pl:pl + wd].transpose(3, 0, 1, 2)
    gx = xp.ascontiguousarray(gx)
    return gx if len(in_shape) == 4 else gx.reshape(in_shape)


def _conv_weight(x, gy, w_shape, geo, cols=None):
    """The adjoint of B in w: gy (as rows) times im2col(x) transposed, one matmul per group
    (``cols``: im2col(x) when the forward kept it)."""
    if cols is None:
        kh, kw = (w_shape[2], w_shape[3]) if len(w_shape) == 4 else (1, w_shape[2])
        cols, _, _ = _cols(_to4(x), (kh, kw), geo)
    # computed as (cols @ rowsᵀ)ᵀ: with the long N·Ho·Wo axis as the reduction, OpenBLAS runs
    # the product with the wider im2col side as its rows faster (conv1 of the CNN: 100 -> 81 µs)
    gw = xp.matmul(cols, _grad_rows(_to4(gy), geo[3]).transpose(0, 2, 1))
    return gw.transpose(0, 2, 1).reshape(w_shape)


def _bias_axes(ndim):
    return (0, 2) if ndim == 3 else (0, 2, 3)


class Convolution(Op):
    """args: (geo, transposed, out_shape); out_shape is the transposed conv's result shape."""

    node_name = "ConvolutionBackward0"
    operands = ("input", "weight", "bias")
    formulas = {
        "input": "conv_transpose(grad, weight)",
        "weight": "conv(input, grad) (correlation of input with grad)",
        "bias": "sum of grad over batch and space",
    }
    saves = (0, 1)
    array_backward = True  # (a rule run on arrays takes the same products on arrays)

    def forward(ctx, x, w, b, geo, transposed, out_shape):
        if transposed:
            y = _conv_input(x, w, out_shape, geo)
        else:  # a recorded conv keeps its im2col matrix for the weight gradient (ctx.extra)
            keep = [] if ctx is not None else None
            y = _conv_forward(x, w, geo, keep)
            if keep:
                ctx.extra = keep[0]
        if b is not None:
            y += b.reshape((-1,) + (1,) * (y.ndim - 2))
        return y

    def backward(ctx, grad):
        x, w = ctx.saved
        geo, transposed, _ = ctx.args
        if grad.__class__ is not Tensor:
            return _conv_grads(x, w, grad, geo, transposed, ctx)
        gx = gw = gb = None
        if ctx.edges[0] is not None:
            shape = ctx.metas[0][0]
            if transposed:
                gx = convolution(grad, w, None, geo, False, None)
            else:
                gx = convolution(grad, w, None, geo, True, shape)
        if ctx.edges[1] is not None:
            gw = weight_grad(grad, x, w._data.shape, geo) if transposed else weight_grad(
                x, grad, w._data.shape, geo, ctx.extra)
        if ctx.edges[2] is not None:
            gb = grad.sum(_bias_axes(grad._data.ndim))
        return gx, gw, gb


def _conv_grads(x, w, g, geo, transposed, ctx):
    """Convolution's rule on arrays (a plain backward): the products of the Tensor form."""
    gx = gw = gb = None
    if ctx.edges[0] is not None:
        gx = Convolution.forward(None, g, w, None, geo, not transposed,
                                 None if transposed else ctx.metas[0][0])
    if ctx.edges[1] is not None:
        gw = _conv_weight(g, x, w.shape, geo) if transposed else _conv_weight(
            x, g, w.shape, geo, ctx.extra)
    if ctx.edges[2] is not None:
        gb = Sum.forward(None, g, _bias_axes(g.ndim), False, None)
    return gx, gw, gb


class ConvolutionWeight(Op):
    """gw = B_w^T(grad; input): the weight gradient as its own differentiable op."""

    node_name = "ConvolutionBackwardBackward0"
    operands = ("input", "grad")
    formulas = {"input": "conv_transpose(grad, ggW)", "grad": "conv(input, ggW)"}
    saves = (0, 1)

    def forward(ctx, x, gy, w_shape, geo):
        return _conv_weight(x, gy, w_shape, geo)

    def backward(ctx, ggw):
        x, gy = ctx.saved
        _, geo = ctx.args
        gx = ggy = None
        if ctx.edges[0] is not None:
            gx = convolution(gy, ggw, None, geo, True, x._data.shape)
        if ctx.edges[1] is not None:
            ggy = convolution(x, ggw, None, geo, False, None)
        return gx, ggy


def convolution(x, w, b, geo, transposed, out_shape):
    """Apply ``Convolution`` to Tensors (bias may be None); dtypes must already agree."""
    arrays = (x._data, w._data, None if b is None else b._data)
    return apply(Convolution, (x, w, b), arrays, (geo, transposed, out_shape))


def weight_grad(x, gy, w_shape, geo, cols=None):
    if not state.enabled:  # plain backward: no graph to record
        return Tensor._make(_conv_weight(x._data, gy._data, w_shape, geo, cols))
    return apply(ConvolutionWeight, (x, gy), (x._data, gy._data), (w_shape, geo))
