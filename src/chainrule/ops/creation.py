"""Making tensors: from data, filled, ranges, random; the random generator.

Signatures, dtype inference and error wording follow PyTorch. What differs: random
numbers come from NumPy's PCG64 (``Generator``), so a seed gives reproducible values
that are not PyTorch's; ``device`` may only be the CPU; ``layout``/``pin_memory``/
``memory_format`` are accepted and ignored (there is one layout, strided).
"""
import builtins
import math
import warnings

from .. import _dtype
from .._backend import ndarray, xp
from .._tensor import Tensor
from .._tensor import device as _device_cls
from ._core import method

__all__ = [
    "Generator",
    "arange",
    "as_tensor",
    "bernoulli",
    "empty",
    "empty_like",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "get_rng_state",
    "initial_seed",
    "linspace",
    "logspace",
    "manual_seed",
    "multinomial",
    "normal",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "randperm",
    "seed",
    "set_rng_state",
    "tensor",
    "zeros",
    "zeros_like",
]

_SEQ = (list, tuple)


# ---- shared pieces ----------------------------------------------------------------------
def _check_device(device):
    if device is not None and _device_cls(device).type != "cpu":
        if _device_cls(device).type == "cuda":
            raise AssertionError("Torch not compiled with CUDA enabled")
        raise RuntimeError(f"chainrule runs on the CPU only; got device '{device}'")


def _finish(arr, requires_grad, device=None):
    """Wrap a freshly made array; the checks every factory shares."""
    _check_device(device)
    t = Tensor._make(arr)
    if requires_grad:
        if arr.dtype.kind != "f":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t._requires_grad = True
    return t


