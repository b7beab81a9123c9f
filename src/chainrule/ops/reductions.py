"""Reductions: sum, mean, prod, max/min, var/std, norm, logsumexp, cumulative ops, all/any.

Gradients of selections (max, amax, norm ∞) are the upstream gradient times a mask computed
in the forward pass: the mask is piecewise constant, so keeping it as a constant array is
exact for every derivative order, and the backward never re-compares floats.
"""
import builtins
import math
import warnings

from .. import _dtype
from .._backend import xp
from .._tensor import Tensor
from ..autograd.graph import apply, array_of, call1, like
from ._core import Op, constant_array, method, wrap_dim
from .arithmetic import PowScalar
from .pointwise import Exp

__all__ = [
    "all",
    "amax",
    "amin",
    "any",
    "argmax",
    "argmin",
    "count_nonzero",
    "cumprod",
    "cumsum",
    "logsumexp",
    "max",
    "mean",
    "min",
    "nanmean",
    "nansum",
    "norm",
    "prod",
    "std",
    "std_mean",
    "sum",
    "sum_to_size",
    "var",
    "var_mean",
]

_NAMES = {
    "bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
    "int64": "Long", "float16": "Half", "float32": "Float", "float64": "Double",
}


def _tname(npd):
    return _NAMES.get(str(npd), str(npd))


# ---- dims ---------------------------------------------------------------------------------
def _axes(dim, ndim):
    """``dim`` (None, int, tuple/list) → sorted tuple of axes; None and () mean every axis.

    A 0-d tensor accepts dim 0 / -1 and reduces over nothing, as in PyTorch.
    """
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        if not dim:
            return tuple(range(ndim))
        seen = set()
        for d in dim:
            w = wrap_dim(d, ndim)
            if w in seen:
                raise RuntimeError(f"dim {w} appears multiple times in the list of dims")
            seen.add(w)
        return tuple(sorted(seen)) if ndim else ()
    w = wrap_dim(dim, ndim)
    return (w,) if ndim else ()


def _int_dim(dim, name):
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    return dim


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _unreduce(grad, shape, axes, keepdim):
    """Broadcast a reduced gradient back over the reduced axes (a view, no copy): a Tensor,
    or an array (or NumPy scalar) in a rule the engine runs on arrays."""
    if not keepdim and axes:
        grad = grad.reshape(_kept_shape(shape, axes))
    return grad.expand(shape) if isinstance(grad, Tensor) else xp.broadcast_to(grad, shape)


def _count(shape, axes):
    n = 1
    for i in axes:
        n *= shape[i]
    return n


def _const(arr):
    return Tensor._make(arr)


def _require_float(x, opname):
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{opname} only support floating point and complex dtypes")


# ---- sum / mean ---------------------------------------------------------------------------
# NumPy's add.reduce pays ~25 ns per output for short reduced runs: the last-axis sums of
# softmax / LayerNorm / cross-entropy rows (512 rows of 64: 15 µs) and the leading-axis
# sums of bias gradients. One BLAS matrix-vector product with a ones vector does either in a
# fifth of that. Only for float32/64 contiguous data with runs of at most _BLAS_RUN (longer
# runs keep NumPy's pairwise summation, the more accurate one).
_BLAS_RUN = 1024
def _blas_sum_ok(a, run, other):
    return 1 < run <= _BLAS_RUN and other >= 8 and a.dtype.kind == "f" and a.itemsize >= 4 \
        and a.flags.c_contiguous


def sum_last(a, keepdims=True):
    """``a.sum(-1, keepdims=keepdims)`` for an array, through BLAS where that is faster.
    (Called on every softmax, layer norm and cross-entropy: _blas_sum_ok's test is inline,
    and a 2-D array times a ones column gives the kept dimension with no reshape.)"""
    shape = a.shape
    if len(shape) >= 2:
        n = shape[-1]
        rows = a.size // n if n else 0
        if 1 < n <= _BLAS_RUN and rows >= 8 and a.dtype.kind == "f" and a.itemsize >= 4 \
                and a.flags.c_contiguous:
            col = _ONES_COLUMNS.get((n, a.dtype))
            if col is None:
                if len(_ONES_COLUMNS) > 256:  # (bounded, as constant_array's own cache)
                    _ONES_COLUMNS.clear()
                col = _ONES_COLUMNS[n, a.dtype] = constant_array("ones", n, a.dtype).reshape(n, 1)
            if len(shape) == 2 and keepdims:
                return a @ col
            s = a.reshape(rows, n) @ col
            return s.reshape(shape[:-1] + (1,) if keepdims else shape[:-1])
    return a.sum(-1, keepdims=keepdims)


