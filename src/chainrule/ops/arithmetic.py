"""Arithmetic: add, sub, mul, div, pow, neg and their operators (forward beside backward)."""
# ruff: noqa: RUF022  (Op classes declare formulas as class dicts; __all__ is grouped)
import math

from .. import _dtype
from .._backend import xp
from .._tensor import Tensor
from ..autograd.graph import apply, array_of, call1, like
from ._core import (
    Op,
    _scalar_ok,
    binary,
    binary_operator,
    broadcast_error,
    check_operand,
    inplace,
    method,
    to_tensor,
    unary,
)

__all__ = [
    "add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide",
    "floor_divide", "remainder", "fmod", "pow", "float_power", "neg", "negative",
]


class Add(Op):
    node_name = "AddBackward0"
    operands = ("self", "other")
    formulas = {"self": "1", "other": "alpha"}
    array_backward = True

    def forward(ctx, a, b, alpha=1):
        return a + b if alpha == 1 else a + alpha * b

    def backward(ctx, grad):
        alpha = ctx.args[0] if ctx.args else 1
        return grad, (grad if alpha == 1 else grad * alpha)


class Sub(Op):
    node_name = "SubBackward0"
    operands = ("self", "other")
    formulas = {"self": "1", "other": "-alpha"}
    array_backward = True

    def forward(ctx, a, b, alpha=1):
        return a - b if alpha == 1 else a - alpha * b

    def backward(ctx, grad):
        alpha = ctx.args[0] if ctx.args else 1
        return grad, (-grad if alpha == 1 else grad * -alpha)


class RSub(Op):
    """``scalar - tensor``: PyTorch records it as rsub(tensor, scalar)."""

    node_name = "RsubBackward1"
    operands = ("self", "other")
    formulas = {"self": "-alpha"}
    array_backward = True

    def forward(ctx, a, b, alpha=1):
        return b - a if alpha == 1 else b - alpha * a

    def backward(ctx, grad):
        alpha = ctx.args[0] if ctx.args else 1
        return (-grad if alpha == 1 else grad * -alpha), None


class RSubTensor(RSub):
    node_name = "RsubBackward0"
    formulas = {"self": "-alpha", "other": "1"}

    def backward(ctx, grad):
        alpha = ctx.args[0] if ctx.args else 1
        return (-grad if alpha == 1 else grad * -alpha), grad


class Mul(Op):
    node_name = "MulBackward0"
    operands = ("self", "other")
    formulas = {"self": "other", "other": "self"}
    array_backward = True
    saves = (0, 1)
    grad_needs = ((1,), (0,))

    def forward(ctx, a, b):
        return a * b

    def backward(ctx, grad):
        a, b = ctx.saved  # (None where no recorded gradient needs it: see grad_needs)
        return None if b is None else grad * b, None if a is None else grad * a


class Div(Op):
    node_name = "DivBackward0"
    operands = ("self", "other")
    formulas = {"self": "1 / other", "other": "-self / other²"}
    array_backward = True
    saves = (0, 1)
    grad_needs = ((1,), (0, 1))

    def forward(ctx, a, b):
        return a / b

    def backward(ctx, grad):
        a, b = ctx.saved
        ea, eb = ctx.edges
        ga = grad / b if ea is not None else None
        gb = -grad * a / (b * b) if eb is not None else None
        return ga, gb


def _check_int_divisor(a, b):
    """Integer division by zero is an error in PyTorch (NumPy would quietly give 0)."""
    d = b if hasattr(b, "dtype") else a  # the arrays already share the result dtype
    if d.dtype.kind in "iub" and xp.any(b == 0):
        raise RuntimeError("ZeroDivisionError")


class FloorDivide(Op):
    """PyTorch records floor_divide with a node whose backward is an error (it is not
    differentiable there); ``div(rounding_mode='floor')`` is the differentiable form."""

    node_name = "torch::autograd::NotImplemented"
    operands = ("self", "other")
    formulas = {"self": "not implemented", "other": "not implemented"}
    array_backward = True  # (it raises in either form)

    def forward(ctx, a, b):
        _check_int_divisor(a, b)
        return xp.floor_divide(a, b)

    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


class DivRounding(Op):
    """div with rounding_mode 'trunc' or 'floor': piecewise constant, gradient zero."""

    node_name = "DivBackward2"
    operands = ("self", "other")
    formulas = {"self": "0", "other": "0"}
    array_backward = True

    def forward(ctx, a, b, mode):
        _check_int_divisor(a, b)
        if mode == "floor":
            return xp.floor_divide(a, b)
        if a.dtype.kind == "f":
            return xp.trunc(a / b)
        q = xp.floor_divide(a, b)  # integers: round toward zero without a float detour
        return q + ((q < 0) & (q * b != a))

    def backward(ctx, grad):
        z = like(grad, xp.zeros_like(array_of(grad)))
        return z, z


