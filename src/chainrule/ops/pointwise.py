"""Pointwise math and activations (forward beside backward).

Each op is one ``Op`` class; public functions check dtypes the way PyTorch's kernels do
(floating ops promote integers to the default float, float-only kernels refuse integers with
PyTorch's ``NotImplementedError``). Backward rules are written with chainrule ops so that
higher derivatives work; masks (relu, clamp, hardtanh, ...) are plain constant arrays
because they are piecewise constant.

``__all_functional__`` lists every activation with its ``torch.nn.functional`` signature;
``__all__`` exports at the top level only what ``torch`` itself has there.

Differences from PyTorch: an in-place form (``x.sin_()``) on a tensor that requires grad
computes on a copy of x when its backward needs the original input, so the graph shows a
``CloneBackward0`` before the op's node; ``asinh_``/``atanh_`` are differentiable (PyTorch
raises); erf uses SciPy when installed and a slower exact fallback otherwise. (NumPy's
RuntimeWarnings for log of 0 and the like are ignored in chainrule's modules: PyTorch is
silent; see ``_backend``.)
"""
# ruff: noqa: RUF022  (__all__ is grouped by kind, not sorted)
import builtins
import math

from .. import _dtype
from .._backend import xp
from .._tensor import Tensor
from ..autograd.grad_mode import state as _grad
from ..autograd.graph import (
    apply,
    array_of,
    call,
    call1,
    like,
    pointwise_recorder,
    record_pointwise,
)
from ._core import Op, broadcast_error, constant_array, inplace, method, python_scalar, unary
from .arithmetic import inplace_op
from .arithmetic import pow as _pow

__all__ = [
    "abs", "absolute", "sign", "exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt",
    "rsqrt", "reciprocal", "square", "sin", "cos", "tan", "tanh", "sinh", "cosh", "asin",
    "acos", "atan", "asinh", "acosh", "atanh", "arcsin", "arccos", "arctan", "arcsinh",
    "arccosh", "arctanh", "atan2", "arctan2", "erf", "sigmoid", "relu", "floor", "ceil",
    "round", "trunc", "fix", "frac", "clamp", "clip", "maximum", "minimum", "where", "lerp",
    "addcmul", "addcdiv", "selu", "celu",
    # in-place functions torch has at top level
    "abs_", "exp_", "exp2_", "log_", "log2_", "log10_", "log1p_", "expm1_", "sqrt_", "rsqrt_",
    "reciprocal_", "square_", "sin_", "cos_", "tan_", "tanh_", "sinh_", "cosh_", "asin_",
    "acos_", "atan_", "arcsin_", "arccos_", "arctan_", "erf_", "sigmoid_", "relu_", "floor_",
    "ceil_", "round_", "trunc_", "fix_", "frac_", "clamp_", "clip_", "selu_", "celu_",
]

__all_functional__ = [
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_",
    "celu", "celu_", "gelu", "silu", "mish", "softplus", "hardtanh", "hardtanh_",
    "hardsigmoid", "hardswish", "logsigmoid", "softsign", "tanhshrink", "sigmoid", "tanh",
]

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_GELU_K = 0.044715
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946

def _sigmoid_numpy(a):
    # e = exp(-|a|) never overflows: sigmoid is 1/(1+e) for a >= 0 and e/(1+e) below.
    # Written in place: two float arrays (and one mask) instead of seven.
    e = xp.abs(a, out=xp.empty_like(a))  # out=: arrays even for 0-d input
    xp.negative(e, out=e)
    xp.exp(e, out=e)
    r = xp.add(e, 1, out=xp.empty_like(a))
    xp.reciprocal(r, out=r)
    xp.multiply(e, r, out=e)
    xp.copyto(r, e, where=a < 0)
    return r


def _log_sigmoid_numpy(a):
    return -xp.logaddexp(0, -a)


def _math_ufunc(fn):
    """``fn`` from the math module per element (exact, slow): SciPy's stand-in. Objects (a 0-d
    input gives a bare float), cast back by special_kernel."""
    ufunc = xp.frompyfunc(fn, 1, 1)
    return lambda a: xp.asarray(ufunc(a))


def special_kernel(name, fallback=None, op=None):
    """SciPy's ufunc ``scipy.special.<name>`` on arrays, cast back to the input's dtype (SciPy
    computes float16 in float64, the fallbacks may return objects); without SciPy the exact
    NumPy ``fallback``, or with none an ImportError that names the op (``op``, else ``name``)
    and what to install. Extra
    arguments go first, as SciPy takes them (``run(a, n)`` is ``polygamma(n, a)``).

    NumPy has no erf; SciPy's erf/expit/log_expit are single stable ufuncs (one call instead
    of several on the per-op hot path; CuPy has the same in cupyx.scipy.special). SciPy is
    imported at the first call, not with chainrule: importing scipy.special adds ~18k objects
    (twice chainrule's own) that every full garbage collection of the process then walks,
    and ~0.1 s to ``import chainrule``."""
    kernel = None

    def run(a, *args):
        nonlocal kernel
        if kernel is None:
            try:
                from scipy import special
            except ImportError:
                if fallback is None:
                    what = op or name
                    raise ImportError(f"chainrule: {what} needs SciPy (NumPy has no {what}); "
                                      "install scipy") from None
                kernel = fallback
            else:
                kernel = getattr(special, name)
        r = kernel(*args, a) if args else kernel(a)
        return r if r.dtype == a.dtype else r.astype(a.dtype)

    return run


_erf_array = special_kernel("erf", _math_ufunc(math.erf))
_sigmoid_array = special_kernel("expit", _sigmoid_numpy)
_log_sigmoid_array = special_kernel("log_expit", _log_sigmoid_numpy)

# float32 GELU shares one exp between Φ and φ: Φ(-|a|) = exp(-a²/2)·t·P(t) with
# t = 1/(|a| + k), P of degree 4 (the classic erfc form, t = 1/(1 + p·|a|), with p folded into
# k = 1/p and P's coefficients: one array pass fewer), t·P(t) evaluated in monic form in
# u = s·t, which the same division makes (s⁵ is P's leading coefficient: one pass fewer again);
# k, s and the d's fitted by scripts/fit_gelu_cdf.py, a minimax fit of GELU's error: within
# 3.9e-7 of the exact GELU in float32 (PyTorch's AVX2 kernel: ~3.7e-7), 2.7e-7 on Φ and 2.8e-7
# on the slope. NumPy's float32 exp costs about ten array passes on AVX2 (its tanh twice
# that; SciPy's erf runs float32 through its float64 loop, ~10x slower), so the backward's
# φ(a) = exp(-a²/2)/√(2π), the same exp, is what pays: ~33 passes for forward and backward
# instead of ~43. Φ(-|a|) keeps its relative precision in
# the lower tail (Φ there is q itself, not 1 - (1 - q)); past |a| ≈ 14.4 the exp underflows
# to 0 and Φ is exactly 0 or 1, as it is for ±inf (t = 0) and for a² that overflows.
_PHI_K = xp.float32(3.0031769275665283)
_SIGN32 = xp.int32(-2 ** 31)
_PHI_S = xp.float32(-1.9278056621551514)
_PHI_D = tuple(xp.float32(c) for c in (  # t·P(t) = u⁵ + d₁u⁴ + d₂u³ + d₃u² + d₄u
    2.1374828815460205, 0.2901081442832947, 0.48226651549339294, -0.1932809054851532,
))