_ONES_COLUMNS = {}  # (n, dtype) -> constant_array's ones as an (n, 1) column


def max_last(a):
    """``a.max(-1, keepdims=True)`` for an array (the shift of a softmax). Rows of up to 64
    are reduced across a transposed copy, an elementwise maximum over contiguous rows:
    NumPy's reduction along a short last axis runs a slow loop per row (2-3x slower).
    The same values (a maximum is exact, NaN propagates)."""
    n = a.shape[-1] if a.ndim else 0
    # (the transposing copy pays off from ~8 rows per element of a row: fewer rows reduce
    # faster directly, measured over rows of 10, 32 and 64)
    if a.ndim >= 2 and 0 < n <= 64 and a.size >= (128 if n <= 16 else 8 * n) * n:
        if a.size >= 16384 and n * a.itemsize % 16 == 0 and a.dtype.kind == "f" \
                and a.flags.c_contiguous:
            return _max_last_wide(a, n)
        t = xp.ascontiguousarray(a.reshape(-1, n).T)
        return t.max(0).reshape(a.shape[:-1] + (1,))
    return a.max(-1, keepdims=True)


def _max_last_wide(a, n):
    """max_last transposing 16-byte elements (k floats each, read as complex128): NumPy's
    transposing copy costs per element, so 4 float32s at a time halve it. Then the
    elementwise maximum over rows, and over the k lanes of each element."""
    k = 16 // a.itemsize
    rows = a.size // n
    t = xp.ascontiguousarray(a.reshape(rows, n).view(xp.complex128).T)  # (n/k, rows)
    lanes = t.view(a.dtype).reshape(n // k, rows, k).max(0)  # (rows, k)
    m = xp.maximum(lanes[:, 0], lanes[:, 1])
    for j in range(2, k):
        xp.maximum(m, lanes[:, j], out=m)
    return m.reshape(a.shape[:-1] + (1,))


def sum_leading(a, lead, keepdims=False):
    """``a.sum(tuple(range(lead)))`` for an array, through BLAS where that is faster."""
    if lead and a.ndim > lead:
        rows = 1
        for d in a.shape[:lead]:
            rows *= d
        cols = a.size // rows if rows else 0
        if _blas_sum_ok(a, rows, cols):
            s = constant_array("ones", rows, a.dtype) @ a.reshape(rows, cols)
            return s.reshape((1,) * lead + a.shape[lead:] if keepdims else a.shape[lead:])
    return a.sum(tuple(range(lead)), keepdims=keepdims)


class Sum(Op):
    node_name = "SumBackward1"
    formulas = {"self": "1"}
    array_backward = True  # (_unreduce takes arrays)

    def forward(ctx, a, axes, keepdim, dtype):
        if dtype is None and axes is not None and a.ndim >= 2:
            if len(axes) == 1:
                if axes[0] == a.ndim - 1:
                    return sum_last(a, keepdim)
                if axes[0] == 0:
                    return sum_leading(a, 1, keepdim)
            k = a.ndim - len(axes) + 1  # axes (0, k, ..., ndim-1): batch and trailing axes,
            if 2 <= k < a.ndim and axes[0] == 0 and axes[1] == k and a.dtype.kind == "f" \
                    and a.itemsize >= 4:  # as a conv bias gradient (BLAS float types)
                kept = a.shape[1:k]
                trail = 1
                for d in a.shape[k:]:
                    trail *= d  # (explicit: a -1 cannot be inferred when kept holds a 0)
                s = sum_last(sum_leading(a, 1).reshape(kept + (trail,)), False)  # two BLAS sums
                return s.reshape((1,) + kept + (1,) * (a.ndim - k) if keepdim else kept)
        return a.sum(axes, dtype, keepdims=keepdim)  # the method skips NumPy's dispatch layer

    def backward(ctx, grad):
        axes, keepdim, _ = ctx.args
        shape = ctx.metas[0][0]
        return _unreduce(grad, shape, range(len(shape)) if axes is None else axes, keepdim)


class SumAll(Sum):
    node_name = "SumBackward0"


class SumToSize(Op):
    """Sum a broadcast gradient back to an operand's shape (the engine's one unbroadcast)."""

    node_name = "SumBackward1"
    formulas = {"self": "1"}
    array_backward = True  # (_unreduce takes arrays)

    def forward(ctx, a, shape):
        lead = a.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            i + lead for i, s in enumerate(shape) if s == 1 and a.shape[i + lead] != 1
        )
        if not axes:
            return a.reshape(shape)
        if axes == tuple(range(lead)) and lead:  # a bias-like gradient: leading axes only
            return sum_leading(a, lead).reshape(shape)
        return a.sum(axes, keepdims=True).reshape(shape)

    def backward(ctx, grad):
        return _unreduce(grad, ctx.metas[0][0], (), True)