class Remainder(Op):
    """tensor % number."""

    node_name = "RemainderBackward0"
    operands = ("self", "other")
    formulas = {"self": "1", "other": "-floor(self / other)"}
    saves = (0, 1)
    array_backward = True

    def forward(ctx, a, b):
        _check_int_divisor(a, b)
        return xp.remainder(a, b)

    def backward(ctx, grad):
        a, b = ctx.saved
        gb = None
        if ctx.edges[1] is not None:
            gb = -grad * call1(_pointwise.Floor, a / b)
        return grad, gb


class RemainderTensor(Remainder):
    """tensor % tensor."""

    node_name = "RemainderBackward1"


class RRemainder(FloorDivide):
    """number % tensor: PyTorch has no derivative for it."""

    def forward(ctx, a, b):
        _check_int_divisor(b, a)  # b (the number) is the dividend here
        return xp.remainder(b, a)

    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::remainder is not implemented")


class Fmod(Remainder):
    node_name = "FmodBackward0"
    formulas = {"self": "1", "other": "-trunc(self / other)"}

    def forward(ctx, a, b):
        _check_int_divisor(a, b)
        return xp.fmod(a, b)

    def backward(ctx, grad):
        a, b = ctx.saved
        gb = -grad * call1(_pointwise.Trunc, a / b) if ctx.edges[1] is not None else None
        return grad, gb


class FmodTensor(Fmod):
    node_name = "FmodBackward1"


def _power(a, b):
    """a ** b, with PyTorch's integer rule for negative exponents (NumPy refuses them):
    1 stays 1, -1 alternates, every other base gives 0. ``b`` is an array of the result dtype."""
    if b.dtype.kind == "i":
        neg = b < 0
        if neg.any():
            r = xp.power(a, xp.where(neg, 0, b))
            alt = xp.where(a == 1, 1, xp.where(a == -1, 1 - 2 * (b & 1), 0))
            return xp.where(neg, alt, r).astype(r.dtype)
    return xp.power(a, b)


class PowScalar(Op):
    """tensor ** number."""

    node_name = "PowBackward0"
    formulas = {"self": "exponent · self^(exponent − 1)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a, exponent):
        if exponent == 2:
            return a * a  # exact and faster than the general power
        return xp.power(a, exponent)

    def backward(ctx, grad):
        (a,) = ctx.saved
        e = ctx.args[0]
        if e == 0:
            return grad * 0
        if e == 2:
            return grad * (a * 2.0)
        # (on arrays through this forward, not NumPy's **: that takes sqrt for 0.5, other bits)
        p = a ** (e - 1) if isinstance(a, Tensor) else PowScalar.forward(None, a, e - 1)
        return grad * (p * e)


class PowTensor(Op):
    """tensor ** tensor."""

    node_name = "PowBackward1"
    operands = ("self", "exponent")
    formulas = {"self": "exponent · self^(exponent − 1)", "exponent": "self^exponent · ln(self)"}
    saves = (0, 1)
    saves_output = True
    array_backward = True

    def forward(ctx, a, b):
        return _power(a, b)

    def backward(ctx, grad):
        a, b = ctx.saved
        ad, bd = array_of(a), array_of(b)
        where = _pointwise._where
        ga = gb = None
        if ctx.edges[0] is not None:
            ga = grad * where(bd != 0, b * a ** (b - 1), 0.0)
        if ctx.edges[1] is not None:
            # d/db a^b = a^b ln a; PyTorch defines it as 0 where a == 0 and b >= 0.
            gb = grad * where((ad != 0) | (bd < 0), ctx.output * call1(_pointwise.Log, a), 0.0)
        return ga, gb


class RPow(Op):
    """number ** tensor: the tensor exponent is the operand, the base an argument."""

    node_name = "PowBackward2"
    operands = ("exponent",)
    formulas = {"exponent": "self^exponent · ln(self)"}
    saves_output = True
    array_backward = True

    def forward(ctx, b, base):
        return _power(base, b)

    def backward(ctx, grad):
        base = ctx.args[0]
        if base == 0:
            return grad * 0
        return grad * ctx.output * math.log(base)


class Neg(Op):
    node_name = "NegBackward0"
    formulas = {"self": "-1"}
    array_backward = True

    def forward(ctx, a):
        return -a

    def backward(ctx, grad):
        return -grad


# ---- public functions -----------------------------------------------------------------
def _is_bool(x):
    return x._data.dtype.kind == "b" if isinstance(x, Tensor) else isinstance(x, bool)


def _check_sub(a, b):
    """PyTorch refuses subtraction with any bool operand (a Python bool counts as one)."""
    ba, bb = _is_bool(a), _is_bool(b)
    if ba and bb:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    if ba or bb:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )


