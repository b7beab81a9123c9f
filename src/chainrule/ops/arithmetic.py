"""Arithmetic: add, sub, mul, div, pow, neg and their operators (forward beside backward)."""
# ruff: noqa: RUF012, RUF022  (Op classes declare formulas as class dicts; __all__ is grouped)
import math

from .. import _dtype
from .._backend import xp
from .._tensor import Tensor
from ._core import Op, binary, check_operand, inplace, method, unary

__all__ = [
    "add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide",
    "floor_divide", "remainder", "fmod", "pow", "float_power", "neg", "negative",
]


class Add(Op):
    node_name = "AddBackward0"
    operands = ("self", "other")
    formulas = {"self": "1", "other": "alpha"}

    def forward(ctx, a, b, alpha=1):
        return a + b if alpha == 1 else a + alpha * b

    def backward(ctx, grad):
        alpha = ctx.args[0] if ctx.args else 1
        return grad, (grad if alpha == 1 else grad * alpha)


class Sub(Op):
    node_name = "SubBackward0"
    operands = ("self", "other")
    formulas = {"self": "1", "other": "-alpha"}

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
    saves = (0, 1)

    def forward(ctx, a, b):
        return a * b

    def backward(ctx, grad):
        a, b = ctx.saved
        return (
            grad * b if ctx.edges[0] is not None else None,
            grad * a if ctx.edges[1] is not None else None,
        )


class Div(Op):
    node_name = "DivBackward0"
    operands = ("self", "other")
    formulas = {"self": "1 / other", "other": "-self / other²"}
    saves = (0, 1)

    def forward(ctx, a, b):
        return a / b

    def backward(ctx, grad):
        a, b = ctx.saved
        ga = grad / b if ctx.edges[0] is not None else None
        gb = -grad * a / (b * b) if ctx.edges[1] is not None else None
        return ga, gb


class FloorDivide(Op):
    """Integer-valued, so its gradient is zero almost everywhere (PyTorch: not differentiable)."""

    node_name = "FloorDivideBackward0"
    operands = ("self", "other")
    formulas = {"self": "0", "other": "0"}

    def forward(ctx, a, b):
        return xp.floor_divide(a, b)

    def backward(ctx, grad):
        return grad * 0, None


class Remainder(Op):
    node_name = "RemainderBackward0"
    operands = ("self", "other")
    formulas = {"self": "1", "other": "-floor(self / other)"}
    saves = (0, 1)

    def forward(ctx, a, b):
        return xp.remainder(a, b)

    def backward(ctx, grad):
        a, b = ctx.saved
        gb = None
        if ctx.edges[1] is not None:
            gb = -grad * (a / b).floor()
        return grad, gb


class Fmod(Remainder):
    node_name = "FmodBackward0"
    formulas = {"self": "1", "other": "-trunc(self / other)"}

    def forward(ctx, a, b):
        return xp.fmod(a, b)

    def backward(ctx, grad):
        a, b = ctx.saved
        gb = -grad * (a / b).trunc() if ctx.edges[1] is not None else None
        return grad, gb


class PowScalar(Op):
    """tensor ** number."""

    node_name = "PowBackward0"
    formulas = {"self": "exponent · self^(exponent − 1)"}
    saves = (0,)

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
        return grad * (a ** (e - 1) * e)


class PowTensor(Op):
    """tensor ** tensor."""

    node_name = "PowBackward1"
    operands = ("self", "exponent")
    formulas = {"self": "exponent · self^(exponent − 1)", "exponent": "self^exponent · ln(self)"}
    saves = (0, 1)
    saves_output = True

    def forward(ctx, a, b):
        return xp.power(a, b)

    def backward(ctx, grad):
        a, b = ctx.saved
        ga = gb = None
        if ctx.edges[0] is not None:
            ga = grad * (b * a ** (b - 1)).where(b != 0, 0.0)
        if ctx.edges[1] is not None:
            # d/db a^b = a^b ln a; PyTorch defines it as 0 where a == 0 and b >= 0.
            gb = grad * (ctx.output * a.log()).where((a != 0) | (b < 0), 0.0)
        return ga, gb


class RPow(Op):
    """number ** tensor: the tensor exponent is the operand, the base an argument."""

    node_name = "PowBackward2"
    operands = ("exponent",)
    formulas = {"exponent": "self^exponent · ln(self)"}
    saves_output = True

    def forward(ctx, b, base):
        return xp.power(base, b)

    def backward(ctx, grad):
        base = ctx.args[0]
        if base == 0:
            return grad * 0
        return grad * ctx.output * math.log(base)


class Neg(Op):
    node_name = "NegBackward0"
    formulas = {"self": "-1"}

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
    from ..autograd.graph import apply

    dt = _dtype.result_type(a, b)
    xa = a._data.astype(dt.np, copy=False) if isinstance(a, Tensor) else a
    xb = b._data.astype(dt.np, copy=False) if isinstance(b, Tensor) else b
    return apply(op, (a, b), (xa, xb), (alpha,))


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
    d = _dtype.result_type(a, b)
    return d if d.is_floating_point else _dtype.defaults.float


def div(input, other, *, rounding_mode=None, out=None):
    check_operand(other, "div")
    if rounding_mode is None:
        if not isinstance(input, Tensor):
            from ._core import to_tensor

            input = to_tensor(input)
        return binary(Div, input, other, _true_div_dtype(input, other))
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        q = div(input, other)
        d = _dtype.result_type(input, other)
        return q.trunc().to(d) if not d.is_floating_point else q.trunc()
    raise RuntimeError(
        f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'"
    )


divide = div
true_divide = div


def floor_divide(input, other, *, out=None):
    if not isinstance(input, Tensor):
        from ._core import to_tensor

        input = to_tensor(input)
    return binary(FloorDivide, input, other)


def remainder(input, other, *, out=None):
    if not isinstance(input, Tensor):
        from ._core import to_tensor

        input = to_tensor(input)
    return binary(Remainder, input, other)


def fmod(input, other, *, out=None):
    return binary(Fmod, input, other)


def pow(input, exponent, *, out=None):
    from ..autograd.graph import apply

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


def _r(fn):
    return lambda self, other: fn(other, self)


Tensor.__add__ = add
Tensor.__radd__ = add
Tensor.__iadd__ = Tensor.add_
Tensor.__sub__ = sub
Tensor.__rsub__ = lambda self, other: rsub(self, other)
Tensor.__isub__ = Tensor.sub_
Tensor.__mul__ = mul
Tensor.__rmul__ = mul
Tensor.__imul__ = Tensor.mul_
Tensor.__truediv__ = div
Tensor.__rtruediv__ = _r(div)
Tensor.__itruediv__ = Tensor.div_
Tensor.__floordiv__ = floor_divide
Tensor.__rfloordiv__ = _r(floor_divide)
Tensor.__ifloordiv__ = Tensor.floor_divide_
Tensor.__mod__ = remainder
Tensor.__rmod__ = _r(remainder)
Tensor.__imod__ = Tensor.remainder_
Tensor.__pow__ = pow
Tensor.__rpow__ = _r(pow)
Tensor.__ipow__ = Tensor.pow_
Tensor.__neg__ = neg
Tensor.__pos__ = lambda self: self
