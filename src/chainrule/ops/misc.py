"""Ops that tutorials reach for and no family owned: cross, cdist, trace, diff, histc,
bincount, searchsorted/bucketize, tril/triu_indices, meshgrid, cartesian_prod, apply_/map_.

``diff``, ``meshgrid`` and ``cartesian_prod`` are composites of other ops, as in PyTorch
(their grad_fn is the last op's: SubBackward0, ExpandBackward0, StackBackward0).
Differences: ``cdist`` has no ``compute_mode`` matrix-multiplication shortcut (it always
takes differences, which is the exact path); its p=inf and p=0 have no backward here.
"""
import math
import warnings

from .. import _dtype
from .._backend import xp
from .._tensor import Tensor
from ..autograd.graph import apply, array_of, call, call1, like
from ._core import Op, broadcast_error, method, wrap_dim
from .arithmetic import PowScalar
from .indexing import _along
from .pointwise import Abs, Sign, _mask
from .reductions import Sum
from .shape import put

__all__ = [
    "bincount",
    "block_diag",
    "bucketize",
    "cartesian_prod",
    "cdist",
    "channels_last",
    "column_stack",
    "contiguous_format",
    "cross",
    "cummax",
    "cummin",
    "diagflat",
    "diff",
    "dstack",
    "finfo",
    "histc",
    "iinfo",
    "is_floating_point",
    "isin",
    "kron",
    "meshgrid",
    "numel",
    "preserve_format",
    "rot90",
    "searchsorted",
    "trace",
    "tril_indices",
    "triu_indices",
]


def _short(npd):
    return _dtype._FROM_NP[npd]._short


def _not_implemented(kernel, npd):
    return NotImplementedError(f"\"{kernel}\" not implemented for '{_short(npd)}'")


def _same_dtype(a, b):
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected scalar type {_short(a.dtype)} but found {_short(b.dtype)}")


# ---- cross ------------------------------------------------------------------------------
class Cross(Op):
    node_name = "LinalgCrossBackward0"
    operands = ("self", "other")
    formulas = {"self": "other × grad", "other": "grad × self"}
    saves = (0, 1)
    array_backward = True  # (the crosses through call)

    def forward(ctx, a, b, dim):
        return xp.cross(a, b, axis=dim)

    def backward(ctx, grad):
        a, b = ctx.saved
        dim = ctx.args[0]
        ga = call(Cross, b, grad, (dim,)) if ctx.edges[0] is not None else None
        gb = call(Cross, grad, a, (dim,)) if ctx.edges[1] is not None else None
        return ga, gb


@method("cross")
def cross(input, other, dim=None):
    """torch.cross; ``dim=None`` takes the first dimension of size 3 and warns, as PyTorch."""
    a, b = input._data, other._data
    _same_dtype(a, b)
    try:
        shape = xp.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise broadcast_error(a.shape, b.shape) from None
    if dim is None:
        warnings.warn(
            "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass "
            "the dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will "
            "change to agree with that of linalg.cross in a future release.", UserWarning, stacklevel=2,
        )
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return _cross(input, other, dim, shape, "linalg.cross")


def _cross(input, other, dim, shape, name):
    a, b = input._data, other._data
    if a.ndim != b.ndim:
        raise RuntimeError(f"{name}: inputs must have the same number of dimensions.")
    nd = len(shape)
    d = wrap_dim(dim, nd)
    sa = a.shape[d - nd] if d - nd >= -a.ndim else 1
    sb = b.shape[d - nd] if d - nd >= -b.ndim else 1
    if sa != 3 or sb != 3:
        raise RuntimeError(f"{name}: inputs dimension {dim} must have length 3. Got {sa} and {sb}")
    return apply(Cross, (input, other), (a, b), (d - nd,))


