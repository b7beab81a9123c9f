"""Operators and methods: bit shifts (<<, >>, <<=, >>=), ``in``, in-place shape methods
(t_, transpose_, swapaxes_, squeeze_, unsqueeze_, resize_), fill_diagonal_, index_fill,
index_copy, masked_scatter.

Differs from PyTorch: the in-place shape methods record the out-of-place node
(TransposeBackward0 where PyTorch prints TransposeBackward1, TBackward0 for TBackward1,
...); gradients are the same.
"""
# ruff: noqa: RUF022
from .. import _dtype
from .._backend import xp
from .._tensor import Tensor
from ..autograd.grad_mode import state as _grad
from ..autograd.graph import apply, array_of, call1
from ._core import Op, _bump, binary, broadcast_error, check_operand, inplace, method, wrap_dim
from .indexing import Index, IndexSelect
from .pointwise import _mask
from .reductions import SumAll
from .shape import put

__all__ = ["bitwise_left_shift", "bitwise_right_shift", "index_fill", "index_copy",
           "masked_scatter"]


# ---- bit shifts ------------------------------------------------------------------------------
class _Shift(Op):
    """Integer-only, so never recorded. Shifts of the element width or more (or negative)
    give 0 (left) or the sign fill (right), as PyTorch; NumPy leaves them undefined."""

    formulas = {"self": "not differentiable", "other": "not differentiable"}

    def forward(ctx, a, b):
        if b.__class__ is int and hasattr(a, "dtype") and 0 <= b < a.dtype.itemsize * 8:
            return xp.left_shift(a, b)  # the common case: no range fix-up needed
        a, b = _shift_operands(a, b)
        bits = a.dtype.itemsize * 8
        out_of_range = (b < 0) | (b >= bits)
        safe = xp.where(out_of_range, 0, b).astype(a.dtype, copy=False)
        r = xp.left_shift(a, safe)
        return xp.where(out_of_range, 0, r).astype(r.dtype, copy=False)


def _shift_operands(a, b):
    """Arrays: a number takes the other operand's dtype; b (the count) stays as given, so
    a negative count is not wrapped into an unsigned dtype."""
    if not hasattr(a, "dtype"):
        a = xp.asarray(a, dtype=b.dtype)
    return a, xp.asarray(b)


class LShift(_Shift):
    node_name = "LshiftBackward0"


class RShift(_Shift):
    node_name = "RshiftBackward0"

    def forward(ctx, a, b):
        if b.__class__ is int and hasattr(a, "dtype") and 0 <= b < a.dtype.itemsize * 8:
            return xp.right_shift(a, b)
        a, b = _shift_operands(a, b)
        bits = a.dtype.itemsize * 8
        fill = bits - 1 if a.dtype.kind == "i" else 0  # signed: keep only the sign
        clipped = xp.where((b < 0) | (b >= bits), fill, b).astype(a.dtype, copy=False)
        r = xp.right_shift(a, clipped)
        if a.dtype.kind == "u":
            r = xp.where((b < 0) | (b >= bits), 0, r).astype(a.dtype, copy=False)
        return r


def _shift(op, kernel, a, b):
    if b.__class__ is int and isinstance(a, Tensor) and a._data.dtype.kind in "iu":
        return apply(op, (a, b), (a._data, b))  # integer tensor << int keeps its dtype
    dt = _dtype.result_type(a, b)
    if dt.np.kind not in "iu":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{dt._short}'")
    return binary(op, a, b, dt)


def bitwise_left_shift(input, other, *, out=None):
    return _shift(LShift, "lshift_cpu", input, check_operand(other, "bitwise_left_shift"))


def bitwise_right_shift(input, other, *, out=None):
    return _shift(RShift, "rshift_cpu", input, check_operand(other, "bitwise_right_shift"))


def _operator(fn):
    def op(self, other):
        if not isinstance(other, (Tensor, int, float, bool)):
            return NotImplemented
        return fn(self, other)

    return op


def _roperator(fn):
    def op(self, other):
        if not isinstance(other, (int, float, bool)):
            return NotImplemented
        return fn(other, self)

    return op


Tensor.__lshift__ = _operator(bitwise_left_shift)
Tensor.__rshift__ = _operator(bitwise_right_shift)
Tensor.__rlshift__ = _roperator(bitwise_left_shift)
Tensor.__rrshift__ = _roperator(bitwise_right_shift)
method("bitwise_left_shift")(bitwise_left_shift)
method("bitwise_right_shift")(bitwise_right_shift)
Tensor.bitwise_left_shift_ = inplace("bitwise_left_shift_", bitwise_left_shift)
Tensor.bitwise_right_shift_ = inplace("bitwise_right_shift_", bitwise_right_shift)
Tensor.__ilshift__ = Tensor.bitwise_left_shift_
Tensor.__irshift__ = Tensor.bitwise_right_shift_