def _sum_dtype(x, dtype):
    if dtype is not None:
        return _dtype.to_dtype(dtype).np
    return xp.int64 if x._data.dtype.kind in "biu" else None


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    npd = _sum_dtype(input, dtype)
    if dim is None:
        return apply(SumAll, (input,), (input._data,), (None, False, npd))
    return apply(Sum, (input,), (input._data,), (_axes(dim, input._data.ndim), keepdim, npd))


def sum_to_size(input, *size):
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    have = input._data.shape
    if shape == have:
        return input
    lead = len(have) - len(shape)
    if lead < 0 or builtins.any(s != 1 and s != h for s, h in zip(shape, have[lead:])):
        raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size {{{list(have)}}}.")
    return apply(SumToSize, (input,), (input._data,), (shape,))


class Mean(Op):
    node_name = "MeanBackward1"
    formulas = {"self": "1 / N"}
    array_backward = True  # (_unreduce takes arrays)

    def forward(ctx, a, axes, keepdim):
        if not a.size:  # nan, as PyTorch, without NumPy's "mean of empty slice" warning
            return a.sum(axes, keepdims=keepdim) / a.dtype.type(0)
        return a.mean(axes, keepdims=keepdim)

    def backward(ctx, grad):
        axes, keepdim = ctx.args
        shape = ctx.metas[0][0]
        axes = range(len(shape)) if axes is None else axes
        return _unreduce(grad, shape, axes, keepdim) / builtins.max(_count(shape, axes), 1)


class MeanAll(Mean):
    node_name = "MeanBackward0"


def _float_input(input, dtype, opname):
    """The data a float-only reduction works on, cast to ``dtype`` when given."""
    if dtype is not None:
        d = _dtype.to_dtype(dtype)
        if not d.is_floating_point:
            raise RuntimeError(
                f"{opname}(): could not infer output dtype. Optional dtype must be either a "
                f"floating point or complex dtype. Got: {_tname(d.np)}"
            )
        a = input._data
        return a if a.dtype == d.np else a.astype(d.np)
    a = input._data
    if a.dtype.kind != "f":
        raise RuntimeError(
            f"{opname}(): could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {_tname(a.dtype)}"
        )
    return a


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    data = _float_input(input, dtype, "mean")
    with _quiet():
        if dim is None:
            return apply(MeanAll, (input,), (data,), (None, False))
        return apply(Mean, (input,), (data,), (_axes(dim, data.ndim), keepdim))


def _quiet():
    # Empty means are nan in PyTorch too; NumPy would also warn about them.
    return xp.errstate(invalid="ignore", divide="ignore")


class Nansum(Op):
    node_name = "NansumBackward0"
    formulas = {"self": "1 where self is not nan, else 0"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a, axes, keepdim, dtype):
        return xp.nansum(a, axis=axes, keepdims=keepdim, dtype=dtype)

    def backward(ctx, grad):
        axes, keepdim, _ = ctx.args
        (x,) = ctx.saved
        g = _unreduce(grad, ctx.metas[0][0], axes, keepdim)
        return g * like(grad, ~xp.isnan(array_of(x)))


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    a = input._data
    return apply(Nansum, (input,), (a,), (_axes(dim, a.ndim), keepdim, _sum_dtype(input, dtype)))


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """nansum / count of non-nan values, as PyTorch composes it (so grad_fn is DivBackward0)."""
    if dtype is None and input._data.dtype.kind != "f":
        raise RuntimeError(
            "nanmean(): expected input to have floating point or complex dtype but got "
            f"{_tname(input._data.dtype)}"
        )
    data = _float_input(input, dtype, "nanmean")
    x = input if data is input._data else input.to(_dtype._FROM_NP[data.dtype])
    axes = _axes(dim, data.ndim)
    n = xp.sum(~xp.isnan(data), axis=axes, keepdims=keepdim).astype(data.dtype)
    with _quiet():
        return nansum(x, axes, keepdim) / _const(n)