# ---- cdist ------------------------------------------------------------------------------
class Cdist(Op):
    node_name = "CdistBackward0"
    operands = ("x1", "x2")
    formulas = {
        "x1": "Σ_j grad_ij · sign(x1_i − x2_j)·|x1_i − x2_j|^(p−1) / dist_ij^(p−1)",
        "x2": "−Σ_i (the same)",
    }
    saves = (0, 1)
    saves_output = True
    array_backward = True  # (sign, abs, powers and sums through call1; masks through like)

    def forward(ctx, a, b, p):
        d = xp.abs(a[..., :, None, :] - b[..., None, :, :])
        if p == 2:
            return xp.sqrt(xp.einsum("...k,...k->...", d, d))
        if p == 1:
            return d.sum(-1)
        if p == math.inf:
            return d.max(-1) if d.shape[-1] else d.sum(-1)
        if p == 0:
            return (d != 0).sum(-1).astype(a.dtype)
        return (d ** p).sum(-1) ** (1.0 / p)

    def backward(ctx, grad):
        x1, x2 = ctx.saved
        p = ctx.args[0]
        if p == 0 or p == math.inf:
            raise RuntimeError(f"chainrule: the derivative of cdist with p={p} is not implemented")
        s1, s2 = array_of(x1).shape, array_of(x2).shape
        diff = x1.reshape(s1[:-1] + (1,) + s1[-1:]) - x2.reshape(s2[:-2] + (1,) + s2[-2:])
        dist = ctx.output
        gshape = array_of(grad).shape + (1,)
        if p == 1:
            w = grad.reshape(gshape) * call1(Sign, diff)
        else:
            da = array_of(dist)
            zero = da == 0
            # ∂dist/∂diff = sign·|diff|^(p−1) / dist^(p−1); 0 where dist is 0 (as PyTorch)
            if zero.any():  # (masked, not multiplied: exactly 0 there, as masked_fill was)
                safe = dist + like(grad, zero.astype(da.dtype))
                scale = _mask(grad / call1(PowScalar, safe, (p - 1,)), ~zero)
            else:
                scale = grad / call1(PowScalar, dist, (p - 1,))
            local = diff if p == 2 else call1(Sign, diff) * call1(PowScalar, call1(Abs, diff), (p - 1,))
            w = scale.reshape(gshape) * local
        nd = len(array_of(w).shape)
        g1 = call1(Sum, w, ((nd - 2,), False, None)) if ctx.edges[0] is not None else None
        g2 = -call1(Sum, w, ((nd - 3,), False, None)) if ctx.edges[1] is not None else None
        return g1, g2


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    a, b = x1._data, x2._data
    if a.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {a.ndim}D")
    if b.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {b.ndim}D")
    if a.dtype.kind != "f":
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {_short(a.dtype)}")
    if b.dtype.kind != "f":
        raise RuntimeError(f"cdist only supports floating-point dtypes, X2 got: {_short(b.dtype)}")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} X2: {b.shape[-1]}"
        )
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    _same_dtype(a, b)
    try:
        xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise broadcast_error(a.shape[:-2], b.shape[:-2]) from None
    return apply(Cdist, (x1, x2), (a, b), (float(p),))


# ---- trace ------------------------------------------------------------------------------
class Trace(Op):
    node_name = "TraceBackward0"
    formulas = {"self": "1 on the diagonal, 0 elsewhere"}
    array_backward = True

    def forward(ctx, a):
        return xp.asarray(xp.trace(a, dtype=xp.int64 if a.dtype.kind in "iu" else a.dtype))

    def backward(ctx, grad):
        shape, npd = ctx.metas[0]
        return like(grad, xp.eye(shape[0], shape[1], dtype=npd)) * grad


@method("trace")
def trace(input):
    a = input._data
    if a.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {a.ndim}")
    if a.dtype.kind == "b":
        raise _not_implemented("trace", a.dtype)
    return apply(Trace, (input,), (a,))


# ---- composites ---------------------------------------------------------------------------
@method("diff")
def diff(input, n=1, dim=-1, prepend=None, append=None):
    """n-th forward difference along ``dim`` (narrow − narrow, as PyTorch records it)."""
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, input.dim())
    if prepend is not None or append is not None:
        from .shape import cat

        parts = [input]
        if prepend is not None:
            parts.insert(0, _diff_edge(prepend, input, "prepend"))
        if append is not None:
            parts.append(_diff_edge(append, input, "append"))
        input = cat(parts, d)
    for _ in range(n):
        length = input.shape[d]
        if length == 0:
            break
        hi, lo = input.narrow(d, 1, length - 1), input.narrow(d, 0, length - 1)
        input = hi ^ lo if input.dtype is _dtype.bool_ else hi - lo
    return input


def _diff_edge(extra, input, which):
    if not isinstance(extra, Tensor):
        raise TypeError(f"diff(): argument '{which}' must be Tensor, not {type(extra).__name__}")
    if extra.dim() != input.dim():
        raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    return extra


