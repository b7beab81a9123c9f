"""chainrule.linalg: norms, matmul, cross, and inv/det/slogdet/solve (ops/linalg_decomp.py).

Matrix norms: 'fro', ±1 and ±inf; 'nuc', 2 and -2 need an SVD chainrule does not
implement and raise NotImplementedError.
"""
from .ops.linalg import matmul
from .ops.linalg_decomp import LinAlgError, det, inv, solve
from .ops.linalg_decomp import linalg_slogdet as slogdet
from .ops.misc import cross as _cross
from .ops.reductions import vector_norm

__all__ = ["LinAlgError", "cross", "det", "inv", "matmul", "matrix_norm", "norm", "slogdet",
           "solve", "vector_norm"]


def cross(input, other, *, dim=-1, out=None):
    """torch.linalg.cross: like torch.cross but ``dim`` defaults to -1."""
    return _cross(input, other, dim=dim)


def _matrix_ord_error(ord):
    return NotImplementedError(
        f"chainrule.linalg: matrix norm ord={ord!r} is not implemented (needs an SVD)"
    )


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    if ord == "fro":
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if ord not in _ABS_SUM_ORDS:
        if ord in ("nuc", 2, -2):
            raise _matrix_ord_error(ord)
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    return _abs_sum_norm(A, ord, dim, keepdim, dtype)


# ord: (reduce over the rows (dim 0) first?, then the max or the min of the sums)
_ABS_SUM_ORDS = {1: (True, "amax"), -1: (True, "amin"),
                 float("inf"): (False, "amax"), -float("inf"): (False, "amin")}


def _abs_sum_norm(A, ord, dim, keepdim, dtype):
    """The ±1 norms (max/min absolute column sum) and ±inf norms (rows), as composites."""
    if A.ndim < 2:
        raise RuntimeError(
            "linalg.matrix_norm: The input tensor A must have at least 2 dimensions."
        )
    if not A.dtype.is_floating_point:
        raise RuntimeError(
            "linalg.matrix_norm: Expected a floating point or complex tensor as input. "
            f"Got {_short(A)}"
        )
    d0, d1 = (d % A.ndim for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got {tuple(dim)}")
    rows_first, reduce = _ABS_SUM_ORDS[ord]
    x = A.abs() if dtype is None else A.to(dtype).abs()
    first, second = (d0, d1) if rows_first else (d1, d0)
    r = getattr(x.sum(first, keepdim=True), reduce)(second, keepdim=True)
    return r if keepdim else r.squeeze(max(d0, d1)).squeeze(min(d0, d1))


def _short(t):
    from ._dtype import _FROM_NP

    return _FROM_NP[t._data.dtype]._short


def norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    """torch.linalg.norm: with ord=None the 2-norm of the flattened input (or over ``dim``)."""
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if isinstance(dim, int) or (dim is None and A.ndim == 1):
        return vector_norm(A, ord, dim, keepdim, dtype=dtype)
    return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim, dtype=dtype)


def _honour_out():
    from .ops._core import takes_out, with_out

    for name in __all__:
        fn = globals()[name]
        if takes_out(fn):
            globals()[name] = with_out(fn)


_honour_out()