# ---- prod ---------------------------------------------------------------------------------
class Prod(Op):
    node_name = "ProdBackward1"
    formulas = {"self": "product of the other elements"}
    saves = (0,)
    saves_output = True
    array_backward = True

    def forward(ctx, a, axis, keepdim, dtype):
        return xp.prod(a, axis=axis, keepdims=keepdim, dtype=dtype)

    def backward(ctx, grad):
        axis, keepdim, _ = ctx.args
        (x,) = ctx.saved
        shape = ctx.metas[0][0]
        axes = () if axis is None and not shape else (tuple(range(len(shape))) if axis is None else (axis,))
        g = _unreduce(grad, shape, axes, keepdim)
        if not axes:
            return g
        if not (array_of(x) == 0).any():
            return g * _unreduce(ctx.output, shape, axes, keepdim) / x
        if axis is None:  # whole-tensor product: the product-of-others of the flat vector
            return g * _prod_others(x.reshape(-1), 0).reshape(shape)
        return g * _prod_others(x, axis)


class ProdAll(Prod):
    node_name = "ProdBackward0"


def _offdiag(ref, n, axis, ndim, npd):
    """Constants (1 − I, I) shaped to broadcast over axes (axis, axis + 1) of a ndim+1 tensor
    (in ``ref``'s form: Tensors, or arrays in a rule run on arrays)."""
    eye = xp.eye(n, dtype=npd)
    tail = (1,) * (ndim - axis - 1)
    return like(ref, (1 - eye).reshape((n, n) + tail)), like(ref, eye.reshape((n, n) + tail))


def _prod_others(x, axis):
    """∏_{j≠i} x_j along ``axis``, exact with zeros: a product over an n×n copy whose
    diagonal is 1 (built from chainrule ops, so it differentiates again; on arrays in a rule
    run on arrays)."""
    xa = array_of(x)
    shape = xa.shape
    n = shape[axis]
    off, eye = _offdiag(x, n, axis, len(shape), xa.dtype)
    xu = x.reshape(shape[:axis] + (1,) + shape[axis:])  # [..., k=1, j, ...]
    return call1(Prod, xu * off + eye, (axis + 1, False, None))


def prod(input, dim=None, keepdim=False, *, dtype=None):
    a = input._data
    npd = _sum_dtype(input, dtype)
    if dim is None:
        return apply(ProdAll, (input,), (a,), (None, False, npd))
    axes = _axes(_int_dim(dim, "prod"), a.ndim)
    return apply(Prod, (input,), (a,), (axes[0] if axes else None, keepdim and bool(axes), npd))


# ---- max / min / amax / amin / argmax / argmin ------------------------------------------
class _ReturnType(tuple):
    """torch.return_types.<name>: a (values, indices) tuple with names, printed like torch."""

    __slots__ = ()
    _name = "max"
    n_fields = n_sequence_fields = 2
    n_unnamed_fields = 0

    def __new__(cls, values, indices):
        return tuple.__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self):
        return f"torch.return_types.{self._name}(\nvalues={self[0]!r},\nindices={self[1]!r})"

    __str__ = __repr__


def _return_type(name):
    return type(name, (_ReturnType,), {"__slots__": (), "_name": name, "__module__": "torch.return_types"})


class return_types:
    max = _return_type("max")
    min = _return_type("min")


class SelectAll(Op):
    """max() / min() of a whole tensor: the gradient is split evenly among tied elements."""

    node_name = "MaxBackward1"
    formulas = {"self": "1 / (number of maxima) at the maxima, else 0"}
    array_backward = True

    def forward(ctx, a, fn):
        out = fn(a)
        if ctx is not None:
            mask = a == out
            ctx.extra = mask / xp.count_nonzero(mask)
        return out

    def backward(ctx, grad):
        return grad * like(grad, ctx.extra.astype(ctx.metas[0][1], copy=False))


class SelectAllMin(SelectAll):
    node_name = "MinBackward1"
    formulas = {"self": "1 / (number of minima) at the minima, else 0"}


class SelectDim(Op):
    """max(dim) / min(dim): (values, indices); the gradient flows to the chosen index."""

    node_name = "MaxBackward0"
    formulas = {"self": "1 at argmax along dim, else 0"}
    multi_output = True
    array_backward = True  # (_unreduce takes arrays; the mask through like)

    def forward(ctx, a, axis, keepdim, argfn):
        if axis is None:  # 0-d
            return a.copy(), xp.zeros((), xp.int64)
        idx = argfn(a, axis=axis, keepdims=True)
        vals = xp.take_along_axis(a, idx, axis)
        if ctx is not None:
            ar = xp.arange(a.shape[axis]).reshape((-1,) + (1,) * (a.ndim - axis - 1))
            ctx.extra = ar == idx
        if not keepdim:
            vals, idx = vals.squeeze(axis), idx.squeeze(axis)
        return vals, idx

    def backward(ctx, grad):
        axis, keepdim, _ = ctx.args
        if axis is None:
            return grad
        shape = ctx.metas[0][0]
        return _unreduce(grad, shape, (axis,), keepdim) * like(grad, ctx.extra.astype(ctx.metas[0][1]))


