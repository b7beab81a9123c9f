"""Linear algebra on square matrices: inv, det, slogdet, logdet, solve (batched).

Forward runs NumPy's LAPACK routines (batched over leading dims); backward rules are
written with chainrule ops (matmul, solve, inv), so double backward works; in a plain
backward the same rules run on arrays.
Differences from PyTorch: det's gradient uses A⁻¹, so it is not defined at singular
matrices (PyTorch switches to an SVD there); slogdet's ``sign`` output does not require
grad (its gradient is zero in PyTorch as well).
"""
# ruff: noqa: RUF022
from .._backend import xp
from .._tensor import Tensor
from ..autograd.graph import apply, call, call1
from ._core import Op, broadcast_error, method
from .pointwise import where
from .reductions import _ReturnType

__all__ = ["inverse", "det", "logdet", "slogdet"]  # (LinAlgError: chainrule.linalg)



class _Slogdet(_ReturnType):
    """torch.return_types.(linalg_)slogdet: (sign, logabsdet)."""

    __slots__ = ()
    sign = property(lambda self: self[0])
    logabsdet = property(lambda self: self[1])

    def __repr__(self):
        return f"torch.return_types.{self._name}(\nsign={self[0]!r},\nlogabsdet={self[1]!r})"

    __str__ = __repr__


slogdet_type = type("slogdet", (_Slogdet,), {"__slots__": (), "_name": "slogdet",
                                             "__module__": "torch.return_types"})
