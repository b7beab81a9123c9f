"""Special and pointwise functions: clamp_min/max, logaddexp(2), hypot, logit, erfc, erfinv,
lgamma, digamma, polygamma, sgn, copysign, deg2rad, rad2deg, xlogy, sinc, logcumsumexp.

NumPy has no erfinv, digamma or polygamma: those use SciPy when it is importable and raise
an ImportError naming SciPy otherwise (NumPy stays chainrule's only hard dependency);
erfc and lgamma fall back to Python's math module per element.
Differs from PyTorch: logcumsumexp's backward rescales by the largest output along
``dim``, so it overflows when outputs along ``dim`` differ by more than the dtype's exp range.
"""
# ruff: noqa: RUF022
import math

from .. import _dtype
from .._backend import xp
from .._tensor import Tensor
from ..autograd.graph import apply, array_of, call1, like
from ._core import Op, inplace, method, unary, wrap_dim
from .arithmetic import inplace_op
from .pointwise import (
    Cos,
    Exp,
    Log,
    Sigmoid,
    Sin,
    _apply_n,
    _cast_all,
    _mask,
    _math_ufunc,
    _needs_float,
    _not_implemented,
    _where,
    special_kernel,
)
from .reductions import RevCumsum

__all__ = [
    "clamp_min", "clamp_max", "clamp_min_", "clamp_max_", "logaddexp", "logaddexp2", "hypot",
    "logit", "logit_", "erfc", "erfc_", "erfinv", "lgamma", "digamma", "polygamma", "sgn",
    "copysign", "deg2rad", "deg2rad_", "rad2deg", "rad2deg_", "xlogy", "xlogy_", "sinc",
    "sinc_", "logcumsumexp",
]


# ---- array kernels ---------------------------------------------------------------------------
def _lgamma_scalar(v):
    try:
        return math.lgamma(v)
    except ValueError:  # a pole (0, -1, -2, ...): +inf, as SciPy and PyTorch give
        return math.inf


_erfc = special_kernel("erfc", _math_ufunc(math.erfc))
_lgamma = special_kernel("gammaln", _math_ufunc(_lgamma_scalar))


_erfinv = special_kernel("erfinv")
_psi = special_kernel("psi", op="digamma")
_polygamma_n = special_kernel("polygamma")


def _polygamma(n, a):
    return _psi(a) if n == 0 else _polygamma_n(a, n)


# ---- clamp_min / clamp_max -------------------------------------------------------------------
class ClampMin(Op):
    node_name = "ClampMinBackward0"
    formulas = {"self": "1 where self ≥ min, else 0"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a, m):
        return xp.maximum(a, m)

    def backward(ctx, grad):
        return _mask(grad, array_of(ctx.saved[0]) >= ctx.args[0])


class ClampMax(ClampMin):
    node_name = "ClampMaxBackward0"
    formulas = {"self": "1 where self ≤ max, else 0"}

    def forward(ctx, a, m):
        return xp.minimum(a, m)

    def backward(ctx, grad):
        return _mask(grad, array_of(ctx.saved[0]) <= ctx.args[0])


class ClampMinTensor(Op):
    node_name = "ClampMinBackward1"
    operands = ("self", "min")
    formulas = {"self": "1 where self ≥ min", "min": "1 where self < min"}
    saves = (0, 1)
    array_backward = True

    def forward(ctx, a, m):
        return xp.maximum(a, m)

    def backward(ctx, grad):
        keep = array_of(ctx.saved[0]) >= array_of(ctx.saved[1])
        return _mask(grad, keep), _mask(grad, ~keep)


class ClampMaxTensor(ClampMinTensor):
    node_name = "ClampMaxBackward1"
    operands = ("self", "max")
    formulas = {"self": "1 where self ≤ max", "max": "1 where self > max"}

    def forward(ctx, a, m):
        return xp.minimum(a, m)

    def backward(ctx, grad):
        keep = array_of(ctx.saved[0]) <= array_of(ctx.saved[1])
        return _mask(grad, keep), _mask(grad, ~keep)


def _clamp_bound(scalar_op, tensor_op, name, input, bound):
    if bound.__class__ is float and isinstance(input, Tensor) and input._data.dtype.kind == "f":
        return apply(scalar_op, (input,), (input._data,), (bound,))  # the common case, lean
    if not isinstance(input, Tensor):
        unary(scalar_op, input)  # PyTorch's TypeError
    if isinstance(bound, Tensor):
        ops = (input, bound)
        return _apply_n(tensor_op, ops, _cast_all(_dtype.result_type(input, bound), ops))
    dt = _dtype.result_type(input, bound)
    if dt is _dtype.bool_:
        _not_implemented(input, f"{name}_scalar_cpu")
    a = input._data
    return apply(scalar_op, (input,), (a if a.dtype == dt.np else a.astype(dt.np),), (bound,))


