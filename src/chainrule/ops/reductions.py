"""Reductions: sum, mean, ... (forward beside backward)."""
from .. import _dtype
from .._backend import xp
from .._tensor import Tensor
from ..autograd.graph import apply
from ._core import Op, dims_tuple, method

__all__ = ["sum", "mean", "sum_to_size"]


def _expand_back(grad, shape, axes, keepdim):
    """Broadcast a reduced gradient back over the reduced axes."""
    if not keepdim and axes:
        grad = grad.reshape(tuple(1 if i in axes else s for i, s in enumerate(shape)))
    return grad.expand(shape)


class Sum(Op):
    node_name = "SumBackward1"
    formulas = {"self": "1"}

    def forward(ctx, a, axes, keepdim, dtype):
        return xp.sum(a, axis=axes, keepdims=keepdim, dtype=dtype)

    def backward(ctx, grad):
        axes, keepdim, _ = ctx.args
        return _expand_back(grad, ctx.metas[0][0], axes, keepdim)


class SumAll(Sum):
    node_name = "SumBackward0"


class SumToSize(Op):
    """Sum a broadcast gradient back to an operand's shape (the engine's one unbroadcast)."""

    node_name = "SumBackward1"
    formulas = {"self": "1"}

    def forward(ctx, a, shape):
        lead = a.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            i + lead for i, s in enumerate(shape) if s == 1 and a.shape[i + lead] != 1
        )
        out = xp.sum(a, axis=axes, keepdims=True) if axes else a
        return out.reshape(shape)

    def backward(ctx, grad):
        return grad.expand(ctx.metas[0][0])


def _sum_dtype(x, dtype):
    if dtype is not None:
        return _dtype.to_dtype(dtype).np
    k = x._data.dtype.kind
    return xp.int64 if k in "biu" else None


def sum(input, dim=None, keepdim=False, *, dtype=None):
    nd = input._data.ndim
    if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0):
        axes = tuple(range(nd))
        op = SumAll if dim is None else Sum
        return apply(op, (input,), (input._data,), (axes if dim is not None else None, False, _sum_dtype(input, dtype)))
    axes = dims_tuple(dim, nd)
    return apply(Sum, (input,), (input._data,), (axes, keepdim, _sum_dtype(input, dtype)))


def sum_to_size(input, *size):
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    if tuple(shape) == input._data.shape:
        return input
    return apply(SumToSize, (input,), (input._data,), (tuple(shape),))


class Mean(Op):
    node_name = "MeanBackward1"
    formulas = {"self": "1 / N"}

    def forward(ctx, a, axes, keepdim, dtype):
        return xp.mean(a, axis=axes, keepdims=keepdim, dtype=dtype)

    def backward(ctx, grad):
        axes, keepdim, _ = ctx.args
        shape = ctx.metas[0][0]
        n = 1
        for i in (axes if axes is not None else range(len(shape))):
            n *= shape[i]
        return _expand_back(grad, shape, axes or (), keepdim) / n


class MeanAll(Mean):
    node_name = "MeanBackward0"


def mean(input, dim=None, keepdim=False, *, dtype=None):
    d = _dtype.to_dtype(dtype) if dtype is not None else input.dtype
    if not d.is_floating_point:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {d._short}"
        )
    data = input._data if input._data.dtype == d.np else input._data.astype(d.np)
    if dim is None:
        return apply(MeanAll, (input,), (data,), (None, False, None))
    axes = dims_tuple(dim, input._data.ndim)
    return apply(Mean, (input,), (data,), (axes, keepdim, None))


method("sum")(sum)
method("mean")(mean)
method("sum_to_size")(sum_to_size)
