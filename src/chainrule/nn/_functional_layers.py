"""Functional forms of layers: conv, pooling, normalisation, dropout, embedding, attention.

Arguments, defaults, results and error messages follow torch.nn.functional. The heavy
lifting is in fused single-node ops (``ops/conv.py``, ``ops/pooling.py``,
``ops/normalization.py``); this module checks arguments and shapes the geometry.
"""
import math

from .._backend import amax, xp
from .._tensor import Tensor
from ..autograd.graph import apply, call1
from ..ops import attention as _attention
from ..ops import conv as _conv
from ..ops import normalization as _norm
from ..ops import pooling as _pool
from ..ops._core import Op, constant_array
from ..ops.loss import _UNSIGNED

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "alpha_dropout",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "dropout",
    "dropout1d",
    "dropout2d",
    "embedding",
    "group_norm",
    "instance_norm",
    "layer_norm",
    "max_pool1d",
    "max_pool2d",
    "multi_head_attention_forward",
    "scaled_dot_product_attention",
]


# ---- argument helpers -------------------------------------------------------------------
def _tuple(v, n):
    if isinstance(v, (tuple, list)):
        if len(v) == 1 and n > 1:
            return tuple(v) * n
        return tuple(None if i is None else int(i) for i in v)
    return (int(v),) * n


def _geo2(nd, stride, pads, dilation, groups):
    """Geometry for the 2-d kernels; 1-d gets a unit height (stride 1, no padding)."""
    if nd == 1:
        return (1,) + stride, ((0, 0),) + pads, (1,) + dilation, groups
    return stride, pads, dilation, groups


def _unbatched(x, nd, name):
    """PyTorch's check of the input rank; returns (batched input, was_unbatched)."""
    if x.dim() == nd + 2:
        return x, False
    if x.dim() == nd + 1:
        return x.reshape((1,) + tuple(x.shape)), True
    raise RuntimeError(
        f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input "
        f"of size: {list(x.shape)}"
    )


def _check_dtypes(x, w, b):
    for other in (w, b):
        if other is not None and other.dtype is not x.dtype:
            raise RuntimeError(
                f"expected scalar type {x.dtype._short} but found {other.dtype._short}"
            )


def _conv_pads(padding, nd, w_spatial, stride, dilation):
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        pads = []
        for k, d in zip(w_spatial, dilation):
            total = d * (k - 1)
            pads.append((total // 2, total - total // 2))  # the odd one goes at the end
        return tuple(pads)
    p = _tuple(padding, nd)
    if any(i < 0 for i in p):
        raise RuntimeError("negative padding is not supported")
    return tuple((i, i) for i in p)


def _cache_key(*parts):
    """A hashable key for the argument-check caches (None when some part is unhashable)."""
    try:
        hash(parts)
    except TypeError:
        return None
    return parts


# (shapes, dtypes, arguments) -> checked geometry: repeated calls skip the validation,
# which otherwise costs more than a small convolution or pooling itself.
_CONV_GEO = {}
_POOL_GEO = {}


def _remember(cache, key, value):
    if key is not None:
        if len(cache) > 4096:  # many distinct shapes (varying lengths): start over
            cache.clear()
        cache[key] = value


def _convnd(nd, name, input, weight, bias, stride, padding, dilation, groups):
    b = bias._data if bias is not None else None
    key = _cache_key(nd, input._data.shape, input._data.dtype, weight._data.shape,
                     weight._data.dtype, None if b is None else (b.shape, b.dtype), stride,
                     padding, dilation, groups)
    geo = _CONV_GEO.get(key) if key is not None else None
    if geo is None:
        geo = _conv_geometry(nd, name, input, weight, bias, stride, padding, dilation, groups)
        _remember(_CONV_GEO, key, geo)
    if input._data.ndim == nd + 2:
        return _conv.convolution(input, weight, bias, geo, False, None)
    y = _conv.convolution(input.reshape((1,) + tuple(input.shape)), weight, bias, geo, False,
                          None)
    return y.reshape(tuple(y.shape)[1:])


def _conv_geometry(nd, name, input, weight, bias, stride, padding, dilation, groups):
    """Check a convolution's arguments as PyTorch does; the 2-d kernels' geometry."""
    x, _ = _unbatched(input, nd, name)
    _check_dtypes(x, weight, bias)
    stride, dilation = _tuple(stride, nd), _tuple(dilation, nd)
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    ws = tuple(weight.shape)
    if len(ws) != nd + 2:
        raise RuntimeError(
            "weight should have at least three dimensions" if len(ws) < 3 else
            f"Expected {nd + 2}-dimensional weight for {nd + 2}-dimensional input "
            f"{list(x.shape)}, but got {len(ws)}-dimensional weight of size {list(ws)} instead"
        )
    pads = _conv_pads(padding, nd, ws[2:], stride, dilation)
    c = x.shape[1]
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if ws[1] * groups != c:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(ws)}, expected input{list(x.shape)} to "
            f"have {ws[1] * groups} channels, but got {c} channels instead"
        )
    if ws[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size {list(ws)} instead"
        )
    _check_bias(bias, ws, ws[0])
    spatial = x.shape[2:]
    padded = [n + lo + hi for n, (lo, hi) in zip(spatial, pads)]
    eff = [d * (k - 1) + 1 for k, d in zip(ws[2:], dilation)]
    if any(p < e for p, e in zip(padded, eff)):
        dims = " x ".join(map(str, padded))
        ks = " x ".join(map(str, eff))
        raise RuntimeError(
            f"Calculated padded input size per channel: ({dims}). Kernel size: ({ks}). "
            "Kernel size can't be greater than actual input size"
        )
    return _geo2(nd, stride, pads, dilation, groups)