def _size(size, fname):
    """``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(torch.Size(...))`` -> (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (_SEQ, Tensor)):
        size = size[0]
    if isinstance(size, Tensor):
        size = size.tolist()
    out = []
    for s in size:
        if isinstance(s, builtins.bool) or not isinstance(s, (builtins.int, xp.integer, Tensor)):
            raise TypeError(
                f"{fname}(): argument 'size' (position 1) must be tuple of ints, not {type(s).__name__}"
            )
        out.append(builtins.int(s))
    for s in out:
        if s < 0:
            if fname == "zeros":  # PyTorch's zeros has its own check and wording
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {out}")
    return tuple(out)


def _np_dtype(dtype, default=None):
    """The NumPy dtype of a ``dtype=`` argument, or of ``default`` (the default float)."""
    if dtype is None:
        return (default or _dtype.defaults.float).np
    return _dtype.to_dtype(dtype).np


def _not_implemented(kernel, npd):
    return NotImplementedError(f'"{kernel}" not implemented for \'{_dtype._FROM_NP[npd]._short}\'')


def _number(x):
    """A Python number from a number, NumPy scalar or one-element tensor."""
    if isinstance(x, Tensor):
        return x.item()
    if isinstance(x, xp.generic):
        return x.item()
    return x


# ---- from data --------------------------------------------------------------------------
_SCALAR_DTYPES = {builtins.bool: _dtype.bool_, builtins.int: _dtype.int64}


def _leaf_dtype(v):
    d = _SCALAR_DTYPES.get(type(v))
    if d is not None:
        return d
    if isinstance(v, builtins.float):
        # np.float64 is a float subclass but keeps its own dtype, as in PyTorch
        return _dtype.float64 if isinstance(v, xp.generic) else _dtype.defaults.float
    if isinstance(v, (ndarray, xp.generic)):
        return _dtype.from_numpy_dtype(v.dtype)
    if isinstance(v, builtins.bool):
        return _dtype.bool_
    if isinstance(v, builtins.int):
        return _dtype.int64
    if isinstance(v, _SEQ):
        raise TypeError(f"'{type(v).__name__}' object cannot be interpreted as an integer")
    if isinstance(v, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(v).__name__}'")
    raise RuntimeError(f"Could not infer dtype of {type(v).__name__}")


def _tensor_scalar(t):
    if t._data.size != 1:
        if t._data.dtype.kind in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        raise ValueError("only one element tensors can be converted to Python scalars")
    return t._data.reshape(()).item()


def _scan(data):
    """Shape and inferred dtype of nested sequences, with PyTorch's errors for ragged data.

    Like PyTorch, the shape is read off the first element at each depth, then every
    sequence is checked against it; leaves promote (bool < int < float, NumPy scalars and
    tensors keep their own dtype). Returns (sizes, flat leaves, dtype or None if empty).
    """
    sizes = []
    x = data
    while isinstance(x, _SEQ):
        sizes.append(len(x))
        if not x:
            break
        x = x[0]
    level = [data]
    for dim, n in enumerate(sizes):
        nxt = []
        for s in level:
            if not isinstance(s, _SEQ):
                raise TypeError("not a sequence")
            if len(s) != n:
                raise ValueError(f"expected sequence of length {n} at dim {dim} (got {len(s)})")
            nxt.extend(s)
        level = nxt
    dt = None
    for i, v in enumerate(level):
        if isinstance(v, Tensor):  # a one-element tensor is read as a scalar of its dtype
            d = v.dtype
            level[i] = _tensor_scalar(v)
        else:
            d = _leaf_dtype(v)
        if d is not dt:
            dt = d if dt is None else _dtype.promote_types(dt, d)
    return sizes, level, dt


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """Always copies ``data``."""
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
            "or sourceTensor.detach().clone().requires_grad_(True), rather than "
            "torch.tensor(sourceTensor).",
            UserWarning,
            stacklevel=2,
        )
        data = data._data
    if isinstance(data, ndarray):
        _dtype.from_numpy_dtype(data.dtype)  # rejects dtypes PyTorch lacks
        arr = xp.array(data, dtype=None if dtype is None else _np_dtype(dtype))
    else:
        sizes, leaves, inferred = _scan(data)
        npd = _np_dtype(dtype, inferred)
        if leaves and isinstance(leaves[0], ndarray):
            parts = leaves
            if any(p.shape != parts[0].shape for p in parts):
                raise ValueError(
                    f"expected sequence of length {parts[0].shape[0] if parts[0].ndim else 0} at dim "
                    f"{len(sizes)} (got {next(p for p in parts if p.shape != parts[0].shape).shape})"
                )
            arr = xp.stack(parts).astype(npd, copy=False).reshape(tuple(sizes) + parts[0].shape)
        elif leaves:
            arr = xp.array(leaves, dtype=npd).reshape(sizes)
        else:
            arr = xp.empty(sizes, dtype=npd)
    return _finish(arr, requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    """Shares memory with a Tensor or ndarray of the requested dtype; copies otherwise."""
    _check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, ndarray):
        _dtype.from_numpy_dtype(data.dtype)
        arr = data if dtype is None else data.astype(_np_dtype(dtype), copy=False)
        return Tensor._make(arr)
    return tensor(data, dtype=dtype)


_NP_TYPES = "float64, float32, float16, int64, int32, int16, int8, uint8, and bool"


def from_numpy(ndarr):
    """Shares memory with the array, as PyTorch does."""
    if not isinstance(ndarr, ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarr).__name__})")
    if ndarr.dtype not in _dtype._FROM_NP:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{ndarr.dtype.type.__name__}. The only "
            f"supported types are: {_NP_TYPES}."
        )
    if any(s < 0 for s in ndarr.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative "
            "strides are not currently supported. (You can probably work around this by making a "
            "copy of your array  with array.copy().) "
        )
    return Tensor._make(ndarr)


# ---- filled -------------------------------------------------------------------------------
def zeros(*size, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    return _finish(xp.zeros(_size(size, "zeros"), dtype=_np_dtype(dtype)), requires_grad, device)


def ones(*size, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    return _finish(xp.ones(_size(size, "ones"), dtype=_np_dtype(dtype)), requires_grad, device)


def empty(*size, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    return _finish(xp.empty(_size(size, "empty"), dtype=_np_dtype(dtype)), requires_grad, device)


def _fill_dtype(value):
    # bool -> bool, int -> int64, float (Python or NumPy) -> the default float
    return _dtype.scalar_dtype(_number(value))


def full(size, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    if not isinstance(size, (_SEQ, Tensor)):
        raise TypeError(
            f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}"
        )
    value = _number(fill_value)
    npd = _np_dtype(dtype, _fill_dtype(value))
    return _finish(xp.full(_size((size,), "full"), value, dtype=npd), requires_grad, device)


def _like(input, dtype):
    return input._data.shape, (input._data.dtype if dtype is None else _np_dtype(dtype))


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    shape, npd = _like(input, dtype)
    return _finish(xp.zeros(shape, dtype=npd), requires_grad, device)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    shape, npd = _like(input, dtype)
    return _finish(xp.ones(shape, dtype=npd), requires_grad, device)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    shape, npd = _like(input, dtype)
    return _finish(xp.empty(shape, dtype=npd), requires_grad, device)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    shape, npd = _like(input, dtype)
    return _finish(xp.full(shape, _number(fill_value), dtype=npd), requires_grad, device)


# ---- Tensor.new_*: same dtype as self unless given, never attached to self's graph ----
def _new_dtype(self, dtype):
    return self.dtype if dtype is None else dtype


@method("new_tensor")
def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None,
               pin_memory=False):
    return tensor(data, dtype=_new_dtype(self, dtype), device=device, requires_grad=requires_grad)


@method("new_zeros")
def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False):
    return zeros(*size, dtype=_new_dtype(self, dtype), device=device, requires_grad=requires_grad)


@method("new_ones")
def new_ones(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False):
    return ones(*size, dtype=_new_dtype(self, dtype), device=device, requires_grad=requires_grad)


@method("new_empty")
def new_empty(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False):
    return empty(*size, dtype=_new_dtype(self, dtype), device=device, requires_grad=requires_grad)


@method("new_full")
def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False):
    return full(size, fill_value, dtype=_new_dtype(self, dtype), device=device,
                requires_grad=requires_grad)


# ---- ranges -------------------------------------------------------------------------------
def arange(start, end=None, step=1, *, dtype=None, layout=None, device=None, requires_grad=False,
           pin_memory=False):
    """Float if any bound or the step is a float, else int64; an integral ``dtype``
    truncates the bounds and step first (as PyTorch does). Differs: float values are
    ``start + i*step`` rounded once, so they may differ from PyTorch's in the last bit
    (PyTorch's own depend on the CPU's SIMD width)."""
    if end is None:
        start, end = 0, start
    start, end, step = _number(start), _number(end), _number(step)
    if dtype is None:
        is_float = any(isinstance(v, builtins.float) for v in (start, end, step))
        npd = _dtype.defaults.float.np if is_float else xp.dtype(xp.int64)
    else:
        npd = _np_dtype(dtype)
    if npd.kind == "b":
        raise _not_implemented("arange_cpu", npd)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:  # checked on the bounds as given, before any truncation
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if npd.kind in "iu":
        if not builtins.int(step):  # PyTorch's wording when truncation zeroes the step
            raise ValueError("step must be nonzero")
        start, end, step = builtins.int(start), builtins.int(end), builtins.int(step)
    n = math.ceil((end - start) / step)
    if npd.kind in "iu":
        arr = (start + step * xp.arange(n, dtype=xp.int64)).astype(npd, copy=False)
    else:  # computed in double, then rounded once (0.3 prints as 0.3000, as in PyTorch)
        arr = (start + step * xp.arange(n, dtype=xp.float64)).astype(npd, copy=False)
    return _finish(arr, requires_grad, device)


def _steps(steps):
    steps = _number(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return steps


def linspace(start, end, steps, *, dtype=None, layout=None, device=None, requires_grad=False):
    arr = xp.linspace(_number(start), _number(end), _steps(steps), dtype=xp.float64)
    return _finish(arr.astype(_np_dtype(dtype), copy=False), requires_grad, device)


def logspace(start, end, steps, base=10.0, *, dtype=None, layout=None, device=None,
             requires_grad=False):
    exps = xp.linspace(_number(start), _number(end), _steps(steps), dtype=xp.float64)
    arr = xp.power(xp.float64(base), exps)
    return _finish(arr.astype(_np_dtype(dtype), copy=False), requires_grad, device)


def eye(n, m=None, *, dtype=None, layout=None, device=None, requires_grad=False,
        pin_memory=False):
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is None:
        m = n
    elif m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    return _finish(xp.eye(n, m, dtype=_np_dtype(dtype)), requires_grad, device)


# ---- the random generator -----------------------------------------------------------------
class Generator:
    """A random number generator (NumPy's PCG64 underneath; PyTorch's streams differ)."""

    _DEFAULT_SEED = 67280421310721  # PyTorch's default initial seed

    def __init__(self, device="cpu"):
        _check_device(device)
        self.device = _device_cls(device)
        self.manual_seed(self._DEFAULT_SEED)

    def manual_seed(self, seed):
        seed = builtins.int(seed)
        self._seed = seed
        # NumPy seeds must be non-negative: map like PyTorch's uint64 wrap-around
        self._rng = xp.random.default_rng(seed & 0xFFFFFFFFFFFFFFFF)
        return self

    def seed(self):
        import random

        return self.manual_seed(random.getrandbits(63))._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The state as a uint8 tensor (its contents are NumPy's, not PyTorch's layout)."""
        import json

        state = json.dumps({"seed": self._seed, "bg": self._rng.bit_generator.state}).encode()
        return Tensor._make(xp.frombuffer(state, dtype=xp.uint8).copy())

    def set_state(self, new_state):
        import json

        if not isinstance(new_state, Tensor) or new_state._data.dtype != xp.uint8:
            raise TypeError("expected a torch.ByteTensor, but got " + type(new_state).__name__)
        try:
            state = json.loads(bytes(new_state._data.tolist()).decode())
            self._rng.bit_generator.state = state["bg"]
        except (ValueError, KeyError, TypeError):
            raise RuntimeError(
                f"Invalid RNG state: got {new_state._data.size} bytes that are not a chainrule "
                "generator state (from get_state())"
            ) from None
        self._seed = state["seed"]
        return self

    def __repr__(self):
        return f"<chainrule.Generator object at {hex(id(self))}>"