# ---- in ------------------------------------------------------------------------------------
def _contains(self, element):
    """``element in t``: ``(element == t).any()``, broadcasting errors included."""
    if not isinstance(element, (Tensor, int, float, bool)):
        raise RuntimeError(  # noqa: TRY004  (PyTorch's class)
            "Tensor.__contains__ only supports Tensor or scalar, but you passed in a "
            f"{type(element)}."
        )
    return bool((element == self).any().item())


Tensor.__contains__ = _contains


# ---- in-place shape methods ----------------------------------------------------------------
def _reshape_inplace(name, view_fn):
    """``x.name(...)``: x becomes the view ``view_fn(x, ...)`` (same storage), with its
    history when autograd records."""

    def fn(self, *args):
        if self._requires_grad and self.grad_fn is None and _grad.enabled:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )
        r = view_fn(self, *args)
        self._data = r._data
        if self._extra and "view_chain" in self._extra:
            # a view of a root: the new view op extends its chain (r was cut from the same
            # root); if r has none, drop it: better refused than replayed wrongly
            chain = r._extra.get("view_chain") if r._extra and r._base is self._base else None
            if chain is None:
                del self._extra["view_chain"]
            else:
                self._extra["view_chain"] = chain
        if r._requires_grad and r.grad_fn is not None:
            self.grad_fn = r.grad_fn
        _bump(self, name)
        return self

    fn.__name__ = name
    setattr(Tensor, name, fn)
    return fn


_reshape_inplace("t_", lambda x: x.t())
_reshape_inplace("transpose_", lambda x, d0, d1: x.transpose(d0, d1))
_reshape_inplace("swapaxes_", lambda x, d0, d1: x.transpose(d0, d1))
_reshape_inplace("swapdims_", lambda x, d0, d1: x.transpose(d0, d1))
_reshape_inplace("squeeze_", lambda x, *dim: x.squeeze(*dim))
_reshape_inplace("unsqueeze_", lambda x, dim: x.unsqueeze(dim))


def _resize_(self, *sizes, memory_format=None):
    """PyTorch's resize_: same storage when the element count is unchanged, otherwise new
    memory keeping the leading elements (the rest is uninitialised: here zeros)."""
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if any(s < 0 for s in sizes):
        raise RuntimeError("numel: integer multiplication overflow")  # PyTorch's words
    a = self._data
    n = 1
    for s in sizes:
        n *= s
    if n == a.size and a.flags.c_contiguous:
        self._data = a.reshape(sizes)
    else:
        new = xp.zeros(n, dtype=a.dtype)
        k = min(n, a.size)
        new[:k] = a.reshape(-1)[:k]
        self._data = new.reshape(sizes)
    _bump(self, "resize_")
    return self


Tensor.resize_ = _resize_


