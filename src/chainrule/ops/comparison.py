"""Comparisons, logical and bitwise ops, and the float-class tests (isnan, isclose, ...).

None of these is differentiable (their results are bool or integer), so they run straight on
arrays and record nothing; operands are first promoted to their common dtype, as PyTorch
compares in it. ``nan_to_num`` is the one differentiable op here.
"""
# ruff: noqa: RUF022  (__all__ is grouped by kind, not sorted)
import builtins

from .. import _dtype
from .._backend import xp
from .._tensor import Tensor
from ..autograd.graph import array_of
from ._core import Op, _scalar_ok, broadcast_error, inplace, method, unary
from .arithmetic import inplace_op
from .pointwise import _mask

__all__ = [
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
    "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
    "bitwise_or", "bitwise_xor", "bitwise_not", "isnan", "isinf", "isfinite", "isposinf",
    "isneginf", "signbit", "nan_to_num", "nan_to_num_", "isclose", "allclose", "equal",
]


def _invalid_combination(name, input, other):
    raise TypeError(
        f"{name}() received an invalid combination of arguments - got (Tensor, "
        f"{type(other).__name__}), but expected one of:\n"
        " * (Tensor input, Tensor other, *, Tensor out = None)\n"
        " * (Tensor input, Number other, *, Tensor out = None)\n"
    )


def _operands(name, input, other):
    """The two operands' arrays, promoted to the common dtype (Python scalars stay weak)."""
    a = input._data
    if isinstance(other, Tensor):
        b = other._data
        if a.dtype is b.dtype:
            return a, b, _dtype._FROM_NP[a.dtype]
    elif not _scalar_ok(other):
        _invalid_combination(name, input, other)
    else:
        b = other
    dt = _dtype.result_type(input, other)
    npd = dt.np
    if a.dtype != npd:
        a = a.astype(npd)
    if isinstance(other, Tensor) and b.dtype != npd:
        b = b.astype(npd)
    return a, b, dt


def _run(fn, input, other, a, b):
    try:
        return Tensor._make(fn(a, b))
    except ValueError:
        raise broadcast_error(
            input._data.shape, other._data.shape if isinstance(other, Tensor) else ()
        ) from None


def _comparison(name, fn):
    def compare(input, other, *, out=None):
        a, b, _ = _operands(name, input, other)
        return _run(fn, input, other, a, b)

    compare.__name__ = compare.__qualname__ = name
    return compare


eq = _comparison("eq", xp.equal)
ne = not_equal = _comparison("ne", xp.not_equal)
lt = less = _comparison("lt", xp.less)
le = less_equal = _comparison("le", xp.less_equal)
gt = greater = _comparison("gt", xp.greater)
ge = greater_equal = _comparison("ge", xp.greater_equal)


def _logical(name, fn):
    def logical(input, other, *, out=None):
        if not isinstance(other, Tensor):
            raise TypeError(
                f"{name}(): argument 'other' (position 2) must be Tensor, not "
                f"{type(other).__name__}"
            )
        return _run(fn, input, other, input._data, other._data)

    logical.__name__ = logical.__qualname__ = name
    return logical


logical_and = _logical("logical_and", xp.logical_and)
logical_or = _logical("logical_or", xp.logical_or)
logical_xor = _logical("logical_xor", xp.logical_xor)


def logical_not(input, *, out=None):
    return Tensor._make(xp.logical_not(input._data))


def _refuse_float(dt, kernel):
    if dt.is_floating_point:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{dt._short}'")


def _bitwise(name, fn):
    kernel = name + "_cpu"

    def bitwise(input, other, *, out=None):
        if not isinstance(input, Tensor):  # reflected: number & tensor
            input, other = other, input
        a, b, dt = _operands(name, input, other)
        _refuse_float(dt, kernel)
        if not isinstance(other, Tensor) and dt.np != a.dtype:
            a = a.astype(dt.np)
        r = _run(fn, input, other, a, b)
        if r._data.dtype != dt.np:  # bool & python int: the scalar made it an int64 op
            r._data = r._data.astype(dt.np)
        return r

    bitwise.__name__ = bitwise.__qualname__ = name
    return bitwise