default_generator = Generator()


def manual_seed(seed):
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


def _rng(generator):
    return (generator or default_generator)._rng


def _float_dtype(dtype, kernel):
    npd = _np_dtype(dtype)
    if npd.kind != "f":
        raise _not_implemented(kernel, npd)
    return npd


def _uniform(shape, npd, generator):
    """U[0, 1) in dtype ``npd`` (never 1.0, even after rounding to half precision)."""
    rng = _rng(generator)
    if npd == xp.float16:
        arr = rng.random(shape, dtype=xp.float32).astype(xp.float16)
        arr[arr >= 1] = xp.nextafter(xp.float16(1), xp.float16(0))
        return arr
    return rng.random(shape, dtype=npd)


def _normal(shape, npd, generator):
    rng = _rng(generator)
    if npd == xp.float16:
        return rng.standard_normal(shape, dtype=xp.float32).astype(xp.float16)
    return rng.standard_normal(shape, dtype=npd)


def rand(*size, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    npd = _float_dtype(dtype, "check_uniform_bounds")
    return _finish(_uniform(_size(size, "rand"), npd, generator), requires_grad, device)


def randn(*size, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    npd = _float_dtype(dtype, "normal_kernel_cpu")
    return _finish(_normal(_size(size, "randn"), npd, generator), requires_grad, device)


def rand_like(input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    npd = _float_dtype(input.dtype if dtype is None else dtype, "check_uniform_bounds")
    return _finish(_uniform(input._data.shape, npd, generator), requires_grad, device)


def randn_like(input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    npd = _float_dtype(input.dtype if dtype is None else dtype, "normal_kernel_cpu")
    return _finish(_normal(input._data.shape, npd, generator), requires_grad, device)


def _integers(low, high, shape, npd, generator):
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    return _rng(generator).integers(low, high, shape, dtype=xp.int64).astype(npd, copy=False)


def randint(*args, size=None, generator=None, dtype=None, layout=None, device=None,
            requires_grad=False, pin_memory=False):
    """``randint(high, size)`` or ``randint(low, high, size)``; int64 unless ``dtype``."""
    if size is not None:
        args = (*args, size)
    if len(args) == 2:
        low, (high, size) = 0, args
    elif len(args) == 3:
        low, high, size = args
    else:
        raise TypeError(
            f"randint() received an invalid combination of arguments - got {len(args)} positional "
            "arguments, but expected one of: (int high, tuple of ints size, ...) or "
            "(int low, int high, tuple of ints size, ...)"
        )
    npd = _np_dtype(dtype, _dtype.int64)
    arr = _integers(_number(low), _number(high), _size((size,), "randint"), npd, generator)
    return _finish(arr, requires_grad, device)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None):
    """``randint_like(input, high)`` or ``randint_like(input, low, high)``."""
    if high is None:
        low, high = 0, low
    shape, npd = _like(input, dtype)
    arr = _integers(_number(low), _number(high), shape, npd, generator)
    return _finish(arr, requires_grad, device)


def randperm(n, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    n = _size((n,), "randperm")[0]
    arr = _rng(generator).permutation(n).astype(_np_dtype(dtype, _dtype.int64), copy=False)
    return _finish(arr, requires_grad, device)


_NORMAL_OVERLOADS = (
    " * (Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (float mean, float std, tuple of ints size, *, torch.Generator generator = None, "
    "Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, "
    "torch.device device = None, bool pin_memory = False, bool requires_grad = False)\n"
)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, layout=None, device=None,
           requires_grad=False, pin_memory=False):
    """All four overloads. Differs from PyTorch: the result is never recorded in the graph
    (PyTorch's gradient for tensor ``mean``/``std`` is zero or a reparameterisation)."""
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        if size is None:
            raise TypeError(
                "normal() received an invalid combination of arguments - got "
                f"({type(mean).__name__}, {type(std).__name__}), but expected one of:\n"
                + _NORMAL_OVERLOADS
            )
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        npd = _float_dtype(dtype, "normal_kernel_cpu")
        arr = _normal(_size((size,), "normal"), npd, generator) * npd.type(std) + npd.type(mean)
        return _finish(arr.astype(npd, copy=False), requires_grad, device)
    npd = (_dtype.result_type(mean, std) if mt and st else (mean if mt else std).dtype).np
    if npd.kind != "f":
        raise _not_implemented("normal_kernel_cpu", npd)
    m = mean._data if mt else mean
    s = std._data if st else std
    if st and (s < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if not st and s < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {s}")
    try:
        shape = xp.broadcast_shapes(xp.shape(m), xp.shape(s))
    except ValueError:
        from ._core import broadcast_error

        raise broadcast_error(xp.shape(m), xp.shape(s)) from None
    arr = (_normal(shape, npd, generator) * s + m).astype(npd, copy=False)
    return Tensor._make(arr)


@method("bernoulli")
def bernoulli(input, p=None, *, generator=None):
    """Samples 0/1 with probability ``input`` (or ``p``), in input's dtype."""
    a = input._data
    if a.dtype.kind != "f":
        raise _not_implemented("bernoulli_tensor_cpu_p_" if p is None else "bernoulli_scalar_cpu_", a.dtype)
    if p is None:
        if a.size and not ((a >= 0) & (a <= 1)).all():
            raise RuntimeError(
                "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
                "message be improved?  If so, please report an enhancement request to PyTorch.)"
            )
        prob = a
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        prob = p
    u = _rng(generator).random(a.shape)
    return Tensor._make((u < prob).astype(a.dtype))


@method("multinomial")
def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices drawn from the rows of ``input`` (unnormalised, non-negative weights)."""
    a = input._data
    if a.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    rows = a.reshape(-1, a.shape[-1]).astype(xp.float64)
    if not xp.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if not replacement and num_samples > a.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    sums = rows.sum(1)
    if (sums <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = _rng(generator)
    out = xp.empty((rows.shape[0], num_samples), dtype=xp.int64)
    for i, (row, total) in enumerate(zip(rows, sums)):
        p = row / total
        if not replacement and num_samples > xp.count_nonzero(p):
            # PyTorch then returns the zero-weight categories last; NumPy refuses, so order
            # the positive ones first and fill with the rest
            pos = rng.choice(a.shape[-1], xp.count_nonzero(p), replace=False, p=p)
            rest = xp.setdiff1d(xp.arange(a.shape[-1]), pos)
            out[i] = xp.concatenate([pos, rest])[:num_samples]
        else:
            out[i] = rng.choice(a.shape[-1], num_samples, replace=replacement, p=p)
    return Tensor._make(out.reshape(a.shape[:-1] + (num_samples,)))
