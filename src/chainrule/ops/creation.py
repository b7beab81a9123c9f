"""Making tensors: from data, filled, ranges, random; the random generator."""
import builtins

from .. import _dtype
from .._backend import xp, ndarray
from .._tensor import Tensor

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "randn", "manual_seed", "Generator"]


def _infer_dtype(data):
    """PyTorch's dtype inference for nested Python data: bool < int < float (the default)."""
    kind = 0
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, Tensor):
            return None
        elif isinstance(x, builtins.bool) or isinstance(x, xp.bool_):
            continue
        elif isinstance(x, (builtins.int, xp.integer)):
            kind = max(kind, 1)
        else:
            kind = 2
    return (_dtype.bool_, _dtype.int64, _dtype.defaults.float)[kind]


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    if isinstance(data, Tensor):
        arr = data._data.copy()
    elif isinstance(data, ndarray):
        arr = data.copy()
    else:
        if dtype is None:
            inferred = _infer_dtype(data)
            if inferred is None:  # a list of tensors
                arr = xp.array([t._data if isinstance(t, Tensor) else t for t in data])
            else:
                arr = xp.array(data, dtype=inferred.np)
        else:
            arr = xp.array(data)
    if dtype is not None:
        arr = arr.astype(_dtype.to_dtype(dtype).np, copy=False)
    else:
        _dtype.from_numpy_dtype(arr.dtype)  # rejects dtypes PyTorch lacks
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, ndarray):
        arr = data if dtype is None else data.astype(_dtype.to_dtype(dtype).np, copy=False)
        _dtype.from_numpy_dtype(arr.dtype)
        return Tensor._make(arr)
    return tensor(data, dtype=dtype)


def from_numpy(ndarr):
    """Shares memory with the array, as PyTorch does."""
    if not isinstance(ndarr, ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarr).__name__})")
    _dtype.from_numpy_dtype(ndarr.dtype)
    return Tensor._make(ndarr)


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(builtins.int(s) for s in size)


def _make(arr, requires_grad):
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _dt(dtype):
    return (_dtype.to_dtype(dtype) or _dtype.defaults.float).np


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None):
    return _make(xp.zeros(_shape(size), dtype=_dt(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None):
    return _make(xp.ones(_shape(size), dtype=_dt(dtype)), requires_grad)


class Generator:
    """A random number generator (NumPy's PCG64 underneath; PyTorch's streams differ)."""

    def __init__(self, device="cpu"):
        self._seed = 67280421310721
        self._rng = xp.random.default_rng(self._seed)

    def manual_seed(self, seed):
        self._seed = builtins.int(seed)
        self._rng = xp.random.default_rng(self._seed)
        return self

    def seed(self):
        import random

        return self.manual_seed(random.getrandbits(63))._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        import json

        state = json.dumps(self._rng.bit_generator.state).encode()
        return Tensor._make(xp.frombuffer(state, dtype=xp.uint8).copy())

    def set_state(self, new_state):
        import json

        self._rng.bit_generator.state = json.loads(bytes(new_state._data.tolist()).decode())
        return self


default_generator = Generator()


def manual_seed(seed):
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def _rng(generator):
    return (generator or default_generator)._rng


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    arr = _rng(generator).standard_normal(_shape(size), dtype=xp.float64).astype(_dt(dtype))
    return _make(arr, requires_grad)
