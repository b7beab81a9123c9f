"""Gradient clipping, in place on ``.grad`` (PyTorch's torch.nn.utils.clip_grad).

``foreach`` is accepted and ignored: NumPy has no fused multi-tensor kernels.
"""
import math
import warnings

from ..._backend import xp
from ..._tensor import Tensor

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "get_total_norm"]


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _vector_norm(a, p):
    """torch.linalg.vector_norm on an array, in float64 (the caller casts the result)."""
    a = xp.abs(a.astype(xp.float64, copy=False)).ravel()
    if p == math.inf:
        return a.max() if a.size else 0.0
    if p == -math.inf:
        return a.min() if a.size else math.inf
    if p == 0:
        return float(xp.count_nonzero(a))
    if p == 1:
        return a.sum()
    if p == 2:
        return math.sqrt(xp.dot(a, a))
    return (a**p).sum() ** (1.0 / p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the per-tensor norms (PyTorch's two-stage definition)."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = [t for t in tensors if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._make(xp.asarray(0.0, dtype=xp.float32))
    dtype = xp.result_type(*[t._data.dtype for t in tensors])
    norms = xp.array([_vector_norm(t._data, norm_type) for t in tensors])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._make(xp.asarray(total, dtype=dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients by ``min(1, max_norm / (total_norm + 1e-6))``; returns the total
    norm (before clipping) as a tensor."""
    if not isinstance(parameters, Tensor):
        parameters = list(parameters)  # a generator is walked twice
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if not grads:
        return total
    coef = float(max_norm) / (float(total._data) + 1e-6)
    if coef < 1.0 or math.isnan(coef):
        with xp.errstate(invalid="ignore"):  # inf·0 is nan, silently, as in PyTorch
            for g in grads:
                g._data *= g._data.dtype.type(coef)
                g._version[0] += 1
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
        "`torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient into ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        xp.clip(g._data, -clip_value, clip_value, out=g._data)
        g._version[0] += 1
