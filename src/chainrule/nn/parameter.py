"""nn.Parameter: a Tensor that a Module registers as a learnable parameter."""
from .._backend import xp
from .._tensor import Tensor

__all__ = ["Buffer", "Parameter"]


class Parameter(Tensor):
    """A leaf Tensor that shares ``data``'s storage and requires grad by default.

    Ops on a Parameter return plain Tensors (every op builds its result with
    ``Tensor._make``), as in PyTorch.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = Tensor._make(xp.empty((0,), dtype=_default_float()))
        if not isinstance(data, Tensor):
            raise TypeError(
                f"Parameter(): argument 'data' must be Tensor, not {type(data).__name__}"
            )
        p = cls._make(data._data)
        p._version = data._version  # same storage, same version counter
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(Tensor._make(self._data.copy()), self._requires_grad)
        if self._grad is not None:
            p._grad = Tensor._make(self._grad._data.copy())
        memo[id(self)] = p
        return p


class Buffer(Tensor):
    """``nn.Buffer(data, persistent=True)``: marks a tensor to be registered as a buffer
    when assigned to a Module attribute. Like PyTorch, the module stores a plain Tensor."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = Tensor._make(xp.empty((0,), dtype=_default_float()))
        b = cls._make(data._data)
        b._version = data._version
        b._requires_grad = data._requires_grad
        b.persistent = persistent
        return b

    def __init__(self, data=None, *, persistent=True):
        pass


def _default_float():
    from .. import _dtype

    return _dtype.defaults.float.np