def add(input, other, *, alpha=1, out=None):
    check_operand(other, "add")
    if not isinstance(input, Tensor):
        input, other = other, input  # number + tensor
    if alpha == 1:
        return binary(Add, input, other)
    return _with_alpha(Add, input, other, alpha)


def _with_alpha(op, a, b, alpha):
    dt = _dtype.result_type(a, b)
    if not dt.is_floating_point and isinstance(alpha, float):
        raise RuntimeError(
            "For integral input tensors, argument alpha must not be a floating point number."
        )
    return apply(op, (a, b), _cast2(dt, a, b), (alpha,))


def _cast2(dt, a, b):
    npd = dt.np
    xa = a._data.astype(npd, copy=False) if isinstance(a, Tensor) else a
    xb = b._data.astype(npd, copy=False) if isinstance(b, Tensor) else b
    return xa, xb


def sub(input, other, *, alpha=1, out=None):
    check_operand(other, "sub")
    _check_sub(input, other)
    if alpha == 1:
        return binary(Sub, input, other)
    return _with_alpha(Sub, input, other, alpha)


subtract = sub


def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    _check_sub(input, other)
    if isinstance(other, Tensor):
        return _with_alpha(RSubTensor, input, other, alpha)
    return _with_alpha(RSub, input, other, alpha)


def mul(input, other, *, out=None):
    check_operand(other, "mul")
    if not isinstance(input, Tensor):
        input, other = other, input
    return binary(Mul, input, other)


multiply = mul


def _true_div_dtype(a, b):
    """None (binary's fast path) for floats of one dtype, else the promoted floating dtype."""
    k = a._data.dtype
    if k.kind == "f" and (b.__class__ is float or isinstance(b, Tensor) and b._data.dtype is k):
        return None
    d = _dtype.result_type(a, b)
    return d if d.is_floating_point else _dtype.defaults.float


def _tensor_first(input):
    return input if isinstance(input, Tensor) else to_tensor(input)


def div(input, other, *, rounding_mode=None, out=None):
    check_operand(other, "div")
    input = _tensor_first(input)
    if rounding_mode is None:
        return binary(Div, input, other, _true_div_dtype(input, other))
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    dt = _dtype.result_type(input, other)
    _refuse_bool_floor(dt, rounding_mode)
    return _apply_checked(DivRounding, input, other, _cast2(dt, input, other), (rounding_mode,))


def _refuse_bool_floor(dt, mode="floor"):
    if dt is _dtype.bool_:
        raise NotImplementedError(f"\"div_{mode}_cpu\" not implemented for 'Bool'")


def _apply_checked(op, a, b, arrays, args=()):
    try:
        return apply(op, (a, b), arrays, args)
    except ValueError as e:
        if "broadcast" in str(e):
            raise broadcast_error(a._data.shape, b._data.shape if isinstance(b, Tensor) else ())
        raise


divide = div
true_divide = div


def floor_divide(input, other, *, out=None):
    check_operand(other, "floor_divide")
    input = _tensor_first(input)
    dt = _dtype.result_type(input, other)
    _refuse_bool_floor(dt)
    return binary(FloorDivide, input, other, dt)


def remainder(input, other, *, out=None):
    """remainder(number, tensor) is allowed (and, as in PyTorch, not differentiable)."""
    if not isinstance(input, Tensor):
        dt = _dtype.result_type(input, other)
        return apply(RRemainder, (other,), (other._data.astype(dt.np, copy=False), input))
    check_operand(other, "remainder")
    return binary(RemainderTensor if isinstance(other, Tensor) else Remainder, input, other)


def fmod(input, other, *, out=None):
    if not isinstance(input, Tensor):
        kinds = f"{type(input).__name__}, {type(other).__name__}"
        raise TypeError(
            f"fmod() received an invalid combination of arguments - got ({kinds}), but expected "
            "one of:\n * (Tensor input, Tensor other, *, Tensor out = None)\n * (Tensor input, "
            "Number other, *, Tensor out = None)\n"
        )
    check_operand(other, "fmod")
    return binary(FmodTensor if isinstance(other, Tensor) else Fmod, input, other)


def pow(input, exponent, *, out=None):
    if not isinstance(input, Tensor):
        if not isinstance(exponent, Tensor):
            raise TypeError("pow(): at least one argument must be a Tensor")
        dt = _dtype.result_type(input, exponent)
        return apply(RPow, (exponent,), (exponent._data.astype(dt.np, copy=False),), (input,))
    if isinstance(exponent, Tensor):
        return binary(PowTensor, input, exponent)
    check_operand(exponent, "pow")
    dt = _dtype.result_type(input, exponent)
    if dt.category == 1 and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return apply(PowScalar, (input,), (input._data.astype(dt.np, copy=False),), (exponent,))


