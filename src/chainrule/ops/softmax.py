"""softmax and log_softmax: one fused, numerically stable node each.

The forward subtracts the running maximum before exponentiating, so logits of ±1e4 neither
overflow nor lose the answer. The backward rules use only the saved output and chainrule
ops, so they differentiate again (double backward).
"""
import warnings

from .. import _dtype
from .._backend import amax, amin, xp
from .._tensor import Tensor
from ..autograd.grad_mode import state as _grad_state
from ..autograd.graph import apply, array_of, like
from ._core import Op, method, wrap_dim
from .reductions import max_last, sum_last

__all__ = ["log_softmax", "softmax"]
__all_functional__ = ["softmax", "log_softmax", "softmin"]


def _sum(a, axis):
    """keepdims sum over ``axis`` (BLAS for the usual last axis, see reductions.sum_last)."""
    return sum_last(a) if axis == a.ndim - 1 else a.sum(axis, keepdims=True)


def _max(a, axis):
    """keepdims max over ``axis`` (see reductions.max_last for the usual last axis)."""
    return max_last(a) if axis == a.ndim - 1 else a.max(axis, keepdims=True)


# The dtypes softmax may exponentiate unshifted (float16's range is too narrow to be worth it)
_UNSHIFTED = (xp.float32, xp.float64)


class Softmax(Op):
    node_name = "SoftmaxBackward0"
    formulas = {"self": "y · (δ − y)  with y = softmax(self)"}
    saves_output = True
    array_backward = True  # (the rule takes arrays or Tensors)

    def forward(ctx, a, axis):
        if axis is None:  # 0-d
            return xp.ones_like(a)
        if not a.size:
            return a.copy()
        if a.dtype.type in _UNSHIFTED:
            # Without the shift first: exp(a) and its sums are as exact as exp(a - max) (more:
            # no rounded subtraction), provided no exp overflowed and every row's sum is at
            # least 2**-20, so that a term that fell below the normal range (imprecise, or 0)
            # is a probability below 2**20 times the smallest normal number (float32: 1e-32),
            # negligible in the shifted form as well. The row maxima and a broadcast pass are
            # half the work on short rows (attention).
            with xp.errstate(over="ignore", under="ignore"):
                e = xp.exp(a)
            s = _sum(e, axis)
            # (no exp overflowed; NaN fails)
            if amin(s, None) >= 2.0 ** -20 and amax(s, None) < xp.inf:
                e /= s
                return e
            xp.subtract(a, _max(a, axis), out=e)
        else:
            e = a - _max(a, axis)  # the one new buffer: everything else is in place
        xp.exp(e, out=e)
        e /= _sum(e, axis)
        return e

    def backward(ctx, grad):
        axis = ctx.args[0]
        if axis is None:
            return grad * 0
        if not _grad_state.enabled:  # plain backward: the same rule on arrays, one buffer
            g, yd = array_of(grad), ctx.out
            out = g * yd
            xp.subtract(g, _sum(out, axis), out=out)
            out *= yd
            return like(grad, out)
        y = ctx.output
        return y * (grad - (grad * y).sum(axis, True))


class LogSoftmax(Op):
    node_name = "LogSoftmaxBackward0"
    formulas = {"self": "δ − softmax(self)"}
    saves_output = True
    array_backward = True

    def forward(ctx, a, axis):
        if axis is None:
            return xp.zeros_like(a)
        if not a.size:
            return a.copy()
        s = a - _max(a, axis)
        s -= xp.log(_sum(xp.exp(s), axis))
        return s

    def backward(ctx, grad):
        axis = ctx.args[0]
        if axis is None:
            return grad * 0
        if not _grad_state.enabled:
            g = array_of(grad)
            out = xp.exp(ctx.out)
            out *= _sum(g, axis)
            xp.subtract(g, out, out=out)
            return like(grad, out)
        return grad - ctx.output.exp() * grad.sum(axis, True)


def _prepare(input, dim, dtype, kernel):
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{kernel}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}"
        )
    a = input._data
    if dtype is not None:
        npd = _dtype.to_dtype(dtype).np
        if a.dtype != npd:
            a = a.astype(npd)
    ax = wrap_dim(dim, a.ndim)
    if a.dtype.kind != "f":
        where = "lastdim_" if ax == a.ndim - 1 or a.ndim == 0 else ""
        raise NotImplementedError(
            f'"{kernel}_{where}kernel_impl" not implemented for \'{_dtype._FROM_NP[a.dtype]._short}\''
        )
    return a, (ax if a.ndim else None)


def _dim_dtype(name, input, dim, _stacklevel, dtype):
    # One signature serves torch.softmax(input, dim, dtype) and nn.functional's
    # softmax(input, dim=None, _stacklevel=3, dtype=None): a dtype in third place is a dtype.
    if _stacklevel is not None and not isinstance(_stacklevel, int):
        dtype, _stacklevel = _stacklevel, 3
    if dim is None:
        dim = _implicit_dim(name, input.ndim, (_stacklevel or 3) + 1)
    return dim, dtype


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """torch.softmax, Tensor.softmax and nn.functional.softmax in one function.

    Only nn.functional's form may omit ``dim`` in PyTorch; here any form may (with its
    deprecation warning and legacy choice of dim).
    """
    dim, dtype = _dim_dtype("softmax", input, dim, _stacklevel, dtype)
    a, axis = _prepare(input, dim, dtype, "softmax")
    return apply(Softmax, (input,), (a,), (axis,))


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    dim, dtype = _dim_dtype("log_softmax", input, dim, _stacklevel, dtype)
    a, axis = _prepare(input, dim, dtype, "log_softmax")
    return apply(LogSoftmax, (input,), (a,), (axis,))


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    dim, dtype = _dim_dtype("softmin", input, dim, _stacklevel, dtype)
    return softmax(-input, dim, dtype=dtype)


def _implicit_dim(name, ndim, stacklevel):
    # nn.functional's legacy rule for a missing dim, with PyTorch's deprecation warning.
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        UserWarning, stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


method("softmax")(softmax)
method("log_softmax")(log_softmax)