def _monic(u, ds):
    """u⁵ + d₁u⁴ + … + d₄u as u·(u·(… (u + d₁) …) + d₄): eight passes, in a new array."""
    r = u + ds[0]
    for d in ds[1:]:
        r *= u
        r += d
    r *= u
    return r


def _gelu_parts(a, pdf):
    """(Φ(a), exp(-a²/2) if ``pdf`` else None): new arrays of a's dtype, Φ = (1 + erf(a/√2))/2."""
    if not a.ndim:  # (in place below needs arrays: NumPy makes scalars of 0-d results)
        cdf, e = _gelu_parts(a.reshape(1), pdf)
        return cdf.reshape(()), None if e is None else e.reshape(())
    e = None
    # (one errstate for the whole: a² past float32's range gives e = 0, see above, and q·e
    # may underflow; each errstate costs ~2 µs)
    with xp.errstate(over="ignore", under="ignore"):
        if pdf or a.dtype == xp.float32:
            e = a * a
            e *= -0.5  # (not as exp2: NumPy has no AVX2 loop for it, only an AVX-512 one)
            xp.exp(e, out=e)
        if a.dtype != xp.float32:
            cdf = _erf_array(a * _SQRT1_2)
            cdf += 1
            cdf *= 0.5
            return cdf, e
        t = xp.abs(a)
        t += _PHI_K
        xp.divide(_PHI_S, t, out=t)  # u = s·t (NumPy's float reciprocal has no SIMD loop)
        q = _monic(t, _PHI_D)
        q *= e  # Φ(-|a|)
    # Φ(a) = max(Φ(-|a|), copysign(1 - Φ(-|a|), a)): 1 - q where a >= +0, else q itself.
    # The sign goes over as a bit (NumPy's where and copysign run ~10x slower than this).
    u = xp.subtract(1, q, out=t).view(xp.int32)
    u |= a.view(xp.int32) & _SIGN32
    return xp.maximum(q, t, out=q), e


# ---- shared helpers ------------------------------------------------------------------------
def _const(a):
    return Tensor._make(a)


def _where(cond, x, y):
    """where on a constant boolean array, x/y Tensors or Python scalars (differentiable), or
    arrays and scalars alone (a rule the engine runs on arrays)."""
    xt, yt = isinstance(x, Tensor), isinstance(y, Tensor)
    if not (xt or yt):
        return Where.forward(None, x, y, cond)
    return apply(Where, (x, y), (x._data if xt else x, y._data if yt else y), (cond,))


def _mask(grad, cond):
    """The gradient where ``cond`` holds, 0 elsewhere (cond: a constant bool array); grad may
    be an array (a rule run on arrays) or a Tensor."""
    return call(Where, grad, 0.0, args=(cond,))


def _zeros(grad):
    """A zero gradient in ``grad``'s form (a constant Tensor beside a Tensor, else an array)."""
    return like(grad, xp.zeros_like(array_of(grad)))


def _not_implemented(x, kernel):
    raise NotImplementedError(
        f"\"{kernel}\" not implemented for '{_dtype._FROM_NP[x._data.dtype]._short}'"
    )


def _check_tensor(op, x):
    if not isinstance(x, Tensor):
        unary(op, x)  # raises PyTorch's TypeError


def _float_only(op, x, kernel, *args):
    """Kernels PyTorch only has for floating types (the activations)."""
    _check_tensor(op, x)
    if x._data.dtype.kind != "f":
        _not_implemented(x, kernel)
    return apply(op, (x,), (x._data,), args)


def _broadcast_failure(*operands):
    """PyTorch's error for the first pair of shapes (left to right) that do not broadcast."""
    acc = ()
    for o in operands:
        s = o._data.shape if isinstance(o, Tensor) else ()
        try:
            acc = xp.broadcast_shapes(acc, s)
        except ValueError:
            return broadcast_error(acc, s)
    return None


def _apply_n(op, operands, arrays, args=()):
    try:
        return apply(op, operands, arrays, args)
    except ValueError:
        err = _broadcast_failure(*operands)
        if err is None:
            raise
        raise err from None


def _cast_all(dt, operands):
    npd = dt.np
    return tuple(
        (o._data if o._data.dtype == npd else o._data.astype(npd))
        if isinstance(o, Tensor) else python_scalar(o)
        for o in operands
    )


def _needs_float(dt):
    return dt if dt.is_floating_point else _dtype.defaults.float


# ---- exponentials and logarithms -----------------------------------------------------------
class Exp(Op):
    node_name = "ExpBackward0"
    formulas = {"self": "exp(self)"}
    array_backward = True
    saves_output = True

    def forward(ctx, a):
        return xp.exp(a)

    def backward(ctx, grad):
        return grad * ctx.output


class Exp2(Op):
    node_name = "Exp2Backward0"
    formulas = {"self": "2^self · ln 2"}
    array_backward = True
    saves_output = True

    def forward(ctx, a):
        return xp.exp2(a)

    def backward(ctx, grad):
        return grad * (ctx.output * _LN2)


class Expm1(Op):
    node_name = "Expm1Backward0"
    formulas = {"self": "exp(self)"}
    array_backward = True
    saves_output = True

    def forward(ctx, a):
        return xp.expm1(a)

    def backward(ctx, grad):
        return grad * (ctx.output + 1)


class Log(Op):
    node_name = "LogBackward0"
    formulas = {"self": "1 / self"}
    array_backward = True
    saves = (0,)

    def forward(ctx, a):
        return xp.log(a)

    def backward(ctx, grad):
        return grad / ctx.saved[0]


class Log2(Op):
    node_name = "Log2Backward0"
    formulas = {"self": "1 / (self · ln 2)"}
    array_backward = True
    saves = (0,)

    def forward(ctx, a):
        return xp.log2(a)

    def backward(ctx, grad):
        return grad / (ctx.saved[0] * _LN2)


class Log10(Op):
    node_name = "Log10Backward0"
    formulas = {"self": "1 / (self · ln 10)"}
    array_backward = True
    saves = (0,)

    def forward(ctx, a):
        return xp.log10(a)

    def backward(ctx, grad):
        return grad / (ctx.saved[0] * _LN10)


class Log1p(Op):
    node_name = "Log1PBackward0"
    formulas = {"self": "1 / (1 + self)"}
    array_backward = True
    saves = (0,)

    def forward(ctx, a):
        return xp.log1p(a)

    def backward(ctx, grad):
        return grad / (ctx.saved[0] + 1)


class Sqrt(Op):
    node_name = "SqrtBackward0"
    formulas = {"self": "1 / (2 · sqrt(self))"}
    array_backward = True
    saves_output = True

    def forward(ctx, a):
        return xp.sqrt(a)

    def backward(ctx, grad):
        return grad / (ctx.output * 2)