def clamp_min(input, min, *, out=None):
    return _clamp_bound(ClampMin, ClampMinTensor, "clamp_min", input, min)


def clamp_max(input, max, *, out=None):
    return _clamp_bound(ClampMax, ClampMaxTensor, "clamp_max", input, max)


# ---- two-operand functions -------------------------------------------------------------------
class Logaddexp(Op):
    node_name = "LogaddexpBackward0"
    operands = ("self", "other")
    formulas = {"self": "sigmoid(self − other)", "other": "sigmoid(other − self)"}
    saves = (0, 1)
    array_backward = True

    def forward(ctx, a, b):
        return xp.logaddexp(a, b)

    def backward(ctx, grad):
        a, b = ctx.saved
        s = call1(Sigmoid, a - b)  # stable for any gap, unlike exp(a − out)
        return grad * s, grad * (1 - s)


class Logaddexp2(Logaddexp):
    node_name = "Logaddexp2Backward0"
    formulas = {"self": "sigmoid((self − other)·ln 2)", "other": "sigmoid((other − self)·ln 2)"}

    def forward(ctx, a, b):
        return xp.logaddexp2(a, b)

    def backward(ctx, grad):
        a, b = ctx.saved
        s = call1(Sigmoid, (a - b) * math.log(2))
        return grad * s, grad * (1 - s)


class Hypot(Op):
    node_name = "HypotBackward0"
    operands = ("self", "other")
    formulas = {"self": "self / result", "other": "other / result"}
    saves = (0, 1)
    saves_output = True
    array_backward = True

    def forward(ctx, a, b):
        return xp.hypot(a, b)

    def backward(ctx, grad):
        a, b = ctx.saved
        g = grad / ctx.output
        return (g * a if ctx.edges[0] is not None else None,
                g * b if ctx.edges[1] is not None else None)


class Copysign(Op):
    node_name = "CopysignBackward0"
    operands = ("self", "other")
    formulas = {"self": "sign(self)·sign(result) (0 where self = 0)", "other": "0"}
    saves = (0,)
    saves_output = True
    array_backward = True

    def forward(ctx, a, b):
        return xp.copysign(a, b)

    def backward(ctx, grad):
        a, r = array_of(ctx.saved[0]), array_of(ctx.output)
        flip = xp.where(a == 0, 0, xp.sign(a) * xp.sign(r)).astype(array_of(grad).dtype)
        return grad * like(grad, flip), (grad * 0 if ctx.edges[1] is not None else None)


class CopysignScalar(Copysign):
    node_name = "CopysignBackward1"


class Xlogy(Op):
    """self·log(other), 0 where self = 0 (unless other is NaN)."""

    node_name = "XlogyBackward0"
    operands = ("self", "other")
    formulas = {"self": "log(other) (0 where self = 0 and other ≤ 0)", "other": "self / other"}
    saves = (0, 1)
    array_backward = True

    def forward(ctx, a, b):
        # a Python number operand takes the tensor's dtype (NumPy 2 scalars would widen it)
        a, b = (xp.asarray(a, dtype=b.dtype), b) if hasattr(b, "dtype") and not hasattr(
            a, "dtype") else (a, xp.asarray(b, dtype=getattr(a, "dtype", None)))
        with xp.errstate(divide="ignore", invalid="ignore"):
            r = a * xp.log(b)
        return xp.where((a == 0) & ~xp.isnan(b), 0, r).astype(r.dtype, copy=False)

    def backward(ctx, grad):
        a, b = ctx.saved
        ga = gb = None
        if ctx.edges[0] is not None:
            # (a number operand: a Python number, not an array or Tensor)
            lb = call1(Log, b) if hasattr(b, "dtype") else math.log(b) if b > 0 else math.nan
            ad = xp.asarray(array_of(a))
            bd = xp.asarray(array_of(b))
            ga = _where((ad == 0) & (bd <= 0), 0.0, grad * lb)
        if ctx.edges[1] is not None:
            gb = grad * a / b
        return ga, gb


class XlogyScalarSelf(Xlogy):
    node_name = "XlogyBackward1"


class XlogyScalarOther(Xlogy):
    node_name = "XlogyBackward2"


