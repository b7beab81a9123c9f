"""Functional forms the compatibility audit found missing: interpolate / upsample, glu,
rms_norm, pixel_shuffle / pixel_unshuffle. interpolate runs as one fused node
(``ops.resample``); the rest are compositions of existing ops, so every order of
derivative is exact."""
from .._backend import xp
from ..autograd.graph import apply, array_of, call, call1
from ..ops import resample as _rs
from ..ops._core import Op, wrap_dim
from ..ops.pointwise import Sigmoid
from ..ops.shape import Cat

__all__ = [
    "glu", "interpolate", "pixel_shuffle", "pixel_unshuffle", "rms_norm", "upsample",
    "upsample_bilinear", "upsample_nearest",
]

_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"
_NEEDS = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}


def _sizes(input, size, scale_factor, dim):
    """(output sizes, scale factors or Nones) as PyTorch's interpolate works them out."""
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    spatial = list(input.shape[2:])
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {spatial} and output size of {size}. "
                    "Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "output size in (o1, o2, ...,oK) format."
                )
            return [int(s) for s in size], None
        return [int(size)] * dim, None
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != dim:
            raise ValueError(
                "Input and scale_factor must have the same number of spatial dimensions, but "
                f"got input with spatial dimensions of {spatial} and "
                f"scale_factor of shape {scale_factor}. "
                "Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                "scale_factor in (s1, s2, ...,sK) format."
            )
        scales = [float(s) for s in scale_factor]
    else:
        scales = [float(scale_factor)] * dim
    return [_rs.output_size(n, s) for n, s in zip(spatial, scales)], scales


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Modes nearest, nearest-exact, linear, bilinear, bicubic, trilinear and area (1-d and
    2-d); ``antialias=True`` and 5-d 'area' raise NotImplementedError."""
    nd = input.dim()
    dim = nd - 2
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: "
                "linear | bilinear | bicubic | trilinear"
            )
    elif align_corners is None:
        align_corners = False
    if nd not in (3, 4, 5) or (mode not in _NEEDS and mode not in
                               ("nearest", "area", "nearest-exact")):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {nd}D) for the "
            f"modes: {_MODES} (got {mode})"
        )
    out_sizes, scales = _sizes(input, size, scale_factor, dim)
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if antialias:
        raise NotImplementedError("interpolate(antialias=True) is not supported by chainrule")
    if mode == "area":
        if dim == 3:
            raise NotImplementedError("interpolate(mode='area') on 5-D input is not supported "
                                      "by chainrule (no adaptive_avg_pool3d)")
        from ._functional_layers import _adaptive_avg

        return _adaptive_avg(dim, input, out_sizes)
    need = _NEEDS.get(mode)
    if need is not None and nd != need:
        raise NotImplementedError(f"Got {nd}D input, but {mode} mode needs {need}D input")
    if recompute_scale_factor or scales is None:
        scales = [None] * dim
    if any(o <= 0 for o in out_sizes):
        names = ("D", "H", "W")[3 - dim:]
        ins = ", ".join(f"{a}: {b}" for a, b in zip(names, input.shape[2:]))
        outs = ", ".join(f"{a}: {b}" for a, b in zip(names, out_sizes))
        raise RuntimeError(
            f"Input and output sizes should be greater than 0, but got input ({ins}) "
            f"output ({outs})"
        )
    kind = "linear" if need is not None and mode != "bicubic" else mode
    return _rs.resample(input, kind, tuple(out_sizes), tuple(scales), align_corners)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of interpolate (PyTorch warns the same way)."""
    import warnings

    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    import warnings

    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    import warnings

    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- glu ----------------------------------------------------------------------------------------
class Glu(Op):
    """glu(x) = a · σ(b) for the two halves (a, b) of ``dim``: one node, as PyTorch's."""

    node_name = "GluBackward0"
    formulas = {"self": "[σ(b), a · σ(b) · (1 - σ(b))] on the two halves"}
    saves = (0,)
    array_backward = True  # (the halves by slicing, call1/call for sigmoid and cat)

    def forward(ctx, x, dim):
        a, b = xp.split(x, 2, axis=dim)
        return a / (1.0 + xp.exp(-b))

    def backward(ctx, grad):
        (x,) = ctx.saved
        d = ctx.args[0]
        n = array_of(x).shape[d] // 2
        lead = (slice(None),) * d
        a, b = x[lead + (slice(None, n),)], x[lead + (slice(n, None),)]
        s = call1(Sigmoid, b)
        ga = grad * s
        return call(Cat, ga, ga * a * (1.0 - s), (d, None))