def _check_bias(bias, ws, n):
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != n):
        raise RuntimeError(
            f"Given weight of size {list(ws)}, expected bias to be 1-dimensional with {n} "
            f"elements, but got bias of size {list(bias.shape)} instead"
        )


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convnd(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convnd(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(nd, name, input, weight, bias, stride, padding, output_padding, groups,
                      dilation):
    x, unb = _unbatched(input, nd, name)
    _check_dtypes(x, weight, bias)
    stride, dilation = _tuple(stride, nd), _tuple(dilation, nd)
    padding, output_padding = _tuple(padding, nd), _tuple(output_padding, nd)
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            hw = ("height", "width") if nd == 2 else ("width",)
            parts = [f"output_padding_{h}: {o}" for h, o in zip(hw, output_padding)]
            parts += [f"stride_{h}: {o}" for h, o in zip(hw, stride)]
            parts += [f"dilation_{h}: {o}" for h, o in zip(hw, dilation)]
            raise RuntimeError(
                "output padding must be smaller than either stride or dilation, but got "
                + " ".join(parts)
            )
    ws = tuple(weight.shape)
    if ws[0] != x.shape[1]:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(ws)}, expected input{list(x.shape)} to "
            f"have {ws[0]} channels, but got {x.shape[1]} channels instead"
        )
    cout = ws[1] * groups
    _check_bias(bias, ws, cout)
    out = [
        (n - 1) * s - 2 * p + d * (k - 1) + 1 + op
        for n, s, p, d, k, op in zip(x.shape[2:], stride, padding, dilation, ws[2:],
                                     output_padding)
    ]
    # output_padding only lengthens the output (extra rows at the end get no input). The
    # adjoint convolution must map that output back to exactly the input's size: when
    # output_padding >= stride (allowed if < dilation) its far side is cropped, not padded.
    pads = tuple((p, p - max(0, op - s + 1)) for p, op, s in zip(padding, output_padding, stride))
    geo = _geo2(nd, stride, pads, dilation, groups)
    y = _conv.convolution(x, weight, bias, geo, True, (x.shape[0], cout, *out))
    return y.reshape(tuple(y.shape)[1:]) if unb else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transposend(1, "conv_transpose1d", input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transposend(2, "conv_transpose2d", input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


# ---- pooling ----------------------------------------------------------------------------
def _pool_args(nd, x, kernel_size, stride, padding, dilation, ceil_mode):
    if x.dim() not in (nd + 1, nd + 2) or 0 in tuple(x.shape)[-nd - 1:]:
        raise RuntimeError(
            f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for input"
        )
    k = _tuple(kernel_size, nd)
    s = k if stride is None or stride == [] or stride == () else _tuple(stride, nd)
    p, d = _tuple(padding, nd), _tuple(dilation, nd)
    if any(i == 0 for i in s):
        raise RuntimeError("stride should not be zero")
    if any(i <= 0 for i in k):
        raise RuntimeError(f"kernel_size must be greater than zero, but got {list(k)}")
    for pi, ki, di in zip(p, k, d):
        if pi > (di * (ki - 1) + 1) // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={pi}, "
                f"kernel_size={ki} and dilation={di}"
            )
    spatial = tuple(x.shape[-nd:])
    out = tuple(_pool.pool_out_size(n, *a, ceil_mode) for n, *a in zip(spatial, k, s, p, d))
    if any(o <= 0 for o in out):
        c = x.shape[-nd - 1]
        raise RuntimeError(
            f"Given input size: ({'x'.join(map(str, (c,) + spatial))}). Calculated output size: "
            f"({'x'.join(map(str, (c,) + out))}). Output size is too small"
        )
    if nd == 1:
        return (1,) + k, (1,) + s, (0,) + p, (1,) + d, (1,) + out
    return k, s, p, d, out


def _pooled(fn, x, nd):
    """Run fn on a batched input (nd + 2 dims), unbatching its Tensor results again."""
    if x.dim() == nd + 2:
        return fn(x)
    r = fn(x.reshape((1,) + tuple(x.shape)))
    if isinstance(r, tuple):
        return tuple(t.reshape(tuple(t.shape)[1:]) for t in r)
    return r.reshape(tuple(r.shape)[1:])


def _pool_geometry(nd, input, kernel_size, stride, padding, dilation, ceil_mode):
    key = _cache_key(nd, input._data.shape, kernel_size, stride, padding, dilation, ceil_mode)
    geo = _POOL_GEO.get(key) if key is not None else None
    if geo is None:
        geo = _pool_args(nd, input, kernel_size, stride, padding, dilation, ceil_mode)
        _remember(_POOL_GEO, key, geo)
    return geo


def _max_poolnd(nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    geo = _pool_geometry(nd, input, kernel_size, stride, padding, dilation, ceil_mode)
    return _pooled(lambda x: _pool.max_pool(x, *geo, return_indices), input, nd)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_poolnd(1, input, kernel_size, stride, padding, dilation, ceil_mode,
                       return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_poolnd(2, input, kernel_size, stride, padding, dilation, ceil_mode,
                       return_indices)


def _avg_poolnd(nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
    key = _cache_key("avg", nd, input._data.shape, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)
    args = _POOL_GEO.get(key) if key is not None else None
    if args is None:
        k, s, p, _, out = _pool_args(nd, input, kernel_size, stride, padding, 1, ceil_mode)
        if divisor_override is not None and divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        in_hw = tuple(input.shape[-2:]) if nd == 2 else (1, input.shape[-1])
        div = _pool.avg_divisor(in_hw, k, s, p, out, count_include_pad, divisor_override)
        args = (k, s, p, out, div)
        _remember(_POOL_GEO, key, args)
    return _pooled(lambda x: apply(_pool.AvgPool, (x,), (x._data,), args), input, nd)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    return _avg_poolnd(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_poolnd(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)


def _adaptive_avg(nd, input, output_size):
    name = f"adaptive_avg_pool{nd}d"
    if isinstance(output_size, (tuple, list)) and len(output_size) != nd:
        raise RuntimeError(f"{name}: output_size must be {nd}")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {list(input.shape)}"
        )
    size = _tuple(output_size, nd)
    spatial = tuple(input.shape[-nd:])
    size = tuple(n if o is None else o for o, n in zip(size, spatial))
    dt = input._data.dtype
    mats = [_pool.adaptive_matrix(n, o, dt) for n, o in zip(spatial, size)]
    args = (mats[0], mats[1]) if nd == 2 else (None, mats[0])
    return apply(_pool.AdaptiveAvgPool, (input,), (input._data,), args)


def _adaptive_max(nd, input, output_size, return_indices):
    name = f"adaptive_max_pool{nd}d"
    if isinstance(output_size, (tuple, list)) and len(output_size) != nd:
        raise RuntimeError(
            f"{name}(): internal error: output_size.size() must be {nd}"
        )
    if input.dim() not in (nd + 1, nd + 2) or 0 in tuple(input.shape)[-nd:]:
        raise RuntimeError(
            f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(input.shape)}"
        )
    spatial = tuple(input.shape[-nd:])
    size = tuple(n if o is None else o for o, n in zip(_tuple(output_size, nd), spatial))
    out = size if nd == 2 else (1,) + size
    r = _pooled(lambda x: apply(_pool.AdaptiveMaxPool, (x,), (x._data,), (out, return_indices)),
                input, nd)
    return r if return_indices else r[0]


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max(1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max(2, input, output_size, return_indices)


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg(1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg(2, input, output_size)


# ---- normalisation ------------------------------------------------------------------------
def _check_affine(t, n, what):
    if t is not None and t.numel() != n:
        raise RuntimeError(f"{what} should contain {n} elements not {t.numel()}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-05):
    """Updates running_mean/var in place when training (unbiased variance, as PyTorch)."""
    if input.dim() < 2:
        raise ValueError(
            f"Expected 2D or 3D input (got {input.dim()}D input)"
        )
    shape = tuple(input.shape)
    c = shape[1]
    for t, what in ((running_mean, "running_mean"), (running_var, "running_var"),
                    (weight, "weight"), (bias, "bias")):
        _check_affine(t, c, what)
    red = (0,) + tuple(range(2, len(shape)))
    aff = (c,) + (1,) * (len(shape) - 2)
    geo = _norm.Geometry(None, red, aff, red, eps)
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError(f"running_{'mean' if running_mean is None else 'var'} must be "
                               "defined in evaluation mode")
        dt = input._data.dtype
        mean = running_mean._data.astype(dt).reshape(aff)
        invstd = (1.0 / xp.sqrt(running_var._data.astype(dt) + eps)).reshape(aff)
        return _norm.normalize(_norm.Normalize, input, weight, bias, geo, (mean, invstd))[0]
    n = input.numel() // c
    if n <= 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {input.shape}"
        )
    y, mean, var = _norm.normalize(_norm.Normalize, input, weight, bias, geo)
    if running_mean is not None:
        _update_running(running_mean, mean._data.reshape(c), momentum)
    if running_var is not None:
        _update_running(running_var, var._data.reshape(c) * (n / (n - 1)), momentum)
    return y


def _update_running(buf, value, momentum):
    a = buf._data
    a *= 1 - momentum
    a += momentum * value.astype(a.dtype, copy=False)
    buf._version[0] += 1


_NORM_GEO = {}


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    key = _cache_key(input._data.shape, normalized_shape, eps,
                     None if weight is None else weight._data.shape,
                     None if bias is None else bias._data.shape)
    geo = _NORM_GEO.get(key) if key is not None else None
    if geo is None:
        geo = _layer_norm_geometry(input, normalized_shape, weight, bias, eps)
        _remember(_NORM_GEO, key, geo)
    return _norm.normalize(_norm.LayerNormalize, input, weight, bias, geo)


def _layer_norm_geometry(input, normalized_shape, weight, bias, eps):
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    shape = tuple(input.shape)
    k = len(ns)
    for t, what in ((weight, "weight"), (bias, "bias")):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(
                f"Expected {what} to be of same shape as normalized_shape, but got {what} of "
                f"shape {list(t.shape)} and normalized_shape = {list(ns)}"
            )
    if k == 0 or shape[len(shape) - k:] != ns or len(shape) < k:
        raise RuntimeError(
            f"Given normalized_shape={list(ns)}, expected input with shape [*, "
            f"{', '.join(map(str, ns))}], but got input of size{list(shape)}"
        )
    nd = len(shape)
    axes = tuple(range(nd - k, nd))
    return _norm.Geometry(None, axes, ns, tuple(range(nd - k)), eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    shape = tuple(input.shape)
    if input.dim() < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {input.dim()}"
        )
    n, c = shape[:2]
    if c % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(shape)} and num_groups={num_groups}"
        )
    for t, what in ((weight, "weight"), (bias, "bias")):
        if t is not None and (t.dim() != 1 or t.numel() != c):
            raise RuntimeError(
                f"Expected {what} to be a vector of size equal to the number of channels in "
                f"input, but got {what} of shape {list(t.shape)} and input of shape {list(shape)}"
            )
    aff = (c,) + (1,) * (len(shape) - 2)
    red = (0,) + tuple(range(2, len(shape)))
    geo = _norm.Geometry((n, num_groups, input.numel() // max(n * num_groups, 1)), (2,), aff,
                         red, eps)
    return _norm.normalize(_norm.GroupNormalize, input, weight, bias, geo)[0]


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-05):
    """Statistics per (sample, channel). Unlike PyTorch, running statistics are only
    supported together with ``use_input_stats``(their per-channel mean is what is tracked)."""
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    shape = tuple(input.shape)
    n, c = shape[:2]
    aff = (c,) + (1,) * (len(shape) - 2)
    red = (0,) + tuple(range(2, len(shape)))
    geo = _norm.Geometry((n, c, input.numel() // max(n * c, 1)), (2,), aff, red, eps)
    y, mean, var = _norm.normalize(_norm.GroupNormalize, input, weight, bias, geo)
    if running_mean is not None:
        _update_running(running_mean, mean._data.reshape(n, c).mean(0), momentum)
    if running_var is not None:
        m = input.numel() // (n * c)
        _update_running(running_var, (var._data.reshape(n, c) * (m / (m - 1))).mean(0), momentum)
    return y


# ---- dropout ----------------------------------------------------------------------------
def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(shape, p, dtype):
    """1/(1-p) where kept, 0 where dropped (p = 1 drops everything)."""
    from ..ops.creation import _rng

    if p == 1.0:
        return xp.zeros(shape, dtype)
    r = _rng(None).random(shape, dtype=xp.float32 if dtype == xp.float16 else dtype)
    return ((r >= p) * (1.0 / (1.0 - p))).astype(dtype, copy=False)


def _masked(input, mask_shape, p, inplace):
    mask = Tensor._make(_keep_mask(mask_shape, p, input._data.dtype))
    return input.mul_(mask) if inplace else input * mask


def dropout(input, p=0.5, training=True, inplace=False):
    """Same distribution as PyTorch; the random stream (NumPy's) differs, so masks do."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    return _masked(input, input._data.shape, p, inplace)


def _feature_dropout(nd, input, p, training, inplace):
    _check_p(p)
    if not training or p == 0.0:
        return input
    shape = input._data.shape
    batched = input.dim() == nd + 2
    lead = 2 if batched else 1
    return _masked(input, shape[:lead] + (1,) * (len(shape) - lead), p, inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    if input.dim() not in (2, 3):
        raise RuntimeError(
            "dropout1d: Expected 2D or 3D input, but received a "
            f"{input.dim()}D input. Note that dropout1d exists to provide channel-wise dropout "
            "on inputs with 1 spatial dimension, a channel dimension, and an optional batch "
            "dimension (i.e. 2D or 3D inputs)."
        )
    return _feature_dropout(1, input, p, training, inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels. As PyTorch (with its warnings): a 3-D input is read as
    (N, C, L), and a 2-D one gets plain elementwise dropout."""
    import warnings

    nd = input.dim()
    if nd not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2,
        )
    if nd == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
        return _feature_dropout(1, input, p, training, inplace)
    return _feature_dropout(2, input, p, training, inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """SELU-preserving dropout: dropped units take the negative saturation value, then an
    affine map restores mean 0 / variance 1 (as PyTorch)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    alpha = 1.7580993408473766
    keep = (_keep_mask(input._data.shape, p, input._data.dtype) != 0).astype(input._data.dtype)
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    b = Tensor._make((keep - 1.0 + p) * (alpha * a))  # dropped units end at -alpha·a·(1-p)
    out = input * Tensor._make(keep * a)
    out = out + b
    return input.copy_(out) if inplace else out


# ---- embedding --------------------------------------------------------------------------
class Embedding(Op):
    """weight[indices]; args (indices, padding_idx)."""

    node_name = "EmbeddingBackward0"
    operands = ("weight",)
    formulas = {"weight": "scatter-add of grad rows at indices (none to padding_idx)"}

    array_backward = True  # (EmbeddingDense takes the array, or records on a Tensor)

    def forward(ctx, w, idx, padding_idx):
        return w.take(idx, axis=0)  # (rows by take: half the time of w[idx]; same values)

    def backward(ctx, grad):
        idx, pad = ctx.args
        return call1(EmbeddingDense, grad, (idx, pad, ctx.metas[0][0][0]))


class EmbeddingDense(Op):
    """The embedding's adjoint: add grad rows at the indices; linear, so its own derivative
    reads rows again (with the padding row excluded)."""

    node_name = "EmbeddingDenseBackwardBackward0"
    operands = ("grad_output",)
    formulas = {"grad_output": "rows of ggW at indices"}

    def forward(ctx, g, idx, pad, num):
        d = g.shape[-1]
        flat = idx.ravel()
        n = flat.size
        # Rows of the same index are summed in their order of appearance, from zero, as
        # PyTorch's loop does: bit for bit its result. Small gradients (a batch of tokens)
        # go through np.add.at over flat element indices, NumPy's 1-D fast path: five calls
        # where the sort below takes ~20 (each small call costs ~2-3 µs inside a step).
        if n * d <= _ADD_AT_SMALL:
            gw = _add_rows_at(g, flat, num, d)
        else:
            # Each row goes straight to slab j of a zero-padded (most repeats, used indices, d)
            # block, j its place among its index's rows; one reduction over the slabs (in
            # order, from zero) adds them. When one index repeats far more than the rest that
            # block would be mostly padding, and np.add.at does it instead.
            key = flat.astype(xp.int16) if num <= 32767 else flat  # (NumPy radix-sorts int16)
            order = xp.argsort(key, kind="stable")
            s = flat[order]
            first = xp.empty(n, bool)
            first[0] = True
            xp.not_equal(s[1:], s[:-1], out=first[1:])
            starts = xp.flatnonzero(first)
            seg = xp.cumsum(first)  # each sorted row's index, numbered from 1
            seg -= 1
            rank = xp.arange(n)
            rank -= starts[seg]  # its place among that index's rows
            most = int(rank.max()) + 1
            used = starts.size
            if most <= 32 and most * used <= 4 * n + 1024:
                block = xp.zeros((most * used, d), dtype=g.dtype)
                rank *= used
                rank += seg
                slot = xp.empty(n, rank.dtype)
                slot[order] = rank  # the block row of each row of g, in g's order
                block[slot] = g.reshape(-1, d)
                gw = xp.zeros((num, d), dtype=g.dtype)
                gw[s[starts]] = xp.add.reduce(block.reshape(most, used, d), axis=0, initial=0)
            else:
                gw = _add_rows_at(g, flat, num, d)
        if pad is not None:
            gw[pad] = 0
        return gw

    def backward(ctx, gg):
        idx, pad, _ = ctx.args
        if pad is not None:
            gg = gg * Tensor._make((xp.arange(gg.shape[0]) != pad)[:, None].astype(gg._data.dtype))
        return apply(Embedding, (gg,), (gg._data,), (idx, pad))


_ADD_AT_SMALL = 1 << 16  # elements of the gradient up to which np.add.at does it all


def _add_rows_at(g, flat, num, d):
    """``gw[flat[i]] += g[i]`` for each row i in order, from zeros: np.add.at over flat
    element indices (its 1-D fast path), in chunks that bound the index array's size."""
    out = xp.zeros((num, d), g.dtype)  # (returned itself: a gradient the engine need not copy)
    gw = out.reshape(-1)
    g1 = g.reshape(-1)
    cols = constant_array("arange", d, xp.intp)
    rows = max(1, _ADD_AT_SMALL // max(d, 1))
    for i in range(0, flat.size, rows):
        at = flat[i:i + rows, None].astype(xp.intp, copy=False) * d + cols
        xp.add.at(gw, at.reshape(-1), g1[i * d:(i + rows) * d])
    return out


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """``scale_grad_by_freq`` and ``sparse`` gradients are not supported (NotImplementedError)."""
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("chainrule: embedding supports neither scale_grad_by_freq "
                                  "nor sparse gradients")
    idx = input._data if isinstance(input, Tensor) else xp.asarray(input)
    if idx.dtype not in (xp.int64, xp.int32):
        from .._dtype import _FROM_NP

        name = _FROM_NP[idx.dtype]._short if idx.dtype in _FROM_NP else str(idx.dtype)
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got torch.{name}Tensor instead (while checking arguments "
            "for embedding)"
        )
    num = weight._data.shape[0]
    # one reduction: as unsigned, a negative index is past every row too
    if idx.size and amax(idx.view(_UNSIGNED[idx.dtype.itemsize]), None) >= num:
        raise IndexError("index out of range in self")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx % num
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    return apply(Embedding, (weight,), (weight._data,), (idx, padding_idx))


def _renorm_rows(weight, idx, max_norm, norm_type):
    """PyTorch's embedding_renorm_: rescale, in place, the used rows whose norm exceeds max_norm."""
    rows = xp.unique(idx)
    w = weight._data
    norms = xp.linalg.norm(w[rows].astype(xp.float64), ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        scale = max_norm / (norms[big] + 1e-7)
        w[rows[big]] *= scale[:, None].astype(w.dtype)
        weight._version[0] += 1


# ---- attention --------------------------------------------------------------------------
def _nnf():
    """chainrule.nn.functional (linear, softmax live in the core functional module)."""
    from . import functional

    return functional


def _additive(mask, dtype, true_means_keep):
    """A float mask to add to attention scores; bool masks become 0 / -inf constants."""
    if mask is None:
        return None
    m = mask._data
    if m.dtype == xp.bool_:
        blocked = ~m if true_means_keep else m
        return Tensor._make(xp.where(blocked, -xp.inf, 0.0).astype(dtype))
    return mask


def _attend(q, k, v, mask, dropout_p, scale):
    """(softmax(q kᵀ · scale + mask) v, the attention weights)."""
    scores = (q * scale).matmul(k.transpose(-2, -1))
    if mask is not None:
        scores = scores + mask
    attn = _nnf().softmax(scores, dim=-1)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, True)
    return attn.matmul(v), attn


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """One fused node (``ops/attention.py``). A boolean mask marks the positions that take
    part, a float one is added to the scores; fully masked rows give zeros (as PyTorch's
    CPU kernel). The dropout stream is NumPy's, so masks differ from PyTorch's."""
    dts = (query.dtype, key.dtype, value.dtype)
    if dts[0] is not dts[1] or dts[0] is not dts[2]:
        n = [str(d).replace("torch.", "").replace("float32", "float").replace("float64", "double")
             for d in dts]
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{n[0]} key.dtype: {n[1]} and value.dtype: {n[2]} instead."
        )
    L, S = query.shape[-2], key.shape[-2]
    if key.shape[-1] != query.shape[-1]:  # PyTorch reports it from its bmm of q and kᵀ
        b = key.numel() // max(1, S * key.shape[-1])
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{b}, "
            f"{query.shape[-1]}] but got: [{b}, {key.shape[-1]}]."
        )
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    if enable_gqa and query.dim() >= 3 and query.shape[-3] != key.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]
        key = key.repeat_interleave(rep, -3)
        value = value.repeat_interleave(rep, -3)
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                "is_causal=True"
            )
        attn_mask = Tensor._make(xp.tril(xp.ones((L, S), dtype=bool)))
    mask = _additive(attn_mask, query._data.dtype, true_means_keep=True)
    keep = None
    if dropout_p > 0.0:
        batch = xp.broadcast_shapes(query._data.shape[:-2], key._data.shape[:-2])
        keep = _keep_mask(batch + (L, S), dropout_p, query._data.dtype)
    return _attention.attention(query, key, value, mask, scale, keep)


def _canonical_mask(mask, dtype):
    """MultiheadAttention masks: True (or a float) marks what is NOT attended."""
    return _additive(mask, dtype, true_means_keep=False)


def multi_head_attention_forward(
    query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k,
    bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training=True,
    key_padding_mask=None, need_weights=True, attn_mask=None, use_separate_proj_weight=False,
    q_proj_weight=None, k_proj_weight=None, v_proj_weight=None, static_k=None, static_v=None,
    average_attn_weights=True, is_causal=False,
):
    """PyTorch's multi-head attention on (L, N, E) inputs (or unbatched (L, E)).

    bias_k/bias_v, add_zero_attn and static_k/static_v are not supported.
    """
    if bias_k is not None or bias_v is not None or add_zero_attn or static_k is not None \
            or static_v is not None:
        raise NotImplementedError(
            "chainrule: multi_head_attention_forward supports neither bias_k/bias_v, "
            "add_zero_attn nor static_k/static_v"
        )
    nnf = _nnf()
    batched = query.dim() == 3
    if not batched:
        query, key, value = (t.reshape((t.shape[0], 1, t.shape[1])) for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.reshape((1,) + tuple(key_padding_mask.shape))
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    dtype = query._data.dtype
    kpm = _canonical_mask(key_padding_mask, dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask."
        )
    mask = _canonical_mask(attn_mask, dtype)
    if embed_dim != embed_dim_to_check:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}"
        )
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        bq = bk = bv = None
        if in_proj_bias is not None:
            bq, bk, bv = in_proj_bias.chunk(3)
        q = nnf.linear(query, q_proj_weight, bq)
        k = nnf.linear(key, k_proj_weight, bk)
        v = nnf.linear(value, v_proj_weight, bv)
    elif query is key and key is value:
        q, k, v = nnf.linear(query, in_proj_weight, in_proj_bias).chunk(3, -1)
    else:
        wq, wk, wv = in_proj_weight.chunk(3)
        bq = bk = bv = None
        if in_proj_bias is not None:
            bq, bk, bv = in_proj_bias.chunk(3)
        q, k, v = nnf.linear(query, wq, bq), nnf.linear(key, wk, bk), nnf.linear(value, wv, bv)
    if mask is not None:
        want = (tgt_len, src_len) if mask.dim() == 2 else (bsz * num_heads, tgt_len, src_len)
        if mask.dim() not in (2, 3):
            raise RuntimeError(f"attn_mask's dimension {mask.dim()} is not supported")
        if tuple(mask.shape) != want:
            raise RuntimeError(
                f"The shape of the {mask.dim()}D attn_mask is {mask.shape}, but should be "
                f"{want}."
            )
        mask = mask.reshape((-1, num_heads, tgt_len, src_len)) if mask.dim() == 3 else mask
    if kpm is not None:
        if tuple(kpm.shape) != (bsz, src_len):
            raise AssertionError(
                f"expecting key_padding_mask shape of {(bsz, src_len)}, but got {kpm.shape}"
            )
        kpm = kpm.reshape((bsz, 1, 1, src_len))
        mask = kpm if mask is None else mask + kpm
    # (L, N, E) -> (N, heads, L, head_dim)
    q = q.reshape((tgt_len, bsz, num_heads, head_dim)).permute(1, 2, 0, 3)
    k = k.reshape((src_len, bsz, num_heads, head_dim)).permute(1, 2, 0, 3)
    v = v.reshape((src_len, bsz, num_heads, head_dim)).permute(1, 2, 0, 3)
    scale = 1.0 / math.sqrt(head_dim)
    if not training:
        dropout_p = 0.0
    if need_weights:  # the weights are returned, so compose them visibly
        out, weights = _attend(q, k, v, mask, dropout_p, scale)
    else:
        keep = None
        if dropout_p > 0.0:
            keep = _keep_mask((bsz, num_heads, tgt_len, src_len), dropout_p, dtype)
        out, weights = _attention.attention(q, k, v, mask, scale, keep), None
    out = out.permute(2, 0, 1, 3).reshape((tgt_len * bsz, embed_dim))
    out = nnf.linear(out, out_proj_weight, out_proj_bias).reshape((tgt_len, bsz, -1))
    if not batched:
        out = out.reshape((tgt_len, out.shape[-1]))
    if not need_weights:
        return out, None
    if average_attn_weights:
        weights = weights.mean(1)
    if not batched:
        weights = weights.reshape(tuple(weights.shape)[1:])
    return out, weights
