"""chainrule.linalg: the vector norms of torch.linalg, plus matmul.

Matrix norms other than Frobenius ('nuc', 2, -2, ±1 and ±inf over two dims) need an SVD
or per-axis extrema chainrule does not implement; they raise NotImplementedError.
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
        f"chainrule.linalg: matrix norm ord={ord!r} is not implemented (only 'fro')"
    )


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    if ord != "fro":
        raise _matrix_ord_error(ord)
    return vector_norm(A, 2, dim, keepdim, dtype=dtype)


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