def glu(input, dim=-1):
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim(dim, input.dim())
    if input.shape[d] % 2:
        raise RuntimeError(
            f"Halving dimension must be even, but dimension {d} is size {input.shape[d]}"
        )
    x = input._data
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"glu_cpu" not implemented for \'{input.dtype._short}\'')
    return apply(Glu, (input,), (x,), (d,))


# ---- rms_norm -----------------------------------------------------------------------------------
def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x · rsqrt(mean(x², last dims) + eps) (· weight), composed as PyTorch composes it (so
    its grad_fn is MulBackward0 there too); eps defaults to the dtype's machine epsilon
    (float32's for half types, PyTorch's opmath)."""
    if not isinstance(normalized_shape, (tuple, list)) and not hasattr(normalized_shape, "numel"):
        raise TypeError("rms_norm(): argument 'normalized_shape' (position 2) must be tuple of "
                        f"ints, not {type(normalized_shape).__name__}")
    shape = tuple(normalized_shape)
    nd = len(shape)
    if tuple(input.shape[input.dim() - nd:]) != shape or input.dim() < nd:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*{', '.join(map(str, shape))}], but got input of size{list(input.shape)}"
        )
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(
            f"Expected weight to be of same shape as normalized_shape, but got weight of shape "
            f"{list(weight.shape)} and normalized_shape = {list(shape)}"
        )
    dt = input.dtype
    x = input if dt.itemsize >= 4 else input.float()
    if eps is None:
        eps = float(xp.finfo(x._data.dtype).eps)
    dims = tuple(range(-nd, 0))
    out = x * x.pow(2).mean(dims, keepdim=True).add(eps).rsqrt()
    out = out if out.dtype == dt else out.to(dt)
    return out if weight is None else out * weight


# ---- pixel shuffle ------------------------------------------------------------------------------
def _shuffle(x, r):
    *lead, c, h, w = x.shape
    c //= r * r
    y = x.reshape((*lead, c, r, r, h, w))
    k = len(lead)
    y = y.transpose((*range(k), k, k + 3, k + 1, k + 4, k + 2))
    return y.reshape((*lead, c, h * r, w * r))


def _unshuffle(x, r):
    *lead, c, h, w = x.shape
    h //= r
    w //= r
    y = x.reshape((*lead, c, h, r, w, r))
    k = len(lead)
    y = y.transpose((*range(k), k, k + 2, k + 4, k + 1, k + 3))
    return y.reshape((*lead, c * r * r, h, w))


class PixelShuffle(Op):
    """Rearranges (*, C·r², H, W) -> (*, C, H·r, W·r); its backward is pixel_unshuffle."""

    node_name = "PixelShuffleBackward0"
    formulas = {"self": "a permutation: pixel_unshuffle of the gradient"}
    array_backward = True

    def forward(ctx, x, r):
        return _shuffle(x, r)

    def backward(ctx, grad):
        return call1(PixelUnshuffle, grad, ctx.args)


class PixelUnshuffle(Op):
    node_name = "PixelUnshuffleBackward0"
    formulas = {"self": "a permutation: pixel_shuffle of the gradient"}
    array_backward = True

    def forward(ctx, x, r):
        return _unshuffle(x, r)

    def backward(ctx, grad):
        return call1(PixelShuffle, grad, ctx.args)


def _check_pixel(name, input, r):
    if input.dim() < 3:
        raise RuntimeError(
            f"{name} expects input to have at least 3 dimensions, but got input with "
            f"{input.dim()} dimension(s)"
        )
    what = "upscale_factor" if name == "pixel_shuffle" else "downscale_factor"
    if r <= 0:
        raise RuntimeError(f"{name} expects a positive {what}, but got {r}")


def pixel_shuffle(input, upscale_factor):
    r = int(upscale_factor)
    _check_pixel("pixel_shuffle", input, r)
    c = input.shape[-3]
    if c % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    return apply(PixelShuffle, (input,), (input._data,), (r,))


def pixel_unshuffle(input, downscale_factor):
    r = int(downscale_factor)
    _check_pixel("pixel_unshuffle", input, r)
    for what, k in (("height", -2), ("width", -1)):
        if input.shape[k] % r:
            raise RuntimeError(
                f"pixel_unshuffle expects {what} to be divisible by downscale_factor, but "
                f"input.size({k})={input.shape[k]} is not divisible by {r}"
            )
    return apply(PixelUnshuffle, (input,), (input._data,), (r,))