class SelectDimMin(SelectDim):
    node_name = "MinBackward0"
    formulas = {"self": "1 at argmin along dim, else 0"}


class Amax(Op):
    """amax/amin: the gradient is split evenly among the tied extrema, as in PyTorch."""

    node_name = "AmaxBackward0"
    formulas = {"self": "1 / (number of maxima) at the maxima, else 0"}
    array_backward = True

    def forward(ctx, a, axes, keepdim, fn):
        out = fn(a, axes, keepdims=True)
        if ctx is not None:
            ctx.extra = a == out  # ties: normalised in backward, only if one runs
        return out if keepdim else out.reshape([s for i, s in enumerate(out.shape) if i not in axes])

    def backward(ctx, grad):
        axes, keepdim, _ = ctx.args
        g = _unreduce(grad, ctx.metas[0][0], axes, keepdim)
        share = ctx.extra.astype(ctx.metas[0][1])
        share /= share.sum(axes, keepdims=True)
        return g * like(grad, share)


class Amin(Amax):
    node_name = "AminBackward0"
    formulas = {"self": "1 / (number of minima) at the minima, else 0"}


def _check_nonempty(a, axes, opname, whole):
    if a.size:
        return
    if whole:
        raise RuntimeError(
            f"{opname}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
            "the reduction dim with the 'dim' argument."
        )
    for ax in axes:
        if a.shape[ax] == 0:
            raise IndexError(f"{opname}(): Expected reduction dim {ax} to have non-zero size.")


def _max_min(input, dim, keepdim, is_max, other=None):
    name = "max" if is_max else "min"
    if isinstance(dim, Tensor):
        dim, other = None, dim
    if other is not None:
        if is_max:
            return input.maximum(other)
        return input.minimum(other)
    a = input._data
    if dim is None:
        _check_nonempty(a, (), name, True)
        op = SelectAll if is_max else SelectAllMin
        return apply(op, (input,), (a,), (xp.max if is_max else xp.min,))
    axes = _axes(_int_dim(dim, name), a.ndim)
    _check_nonempty(a, axes, name, False)
    op = SelectDim if is_max else SelectDimMin
    argfn = xp.argmax if is_max else xp.argmin
    vals, idx = apply(op, (input,), (a,), (axes[0] if axes else None, keepdim, argfn))
    return getattr(return_types, name)(vals, idx)


def max(input, dim=None, keepdim=False, *, other=None, out=None):
    """max(input) → value; max(input, dim, keepdim) → (values, indices); max(a, b) → maximum."""
    return _max_min(input, dim, keepdim, True, other)


def min(input, dim=None, keepdim=False, *, other=None, out=None):
    return _max_min(input, dim, keepdim, False, other)


def _amax_amin(input, dim, keepdim, is_max):
    a = input._data
    axes = _axes(dim if dim != () else None, a.ndim)
    name = "amax" if is_max else "amin"
    _check_nonempty(a, axes, name, dim in (None, ()) or not a.ndim)
    op = Amax if is_max else Amin
    return apply(op, (input,), (a,), (axes, keepdim, xp.ndarray.max if is_max else xp.ndarray.min))


def amax(input, dim=(), keepdim=False, *, out=None):
    return _amax_amin(input, dim, keepdim, True)


def amin(input, dim=(), keepdim=False, *, out=None):
    return _amax_amin(input, dim, keepdim, False)


def _arg(input, dim, keepdim, fn, name):
    a = input._data
    if dim is None:
        if not a.size:
            raise IndexError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
            )
        r = fn(a.reshape(-1))
        return Tensor._make(xp.asarray(r, xp.int64).reshape((1,) * a.ndim if keepdim else ()))
    axes = _axes(_int_dim(dim, name), a.ndim)
    if not axes:
        return Tensor._make(xp.zeros((), xp.int64))
    _check_nonempty(a, axes, name, False)
    return Tensor._make(fn(a, axis=axes[0], keepdims=keepdim).astype(xp.int64, copy=False))


def argmax(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, xp.argmax, "argmax")


def argmin(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, xp.argmin, "argmin")


