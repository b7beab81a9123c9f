"""dtypes and PyTorch's type-promotion rules.

A ``dtype`` prints as ``torch.float32`` so that output matches PyTorch's text exactly.
Promotion follows c10's ResultTypeState: operands are ranked in three tiers (tensors
with dimensions, 0-d tensors, Python scalars); a lower tier only changes the result if
it is of a higher *category* (bool < integer < floating).
"""
from ._backend import xp


class dtype:
    __slots__ = ("_short", "category", "is_floating_point", "is_signed", "itemsize", "name", "np")

    def __init__(self, name, np_dtype, category, short):
        self.name = name
        self.np = xp.dtype(np_dtype)
        self.category = category  # 0 bool, 1 integer, 2 floating
        self.is_floating_point = category == 2
        self.is_signed = category == 2 or (category == 1 and self.np.kind == "i")
        self.itemsize = self.np.itemsize
        self._short = short  # PyTorch's ScalarType name, used in error messages

    def __repr__(self):
        return "torch." + self.name

    __str__ = __repr__

    def __reduce__(self):
        return (_by_name, (self.name,))

    @property
    def is_complex(self):
        return False

    def to_real(self):
        return self


float32 = dtype("float32", "float32", 2, "Float")
float64 = dtype("float64", "float64", 2, "Double")
float16 = dtype("float16", "float16", 2, "Half")
int64 = dtype("int64", "int64", 1, "Long")
int32 = dtype("int32", "int32", 1, "Int")
int16 = dtype("int16", "int16", 1, "Short")
int8 = dtype("int8", "int8", 1, "Char")
uint8 = dtype("uint8", "uint8", 1, "Byte")
bool_ = dtype("bool", "bool", 0, "Bool")

# PyTorch's aliases
float = float32
double = float64
half = float16
long = int64
int = int32
short = int16

ALL = (float32, float64, float16, int64, int32, int16, int8, uint8, bool_)
_FROM_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}


def _by_name(name):
    return _BY_NAME[name]


class _Defaults:
    float = float32


defaults = _Defaults()


def get_default_dtype():
    return defaults.float


def set_default_dtype(d):
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    defaults.float = d
    _cache.clear()


def from_numpy_dtype(np_dtype):
    """The chainrule dtype of a NumPy dtype; TypeError for ones PyTorch lacks."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        pass
    try:
        return _FROM_NP[xp.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(
            f"can't convert np.ndarray of type {np_dtype}. The only supported types are: "
            "float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
        ) from None


def to_dtype(d):
    """Accept a chainrule dtype, a NumPy dtype or a Python type (float, int, bool)."""
    if isinstance(d, dtype):
        return d
    if d is None:
        return None
    import builtins

    if d is builtins.float:
        return float64
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool_
    return from_numpy_dtype(d)


def _promote_pair(a, b):
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    return _FROM_NP[xp.promote_types(a.np, b.np)]


def promote_types(type1, type2):
    return _promote_pair(type1, type2)


def _combine(higher, lower):
    # c10::combine_categories
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.category == 2:
        return higher
    if higher is bool_ or lower.category == 2:
        return _promote_pair(higher, lower)
    return higher


def scalar_dtype(x):
    """The dtype a Python scalar takes when wrapped (float scalars take the default)."""
    import builtins

    t = type(x)
    if t is builtins.bool or t is xp.bool_:
        return bool_
    if t is builtins.int:
        return int64
    if t is builtins.float:
        return defaults.float
    if isinstance(x, xp.generic):
        d = from_numpy_dtype(x.dtype)
        return defaults.float if d.is_floating_point else d
    raise TypeError(f"expected a number, got {type(x).__name__}")


_cache = {}


def _key(o):
    d = getattr(o, "_data", None)
    if d is not None:
        return (_FROM_NP[d.dtype], d.ndim == 0)
    return scalar_dtype(o)


def result_type(*operands):
    """torch.result_type over Tensors and Python scalars (cached by operand signature)."""
    key = tuple(map(_key, operands))
    r = _cache.get(key)
    if r is None:
        dim = zero = wrapped = None
        for k in key:
            if isinstance(k, tuple):
                if k[1]:
                    zero = k[0] if zero is None else _promote_pair(zero, k[0])
                else:
                    dim = k[0] if dim is None else _promote_pair(dim, k[0])
            else:
                wrapped = k if wrapped is None else _promote_pair(wrapped, k)
        r = _cache[key] = _combine(dim, _combine(zero, wrapped))
    return r