bitwise_and = _bitwise("bitwise_and", xp.bitwise_and)
bitwise_or = _bitwise("bitwise_or", xp.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", xp.bitwise_xor)


def bitwise_not(input, *, out=None):
    _refuse_float(input.dtype, "bitwise_not_cpu")
    return Tensor._make(xp.invert(input._data))


def _invert(self):
    if self._data.dtype.kind == "f":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return Tensor._make(xp.invert(self._data))


# ---- float classification ---------------------------------------------------------------
def _classify(name, fn, for_non_float):
    def classify(input):
        a = input._data
        if a.dtype.kind == "f":
            return Tensor._make(fn(a))
        return Tensor._make(xp.full(a.shape, for_non_float))

    classify.__name__ = classify.__qualname__ = name
    return classify


isnan = _classify("isnan", xp.isnan, False)
isinf = _classify("isinf", xp.isinf, False)
isfinite = _classify("isfinite", xp.isfinite, True)
isposinf = _classify("isposinf", xp.isposinf, False)
isneginf = _classify("isneginf", xp.isneginf, False)


def signbit(input):
    """True where the sign bit is set: -0.0 and negative NaNs included (bools: never)."""
    a = input._data
    return Tensor._make(xp.zeros(a.shape, bool) if a.dtype.kind == "b" else xp.signbit(a))


class NanToNum(Op):
    node_name = "NanToNumBackward0"
    formulas = {"self": "1 where self is finite, else 0"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a, nan, posinf, neginf):
        if a.dtype.kind != "f":
            return a.copy()
        return xp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    def backward(ctx, grad):
        return _mask(grad, xp.isfinite(array_of(ctx.saved[0])))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    return unary(NanToNum, input, nan, posinf, neginf)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input − other| ≤ atol + rtol·|other|, or exactly equal (so equal infinities match)."""
    a, b = input._data, other._data
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"{_dtype._FROM_NP[a.dtype]._short} did not match {_dtype._FROM_NP[b.dtype]._short}"
        )
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    if a.dtype.kind != "f":  # integers: the same test, in float64 (no overflow in x − y)
        a, b = a.astype(xp.float64), b.astype(xp.float64)
    return _run(lambda x, y: xp.isclose(x, y, rtol, atol, equal_nan), input, other, a, b)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other):
    """True when both have the same shape and elements (values compared after promotion)."""
    if input._data.shape != other._data.shape:
        return False
    a, b, _ = _operands("equal", input, other)
    return builtins.bool(xp.array_equal(a, b))


# ---- Tensor methods and operators --------------------------------------------------------
for _names, _fn in [
    (("eq",), eq), (("ne", "not_equal"), ne), (("lt", "less"), lt), (("le", "less_equal"), le),
    (("gt", "greater"), gt), (("ge", "greater_equal"), ge), (("logical_and",), logical_and),
    (("logical_or",), logical_or), (("logical_xor",), logical_xor),
    (("logical_not",), logical_not), (("bitwise_and",), bitwise_and),
    (("bitwise_or",), bitwise_or), (("bitwise_xor",), bitwise_xor),
    (("bitwise_not",), bitwise_not), (("isnan",), isnan), (("isinf",), isinf),
    (("isfinite",), isfinite), (("isposinf",), isposinf), (("isneginf",), isneginf),
    (("signbit",), signbit), (("nan_to_num",), nan_to_num), (("isclose",), isclose),
    (("allclose",), allclose), (("equal",), equal),
]:
    method(*_names)(_fn)
    if _fn not in (isnan, isinf, isfinite, isposinf, isneginf, signbit, isclose, allclose,
                   equal, nan_to_num):
        for _n in _names:
            inplace(_n + "_", _fn)
nan_to_num_ = inplace_op("nan_to_num_", nan_to_num)


def _operator(fn):
    # Anything but a Tensor or a number: Python's own answer, as in PyTorch (``t == None`` is
    # False, ``t < "x"`` a TypeError naming both types).
    def op(self, other):
        if other is None or not (isinstance(other, Tensor) or _scalar_ok(other)):
            return NotImplemented
        return fn(self, other)

    return op


Tensor.__eq__ = _operator(eq)
Tensor.__ne__ = _operator(ne)
Tensor.__lt__ = _operator(lt)
Tensor.__le__ = _operator(le)
Tensor.__gt__ = _operator(gt)
Tensor.__ge__ = _operator(ge)
Tensor.__and__ = Tensor.__rand__ = bitwise_and
Tensor.__or__ = Tensor.__ror__ = bitwise_or
Tensor.__xor__ = Tensor.__rxor__ = bitwise_xor
Tensor.__iand__ = Tensor.bitwise_and_
Tensor.__ior__ = Tensor.bitwise_or_
Tensor.__ixor__ = Tensor.bitwise_xor_
Tensor.__invert__ = _invert
