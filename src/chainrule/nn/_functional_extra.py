"""Functional forms the compatibility audit found missing: interpolate / upsample, glu,
rms_norm, pixel_shuffle / pixel_unshuffle. interpolate runs as one fused node
(``ops.resample``); the rest are compositions of existing ops, so every order of
derivative is exact."""
from ..ops import resample as _rs

__all__ = ["interpolate", "upsample", "upsample_bilinear", "upsample_nearest"]

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