# ---- var / std ----------------------------------------------------------------------------
class Var(Op):
    node_name = "VarBackward0"
    formulas = {"self": "2 (self − mean) / (N − correction)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a, axes, correction, keepdim):
        return xp.var(a, axis=axes, ddof=correction, keepdims=keepdim)

    def backward(ctx, grad):
        axes, correction, keepdim = ctx.args
        (x,) = ctx.saved
        shape = ctx.metas[0][0]
        scale = 2.0 / (_count(shape, axes) - correction)
        return _unreduce(grad, shape, axes, keepdim) * (x - call1(Mean, x, (axes, True))) * scale


class Std(Op):
    node_name = "StdBackward0"
    formulas = {"self": "(self − mean) / ((N − correction) · std)"}
    saves = (0,)
    saves_output = True
    array_backward = True

    def forward(ctx, a, axes, correction, keepdim):
        return xp.std(a, axis=axes, ddof=correction, keepdims=keepdim)

    def backward(ctx, grad):
        axes, correction, keepdim = ctx.args
        (x,) = ctx.saved
        shape = ctx.metas[0][0]
        std_ = ctx.output
        sd = array_of(std_)
        zero = sd == 0
        if zero.any():  # PyTorch's convention: no gradient where std is 0
            grad = grad * like(grad, ~zero) / (std_ + like(grad, zero.astype(sd.dtype)))
        else:
            grad = grad / std_
        scale = 1.0 / (_count(shape, axes) - correction)
        return _unreduce(grad, shape, axes, keepdim) * (x - call1(Mean, x, (axes, True))) * scale


def _var_args(input, dim, unbiased, keepdim, correction, name):
    _require_float(input, "std and var")
    if isinstance(dim, bool):  # var(input, unbiased) — the old positional overload
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased in (None, True) else 0
    elif unbiased is not None:
        raise RuntimeError(f"{name}: can't specify both correction and unbiased arguments")
    a = input._data
    axes = _axes(dim, a.ndim)
    if _count(a.shape, axes) - correction <= 0:
        warnings.warn(
            f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the "
            "reduction factor (input numel divided by output numel).",
            UserWarning, stacklevel=3,
        )
    return a, (axes, correction, keepdim)


def _var_apply(op, input, a, args):
    with _quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's own dof warning
        return apply(op, (input,), (a,), args)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    a, args = _var_args(input, dim, unbiased, keepdim, correction, "var")
    return _var_apply(Var, input, a, args)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    a, args = _var_args(input, dim, unbiased, keepdim, correction, "std")
    return _var_apply(Std, input, a, args)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean). Two graph nodes (PyTorch records one VarMeanBackward0)."""
    v = var(input, dim, unbiased, keepdim, correction=correction)
    return v, mean(input, v_dims(input, dim), keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean). Two graph nodes (PyTorch records one StdMeanBackward0)."""
    s = std(input, dim, unbiased, keepdim, correction=correction)
    return s, mean(input, v_dims(input, dim), keepdim)


def v_dims(input, dim):
    return None if isinstance(dim, bool) or dim is None else dim


# ---- norm ---------------------------------------------------------------------------------
class VectorNorm(Op):
    node_name = "LinalgVectorNormBackward0"
    formulas = {"self": "self · |self|^(p−2) / norm^(p−1)  (p = 2: self / norm)"}
    saves = (0,)
    saves_output = True
    array_backward = True

    def forward(ctx, a, p, axes, keepdim):
        if p == 2:
            out = xp.sqrt(xp.sum(a * a, axis=axes, keepdims=keepdim))
        elif p == math.inf or p == -math.inf:
            ab = xp.abs(a)
            fn = xp.max if p > 0 else xp.min
            if a.size == 0:
                out = xp.zeros(_kept_shape(a.shape, axes) if keepdim else
                               [s for i, s in enumerate(a.shape) if i not in axes], a.dtype)
            else:
                out = fn(ab, axis=axes, keepdims=True)
                if ctx is not None:
                    mask = ab == out
                    ctx.extra = (xp.sign(a) * mask / xp.sum(mask, axis=axes, keepdims=True)).astype(a.dtype)
                if not keepdim:
                    out = out.reshape([s for i, s in enumerate(out.shape) if i not in axes])
        elif p == 0:
            out = xp.sum(a != 0, axis=axes, keepdims=keepdim).astype(a.dtype)
        elif p == 1:
            out = xp.sum(xp.abs(a), axis=axes, keepdims=keepdim)
        else:
            out = xp.sum(xp.abs(a) ** p, axis=axes, keepdims=keepdim) ** (1.0 / p)
        return out.astype(a.dtype, copy=False)

    def backward(ctx, grad):
        p, axes, keepdim = ctx.args
        (x,) = ctx.saved
        shape = ctx.metas[0][0]
        if p == 0:
            return None
        g = _unreduce(grad, shape, axes, keepdim)
        sign = like(grad, xp.sign(array_of(x)))
        if p == 1:
            return g * sign
        if p == math.inf or p == -math.inf:
            return g * like(grad, ctx.extra)
        # p-norms: self·|self|^(p−2)·grad / norm^(p−1), zero where the norm is 0 (PyTorch).
        nrm = ctx.output
        na = array_of(nrm)
        zero = na == 0
        if zero.any():
            safe = nrm + like(grad, zero.astype(na.dtype))
            g = g * like(grad, ~_kept(zero, shape, axes, keepdim))
        else:
            safe = nrm
        if p == 2:
            return g * x / _unreduce(safe, shape, axes, keepdim)
        # |x|^(p-1)·sign(x), with |x| = x·sign(x) so it differentiates again (the powers
        # through PowScalar: on arrays its own forward, the bits of the Tensor form)
        local = call1(PowScalar, x * sign, (p - 1,)) * sign
        return g * local / _unreduce(call1(PowScalar, safe, (p - 1,)), shape, axes, keepdim)