# ---- fill_diagonal_ ------------------------------------------------------------------------
def _fill_diagonal_(self, fill_value, wrap=False):
    a = self._data
    if a.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if a.ndim > 2 and len(set(a.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    mask = xp.zeros(a.shape, dtype=bool)
    xp.fill_diagonal(mask, True, wrap=wrap)
    return self._inplace(self.masked_fill(Tensor._make(mask), fill_value), "fill_diagonal_")


Tensor.fill_diagonal_ = _fill_diagonal_


# ---- index_fill / index_copy ---------------------------------------------------------------
def _index(index, dim, size, name):
    """The index as a 1-D int64 array, checked as PyTorch checks it."""
    if not isinstance(index, Tensor):
        raise TypeError(
            f"{name}(): argument 'index' (position 2) must be Tensor, not {type(index).__name__}"
        )
    i = index._data
    if i.dtype != xp.int64:
        raise IndexError(f"{name}_(): Expected dtype int64 for index.")
    if i.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    i = i.reshape(-1)
    bad = (i >= size) | (i < (0 if name == "index_copy" else -size))  # as PyTorch
    if bad.any():
        prefix = f"{name}_(): " if name == "index_copy" else ""
        raise IndexError(
            f"{prefix}index {int(i[bad][0])} is out of bounds for dimension {dim} with size {size}"
        )
    return i


def _dim_mask(shape, dim, idx):
    m = xp.zeros(shape, dtype=bool)
    m[(slice(None),) * dim + (idx,)] = True
    return m


class IndexFill(Op):
    node_name = "IndexFillBackward0"
    formulas = {"self": "0 at the filled positions, else 1"}
    array_backward = True  # (_mask takes arrays)

    def forward(ctx, a, dim, idx, value):
        out = a.copy()
        out[(slice(None),) * dim + (idx,)] = value
        return out

    def backward(ctx, grad):
        dim, idx, _ = ctx.args
        return _mask(grad, ~_dim_mask(array_of(grad).shape, dim, idx))


class IndexFillTensor(Op):
    node_name = "IndexFillBackward1"
    operands = ("self", "value")
    formulas = {"self": "0 at the filled positions, else 1", "value": "1 at each filled position"}
    array_backward = True  # (_mask takes arrays; the sum through call1)

    def forward(ctx, a, v, dim, idx):
        return IndexFill.forward(ctx, a, dim, idx, v)

    def backward(ctx, grad):
        dim, idx = ctx.args
        m = _dim_mask(array_of(grad).shape, dim, idx)
        gv = call1(SumAll, _mask(grad, m), (None, False, None)) if ctx.edges[1] is not None else None
        return _mask(grad, ~m), gv


class IndexCopy(Op):
    node_name = "IndexCopyBackward0"
    operands = ("self", "source")
    formulas = {"self": "0 at the copied positions, else 1", "source": "grad at index"}
    array_backward = True  # (_mask takes arrays; the index_select through call1)

    def forward(ctx, a, src, dim, idx):
        out = a.copy()
        out[(slice(None),) * dim + (idx,)] = src
        return out

    def backward(ctx, grad):
        dim, idx = ctx.args
        shape = array_of(grad).shape
        gs = None
        if ctx.edges[1] is not None:  # (a 0-d self: selected from it as one element, as index_select)
            gs = call1(IndexSelect, grad.reshape(shape or (1,)), (dim, idx))
            if not shape:
                gs = gs.reshape(() if idx.size == 1 else (-1,))
        return _mask(grad, ~_dim_mask(shape, dim, idx)), gs


def index_fill(input, dim, index, value):
    a = input._data
    dim = wrap_dim(dim, max(a.ndim, 1))
    idx = _index(index, dim, a.shape[dim] if a.ndim else 1, "index_fill")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(
                "index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.ndim} dimension(s)."
            )
        v = value._data.astype(a.dtype)
        return apply(IndexFillTensor, (input, value), (a, v), (dim, idx))
    return apply(IndexFill, (input,), (a,), (dim, idx, value))


def index_copy(input, dim, index, source):
    a = input._data
    dim = wrap_dim(dim, max(a.ndim, 1))
    size = a.shape[dim] if a.ndim else 1
    s = source._data
    n = index._data.size if isinstance(index, Tensor) else 0
    sdim = s.shape[dim] if s.ndim > dim else 1
    if n != sdim:
        raise IndexError(
            f"index_copy_(): Number of indices ({n}) should be equal to source.size(dim) ({sdim})"
        )
    if s.dtype != a.dtype:
        raise RuntimeError(
            "index_copy_(): self and source expected to have the same dtype, but got (self) "
            f"{_dtype._FROM_NP[a.dtype]._short} and (source) {_dtype._FROM_NP[s.dtype]._short}"
        )
    idx = _index(index, dim, size, "index_copy")
    return apply(IndexCopy, (input, source), (a, s), (dim, idx))


method("index_fill")(index_fill)
method("index_copy")(index_copy)
Tensor.index_fill_ = inplace("index_fill_", index_fill)
Tensor.index_copy_ = inplace("index_copy_", index_copy)


# ---- masked_scatter --------------------------------------------------------------------------
class MaskedScatter(Op):
    """source's leading elements, in order, at the positions where mask (broadcast) is True."""

    node_name = "MaskedScatterBackward0"
    operands = ("self", "source")
    formulas = {"self": "1 where mask is False", "source": "grad at the masked positions"}
    array_backward = True  # (_mask and put take arrays; the pick through call1)

    def forward(ctx, a, src, mask):
        shape = xp.broadcast_shapes(a.shape, mask.shape)
        out = xp.broadcast_to(a, shape).copy()
        m = xp.broadcast_to(mask, shape)
        out[m] = src.reshape(-1)[: int(m.sum())]
        if ctx is not None:
            ctx.extra = m
        return out

    def backward(ctx, grad):
        m = ctx.extra
        g_src = None
        if ctx.edges[1] is not None:
            shape = ctx.metas[1][0]
            pos = xp.flatnonzero(m)  # the masked positions, in order
            picked = call1(Index, grad.reshape(-1), ((None, (pos,)),))
            size = 1
            for d in shape:
                size *= d
            # source's leading elements: zeros after them
            g_src = put(picked, (size,), (slice(0, pos.size),), False, False).reshape(shape)
        return _mask(grad, ~m), g_src


def masked_scatter(input, mask, source):
    a, m, s = input._data, mask._data, source._data
    if m.dtype != bool:
        raise RuntimeError(
            "masked_scatter_ only supports boolean masks, but got mask with dtype "
            f"{_dtype._FROM_NP[m.dtype]._short}"
        )
    if s.dtype != a.dtype:
        raise RuntimeError(
            "masked_scatter: expected self and source to have same dtypes but got"
            f"{_dtype._FROM_NP[a.dtype]._short} and {_dtype._FROM_NP[s.dtype]._short}"
        )
    try:
        shape = xp.broadcast_shapes(a.shape, m.shape)
    except ValueError:
        raise broadcast_error(m.shape, a.shape) from None
    if int(xp.broadcast_to(m, shape).sum()) > s.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return apply(MaskedScatter, (input, source), (a, s), (m,))


method("masked_scatter")(masked_scatter)
Tensor.masked_scatter_ = inplace("masked_scatter_", masked_scatter)