class Rsqrt(Op):
    node_name = "RsqrtBackward0"
    formulas = {"self": "-1/2 · rsqrt(self)³"}
    array_backward = True
    saves_output = True

    def forward(ctx, a):
        return 1 / xp.sqrt(a)

    def backward(ctx, grad):
        y = ctx.output
        return grad * (y * y * y * -0.5)


class Reciprocal(Op):
    node_name = "ReciprocalBackward0"
    formulas = {"self": "-1 / self²"}
    array_backward = True
    saves_output = True

    def forward(ctx, a):
        return 1 / a

    def backward(ctx, grad):
        y = ctx.output
        return grad * -(y * y)


# ---- trigonometric and hyperbolic ----------------------------------------------------------
class Sin(Op):
    node_name = "SinBackward0"
    formulas = {"self": "cos(self)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return xp.sin(a)

    def backward(ctx, grad):
        return grad * call1(Cos, ctx.saved[0])


class Cos(Op):
    node_name = "CosBackward0"
    formulas = {"self": "-sin(self)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return xp.cos(a)

    def backward(ctx, grad):
        return grad * -call1(Sin, ctx.saved[0])


class Tan(Op):
    node_name = "TanBackward0"
    formulas = {"self": "1 + tan²(self)"}
    saves_output = True
    array_backward = True

    def forward(ctx, a):
        return xp.tan(a)

    def backward(ctx, grad):
        y = ctx.output
        return grad * (y * y + 1)


class Tanh(Op):
    node_name = "TanhBackward0"
    formulas = {"self": "1 − tanh²(self)"}
    saves_output = True
    array_backward = True

    def forward(ctx, a):
        return xp.tanh(a)

    def backward(ctx, grad):
        # One node (PyTorch's tanh_backward) rather than three: the hot path of small graphs,
        # where on arrays (and NumPy scalars) it is TanhGrad's forward without call()'s test.
        if grad.__class__ is Tensor:
            return call(TanhGrad, grad, ctx.output)
        return TanhGrad.forward(None, grad, ctx.output)


class TanhGrad(Op):
    """grad · (1 − y²) for y = tanh(x); its own derivative makes double backward work."""

    node_name = "TanhBackwardBackward0"
    operands = ("grad_output", "output")
    formulas = {"grad_output": "1 − output²", "output": "−2 · grad_output · output"}
    saves = (0, 1)
    array_backward = True  # (a plain backward through a create_graph gradient)

    def forward(ctx, g, y):
        return g * (1 - y * y)

    def backward(ctx, gg):
        g, y = ctx.saved
        return (
            gg * (1 - y * y) if ctx.edges[0] is not None else None,
            gg * g * y * -2 if ctx.edges[1] is not None else None,
        )


class Sinh(Op):
    node_name = "SinhBackward0"
    formulas = {"self": "cosh(self)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return xp.sinh(a)

    def backward(ctx, grad):
        return grad * call1(Cosh, ctx.saved[0])


class Cosh(Op):
    node_name = "CoshBackward0"
    formulas = {"self": "sinh(self)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return xp.cosh(a)

    def backward(ctx, grad):
        return grad * call1(Sinh, ctx.saved[0])


class Asin(Op):
    node_name = "AsinBackward0"
    formulas = {"self": "1 / sqrt(1 − self²)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return xp.arcsin(a)

    def backward(ctx, grad):
        x = ctx.saved[0]
        return grad * call1(Rsqrt, 1 - x * x)


class Acos(Asin):
    node_name = "AcosBackward0"
    formulas = {"self": "-1 / sqrt(1 − self²)"}

    def forward(ctx, a):
        return xp.arccos(a)

    def backward(ctx, grad):
        x = ctx.saved[0]
        return grad * -call1(Rsqrt, 1 - x * x)


class Atan(Op):
    node_name = "AtanBackward0"
    formulas = {"self": "1 / (1 + self²)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return xp.arctan(a)

    def backward(ctx, grad):
        x = ctx.saved[0]
        return grad / (x * x + 1)


class Asinh(Op):
    node_name = "AsinhBackward0"
    formulas = {"self": "1 / sqrt(self² + 1)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return xp.arcsinh(a)

    def backward(ctx, grad):
        x = ctx.saved[0]
        return grad * call1(Rsqrt, x * x + 1)


class Acosh(Op):
    node_name = "AcoshBackward0"
    formulas = {"self": "1 / sqrt(self² − 1)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return xp.arccosh(a)

    def backward(ctx, grad):
        x = ctx.saved[0]
        return grad * call1(Rsqrt, x * x - 1)


class Atanh(Op):
    node_name = "AtanhBackward0"
    formulas = {"self": "1 / (1 − self²)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return xp.arctanh(a)

    def backward(ctx, grad):
        x = ctx.saved[0]
        return grad / (1 - x * x)


class Atan2(Op):
    node_name = "Atan2Backward0"
    operands = ("self", "other")
    formulas = {"self": "other / (self² + other²)", "other": "-self / (self² + other²)"}
    saves = (0, 1)
    array_backward = True

    def forward(ctx, a, b):
        return xp.arctan2(a, b)

    def backward(ctx, grad):
        a, b = ctx.saved
        g = grad / (a * a + b * b)
        return (
            g * b if ctx.edges[0] is not None else None,
            g * -a if ctx.edges[1] is not None else None,
        )


class Erf(Op):
    node_name = "ErfBackward0"
    formulas = {"self": "2/√π · exp(−self²)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return _erf_array(a)

    def backward(ctx, grad):
        x = ctx.saved[0]
        return grad * (call1(Exp, x * x * -1.0) * (2 / math.sqrt(math.pi)))


# ---- sign, rounding, abs -------------------------------------------------------------------
class Abs(Op):
    node_name = "AbsBackward0"
    formulas = {"self": "sign(self)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return xp.abs(a)

    def backward(ctx, grad):
        return grad * call1(Sign, ctx.saved[0])


class Sign(Op):
    """sign(nan) is 0, as in PyTorch (NumPy gives nan)."""

    node_name = "SignBackward0"
    formulas = {"self": "0"}
    array_backward = True

    def forward(ctx, a):
        if a.dtype.kind == "b":
            return a.copy()
        s = (a > 0).astype(a.dtype)
        s -= a < 0
        return s

    def backward(ctx, grad):
        return _zeros(grad)


class Floor(Op):
    node_name = "FloorBackward0"
    formulas = {"self": "0"}
    array_backward = True

    def forward(ctx, a):
        return xp.floor(a) if a.dtype.kind == "f" else a.copy()

    backward = Sign.backward


class Ceil(Floor):
    node_name = "CeilBackward0"

    def forward(ctx, a):
        return xp.ceil(a) if a.dtype.kind == "f" else a.copy()


class Trunc(Floor):
    node_name = "TruncBackward0"

    def forward(ctx, a):
        return xp.trunc(a) if a.dtype.kind == "f" else a.copy()


class Round(Floor):
    """Half to even, like PyTorch."""

    node_name = "RoundBackward0"

    def forward(ctx, a):
        return xp.round(a) if a.dtype.kind == "f" else a.copy()


class RoundDecimals(Floor):
    node_name = "RoundBackward1"

    def forward(ctx, a, decimals):
        return xp.round(a, decimals)


class Frac(Op):
    node_name = "FracBackward0"
    formulas = {"self": "1"}
    array_backward = True

    def forward(ctx, a):
        return a - xp.trunc(a)

    def backward(ctx, grad):
        return grad


# ---- clamp, maximum, minimum, where, lerp, addcmul, addcdiv ---------------------------------
class Clamp(Op):
    """Number bounds. Gradient 1 where min <= self <= max (bounds included, as PyTorch)."""

    node_name = "ClampBackward1"
    formulas = {"self": "1 if min ≤ self ≤ max else 0"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a, lo, hi):
        if lo is not None:
            a = xp.maximum(a, lo)
        if hi is not None:
            a = xp.minimum(a, hi)
        return a

    def backward(ctx, grad):
        x = array_of(ctx.saved[0])
        lo, hi = ctx.args
        if lo is None:
            return _mask(grad, x <= hi)
        if hi is None:
            return _mask(grad, x >= lo)
        return _mask(grad, (x >= lo) & (x <= hi))


class ClampTensor(Op):
    """Tensor bounds (either may be None): each bound gets the gradient where it is active."""

    node_name = "ClampBackward0"
    operands = ("self", "min", "max")
    formulas = {
        "self": "1 if min ≤ self ≤ max else 0",
        "min": "1 if self < min (and min < max) else 0",
        "max": "1 if self > max (or max < min) else 0",
    }
    saves = (0, 1, 2)
    array_backward = True

    forward = Clamp.forward

    def backward(ctx, grad):
        x, lo, hi = (array_of(s) for s in ctx.saved)  # (a bound not given is None)
        if lo is None:
            return _mask(grad, x <= hi), None, _mask(grad, x > hi)
        if hi is None:
            return _mask(grad, x >= lo), _mask(grad, x < lo), None
        return (
            _mask(grad, (x >= lo) & (x <= hi)) if ctx.edges[0] is not None else None,
            _mask(grad, (x < lo) & (lo < hi)) if ctx.edges[1] is not None else None,
            _mask(grad, (x > hi) | (hi < lo)) if ctx.edges[2] is not None else None,
        )


class Maximum(Op):
    """Ties split the gradient in half between the operands, as PyTorch does."""

    node_name = "MaximumBackward0"
    operands = ("self", "other")
    formulas = {"self": "1 if self > other, ½ if equal, else 0",
                "other": "1 if other > self, ½ if equal, else 0"}
    saves = (0, 1)
    array_backward = True

    def forward(ctx, a, b):
        return xp.maximum(a, b)

    def backward(ctx, grad):
        a, b = array_of(ctx.saved[0]), array_of(ctx.saved[1])
        return _split(ctx, grad, a, b, a < b, a > b)


class Minimum(Maximum):
    node_name = "MinimumBackward0"
    formulas = {"self": "1 if self < other, ½ if equal, else 0",
                "other": "1 if other < self, ½ if equal, else 0"}

    def forward(ctx, a, b):
        return xp.minimum(a, b)

    def backward(ctx, grad):
        a, b = array_of(ctx.saved[0]), array_of(ctx.saved[1])
        return _split(ctx, grad, a, b, a > b, a < b)


def _split(ctx, grad, a, b, a_loses, b_loses):
    g = _where(a == b, grad * 0.5, grad)
    return (
        _mask(g, ~a_loses) if ctx.edges[0] is not None else None,
        _mask(g, ~b_loses) if ctx.edges[1] is not None else None,
    )


def _keep_where(x, cond):
    """``where(cond, x, 0.0)`` as a bitwise AND with an all-ones/zeros integer mask made at
    cond's shape (it may broadcast over x, as a causal mask does): NumPy's where branches
    per element and mispredicts on the random masks of ReLU gradients (~13x slower). Bit-exact
    with where, NaN and inf included (masked lanes become +0.0)."""
    m = xp.negative(cond.view(xp.int8), dtype=_INT_OF_SIZE[x.itemsize])  # all ones where cond
    if m.shape != x.shape:
        return xp.bitwise_and(x.view(m.dtype), m).view(x.dtype)
    m &= x.view(m.dtype)
    return m.view(x.dtype)


_INT_OF_SIZE = {2: xp.int16, 4: xp.int32, 8: xp.int64}


def _fill_where(x, cond, value):
    """``where(cond, value, x)`` for a float array x, a bool array cond that broadcasts with it
    and a scalar value, as the bitwise (x & keep) | (value & ~keep) with integer masks made
    at cond's shape (masked_fill: a causal mask is small beside the scores it broadcasts
    over). NumPy's where and copyto(where=) branch per element: on a random 16x2x32x32 mask
    ~170 µs against ~19 here; on the transformer's causal mask ~39 against ~35.
    Bit-exact with where; None where this does not apply (small or non-float x)."""
    it = _INT_OF_SIZE.get(x.itemsize) if x.dtype.kind == "f" else None
    if it is None or x.size <= 256 or x.__class__ is not xp.ndarray:
        return None
    keep = xp.subtract(cond.view(xp.int8), 1, dtype=it)  # all ones where cond is False
    out = xp.bitwise_and(x.view(it), keep)
    bits = xp.asarray(value, x.dtype).view(it)
    if bits:
        xp.invert(keep, out=keep)
        keep &= bits
        out |= keep
    return out.view(x.dtype)


class Where(Op):
    node_name = "WhereBackward0"
    operands = ("self", "other")
    formulas = {"self": "1 where condition else 0", "other": "0 where condition else 1"}
    array_backward = True

    def forward(ctx, x, y, cond):
        if y.__class__ is float and y == 0.0 and x.__class__ is xp.ndarray and x.size > 256 \
                and x.dtype.kind == "f" and math.copysign(1, y) > 0 and x.itemsize in _INT_OF_SIZE:
            return _keep_where(x, cond)
        return xp.where(cond, x, y)

    def backward(ctx, grad):
        cond = ctx.args[0]
        return (
            _where(cond, grad, 0.0) if ctx.edges[0] is not None else None,
            _where(cond, 0.0, grad) if ctx.edges[1] is not None else None,
        )


class Lerp(Op):
    node_name = "LerpBackward0"
    operands = ("self", "end")
    formulas = {"self": "1 − weight", "end": "weight"}
    array_backward = True

    def forward(ctx, a, b, w):
        # PyTorch's form: exact at both ends (w = 0 gives self, w = 1 gives end).
        if builtins.abs(w) < 0.5:
            return a + w * (b - a)
        return b - (b - a) * (1 - w)

    def backward(ctx, grad):
        w = ctx.args[0]
        return grad * (1 - w), grad * w


class LerpTensor(Op):
    node_name = "LerpBackward1"
    operands = ("self", "end", "weight")
    formulas = {"self": "1 − weight", "end": "weight", "weight": "end − self"}
    saves = (0, 1, 2)
    array_backward = True

    def forward(ctx, a, b, w):
        return xp.where(xp.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1 - w))

    def backward(ctx, grad):
        a, b, w = ctx.saved
        e = ctx.edges
        return (
            grad * (1 - w) if e[0] is not None else None,
            grad * w if e[1] is not None else None,
            grad * (b - a) if e[2] is not None else None,
        )


class Addcmul(Op):
    node_name = "AddcmulBackward0"
    operands = ("self", "tensor1", "tensor2")
    formulas = {"self": "1", "tensor1": "value · tensor2", "tensor2": "value · tensor1"}
    saves = (1, 2)
    array_backward = True

    def forward(ctx, a, t1, t2, value):
        return a + value * t1 * t2 if value != 1 else a + t1 * t2

    def backward(ctx, grad):
        t1, t2 = ctx.saved
        v = ctx.args[0]
        gv = grad if v == 1 else grad * v
        return (
            grad,
            gv * t2 if ctx.edges[1] is not None else None,
            gv * t1 if ctx.edges[2] is not None else None,
        )


class Addcdiv(Addcmul):
    node_name = "AddcdivBackward0"
    formulas = {"self": "1", "tensor1": "value / tensor2", "tensor2": "-value · tensor1 / tensor2²"}

    def forward(ctx, a, t1, t2, value):
        return a + value * (t1 / t2) if value != 1 else a + t1 / t2

    def backward(ctx, grad):
        t1, t2 = ctx.saved
        v = ctx.args[0]
        gv = (grad if v == 1 else grad * v) / t2
        return (
            grad,
            gv if ctx.edges[1] is not None else None,
            gv * -t1 / t2 if ctx.edges[2] is not None else None,
        )


# ---- activations ---------------------------------------------------------------------------
class Sigmoid(Op):
    node_name = "SigmoidBackward0"
    formulas = {"self": "sigmoid(self) · (1 − sigmoid(self))"}
    array_backward = True
    saves_output = True

    def forward(ctx, a):
        return _sigmoid_array(a)

    def backward(ctx, grad):
        return call(SigmoidGrad, grad, ctx.output)


class SigmoidGrad(Op):
    """grad · y(1 − y) for y = sigmoid(x), one node (PyTorch's sigmoid_backward)."""

    node_name = "SigmoidBackwardBackward0"
    operands = ("grad_output", "output")
    formulas = {"grad_output": "output · (1 − output)", "output": "grad_output · (1 − 2 · output)"}
    saves = (0, 1)
    array_backward = True  # (a plain backward through a create_graph gradient)

    def forward(ctx, g, y):
        return g * (y * (1 - y))

    def backward(ctx, gg):
        g, y = ctx.saved
        return (
            gg * (y * (1 - y)) if ctx.edges[0] is not None else None,
            gg * g * (1 - 2 * y) if ctx.edges[1] is not None else None,
        )


class Relu(Op):
    node_name = "ReluBackward0"
    formulas = {"self": "1 if self > 0 else 0"}
    saves_output = True  # result != 0 exactly where self > 0 or NaN, and it survives relu_()
    array_backward = True

    def forward(ctx, a):
        # relu(-0.0) is -0.0, as PyTorch's: on a tie NumPy's float32/64 loops return the second
        # operand and its float16 loop the first, so -0.0 goes there (NaN propagates either way)
        z = _zeros_as(a)
        return xp.maximum(a, z) if a.dtype.itemsize == 2 else xp.maximum(z, a)

    def backward(ctx, grad):
        # PyTorch's threshold_backward passes the gradient unless result <= 0, so a NaN result
        # passes it; a result of relu is never below 0, so "not <= 0" is "!= 0"
        return _mask(grad, ctx.out != 0)


# NumPy's maximum with a broadcast scalar runs without SIMD, ~3x slower than with an array
# of zeros (bit-identical results, NaN included): small float inputs get a read-only view
# of one shared zero buffer per dtype.
_ZEROS_MAX = 1 << 16


def _zeros_as(a):
    if a.__class__ is not xp.ndarray or a.size > _ZEROS_MAX or a.dtype.kind != "f":
        return 0
    return constant_array("zeros", _ZEROS_MAX, a.dtype)[:a.size].reshape(a.shape)


class Hardtanh(Op):
    node_name = "HardtanhBackward0"
    formulas = {"self": "1 if min_val < self < max_val else 0"}
    saves_output = True  # min < result < max exactly where min < self < max
    array_backward = True

    def forward(ctx, a, lo, hi):
        return xp.minimum(xp.maximum(a, lo), hi)

    def backward(ctx, grad):
        y = ctx.out
        lo, hi = ctx.args
        return _mask(grad, (y > lo) & (y < hi))


class LeakyRelu(Op):
    node_name = "LeakyReluBackward0"
    formulas = {"self": "1 if self > 0 else negative_slope"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a, slope):
        return xp.where(a > 0, a, a * slope)

    def backward(ctx, grad):
        return _where(array_of(ctx.saved[0]) > 0, grad, grad * ctx.args[0])


_NEG_SLOPE_MSG = (
    "In-place {} backward calculation is triggered with a negative slope which is not supported. "
    "This is caused by calling in-place forward function with a negative slope, please call "
    "out-of-place version instead."
)


class LeakyReluInplace(LeakyRelu):
    """leaky_relu_: the input is overwritten, so the rule reads the sign from the result."""

    node_name = "LeakyReluBackward1"
    saves = ()
    saves_output = True

    def backward(ctx, grad):
        slope = ctx.args[0]
        if slope < 0:
            raise RuntimeError(
                _NEG_SLOPE_MSG.format("leakyReLu") + " File an issue at "
                "https://github.com/pytorch/pytorch if you do require supporting in-place "
                "leakRelu backward calculation with negative slope"
            )
        return _where(ctx.out > 0, grad, grad * slope)


class Elu(Op):
    """scale·self for self > 0, else alpha·scale·(exp(input_scale·self) − 1) (ELU/SELU/CELU)."""

    node_name = "EluBackward0"
    formulas = {"self": "scale if self > 0 else alpha·scale·input_scale·exp(input_scale·self)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a, alpha, scale, iscale):
        neg = xp.expm1(xp.minimum(a, 0) * iscale) * (alpha * scale)
        return xp.where(a > 0, a * scale if scale != 1 else a, neg)

    def backward(ctx, grad):
        x = ctx.saved[0]
        alpha, scale, iscale = ctx.args
        # clamp keeps exp finite on the unused side, so no inf·0 in higher derivatives
        lo = x.clamp(max=0) if isinstance(x, Tensor) else xp.minimum(x, 0)
        neg = grad * (call1(Exp, lo * iscale) * (alpha * scale * iscale))
        return _where(array_of(x) > 0, grad * scale, neg)


class EluInplace(Elu):
    node_name = "EluBackward1"
    formulas = {"self": "scale if result > 0 else input_scale·(result + alpha·scale)"}
    saves = ()
    saves_output = True

    def backward(ctx, grad):
        alpha, scale, iscale = ctx.args
        if alpha < 0:
            raise RuntimeError(_NEG_SLOPE_MSG.format("elu"))
        y = ctx.output
        return _where(ctx.out > 0, grad * scale, grad * ((y + alpha * scale) * iscale))


class Celu(Elu):
    node_name = "CeluBackward0"


class CeluInplace(EluInplace):
    node_name = "CeluBackward1"


class Gelu(Op):
    """One fused node for both forms; the backward is exact (erf or tanh form)."""

    node_name = "GeluBackward0"
    formulas = {"self": "Φ(self) + self·φ(self)  (tanh form: its derivative)"}
    saves = (0,)
    array_backward = True  # (the erf form's call() takes arrays; the tanh form wraps them)

    def forward(ctx, a, approximate):
        if approximate == "tanh":
            inner = (a + _GELU_K * (a * a * a)) * _SQRT_2_OVER_PI
            return a * 0.5 * (1 + xp.tanh(inner))
        cdf, e = _gelu_parts(a, ctx is not None)
        y = a * cdf
        if ctx is not None:  # the derivative Φ(a) + a·φ(a), from the forward's own exp
            xp.multiply(e, a, out=e)
            e *= _INV_SQRT_2PI
            e += cdf
            ctx.extra = e
        return y

    def backward(ctx, grad):
        x = ctx.saved[0]
        if ctx.args[0] != "tanh":
            return call(GeluGrad, grad, x, args=(ctx.extra,))
        if not isinstance(grad, Tensor):  # the tanh form's rule is written in Tensor ops
            return _gelu_tanh_grad(_const(xp.asarray(grad)), _const(xp.asarray(x)))._data
        return _gelu_tanh_grad(grad, x)


def _gelu_tanh_grad(grad, x):
    x2 = x * x
    t = ((x + x2 * x * _GELU_K) * _SQRT_2_OVER_PI).tanh()
    left = (t + 1) * 0.5
    right = x * 0.5 * (1 - t * t) * ((x2 * (3 * _GELU_K) + 1) * _SQRT_2_OVER_PI)
    return grad * (left + right)


class GeluGrad(Op):
    """grad · (Φ(x) + x·φ(x)): GELU's (erf form) backward as one node, one pass over the
    slope the forward computed; its own derivative makes double backward work."""

    node_name = "GeluBackwardBackward0"
    operands = ("grad_output", "self")
    formulas = {"grad_output": "Φ(self) + self·φ(self)", "self": "grad_output · φ(self) · (2 − self²)"}
    saves = (0, 1)
    array_backward = True  # (a plain backward through a create_graph gradient)

    def forward(ctx, g, x, slope):
        return g * slope  # slope = Φ(x) + x·φ(x), computed by GELU's forward

    def backward(ctx, gg):
        g, x = ctx.saved
        cdf = call1(Erf, x * _SQRT1_2) * 0.5 + 0.5
        pdf = call1(Exp, x * x * -0.5) * _INV_SQRT_2PI
        return (
            gg * (cdf + x * pdf) if ctx.edges[0] is not None else None,
            gg * g * pdf * (2 - x * x) if ctx.edges[1] is not None else None,
        )


class Silu(Op):
    node_name = "SiluBackward0"
    formulas = {"self": "sigmoid(self) · (1 + self · (1 − sigmoid(self)))"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return a * _sigmoid_array(a)

    def backward(ctx, grad):
        x = ctx.saved[0]
        s = call1(Sigmoid, x)
        return grad * (s * (x * (1 - s) + 1))


class Mish(Op):
    node_name = "MishBackward0"
    formulas = {"self": "tanh(softplus(self)) + self·sigmoid(self)·(1 − tanh²(softplus(self)))"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return a * xp.tanh(xp.logaddexp(0, a))

    def backward(ctx, grad):
        x = ctx.saved[0]
        t = call1(Tanh, call1(Softplus, x, (1.0, 20.0)))  # (softplus's default beta, threshold)
        return grad * (t + x * call1(Sigmoid, x) * (1 - t * t))


class Softplus(Op):
    """log(1 + exp(beta·x)) / beta, computed as logaddexp (no overflow); linear past threshold."""

    node_name = "SoftplusBackward0"
    formulas = {"self": "sigmoid(beta · self) (1 past threshold)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a, beta, threshold):
        bx = a * beta if beta != 1 else a
        sp = xp.logaddexp(0, bx)
        if beta != 1:
            sp = sp / beta
        return xp.where(bx > threshold, a, sp)

    def backward(ctx, grad):
        x = ctx.saved[0]
        beta, threshold = ctx.args
        bx = x * beta if beta != 1 else x
        return _where(array_of(bx) > threshold, grad, grad * call1(Sigmoid, bx))


class LogSigmoid(Op):
    node_name = "LogSigmoidBackward0"
    formulas = {"self": "1 − sigmoid(self)"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return _log_sigmoid_array(a)

    def backward(ctx, grad):
        return grad * call1(Sigmoid, -ctx.saved[0])


class Hardsigmoid(Op):
    node_name = "HardsigmoidBackward0"
    formulas = {"self": "1/6 if -3 < self < 3 else 0"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return xp.minimum(xp.maximum(a + 3, 0), 6) / 6

    def backward(ctx, grad):
        x = array_of(ctx.saved[0])
        return _mask(grad / 6, (x > -3) & (x < 3))


class Hardswish(Op):
    node_name = "HardswishBackward0"
    formulas = {"self": "0 if self < -3, self/3 + 1/2 if self ≤ 3, else 1"}
    saves = (0,)
    array_backward = True

    def forward(ctx, a):
        return a * xp.minimum(xp.maximum(a + 3, 0), 6) / 6

    def backward(ctx, grad):
        x = ctx.saved[0]
        xa = array_of(x)
        mid = grad * (x / 3 + 0.5)
        return _mask(_where(xa <= 3, mid, grad), xa >= -3)


# ---- public functions: math ----------------------------------------------------------------
def _floating(op):
    """A function computing ``op`` in floating point (integers promote to the default float)."""
    record = pointwise_recorder(op)

    def fn(input, *, out=None):
        if input.__class__ is Tensor and input._requires_grad and _grad.enabled:
            a = input._data
            if a.dtype.kind == "f":  # unary's common case, one Python frame fewer
                # 0-d: a ufunc on a NumPy scalar skips the array wrapping (same loop, same bits)
                return record(input, None, a if a.ndim else a[()])
        return unary(op, input, floating=True)

    return fn


exp = _floating(Exp)
exp2 = _floating(Exp2)
expm1 = _floating(Expm1)
log = _floating(Log)
log2 = _floating(Log2)
log10 = _floating(Log10)
log1p = _floating(Log1p)
sqrt = _floating(Sqrt)
rsqrt = _floating(Rsqrt)
reciprocal = _floating(Reciprocal)
sin = _floating(Sin)
cos = _floating(Cos)
tan = _floating(Tan)
tanh = _floating(Tanh)
sinh = _floating(Sinh)
cosh = _floating(Cosh)
asin = arcsin = _floating(Asin)
acos = arccos = _floating(Acos)
atan = arctan = _floating(Atan)
asinh = arcsinh = _floating(Asinh)
acosh = arccosh = _floating(Acosh)
atanh = arctanh = _floating(Atanh)
erf = _floating(Erf)
sigmoid = _floating(Sigmoid)
for _f, _n in [(exp, "exp"), (exp2, "exp2"), (expm1, "expm1"), (log, "log"), (log2, "log2"),
               (log10, "log10"), (log1p, "log1p"), (sqrt, "sqrt"), (rsqrt, "rsqrt"),
               (reciprocal, "reciprocal"), (sin, "sin"), (cos, "cos"), (tan, "tan"),
               (tanh, "tanh"), (sinh, "sinh"), (cosh, "cosh"), (asin, "asin"), (acos, "acos"),
               (atan, "atan"), (asinh, "asinh"), (acosh, "acosh"), (atanh, "atanh"),
               (erf, "erf"), (sigmoid, "sigmoid")]:
    _f.__name__ = _f.__qualname__ = _n


def abs(input, *, out=None):
    if isinstance(input, Tensor) and input._data.dtype.kind == "b":
        _not_implemented(input, "abs_cpu")
    return unary(Abs, input)


absolute = abs


def sign(input, *, out=None):
    return unary(Sign, input)


def _rounding(op, kernel):
    def fn(input, *, out=None):
        if isinstance(input, Tensor) and input._data.dtype.kind == "b":
            _not_implemented(input, kernel)
        return unary(op, input)

    fn.__name__ = fn.__qualname__ = kernel.split("_")[0]
    return fn


floor = _rounding(Floor, "floor_vml_cpu")
ceil = _rounding(Ceil, "ceil_vml_cpu")
trunc = fix = _rounding(Trunc, "trunc_vml_cpu")
_round0 = _rounding(Round, "round_vml_cpu")


def round(input, *, decimals=0, out=None):
    if decimals == 0:
        return _round0(input)
    if isinstance(input, Tensor) and input._data.dtype.kind != "f":
        _not_implemented(input, "round_cpu")
    return unary(RoundDecimals, input, decimals)


def frac(input, *, out=None):
    if isinstance(input, Tensor) and input._data.dtype.kind != "f":
        _not_implemented(input, "frac_cpu")
    return unary(Frac, input)


def square(input, *, out=None):
    """PyTorch computes square as pow(self, 2): the node is PowBackward0."""
    return _pow(input, 2)


def atan2(input, other, *, out=None):
    for name, t, pos in (("input", input, 1), ("other", other, 2)):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"atan2(): argument '{name}' (position {pos}) must be Tensor, not {type(t).__name__}"
            )
    dt = _needs_float(_dtype.result_type(input, other))
    return _apply_n(Atan2, (input, other), _cast_all(dt, (input, other)))


arctan2 = atan2


def clamp(input, min=None, max=None, *, out=None):
    """clamp with Number or Tensor bounds (not one of each, as in PyTorch)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    _check_tensor(Clamp, input)
    tmin, tmax = isinstance(min, Tensor), isinstance(max, Tensor)
    if tmin or tmax:
        if (min is not None and not tmin) or (max is not None and not tmax):
            kinds = ", ".join(
                "Tensor" if isinstance(v, Tensor) else type(v).__name__ for v in (input, min, max)
            )
            raise TypeError(
                f"clamp() received an invalid combination of arguments - got ({kinds}), but "
                "expected one of:\n * (Tensor input, Tensor min = None, Tensor max = None, *, "
                "Tensor out = None)\n * (Tensor input, Number min = None, Number max = None, *, "
                "Tensor out = None)\n"
            )
        ops = (input, min, max)
        dt = _dtype.result_type(*(o for o in ops if o is not None))
        arrays = _cast_all(dt, ops)
        return _apply_n(ClampTensor, ops, arrays, ())
    a = input._data
    min, max = python_scalar(min), python_scalar(max)
    if a.dtype.kind == "f":  # a float tensor keeps its dtype with any number bounds
        return apply(Clamp, (input,), (a,), (min, max))
    dt = _dtype.result_type(input, *(b for b in (min, max) if b is not None))
    if dt is _dtype.bool_:
        _not_implemented(input, "clamp_scalar_cpu" if min is not None and max is not None
                         else "clamp_min_scalar_cpu" if max is None else "clamp_max_scalar_cpu")
    return apply(Clamp, (input,), (a if a.dtype == dt.np else a.astype(dt.np),), (min, max))


clip = clamp


def _binary_tensors(op, name, input, other):
    if not isinstance(other, Tensor):
        raise TypeError(
            f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}"
        )
    a, b = input._data, other._data
    if a.dtype is not b.dtype:
        a, b = _cast_all(_dtype.result_type(input, other), (input, other))
    return _apply_n(op, (input, other), (a, b))


def maximum(input, other, *, out=None):
    return _binary_tensors(Maximum, "maximum", input, other)


def minimum(input, other, *, out=None):
    return _binary_tensors(Minimum, "minimum", input, other)


def where(condition, input=None, other=None, *, out=None):
    """where(cond, x, y); x and y may be Python scalars. where(cond) is nonzero(as_tuple)."""
    if input is None and other is None:
        c = condition._data
        return tuple(Tensor._make(i.astype(xp.int64)) for i in xp.nonzero(c if c.ndim else c[None]))
    cd = condition._data
    if cd.dtype.kind != "b":
        raise RuntimeError(
            "where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{_dtype._FROM_NP[cd.dtype]._short}"
        )
    if isinstance(input, Tensor) and isinstance(other, Tensor) and (
            input._data.dtype is other._data.dtype):
        xa, ya = input._data, other._data
    else:
        dt = _dtype.result_type(input, other)
        xa, ya = _cast_all(dt, (input, other))
        if not isinstance(input, Tensor):
            xa = xp.asarray(xa, dtype=dt.np)  # two scalars: the result takes their dtype
    try:
        return apply(Where, (input, other), (xa, ya), (cd,))
    except ValueError:
        err = _broadcast_failure(condition, input, other)
        if err is None:
            raise
        raise err from None


def lerp(input, end, weight, *, out=None):
    if input._data.dtype.kind != "f":
        _not_implemented(input, "lerp_kernel_tensor" if isinstance(weight, Tensor)
                         else "lerp_kernel_scalar")
    npd = input._data.dtype
    for name, t in (("end", end), ("weight", weight)):
        # a 0-d weight of another dtype is accepted (and cast), as in PyTorch
        if isinstance(t, Tensor) and t._data.dtype != npd and (t is end or t._data.ndim):
            raise RuntimeError(
                f"expected dtype {_c10_name(input)} for `{name}` but got dtype {_c10_name(t)}"
            )
    if isinstance(weight, Tensor):
        ops = (input, end, weight)
        return _apply_n(LerpTensor, ops, (input._data, end._data, weight._data.astype(npd)))
    return _apply_n(Lerp, (input, end), (input._data, end._data), (weight,))


def _c10_name(t):
    return {"float32": "float", "float64": "double", "float16": "c10::Half"}.get(
        t.dtype.name, t.dtype.name)


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    ops = (input, tensor1, tensor2)
    dt = _dtype.result_type(*ops)
    return _apply_n(Addcmul, ops, _cast_all(dt, ops), (value,))


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    ops = (input, tensor1, tensor2)
    if tensor1._data.dtype.kind in "iub" and tensor2._data.dtype.kind in "iub":
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))"
            ".to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
            "float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes."
        )
    dt = _dtype.result_type(*ops)
    return _apply_n(Addcdiv, ops, _cast_all(dt, ops), (value,))


# ---- public functions: activations ---------------------------------------------------------
def relu(input, inplace=False):
    _check_tensor(Relu, input)
    if input._data.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    if inplace:
        return input.relu_()
    if input._requires_grad and _grad.enabled:
        return record_pointwise(Relu, input, None, input._data)
    return apply(Relu, (input,), (input._data,))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    _check_tensor(Hardtanh, input)
    k = input._data.dtype.kind
    if k == "b":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    if k in "iu":  # integer inputs: the limits are cast (truncated) to the input's type first
        min_val, max_val = int(min_val), int(max_val)
        if k == "u" and (min_val < 0 or max_val < 0):
            raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    if inplace:
        return hardtanh_(input, min_val, max_val)
    return apply(Hardtanh, (input,), (input._data,), (min_val, max_val))


def relu6(input, inplace=False):
    """PyTorch computes relu6 as hardtanh(0, 6): the node is HardtanhBackward0."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    if inplace:
        return leaky_relu_(input, negative_slope)
    return _float_only(LeakyRelu, input, "leaky_relu_cpu", negative_slope)


def _elu(op, input, inplace, name, alpha, scale, iscale):
    r = _float_only(op, input, "elu_cpu", alpha, scale, iscale)
    return input._inplace(r, name + "_") if inplace else r


def elu(input, alpha=1.0, inplace=False):
    return _elu(EluInplace if inplace else Elu, input, inplace, "elu", alpha, 1.0, 1.0)


def selu(input, inplace=False):
    return _elu(EluInplace if inplace else Elu, input, inplace, "selu",
                _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _elu(CeluInplace if inplace else Celu, input, inplace, "celu",
                alpha, 1.0, 1.0 / alpha)


def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


def selu_(input):
    return selu(input, True)


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


def leaky_relu_(input, negative_slope=0.01):
    r = _float_only(LeakyReluInplace, input, "leaky_relu_cpu", negative_slope)
    return input._inplace(r, "leaky_relu_")


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return input._inplace(hardtanh(input, min_val, max_val), "hardtanh_")


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _float_only(Gelu, input, "GeluKernelImpl", approximate)


def _maybe_inplace(op, input, kernel, inplace, name):
    """``inplace=True`` for an op whose backward reads the input: it runs on a copy of the
    input (when that requires grad), whose storage then takes the result."""
    if not inplace:
        return _float_only(op, input, kernel)
    src = input.clone() if input._requires_grad else input
    return input._inplace(_float_only(op, src, kernel), name)


def silu(input, inplace=False):
    return _maybe_inplace(Silu, input, "silu_cpu", inplace, "silu_")


def mish(input, inplace=False):
    return _maybe_inplace(Mish, input, "mish_cpu", inplace, "mish_")


def softplus(input, beta=1.0, threshold=20.0):
    return _float_only(Softplus, input, "softplus_cpu", beta, threshold)


def hardsigmoid(input, inplace=False):
    return _maybe_inplace(Hardsigmoid, input, "hardsigmoid_cpu", inplace, "hardsigmoid_")


def hardswish(input, inplace=False):
    return _maybe_inplace(Hardswish, input, "hardswish_cpu", inplace, "hardswish_")


def logsigmoid(input):
    return _float_only(LogSigmoid, input, "log_sigmoid_cpu")


def softsign(input):
    """Composed as in PyTorch: input / (1 + |input|) (nodes DivBackward0, AddBackward0)."""
    return input / (1 + input.abs())


def tanhshrink(input):
    """Composed as in PyTorch: input − tanh(input) (SubBackward0)."""
    return input - input.tanh()


# ---- Tensor methods and in-place forms -----------------------------------------------------
for _name in (
    "abs", "absolute", "sign", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
    "rsqrt", "reciprocal", "square", "sin", "cos", "tan", "tanh", "sinh", "cosh", "asin",
    "acos", "atan", "asinh", "acosh", "atanh", "arcsin", "arccos", "arctan", "arcsinh",
    "arccosh", "arctanh", "atan2", "arctan2", "erf", "sigmoid", "floor", "ceil", "round",
    "trunc", "fix", "frac", "clamp", "clip", "maximum", "minimum", "lerp", "addcmul",
    "addcdiv",
):
    method(_name)(globals()[_name])
method("relu")(lambda self: relu(self))
method("where")(lambda self, condition, other: where(condition, self, other))

# In-place forms. Ops whose backward reads only the result need no copy of the overwritten
# input; the others run on a copy of it when it requires grad (see arithmetic.inplace_op).
def _result_only(name, fn):
    return inplace_op(name, fn, copy_input=False)


abs_ = absolute_ = inplace_op("abs_", abs)
Tensor.absolute_ = abs_
sign_ = _result_only("sign_", sign)
exp_ = _result_only("exp_", exp)
exp2_ = _result_only("exp2_", exp2)
expm1_ = _result_only("expm1_", expm1)
log_ = inplace_op("log_", log)
log2_ = inplace_op("log2_", log2)
log10_ = inplace_op("log10_", log10)
log1p_ = inplace_op("log1p_", log1p)
sqrt_ = _result_only("sqrt_", sqrt)
rsqrt_ = _result_only("rsqrt_", rsqrt)
reciprocal_ = _result_only("reciprocal_", reciprocal)
sin_ = inplace_op("sin_", sin)
cos_ = inplace_op("cos_", cos)
tan_ = _result_only("tan_", tan)
tanh_ = _result_only("tanh_", tanh)
sinh_ = inplace_op("sinh_", sinh)
cosh_ = inplace_op("cosh_", cosh)
asin_ = arcsin_ = inplace_op("asin_", asin)
acos_ = arccos_ = inplace_op("acos_", acos)
atan_ = arctan_ = inplace_op("atan_", atan)
asinh_ = arcsinh_ = inplace_op("asinh_", asinh)
acosh_ = arccosh_ = inplace_op("acosh_", acosh)
atanh_ = arctanh_ = inplace_op("atanh_", atanh)
atan2_ = arctan2_ = inplace_op("atan2_", atan2)
erf_ = inplace_op("erf_", erf)
sigmoid_ = _result_only("sigmoid_", sigmoid)
floor_ = _result_only("floor_", floor)
ceil_ = _result_only("ceil_", ceil)
round_ = _result_only("round_", round)
trunc_ = fix_ = _result_only("trunc_", trunc)
frac_ = _result_only("frac_", frac)
clamp_ = clip_ = inplace_op("clamp_", clamp)
lerp_ = inplace_op("lerp_", lerp)
addcmul_ = inplace_op("addcmul_", addcmul)
addcdiv_ = inplace_op("addcdiv_", addcdiv)
for _name, _fn in [("arcsin_", asin_), ("arccos_", acos_), ("arctan_", atan_),
                   ("arcsinh_", asinh_), ("arccosh_", acosh_), ("arctanh_", atanh_),
                   ("arctan2_", atan2_), ("fix_", fix_), ("clip_", clip_)]:
    setattr(Tensor, _name, _fn)
relu_ = inplace("relu_", relu)  # relu's rule reads only the result
square_ = inplace_op("square_", square)