def _kept(arr, shape, axes, keepdim):
    if not keepdim:
        arr = arr.reshape(_kept_shape(shape, axes))
    return xp.broadcast_to(arr, shape)


def _norm_p(ord):
    if ord in ("fro", None):
        return 2.0
    if isinstance(ord, str):
        raise NotImplementedError(
            f"linalg.vector_norm: ord {ord!r} is a matrix norm; chainrule implements vector "
            "norms only ('nuc' is not supported)"
        )
    return float(ord)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """torch.linalg.vector_norm."""
    a = x._data
    if dtype is not None:
        npd = _dtype.to_dtype(dtype).np
        a = a.astype(npd, copy=False)
    if a.dtype.kind != "f":
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. "
            f"Got {_tname(a.dtype)}"
        )
    p = _norm_p(ord)
    axes = _axes(dim, a.ndim)
    if (p < 0 or math.isinf(p)) and a.size == 0:
        shown = f"{p:g}"
        if dim is None:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {shown} norm on an empty tensor because "
                "the operation does not have an identity"
            )
        for i in axes:
            if a.shape[i] == 0:
                raise RuntimeError(
                    f"linalg.vector_norm cannot compute the {shown} norm on the dimension {i}"
                    "because this dimension is empty and the operation does not have an identity"
                )
    with _quiet():
        return apply(VectorNorm, (x,), (a,), (p, axes, keepdim))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None, out=None):
    """torch.norm: vector norms over ``dim`` (all elements by default); 'fro' is the 2-norm.
    The matrix 'nuc' norm is not implemented."""
    if isinstance(dim, int):
        dim = (dim,)
    return vector_norm(input, 2 if p is None else p, dim, keepdim, dtype=dtype)


