"""dtype conversion and copies: to, type casts, clone, contiguous."""
from .. import _dtype
from .._tensor import Tensor, device
from ..autograd.graph import apply
from ._core import Op, method

__all__ = ["clone"]


class ToCopy(Op):
    node_name = "ToCopyBackward0"
    formulas = {"self": "1 (cast back to the input's dtype)"}

    def forward(ctx, a, npd):
        return a.astype(npd)

    def backward(ctx, grad):
        return grad  # the engine casts it back to the operand's dtype


class Clone(Op):
    node_name = "CloneBackward0"
    formulas = {"self": "1"}

    def forward(ctx, a):
        return a.copy()

    def backward(ctx, grad):
        return grad


def clone(input, *, memory_format=None):
    return apply(Clone, (input,), (input._data,))


def _parse_to(args, kwargs):
    dt = kwargs.get("dtype")
    for a in args:
        if isinstance(a, _dtype.dtype):
            dt = a
        elif isinstance(a, Tensor):
            dt = a.dtype
        elif isinstance(a, (str, device)):
            d = device(a)
            if d.type != "cpu":
                raise RuntimeError(
                    "Torch not compiled with CUDA enabled" if d.type == "cuda"
                    else f"chainrule runs on the CPU only; got device '{d}'"
                )
        elif a is not None and not isinstance(a, bool):
            dt = _dtype.to_dtype(a)
    d = kwargs.get("device")
    if d is not None and device(d).type != "cpu":
        raise RuntimeError("Torch not compiled with CUDA enabled")
    return dt


def to(self, *args, copy=False, non_blocking=False, **kwargs):
    dt = _parse_to(args, kwargs)
    if dt is None or dt.np == self._data.dtype:
        return clone(self) if copy else self
    return apply(ToCopy, (self,), (self._data,), (dt.np,))


def _caster(d):
    def cast(self, memory_format=None):
        return to(self, d)

    return cast


method("to")(to)
method("clone")(clone)
for _name, _d in [
    ("float", _dtype.float32), ("double", _dtype.float64), ("half", _dtype.float16),
    ("long", _dtype.int64), ("int", _dtype.int32), ("short", _dtype.int16),
    ("char", _dtype.int8), ("byte", _dtype.uint8), ("bool", _dtype.bool_),
]:
    setattr(Tensor, _name, _caster(_d))


@method("type")
def type_(self, dtype=None, non_blocking=False):
    from .._printing import type_name

    if dtype is None:
        return type_name(self)
    return to(self, dtype)


@method("contiguous")
def contiguous(self, memory_format=None):
    return self if self._data.flags.c_contiguous else clone(self)


@method("type_as")
def type_as(self, other):
    return to(self, other.dtype)
