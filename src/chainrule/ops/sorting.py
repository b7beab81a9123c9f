"""Sorting and selection: sort, argsort, msort, topk, kthvalue, median, unique.

The differentiable ones return (values, indices); the gradient of values goes back to the
positions the indices name (a scatter into zeros), which is PyTorch's rule as well.
"""
from .._backend import xp
from .._tensor import Tensor, _wrap_dim
from ..autograd.graph import apply
from ._core import Op, method
from .indexing import _along
from .reductions import _return_type
from .shape import put

__all__ = ["argsort", "kthvalue", "median", "msort", "nanmedian", "sort", "topk", "unique"]

sort_type = _return_type("sort")
topk_type = _return_type("topk")
kthvalue_type = _return_type("kthvalue")
median_type = _return_type("median")
nanmedian_type = _return_type("nanmedian")


class _Select(Op):
    """Values picked along ``dim`` at ``indices`` (stashed in ctx.extra, keepdim layout)."""

    multi_output = True
    formulas = {"self": "1 at each selected position, 0 elsewhere"}
    array_backward = True  # (put takes arrays)

    def forward(ctx, a, dim, idx, keepdim):
        vals = xp.take_along_axis(a, idx, axis=dim)
        if ctx is not None:
            ctx.extra = idx
        out_idx = idx
        if not keepdim:
            vals, out_idx = xp.squeeze(vals, dim), xp.squeeze(idx, dim)
        return vals, out_idx.astype(xp.int64, copy=False)

    def backward(ctx, grad):
        dim, _, keepdim = ctx.args
        idx = ctx.extra
        if not keepdim:
            grad = grad.reshape(idx.shape)
        # zeros with the gradient put at the selected positions (each selected once): the
        # adjoint of gather, on a Tensor or an array alike
        return put(grad, ctx.metas[0][0], _along(dim, idx))


class SortSelect(_Select):
    node_name = "SortBackward0"


class TopkSelect(_Select):
    node_name = "TopkBackward0"


class KthvalueSelect(_Select):
    node_name = "KthvalueBackward0"


class MedianSelect(_Select):
    node_name = "MedianBackward1"


class NanmedianSelect(_Select):
    node_name = "NanmedianBackward1"


def _descending_key(a):
    """A key whose ascending stable order is a's descending order, NaN first (as PyTorch)."""
    if a.dtype.kind == "b":
        return ~a
    if a.dtype.kind == "u":
        return -(a.astype(xp.int64))
    key = -a
    if a.dtype.kind == "f":
        nan = xp.isnan(a)
        if nan.any():
            key = xp.where(nan, -xp.inf, key)
    return key


def _argsort(a, dim, descending):
    key = _descending_key(a) if descending else a
    return xp.argsort(key, axis=dim, kind="stable")


def _dim(input, dim):
    return _wrap_dim(dim, input._data.ndim) if input._data.ndim else 0


def _apply_select(op, input, dim, idx, keepdim, rtype):
    a = input._data
    if a.ndim == 0:
        vals, ind = apply(op, (input,), (a.reshape(1),), (0, idx.reshape(1), True))
        return rtype(vals.reshape(()), ind.reshape(()))
    vals, ind = apply(op, (input,), (a,), (dim, idx, keepdim))
    return rtype(vals, ind)


def sort(input, dim=-1, descending=False, stable=False):
    d = _dim(input, dim)
    a = input._data
    idx = _argsort(a, d, descending) if a.ndim else xp.zeros((), xp.int64)
    return _apply_select(SortSelect, input, d, idx, True, sort_type)


def argsort(input, dim=-1, descending=False, stable=False):
    a = input._data
    if a.ndim == 0:
        return Tensor._make(xp.zeros((), xp.int64))
    return Tensor._make(_argsort(a, _dim(input, dim), descending).astype(xp.int64))


def msort(input):
    return sort(input, dim=0).values


def topk(input, k, dim=-1, largest=True, sorted=True):
    a = input._data
    d = _dim(input, dim)
    n = a.shape[d] if a.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    idx = _argsort(a, d, largest) if a.ndim else xp.zeros((), xp.int64)
    if a.ndim:
        idx = xp.take(idx, xp.arange(k), axis=d)
    return _apply_select(TopkSelect, input, d, idx, True, topk_type)


def kthvalue(input, k, dim=-1, keepdim=False):
    a = input._data
    d = _dim(input, dim)
    n = a.shape[d] if a.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if a.ndim == 0:
        return _apply_select(KthvalueSelect, input, d, xp.zeros((), xp.int64), keepdim, kthvalue_type)
    idx = xp.take(_argsort(a, d, False), [k - 1], axis=d)
    return _apply_select(KthvalueSelect, input, d, idx, keepdim, kthvalue_type)


def _median(input, dim, keepdim, ignore_nan, op, rtype, name):
    a = input._data
    if dim is None:
        flat = input.reshape(-1)
        if flat._data.size == 0:
            raise IndexError(f"{name}() input tensor cannot be empty")
        r = _median(flat, 0, False, ignore_nan, op, rtype, name)
        return r.values
    d = _dim(input, dim)
    if a.ndim and a.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if a.ndim == 0:
        return _apply_select(op, input, d, xp.zeros((), xp.int64), keepdim, rtype)
    order = xp.argsort(a, axis=d, kind="stable")  # NaN sorts last
    if ignore_nan and a.dtype.kind == "f":
        valid = (~xp.isnan(a)).sum(axis=d, keepdims=True)
        pos = xp.maximum(valid - 1, 0) // 2
    else:
        n = a.shape[d]
        pos = xp.full([1 if i == d else s for i, s in enumerate(a.shape)], (n - 1) // 2)
        if a.dtype.kind == "f":  # any NaN in the slice: the median is NaN (PyTorch)
            nan_any = xp.isnan(a).any(axis=d, keepdims=True)
            pos = xp.where(nan_any, n - 1, pos)
    idx = xp.take_along_axis(order, pos, axis=d)
    return _apply_select(op, input, d, idx, keepdim, rtype)


def median(input, dim=None, keepdim=False):
    """The lower of the two middle values for even counts, as PyTorch."""
    return _median(input, dim, keepdim, False, MedianSelect, median_type, "median")


def nanmedian(input, dim=None, keepdim=False):
    return _median(input, dim, keepdim, True, NanmedianSelect, nanmedian_type, "nanmedian")


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Not differentiable (as in PyTorch); always sorted."""
    a = input._data
    res = xp.unique(a, return_inverse=return_inverse, return_counts=return_counts, axis=dim)
    if not isinstance(res, tuple):
        return Tensor._make(res)
    out = [Tensor._make(res[0])]
    if return_inverse:
        inv = res[1].reshape(a.shape if dim is None else (a.shape[dim],))
        out.append(Tensor._make(inv.astype(xp.int64)))
    if return_counts:
        out.append(Tensor._make(res[-1].astype(xp.int64)))
    return tuple(out)


for _f in (sort, argsort, msort, topk, kthvalue, median, nanmedian, unique):
    method(_f.__name__)(_f)