def _float_binary(op, name, input, other, *, float_only=False, scalar_op=None):
    """Two operands (either may be a number) computed in floating point."""
    if (input.__class__ is other.__class__ is Tensor and scalar_op is None
            and input._data.dtype is other._data.dtype and input._data.dtype.kind == "f"):
        return _apply_n(op, (input, other), (input._data, other._data))  # the common case
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(
            f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}"
        )
    dt = _dtype.result_type(input, other)
    if float_only and not dt.is_floating_point:
        _not_implemented(input if isinstance(input, Tensor) else other, f"{name}_cpu")
    dt = _needs_float(dt)
    ops = (input, other)
    if scalar_op is not None:
        op = scalar_op(input, other) or op
    return _apply_n(op, ops, _cast_all(dt, ops))


def logaddexp(input, other, *, out=None):
    return _float_binary(Logaddexp, "logaddexp", input, other, float_only=True)


def logaddexp2(input, other, *, out=None):
    return _float_binary(Logaddexp2, "logaddexp2", input, other, float_only=True)


def hypot(input, other, *, out=None):
    return _float_binary(Hypot, "hypot", input, other, float_only=True)


def copysign(input, other, *, out=None):
    return _float_binary(Copysign, "copysign", input, other,
                         scalar_op=lambda a, b: None if isinstance(b, Tensor) else CopysignScalar)


def _xlogy_op(a, b):
    if not isinstance(a, Tensor):
        return XlogyScalarSelf
    return None if isinstance(b, Tensor) else XlogyScalarOther


def xlogy(input, other, *, out=None):
    return _float_binary(Xlogy, "xlogy", input, other, scalar_op=_xlogy_op)


# ---- one-operand functions -------------------------------------------------------------------
class Logit(Op):
    node_name = "LogitBackward0"
    formulas = {"self": "1 / (self·(1 − self)) (0 outside [eps, 1 − eps])"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a, eps):
        if eps is not None:
            a = xp.clip(a, eps, 1 - eps)
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.log(a / (1 - a))

    def backward(ctx, grad):
        x = ctx.saved[0]
        eps = ctx.args[0]
        g = grad / (x * (1 - x))
        if eps is None:
            return g
        xd = array_of(x)
        return _where((xd < eps) | (xd > 1 - eps), 0.0, g)