# ---- logsumexp ----------------------------------------------------------------------------
class Logsumexp(Op):
    node_name = "LogsumexpBackward0"
    formulas = {"self": "exp(self − logsumexp(self))  (softmax)"}
    saves = (0,)
    saves_output = True
    array_backward = True

    def forward(ctx, a, axes, keepdim):
        if a.size == 0:
            return xp.log(xp.sum(xp.exp(a), axis=axes, keepdims=keepdim))
        m = xp.max(a, axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf (or an inf) stays exact
        out = xp.log(xp.sum(xp.exp(a - m), axis=axes, keepdims=True)) + m
        return out if keepdim else out.reshape([s for i, s in enumerate(out.shape) if i not in axes])

    def backward(ctx, grad):
        axes, keepdim = ctx.args
        (x,) = ctx.saved
        shape = ctx.metas[0][0]
        d = x - _unreduce(ctx.output, shape, axes, keepdim)
        return _unreduce(grad, shape, axes, keepdim) * call1(Exp, d)


def logsumexp(input, dim, keepdim=False, *, out=None):
    if dim is None:
        raise TypeError("logsumexp(): argument 'dim' (position 1) must be tuple of ints, not NoneType")
    a = input._data
    if a.dtype.kind != "f":
        a = a.astype(_dtype.defaults.float.np)
    with _quiet():
        return apply(Logsumexp, (input,), (a,), (_axes(dim, a.ndim), keepdim))


# ---- cumulative ---------------------------------------------------------------------------
class Cumsum(Op):
    node_name = "CumsumBackward0"
    formulas = {"self": "1 for every later position (reverse cumsum of the gradient)"}
    array_backward = True

    def forward(ctx, a, axis, dtype):
        if axis is None:
            return a.astype(dtype) if dtype is not None else a.copy()
        return xp.cumsum(a, axis=axis, dtype=dtype)

    def backward(ctx, grad):
        axis = ctx.args[0]
        return grad if axis is None else call1(RevCumsum, grad, (axis,))


class RevCumsum(Op):
    """Cumsum from the end: the adjoint of cumsum (and cumsum is its adjoint)."""

    node_name = "ReverseCumsumBackward0"
    formulas = {"self": "1 for every earlier position"}
    array_backward = True

    def forward(ctx, a, axis):
        return xp.flip(xp.cumsum(xp.flip(a, axis), axis=axis), axis)

    def backward(ctx, grad):
        return call1(Cumsum, grad, (ctx.args[0], None))


class Cumprod(Op):
    node_name = "CumprodBackward0"
    formulas = {"self": "Σ_{i≥k} grad_i · ∏_{j≤i, j≠k} self_j"}
    saves = (0,)
    saves_output = True
    array_backward = True

    def forward(ctx, a, axis, dtype):
        if axis is None:
            return a.astype(dtype) if dtype is not None else a.copy()
        return xp.cumprod(a, axis=axis, dtype=dtype)

    def backward(ctx, grad):
        axis = ctx.args[0]
        if axis is None:
            return grad
        (x,) = ctx.saved
        if not (array_of(x) == 0).any():
            return call1(RevCumsum, grad * ctx.output, (axis,)) / x
        return _cumprod_grad_with_zeros(x, grad, axis)


def _cumprod_grad_with_zeros(x, grad, axis):
    """∂/∂x_k = Σ_{i≥k} g_i ∏_{j≤i, j≠k} x_j, exact with zeros: for each k a cumprod of x
    with x_k replaced by 1 (an n×n copy along a new axis; chainrule ops, so it nests; on
    arrays in a rule run on arrays)."""
    xa = array_of(x)
    shape = xa.shape
    n = shape[axis]
    off, eye = _offdiag(x, n, axis, len(shape), xa.dtype)
    xu = x.reshape(shape[:axis] + (1,) + shape[axis:])  # [..., k, j, ...]
    c = call1(Cumprod, xu * off + eye, (axis + 1, None))  # [..., k, i, ...]
    upper = like(x, xp.triu(xp.ones((n, n), xa.dtype)).reshape(array_of(off).shape))  # i ≥ k
    gu = grad.reshape(shape[:axis] + (1,) + shape[axis:])
    return call1(Sum, c * upper * gu, ((axis + 1,), False, None))


def _cum(op, input, dim, dtype):
    a = input._data
    axes = _axes(_int_dim(dim, "cumsum" if op is Cumsum else "cumprod"), a.ndim)
    npd = _sum_dtype(input, dtype)
    return apply(op, (input,), (a,), (axes[0] if axes else None, npd))


def cumsum(input, dim, *, dtype=None, out=None):
    return _cum(Cumsum, input, dim, dtype)


def cumprod(input, dim, *, dtype=None, out=None):
    return _cum(Cumprod, input, dim, dtype)


# ---- logical reductions -------------------------------------------------------------------
def _bool_reduce(fn, input, dim, keepdim):
    a = input._data
    if dim is None:
        return Tensor._make(xp.asarray(fn(a)))
    if dim == ():  # PyTorch reduces over nothing here (unlike sum)
        return Tensor._make(a.astype(bool))
    return Tensor._make(xp.asarray(fn(a, axis=_axes(dim, a.ndim), keepdims=keepdim)))


def all(input, dim=None, keepdim=False, *, out=None):
    return _bool_reduce(xp.all, input, dim, keepdim)


def any(input, dim=None, keepdim=False, *, out=None):
    return _bool_reduce(xp.any, input, dim, keepdim)


def count_nonzero(input, dim=None):
    a = input._data
    r = xp.count_nonzero(a, axis=None if dim is None else _axes(dim, a.ndim))
    return Tensor._make(xp.asarray(r, dtype=xp.int64))


# ---- Tensor methods -----------------------------------------------------------------------
for _fn in (sum, mean, nansum, nanmean, prod, max, min, amax, amin, argmax, argmin, var, std,
            norm, logsumexp, cumsum, cumprod, all, any, count_nonzero, sum_to_size):
    method(_fn.__name__)(_fn)
