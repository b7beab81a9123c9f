"""Small helpers shared by the layer modules (conv, norm, rnn, attention)."""
from ..._backend import xp
from ..._dtype import defaults, to_dtype
from ..._tensor import Tensor
from ..parameter import Parameter


def ntuple(n):
    """PyTorch's _single/_pair: repeat an int n times, keep an iterable as a tuple."""

    def parse(x):
        if isinstance(x, (tuple, list)):
            return tuple(x)
        return (x,) * n

    return parse


def empty_param(shape, dtype=None):
    """An uninitialised Parameter (reset_parameters fills it)."""
    d = defaults.float if dtype is None else to_dtype(dtype)
    return Parameter(Tensor._make(xp.empty(tuple(shape), dtype=d.np)))


def filled(shape, value, dtype=None):
    """A plain Tensor (for buffers) of the given value."""
    d = defaults.float if dtype is None else to_dtype(dtype)
    return Tensor._make(xp.full(tuple(shape), value, dtype=d.np))