class Erfc(Op):
    node_name = "ErfcBackward0"
    formulas = {"self": "−2/√π · exp(−self²)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return _erfc(a)

    def backward(ctx, grad):
        x = ctx.saved[0]
        return grad * (call1(Exp, x * x * -1.0) * (-2 / math.sqrt(math.pi)))


class Erfinv(Op):
    node_name = "ErfinvBackward0"
    formulas = {"self": "√π/2 · exp(erfinv(self)²)"}
    saves_output = True
    array_backward = True

    def forward(ctx, a):
        return _erfinv(a)

    def backward(ctx, grad):
        y = ctx.output
        return grad * (call1(Exp, y * y) * (math.sqrt(math.pi) / 2))


class Lgamma(Op):
    node_name = "LgammaBackward0"
    formulas = {"self": "digamma(self)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return _lgamma(a)

    def backward(ctx, grad):
        return grad * call1(Digamma, ctx.saved[0])


class Digamma(Op):
    node_name = "DigammaBackward0"
    formulas = {"self": "polygamma(1, self)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return _polygamma(0, a)

    def backward(ctx, grad):
        return grad * call1(Polygamma, ctx.saved[0], (1,))


class Polygamma(Op):
    node_name = "PolygammaBackward0"
    formulas = {"self": "polygamma(n + 1, self)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a, n):
        return _polygamma(n, a)

    def backward(ctx, grad):
        return grad * call1(Polygamma, ctx.saved[0], (ctx.args[0] + 1,))


class Sgn(Op):
    """sgn of real input is sign (0 for NaN as PyTorch); its gradient is 0."""

    node_name = "SgnBackward0"
    formulas = {"self": "0"}
    array_backward = True

    def forward(ctx, a):
        if a.dtype.kind == "b":
            return a.copy()
        return xp.sign(xp.nan_to_num(a, nan=0.0)) if a.dtype.kind == "f" else xp.sign(a)

    def backward(ctx, grad):
        return grad * 0


class Deg2Rad(Op):
    node_name = "Deg2RadBackward0"
    formulas = {"self": "π/180"}
    array_backward = True

    def forward(ctx, a):
        return a * xp.asarray(math.pi / 180, dtype=a.dtype)

    def backward(ctx, grad):
        return grad * (math.pi / 180)


class Rad2Deg(Op):
    node_name = "Rad2DegBackward0"
    formulas = {"self": "180/π"}
    array_backward = True

    def forward(ctx, a):
        return a * xp.asarray(180 / math.pi, dtype=a.dtype)

    def backward(ctx, grad):
        return grad * (180 / math.pi)


class Sinc(Op):
    node_name = "SincBackward0"
    formulas = {"self": "(πx·cos(πx) − sin(πx)) / (πx²), 0 at x = 0"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return xp.sinc(a)

    def backward(ctx, grad):
        x = ctx.saved[0]
        zero = array_of(x) == 0
        px = _where(zero, 1.0, x) * math.pi  # x = 0 would divide by zero; masked below
        d = (px * call1(Cos, px) - call1(Sin, px)) / (px * px) * math.pi
        # at 0 the slope is 0; written as sinc'(x) ≈ −π²x/3 so the second derivative is
        # right there too (PyTorch's is NaN at 0)
        return _where(zero, grad * x * (-math.pi ** 2 / 3), grad * d)


class Logcumsumexp(Op):
    node_name = "LogcumsumexpBackward0"
    formulas = {"self": "Σ_{j ≥ i} grad_j · exp(self_i − result_j)"}
    saves = (0,)
    saves_output = True
    array_backward = True

    def forward(ctx, a, dim):
        if a.size == 0 or a.ndim == 0:
            return a.copy()
        return xp.logaddexp.accumulate(a, axis=dim)

    def backward(ctx, grad):
        x, out = ctx.saved[0], ctx.output
        dim = ctx.args[0]
        xa = array_of(x)
        if xa.size == 0 or xa.ndim == 0:
            return grad
        # exp(x_i − out_j) = exp(x_i − m)·exp(m − out_j), m the last (largest) output
        m = like(out, xp.take(array_of(out), [-1], axis=dim))
        tail = call1(RevCumsum, grad * call1(Exp, m - out), (dim,))  # Σ over j ≥ i
        return call1(Exp, x - m) * tail


def _floating(op, name):
    def fn(input, *, out=None):
        return unary(op, input, floating=True)

    fn.__name__ = fn.__qualname__ = name
    return fn


erfc = _floating(Erfc, "erfc")
erfinv = _floating(Erfinv, "erfinv")
lgamma = _floating(Lgamma, "lgamma")
digamma = _floating(Digamma, "digamma")
deg2rad = _floating(Deg2Rad, "deg2rad")
rad2deg = _floating(Rad2Deg, "rad2deg")
sinc = _floating(Sinc, "sinc")


def logit(input, eps=None, *, out=None):
    return unary(Logit, input, eps, floating=True)


def polygamma(n, input, *, out=None):
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return unary(Polygamma, input, n, floating=True)


def sgn(input, *, out=None):
    return unary(Sgn, input)


def logcumsumexp(input, dim, *, out=None):
    if not isinstance(input, Tensor):
        unary(Logcumsumexp, input)  # PyTorch's TypeError
    a = input._data
    if a.dtype.kind != "f":
        _not_implemented(input, "logcumsumexp_out_cpu")
    return apply(Logcumsumexp, (input,), (a,), (wrap_dim(dim, max(a.ndim, 1)) if a.ndim else 0,))


# ---- Tensor methods and in-place forms -------------------------------------------------------
for _name in ("clamp_min", "clamp_max", "logaddexp", "logaddexp2", "hypot", "logit", "erfc",
              "erfinv", "lgamma", "digamma", "sgn", "copysign", "deg2rad", "rad2deg", "xlogy",
              "sinc", "logcumsumexp"):
    method(_name)(globals()[_name])
method("polygamma")(lambda self, n: polygamma(n, self))

clamp_min_ = inplace_op("clamp_min_", clamp_min)
clamp_max_ = inplace_op("clamp_max_", clamp_max)
hypot_ = inplace_op("hypot_", hypot)
logit_ = inplace_op("logit_", logit)
erfc_ = inplace_op("erfc_", erfc)
erfinv_ = inplace("erfinv_", erfinv)  # the rule reads only the result
lgamma_ = inplace_op("lgamma_", lgamma)
digamma_ = inplace_op("digamma_", digamma)
polygamma_ = inplace_op("polygamma_", lambda self, n: polygamma(n, self))
sgn_ = inplace("sgn_", sgn)
copysign_ = inplace_op("copysign_", copysign)
deg2rad_ = inplace("deg2rad_", deg2rad)
rad2deg_ = inplace("rad2deg_", rad2deg)
xlogy_ = inplace_op("xlogy_", xlogy)
sinc_ = inplace_op("sinc_", sinc)