def meshgrid(*tensors, indexing=None):
    """Views of the 1-d inputs expanded to the grid (ExpandBackward0, as PyTorch)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
            "argument.", UserWarning, stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}'
        )
    for t in tensors:
        if t.dim() > 1:
            raise RuntimeError(
                f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}"
            )
        if t.dtype is not tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    flat = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:  # xy: the first two axes trade places
        flat[0], flat[1] = flat[1], flat[0]
    shape = [f.shape[0] for f in flat]
    n = len(flat)
    grids = [f.view([-1 if i == k else 1 for i in range(n)]).expand(shape) for k, f in enumerate(flat)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    """Rows of every combination (the ij meshgrid flattened and stacked, as PyTorch)."""
    from .shape import stack

    for t in tensors:
        if t.dim() != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], dim=1)


# ---- counting and searching (no gradient, as in PyTorch) ---------------------------------
@method("histc")
def histc(input, bins=100, min=0, max=0):
    a = input._data
    if a.dtype.kind != "f":
        raise _not_implemented("histogram_cpu", a.dtype)
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    lo, hi = float(min), float(max)
    if lo == hi and a.size:  # PyTorch: the data's own range
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo:g}, {hi:g}] is not finite")
    # PyTorch's binning, in the input's precision; the top edge belongs to the last bin
    lo_, hi_ = a.dtype.type(lo), a.dtype.type(hi)
    x = a.reshape(-1)
    x = x[(x >= lo_) & (x <= hi_)]
    idx = ((x - lo_) * a.dtype.type(bins) / (hi_ - lo_)).astype(xp.int64)
    xp.minimum(idx, bins - 1, out=idx)
    return Tensor._make(xp.bincount(idx, minlength=bins).astype(a.dtype))


@method("bincount")
def bincount(input, weights=None, minlength=0):
    a = input._data
    if a.dtype.kind not in "iu":
        raise _not_implemented("bincount_cpu", a.dtype)
    if a.ndim != 1 or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return Tensor._make(xp.bincount(a, minlength=minlength).astype(xp.int64))
    w = weights._data
    if w.ndim != 1 or w.shape[0] != a.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    npd = w.dtype if w.dtype.kind == "f" else xp.dtype(xp.float64)  # PyTorch: double otherwise
    return Tensor._make(xp.bincount(a, weights=w, minlength=minlength).astype(npd))


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    seq = sorted_sequence._data
    scalar = not isinstance(input, Tensor)
    vals = xp.asarray(input, dtype=seq.dtype) if scalar else input._data
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(
                f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}"
            )
        if right and side == "left":
            raise RuntimeError(
                "torch.searchsorted(): side and right can't be set to opposites, got side of "
                "left while right was True"
            )
        right = side == "right"
    if seq.ndim > 1 and (scalar or seq.shape[:-1] != vals.shape[:-1]):
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(seq.shape)} and input value tensor {list(vals.shape)}"
        )
    if sorter is not None:
        seq = xp.take_along_axis(seq, sorter._data, axis=-1)
    how = "right" if right else "left"
    if seq.ndim <= 1:
        out = xp.searchsorted(seq, vals, side=how)
    else:
        rows_s = seq.reshape(-1, seq.shape[-1])
        rows_v = vals.reshape(-1, vals.shape[-1])
        out = xp.stack([xp.searchsorted(s, v, side=how) for s, v in zip(rows_s, rows_v)])
        out = out.reshape(vals.shape)
    return Tensor._make(xp.asarray(out, dtype=xp.int32 if out_int32 else xp.int64))


@method("bucketize")
def bucketize(input, boundaries, *, out_int32=False, right=False):
    b = boundaries._data
    if b.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({b.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def _tri_indices(row, col, offset, dtype, kernel, lower):
    npd = (_dtype.to_dtype(dtype) if dtype is not None else _dtype.int64).np
    if npd.kind not in "iu":
        raise _not_implemented(kernel, npd)
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    r, c = xp.tril_indices(row, offset, col) if lower else xp.triu_indices(row, offset, col)
    return Tensor._make(xp.stack([r, c]).astype(npd))


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices(row, col, offset, dtype, "tril_indices", True)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices(row, col, offset, dtype, "triu_indices", False)


# ---- Python callables, element by element ---------------------------------------------------
@method("apply_")
def apply_(self, callable):
    """Replace each element by ``callable(element)`` in place (slow; CPU only, as PyTorch)."""
    return _map_inplace(self, "apply_", lambda a: [callable(v) for v in a.reshape(-1).tolist()])


@method("map_")
def map_(self, tensor, callable):
    """``self[i] = callable(self[i], tensor[i])`` in place, ``tensor`` broadcast to self."""
    other = xp.broadcast_to(tensor._data, self._data.shape)
    pairs = zip(self._data.reshape(-1).tolist(), other.reshape(-1).tolist())
    return _map_inplace(self, "map_", lambda a: [callable(x, y) for x, y in pairs])


def _map_inplace(self, name, fn):
    if self._requires_grad:
        raise RuntimeError(
            f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() instead."
        )
    a = self._data
    a[...] = xp.asarray(fn(a), dtype=a.dtype).reshape(a.shape)
    v = self._version
    v[0] += 1
    return self


# ---- dtype facts and small queries -------------------------------------------------------
def numel(input):
    return input.numel()


def is_floating_point(input):
    return input.dtype.is_floating_point


def _fmt(v):
    return f"{v:g}"


class finfo:
    """torch.finfo: machine limits of a floating dtype (float attributes, as PyTorch)."""

    def __init__(self, type=None):
        d = _dtype.defaults.float if type is None else _dtype.to_dtype(type)
        if not d.is_floating_point:
            raise TypeError(
                "torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                "'torch.finfo'"
            )
        f = xp.finfo(d.np)
        self.bits, self.dtype = f.bits, d.name
        self.eps, self.max, self.min = float(f.eps), float(f.max), float(f.min)
        self.tiny = self.smallest_normal = float(f.smallest_normal)
        self.resolution = 10.0 ** -f.precision  # exact decimal, not rounded to the dtype

    def __repr__(self):
        return (f"finfo(resolution={_fmt(self.resolution)}, min={_fmt(self.min)}, max={_fmt(self.max)}, "
                f"eps={_fmt(self.eps)}, smallest_normal={_fmt(self.smallest_normal)}, "
                f"tiny={_fmt(self.tiny)}, dtype={self.dtype})")


class iinfo:
    """torch.iinfo: the range of an integer dtype."""

    def __init__(self, type):
        d = _dtype.to_dtype(type)
        if d.is_floating_point:
            raise TypeError(
                "torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'"
            )
        i = xp.iinfo(d.np)
        self.bits, self.min, self.max, self.dtype = i.bits, int(i.min), int(i.max), d.name

    def __repr__(self):
        return f"iinfo(min={_fmt(self.min)}, max={_fmt(self.max)}, dtype={self.dtype})"


class memory_format:
    """torch.memory_format; chainrule has one layout, so every format means strided."""

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"torch.{self._name}"


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")


# ---- Python protocol methods PyTorch defines on Tensor ------------------------------------
@method("__abs__")
def _abs_protocol(self):
    return self.abs()


@method("__reversed__")
def _reversed(self):
    """reversed(t) is t flipped along dim 0 (a 0-d tensor is itself), as PyTorch."""
    return self if self.dim() == 0 else self.flip(0)


# ---- running extremes ------------------------------------------------------------------------
class _CumExtreme(Op):
    """Running max/min along ``dim`` with the index of the element it came from (the last
    one on ties, NaN sticky: PyTorch's rule); several outputs may share one source, so the
    gradient is scatter-added."""

    multi_output = True
    formulas = {"self": "Σ of the gradients of the outputs whose running extreme it is"}
    array_backward = True  # (put takes arrays)

    def forward(ctx, a, dim, ufunc):
        if a.ndim == 0:  # its own running extreme, index 0
            return a.copy(), xp.zeros((), xp.int64)
        vals = ufunc.accumulate(a, axis=dim)
        same = a == vals
        if a.dtype.kind == "f":
            same |= xp.isnan(a) & xp.isnan(vals)
        shape = [1] * a.ndim
        shape[dim] = a.shape[dim]
        pos = xp.where(same, xp.arange(a.shape[dim]).reshape(shape), -1)
        idx = xp.maximum.accumulate(pos, axis=dim)
        if ctx is not None:
            ctx.extra = idx
        return vals, idx

    def backward(ctx, grad):
        dim = ctx.args[0]
        if not ctx.metas[0][0]:
            return grad
        return put(grad, ctx.metas[0][0], _along(dim, ctx.extra))  # (added where shared)


class Cummax(_CumExtreme):
    node_name = "CummaxBackward0"


class Cummin(_CumExtreme):
    node_name = "CumminBackward0"


def _cum_extreme(op, ufunc, input, dim, name):
    from .reductions import _return_type

    a = input._data
    vals, idx = apply(op, (input,), (a,), (wrap_dim(dim, max(a.ndim, 1)), ufunc))
    return _CUM_TYPES.setdefault(name, _return_type(name))(vals, idx)


_CUM_TYPES = {}


@method("cummax")
def cummax(input, dim):
    return _cum_extreme(Cummax, xp.maximum, input, dim, "cummax")


@method("cummin")
def cummin(input, dim):
    return _cum_extreme(Cummin, xp.minimum, input, dim, "cummin")


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Membership of each element in ``test_elements`` (either may be a number)."""
    e = elements._data if isinstance(elements, Tensor) else xp.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else xp.asarray(test_elements)
    return Tensor._make(xp.isin(e, t, assume_unique=assume_unique, invert=invert))


# ---- arranging blocks ----------------------------------------------------------------------
class Rot90(Op):
    node_name = "Rot90Backward0"
    formulas = {"self": "the gradient rotated back (k → −k)"}
    array_backward = True

    def forward(ctx, a, k, dims):
        return xp.ascontiguousarray(xp.rot90(a, k, dims))

    def backward(ctx, grad):
        k, dims = ctx.args
        return call1(Rot90, grad, (-k % 4, dims))


@method("rot90")
def rot90(input, k=1, dims=(0, 1)):
    dims = tuple(dims)
    nd = input.dim()
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = (wrap_dim(d, nd) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    return apply(Rot90, (input,), (input._data,), (k % 4, (d0, d1)))


class BlockDiag(Op):
    node_name = "BlockDiagBackward0"
    operands = ("tensors",)  # one operand per input matrix
    formulas = {"tensors": "1 on the input's own block"}
    array_backward = True  # (slices read the same on arrays and Tensors)

    def forward(ctx, *arrays):
        rows = sum(a.shape[0] for a in arrays)
        cols = sum(a.shape[1] for a in arrays)
        out = xp.zeros((rows, cols), dtype=xp.result_type(*arrays))
        r = c = 0
        for a in arrays:
            out[r:r + a.shape[0], c:c + a.shape[1]] = a
            r, c = r + a.shape[0], c + a.shape[1]
        return out

    def backward(ctx, grad):
        grads, r, c = [], 0, 0
        for shape, _ in ctx.metas:
            grads.append(grad[r:r + shape[0], c:c + shape[1]])
            r, c = r + shape[0], c + shape[1]
        return tuple(grads)


def block_diag(*tensors):
    """Inputs as diagonal blocks of one matrix (0-d and 1-d ones as single rows)."""
    for i, t in enumerate(tensors):
        if t.dim() > 2:
            raise RuntimeError(
                "torch.block_diag: Input tensors must have 2 or fewer dimensions. Input "
                f"{i} has {t.dim()} dimensions"
            )
    if not tensors:
        return Tensor._make(xp.zeros((1, 0), dtype=_dtype.defaults.float.np))
    mats = [t.reshape(1, -1) if t.dim() < 2 else t for t in tensors]
    npd = _dtype.result_type(*tensors).np
    arrays = [m._data.astype(npd, copy=False) for m in mats]
    return apply(BlockDiag, tuple(mats), tuple(arrays))


def kron(input, other):
    """Kronecker product, as outer products of the (equal-rank) operands reshaped."""
    nd = max(input.dim(), other.dim())
    a = input.reshape((1,) * (nd - input.dim()) + tuple(input.shape))
    b = other.reshape((1,) * (nd - other.dim()) + tuple(other.shape))
    a_idx = [s for d in range(nd) for s in (a.shape[d], 1)]
    b_idx = [s for d in range(nd) for s in (1, b.shape[d])]
    shape = [a.shape[d] * b.shape[d] for d in range(nd)]
    return (a.reshape(a_idx) * b.reshape(b_idx)).reshape(shape)


def dstack(tensors):
    from .shape import atleast_3d, cat

    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    from .shape import cat

    return cat([t.reshape(-1, 1) if t.dim() < 2 else t for t in tensors], 1)


def diagflat(input, offset=0):
    from .shape import diag_embed

    return diag_embed(input.reshape(-1), offset)