def float_power(input, exponent):
    a = input.double() if isinstance(input, Tensor) else float(input)
    e = exponent.double() if isinstance(exponent, Tensor) else float(exponent)
    return pow(a, e)


def neg(input, *, out=None):
    if input._data.dtype.kind == "b":
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
            "invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return unary(Neg, input)


negative = neg


# ---- Tensor methods and operators -------------------------------------------------------
method("add")(add)
method("sub", "subtract")(sub)
method("mul", "multiply")(mul)
method("div", "divide", "true_divide")(div)
method("floor_divide")(floor_divide)
method("remainder")(remainder)
method("fmod")(fmod)
method("pow")(pow)
method("float_power")(float_power)
method("neg", "negative")(neg)


def inplace_op(name, fn, copy_input=True):
    """The ``x.name_(...)`` form of ``fn`` (see ``_core.inplace``).

    When x requires grad and fn's backward reads x itself, fn runs on a copy of x: x's
    storage is about to be overwritten, and PyTorch's in-place ops keep the original too.
    """
    if not copy_input:
        return inplace(name, fn)

    def on_copy(self, *args, **kwargs):
        return fn(self.clone() if self._requires_grad else self, *args, **kwargs)

    return inplace(name, on_copy)


for _name, _fn, _copy in [
    ("add_", add, False), ("sub_", sub, False), ("subtract_", sub, False), ("mul_", mul, True),
    ("multiply_", mul, True), ("div_", div, True), ("divide_", div, True),
    ("true_divide_", div, True), ("floor_divide_", floor_divide, False),
    ("remainder_", remainder, True), ("fmod_", fmod, True), ("pow_", pow, True),
    ("neg_", neg, False), ("negative_", neg, False),
]:
    globals()[_name] = inplace_op(_name, _fn, _copy)


def _operand_ok(x):
    return isinstance(x, Tensor) or _scalar_ok(x)


# The operators give Python's own TypeError for other types (``t + "a"``), as PyTorch does.
def _operator(fn):
    def op(self, other):
        if not _operand_ok(other):
            return NotImplemented
        return fn(self, other)

    return op


def _reflected(fn):
    def op(self, other):
        if not _operand_ok(other):
            return NotImplemented
        return fn(other, self)

    return op


def _rtruediv(self, other):
    """number / tensor: PyTorch computes it as reciprocal(tensor) * number (MulBackward0)."""
    if not _operand_ok(other):
        return NotImplemented
    return mul(self.reciprocal(), other)


def _rsub(self, other):
    if not _operand_ok(other):
        return NotImplemented
    return rsub(self, other)


# The hottest operators are binary's fast path itself (one Python frame per ``x * y``).
_add_operator = binary_operator(Add)
_mul_operator = binary_operator(Mul)


def _sub_operator(self, other):
    if isinstance(other, Tensor) or _scalar_ok(other):
        _check_sub(self, other)
        return binary(Sub, self, other)
    return NotImplemented


def _truediv_operator(self, other):
    if isinstance(other, Tensor) or _scalar_ok(other):
        return binary(Div, self, other, _true_div_dtype(self, other))
    return NotImplemented


Tensor.__add__ = Tensor.__radd__ = _add_operator
Tensor.__iadd__ = _operator(Tensor.add_)
Tensor.__sub__ = _sub_operator
Tensor.__rsub__ = _rsub
Tensor.__isub__ = _operator(Tensor.sub_)
Tensor.__mul__ = Tensor.__rmul__ = _mul_operator
Tensor.__imul__ = _operator(Tensor.mul_)
Tensor.__truediv__ = _truediv_operator
Tensor.__rtruediv__ = _rtruediv
Tensor.__itruediv__ = _operator(Tensor.div_)
Tensor.__floordiv__ = _operator(floor_divide)
Tensor.__rfloordiv__ = _reflected(floor_divide)
Tensor.__ifloordiv__ = _operator(Tensor.floor_divide_)
Tensor.__mod__ = _operator(remainder)
Tensor.__rmod__ = _reflected(remainder)
Tensor.__imod__ = _operator(Tensor.remainder_)
Tensor.__pow__ = _operator(pow)
Tensor.__rpow__ = _reflected(pow)
Tensor.__ipow__ = _operator(Tensor.pow_)
Tensor.__neg__ = neg
Tensor.__pos__ = lambda self: self

# pointwise imports this module: its ops (floor, trunc, log, where) are looked up there when
# a rule runs (a module attribute, not an import per call)
from . import pointwise as _pointwise
