"""dtype conversion and copies: to, type casts, clone, contiguous; metadata queries."""
from .. import _dtype
from .._tensor import Tensor, device
from ..autograd.graph import apply
from ._core import Op, method

__all__ = [
    "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor", "HalfTensor",
    "IntTensor", "LongTensor", "ShortTensor", "clone",
]


class ToCopy(Op):
    node_name = "ToCopyBackward0"
    formulas = {"self": "1 (cast back to the input's dtype)"}
    array_backward = True

    def forward(ctx, a, npd):
        return a.astype(npd)

    def backward(ctx, grad):
        return grad  # the engine casts it back to the operand's dtype


class Clone(Op):
    node_name = "CloneBackward0"
    formulas = {"self": "1"}
    array_backward = True

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
            _check_device(a)
        elif isinstance(a, int) and not isinstance(a, bool):
            raise RuntimeError("Cannot access accelerator device when none is available.")  # noqa: TRY004
        elif a is not None and not isinstance(a, bool):
            dt = _dtype.to_dtype(a)
    if kwargs.get("device") is not None:
        _check_device(kwargs["device"])
    return dt


def _check_device(d):
    d = device(d)
    if d.type == "cuda":
        raise AssertionError("Torch not compiled with CUDA enabled")
    if d.type != "cpu":
        raise RuntimeError(f"chainrule runs on the CPU only; got device '{d}'")


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
    if isinstance(dtype, _LegacyType):  # x.type(torch.LongTensor)
        dtype = dtype._dtype
    if isinstance(dtype, str):  # 'torch.DoubleTensor'
        if dtype not in _BY_TYPE_NAME:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = _BY_TYPE_NAME[dtype]
    return to(self, dtype)


_BY_TYPE_NAME = {"torch." + d._short + "Tensor": d for d in _dtype.ALL}


class _LegacyType(type):
    """torch.FloatTensor and friends: calling makes a tensor of that dtype (from data, or
    zero-filled where PyTorch leaves memory uninitialised); isinstance checks the dtype."""

    def __call__(cls, *args, device=None):
        if len(args) == 1 and not isinstance(args[0], int):
            from .creation import tensor

            data = args[0]
            if isinstance(data, Tensor):  # an alias, and only of the same dtype
                if data.dtype is not cls._dtype:
                    raise TypeError(
                        f"expected TensorOptions({_options(cls._dtype)}) (got TensorOptions("
                        f"{_options(data.dtype)}))"
                    )
                return data.detach()
            return tensor(data, dtype=cls._dtype, device=device)
        if not args:
            args = (0,)
        from .creation import zeros

        return zeros(*args, dtype=cls._dtype, device=device)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls._dtype

    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"


_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
              "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
              "bool": "bool"}


def _options(d):
    return (f"dtype={_CPP_NAMES[d.name]}, device=cpu, layout=Strided, requires_grad=false "
            "(default), pinned_memory=false (default), memory_format=(nullopt)")


def _legacy(name, d):
    return _LegacyType(name, (), {"_dtype": d, "dtype": d, "__module__": "torch"})


FloatTensor = _legacy("FloatTensor", _dtype.float32)
DoubleTensor = _legacy("DoubleTensor", _dtype.float64)
HalfTensor = _legacy("HalfTensor", _dtype.float16)
LongTensor = _legacy("LongTensor", _dtype.int64)
IntTensor = _legacy("IntTensor", _dtype.int32)
ShortTensor = _legacy("ShortTensor", _dtype.int16)
CharTensor = _legacy("CharTensor", _dtype.int8)
ByteTensor = _legacy("ByteTensor", _dtype.uint8)
BoolTensor = _legacy("BoolTensor", _dtype.bool_)


@method("contiguous")
def contiguous(self, memory_format=None):
    return self if self._data.flags.c_contiguous else clone(self)


@method("type_as")
def type_as(self, other):
    return to(self, other.dtype)


# ---- metadata PyTorch code asks for (one layout, one device, no conjugate/negative views) ----
Tensor.nbytes = property(lambda self: self._data.nbytes)
Tensor.itemsize = property(lambda self: self._data.itemsize)
Tensor.is_sparse = property(lambda self: False)
Tensor.is_quantized = property(lambda self: False)
Tensor.is_meta = property(lambda self: False)


@method("is_signed")
def is_signed(self):
    return self.dtype.is_signed


@method("get_device")
def get_device(self):
    return -1  # PyTorch's answer for CPU tensors


@method("storage_offset")
def storage_offset(self):
    base = self._data
    while base.base is not None and hasattr(base.base, "__array_interface__"):
        base = base.base
    start = self._data.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    return start // self._data.itemsize


@method("resolve_conj", "resolve_neg")
def resolve_conj(self):
    return self
