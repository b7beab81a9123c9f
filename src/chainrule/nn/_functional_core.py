"""Functional forms: activations, linear, losses and small tensor utilities (nn core).

Activations, softmax, linear and pad live in their op families (``ops.pointwise``,
``ops.softmax``, ``ops.linalg``, ``ops.indexing``, each listing them in
``__all_functional__``); they are re-exported here, never re-implemented. The fused losses
are in ``ops.loss``.
"""
import warnings

from .._backend import xp
from .._tensor import Tensor
from ..autograd.graph import apply, array_of, call1, like
from ..ops._core import Op
from ..ops.indexing import pad
from ..ops.linalg import bilinear, linear
from ..ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    mse_loss,
    nll_loss,
    reduction_of,
    smooth_l1_loss,
    weighted_reduce,
)
from ..ops.pointwise import (
    celu,
    celu_,
    elu,
    elu_,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    logsigmoid,
    mish,
    relu,
    relu6,
    relu_,
    selu,
    selu_,
    sigmoid,
    silu,
    softplus,
    softsign,
    tanh,
    tanhshrink,
)
from ..ops.reductions import Sum
from ..ops.softmax import log_softmax, softmax, softmin

__all__ = [
    "bilinear", "binary_cross_entropy", "binary_cross_entropy_with_logits", "celu", "celu_",
    "cosine_similarity", "cross_entropy", "elu", "elu_", "gelu", "hardsigmoid", "hardswish",
    "hardtanh", "hardtanh_", "huber_loss", "kl_div", "l1_loss", "leaky_relu", "leaky_relu_",
    "linear", "log_softmax", "logsigmoid", "mish", "mse_loss", "nll_loss", "normalize",
    "one_hot", "pad", "pairwise_distance", "prelu", "relu", "relu6", "relu_", "selu", "selu_",
    "sigmoid", "silu", "smooth_l1_loss", "softmax", "softmin", "softplus", "softsign", "tanh",
    "tanhshrink",
]


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Composite, as in PyTorch: ``|input − target|`` then the reduction."""
    reduction = reduction_of(reduction, size_average, reduce)
    if input.shape != target.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            UserWarning,
            stacklevel=2,
        )
    loss = (input - target).abs()
    if weight is not None:
        return weighted_reduce(loss, input, weight, reduction)
    return _apply_reduction(loss, reduction)


def _apply_reduction(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Composite, as in PyTorch; ``xlogy(t, t)`` is written as ``t·log(t or 1)`` so that a
    zero target contributes 0 (and a finite gradient)."""
    if size_average is not None or reduce is not None:
        reduction = reduction_of(reduction, size_average, reduce)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.",
            UserWarning,
            stacklevel=2,
        )
    elif reduction != "batchmean":
        reduction_of(reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        pos = Tensor._make((target._data > 0).astype(target._data.dtype))
        loss = target * (target * pos + (1 - pos)).log() - target * input
    if reduction == "batchmean":
        s = loss.sum()
        return s / input.shape[0] if input.dim() != 0 else s
    return _apply_reduction(loss, reduction)


def one_hot(tensor, num_classes=-1):
    if not isinstance(tensor, Tensor) or tensor._data.dtype != xp.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    a = tensor._data
    if a.size and a.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    elif a.size and a.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = (a[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return Tensor._make(out)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(‖input‖_p, eps)`` along ``dim`` (PyTorch's composite)."""
    denom = input.norm(p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    return input / denom


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """PyTorch's formula: each input divided by its norm clamped at ``eps`` (the clamp is
    not differentiated), then the dot product along ``dim``."""
    # Broadcast first: a norm along ``dim`` of an input that is broadcast along ``dim``
    # would otherwise be taken over one copy instead of all of them.
    shape = tuple(xp.broadcast_shapes(tuple(x1.shape), tuple(x2.shape)))
    x1, x2 = x1.expand(shape), x2.expand(shape)
    n1 = x1.norm(2, dim, keepdim=True)
    n2 = x2.norm(2, dim, keepdim=True)
    n1 = n1 + Tensor._make(xp.maximum(n1._data, eps) - n1._data)
    n2 = n2 + Tensor._make(xp.maximum(n2._data, eps) - n2._data)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    return (x1 - x2 + eps).norm(p, -1, keepdim=keepdim)


class Prelu(Op):
    """``x if x > 0 else w·x`` with one slope per channel (dim 1)."""

    node_name = "PreluKernelBackward0"
    operands = ("self", "weight")
    formulas = {"self": "1 if self > 0 else weight", "weight": "0 if self > 0 else self"}
    saves = (0, 1)
    array_backward = True  # (like for the mask, call1 for the sum)

    def forward(ctx, x, w):
        wb = _channel_view(w, x.ndim)
        return xp.where(x > 0, x, wb * x)

    def backward(ctx, grad):
        x, w = ctx.saved
        xa, wa = array_of(x), array_of(w)
        nd = xa.ndim
        neg = like(grad, (xa <= 0).astype(xa.dtype))  # piecewise constant: exact
        gx = gw = None
        if ctx.edges[0] is not None:
            gx = grad * (1 - neg + neg * w.reshape(_channel_view(wa, nd).shape))
        if ctx.edges[1] is not None:
            gw = grad * x * neg
            axes = tuple(i for i in range(nd) if i != 1 or wa.shape[0] == 1)
            gw = call1(Sum, gw, (axes, False, None)) if axes else gw
            gw = gw.reshape(wa.shape)
        return gx, gw


def _channel_view(w, ndim):
    if ndim == 0:
        return w.reshape(())
    shape = [1] * ndim
    shape[1 if ndim >= 2 else 0] = w.shape[0]
    return w.reshape(shape)


def prelu(input, weight):
    channels = input._data.shape[1] if input._data.ndim >= 2 else 1
    n = weight._data.size
    if n != 1 and n != channels:
        raise RuntimeError(
            "Mismatch of parameter numbers and input channel size. Found parameter numbers = "
            f"{n} and channel size = {channels}."
        )
    wa = weight._data if weight._data.dtype == input._data.dtype else weight._data.astype(input._data.dtype)
    return apply(Prelu, (input, weight), (input._data, wa))