linalg_slogdet_type = type("linalg_slogdet", (_Slogdet,), {
    "__slots__": (), "_name": "linalg_slogdet", "__module__": "torch.return_types"})


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a singular (or otherwise failed) factorisation."""


_TNAME = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long",
          "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _tname(d):
    return _TNAME.get(d.name, d.name)


def _check_square(A, name, *, square=True):
    if not isinstance(A, Tensor):
        raise TypeError(
            f"linalg_{name}(): argument 'A' (position 1) must be Tensor, not {type(A).__name__}"
        )
    a = A._data
    if a.ndim < 2:
        raise RuntimeError(f"linalg.{name}: The input tensor A must have at least 2 dimensions.")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(
            f"linalg.{name}: A must be batches of square matrices, but they are "
            f"{a.shape[-2]} by {a.shape[-1]} matrices"
        )
    k = a.dtype.kind
    if k != "f":
        raise RuntimeError(
            f"linalg.{name}: Expected a floating point or complex tensor as input. "
            f"Got {_tname(a.dtype)}"
        )
    if a.dtype == xp.float16:
        raise RuntimeError(f"linalg.{name}: Low precision dtypes not supported. Got Half")
    return a


def _singular_error(a, name):
    """PyTorch's message: LAPACK getrf's first zero pivot (1-based), per batch element."""
    flat = a.reshape(-1, *a.shape[-2:])
    for b, m in enumerate(flat):
        info = _getrf_info(m)
        if info is None:
            break
        if info:
            where = f"(Batch element {b}): " if a.ndim > 2 else ""
            return LinAlgError(
                f"{name}: {where}The diagonal element {info} is zero, the inversion could not "
                "be completed because the input matrix is singular."
            )
    return LinAlgError(f"{name}: The input matrix is singular.")


def _getrf_info(m):
    try:
        from scipy.linalg import lapack
    except ImportError:  # without SciPy the pivot index is unknown: a plainer message
        return None
    getrf = lapack.dgetrf if m.dtype == xp.float64 else lapack.sgetrf
    return getrf(m)[2]


def _inv_array(a, name="linalg.inv"):
    try:
        return xp.linalg.inv(a)
    except xp.linalg.LinAlgError:
        raise _singular_error(a, name) from None


def _mT(x):
    """The transpose of the last two axes, of a Tensor (recorded) or an array alike."""
    return x.swapaxes(-1, -2)


class LinalgInv(Op):
    node_name = "LinalgInvExBackward0"
    formulas = {"self": "−A⁻ᵀ · grad · A⁻ᵀ"}
    saves_output = True
    array_backward = True  # (these rules are matmuls, transposes and the ops themselves)

    def forward(ctx, a):
        return _inv_array(a)

    def backward(ctx, grad):
        yt = _mT(ctx.output)
        return -(yt @ grad @ yt)


class LinalgDet(Op):
    node_name = "LinalgDetBackward0"
    formulas = {"self": "det(A) · A⁻ᵀ"}
    saves = (0,)
    saves_output = True
    array_backward = True

    def forward(ctx, a):
        return xp.linalg.det(a)

    def backward(ctx, grad):
        A = ctx.saved[0]
        return (grad * ctx.output)[..., None, None] * _mT(call1(LinalgInv, A))


class LinalgSlogdet(Op):
    """Outputs (logabsdet, sign): only the first carries a gradient."""

    node_name = "LinalgSlogdetBackward0"
    formulas = {"self": "A⁻ᵀ (for logabsdet)"}
    saves = (0,)
    multi_output = True
    array_backward = True

    def forward(ctx, a):
        sign, logabs = xp.linalg.slogdet(a)
        return logabs, sign

    def backward(ctx, grad):
        return grad[..., None, None] * _mT(call1(LinalgInv, ctx.saved[0]))


class LinalgSolve(Op):
    """X = A⁻¹B for B of shape (..., n, k) (vector right-hand sides are unsqueezed first)."""

    node_name = "LinalgSolveExBackward0"
    operands = ("A", "B")
    formulas = {"A": "−A⁻ᵀ·grad·Xᵀ", "B": "A⁻ᵀ · grad"}
    saves = (0,)
    saves_output = True
    array_backward = True

    def forward(ctx, a, b, vector):
        try:
            x = xp.linalg.solve(a, b[..., None] if vector else b)
        except xp.linalg.LinAlgError:
            raise LinAlgError(
                "torch.linalg.solve: The solver failed because the input matrix is singular."
            ) from None
        return x[..., 0] if vector else x

    def backward(ctx, grad):
        A = ctx.saved[0]
        vector = ctx.args[0]
        gB = call(LinalgSolve, _mT(A), grad, (vector,))
        gA = None
        if ctx.edges[0] is not None:
            X = ctx.output
            gA = -(gB[..., :, None] * X[..., None, :]) if vector else -(gB @ _mT(X))
        return gA, gB


# ---- public functions ----------------------------------------------------------------------
def inv(A, *, out=None):
    _check_square(A, "inv")
    return apply(LinalgInv, (A,), (A._data,))


def inverse(input, *, out=None):
    return inv(input)


def det(A, *, out=None):
    _check_square(A, "det")
    return apply(LinalgDet, (A,), (A._data,))


def _slogdet(A, rtype):
    _check_square(A, "slogdet")
    logabs, sign = apply(LinalgSlogdet, (A,), (A._data,))
    return rtype(sign, logabs)


def slogdet(input):
    """torch.slogdet / Tensor.slogdet: (sign, logabsdet)."""
    return _slogdet(input, slogdet_type)


def linalg_slogdet(A, *, out=None):
    return _slogdet(A, linalg_slogdet_type)


def logdet(input):
    """log(det(A)): NaN where det is negative, -inf where it is zero (as PyTorch)."""
    sign, logabs = _slogdet(input, slogdet_type)
    nan = Tensor._make(xp.asarray(xp.nan, dtype=logabs._data.dtype))
    return where(sign < 0, nan, logabs)


def _is_vector_rhs(a, b):
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])


def solve(A, B, *, left=True, out=None):
    """torch.linalg.solve (AX = B, or XA = B with left=False, done as (Aᵀ Xᵀ = Bᵀ))."""
    a = _check_square(A, "solve")
    if not isinstance(B, Tensor):
        raise TypeError(
            f"linalg_solve(): argument 'B' (position 2) must be Tensor, not {type(B).__name__}"
        )
    b = B._data
    if a.dtype != b.dtype:
        raise RuntimeError(
            "linalg.solve: Expected A and B to have the same dtype, but found A of type "
            f"{_tname(a.dtype)} and B of type {_tname(b.dtype)} instead"
        )
    if not left:
        return solve(A.mT, B.mT).mT
    vector = _is_vector_rhs(a, b)
    rows = b.shape[-1] if vector else (b.shape[-2] if b.ndim >= 2 else b.shape[-1])
    if rows != a.shape[-1]:
        bs = f"{b.shape[-1]}x1" if vector else f"{b.shape[-2]}x{b.shape[-1]}"
        raise RuntimeError(
            "linalg.solve: Incompatible shapes of A and B for the equation AX = B "
            f"({a.shape[-2]}x{a.shape[-1]} and {bs})"
        )
    try:
        xp.broadcast_shapes(a.shape[:-2], b.shape[:-1] if vector else b.shape[:-2])
    except ValueError:
        raise broadcast_error(b.shape[:-1] if vector else b.shape[:-2], a.shape[:-2]) from None
    return apply(LinalgSolve, (A, B), (a, b), (vector,))


method("inverse")(inverse)
method("det")(det)
method("logdet")(logdet)
method("slogdet")(slogdet)
