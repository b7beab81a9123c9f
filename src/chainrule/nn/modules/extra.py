"""nn modules the compatibility audit found missing: recurrent cells, upsampling, padding,
GLU, similarity/distance, RMSNorm and pixel shuffling.

The cells reuse the fused LSTM/GRU cell nodes of ``rnn.py`` (one node per step, double
backward exact); the rest are thin modules over the functional forms.
"""
import math

from ..._backend import xp
from ..._tensor import Tensor
from ...autograd.graph import apply
from ...ops.linalg import linear
from .. import _functional_extra as FX
from ._layer_utils import empty_param
from .module import Module
from .rnn import GRUCellFused, LSTMCellFused

__all__ = [
    "GRUCell", "LSTMCell", "RNNCell", "RNNCellBase", "Upsample", "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
]


# ---- recurrent cells --------------------------------------------------------------------------
class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = empty_param((num_chunks * hidden_size, input_size), dtype)
        self.weight_hh = empty_param((num_chunks * hidden_size, hidden_size), dtype)
        if bias:
            self.bias_ih = empty_param((num_chunks * hidden_size,), dtype)
            self.bias_hh = empty_param((num_chunks * hidden_size,), dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self):
        from .. import init

        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def _prepare(self, input, hx):
        """Checks as PyTorch's; returns (batched input, [hidden states batched], is_batched)."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        lstm = isinstance(self, LSTMCell)
        hs = None if hx is None else (list(hx) if lstm else [hx])
        if hs is not None:
            for k, h in enumerate(hs):
                if h.dim() not in (1, 2):
                    what = f"hx[{k}]" if lstm else "hidden"
                    raise ValueError(
                        f"{name}: Expected {what} to be 1D or 2D, got {h.dim()}D instead"
                    )
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        n = input.shape[0]
        if hs is None:
            z = Tensor._make(xp.zeros((n, self.hidden_size), dtype=input._data.dtype))
            hs = [z, z] if lstm else [z]
        elif not batched:
            hs = [h.unsqueeze(0) for h in hs]
        if input.shape[1] != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.shape[1]} expected "
                f"{self.input_size}"
            )
        for k, h in enumerate(hs):
            if h.shape[0] != n:
                raise RuntimeError(
                    f"Input batch size {n} doesn't match hidden{k} batch size {h.shape[0]}"
                )
            if h.shape[1] != self.hidden_size:
                raise RuntimeError(
                    f"hidden{k} has inconsistent hidden_size: got {h.shape[1]}, expected "
                    f"{self.hidden_size}"
                )
        return input, hs, batched


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx)
        g = linear(x, self.weight_ih, self.bias_ih) + linear(h, self.weight_hh, self.bias_hh)
        if self.nonlinearity == "tanh":
            out = g.tanh()
        elif self.nonlinearity == "relu":
            out = g.relu()
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        x, (h, c), batched = self._prepare(input, hx)
        gates = linear(x, self.weight_ih, self.bias_ih) + linear(h, self.weight_hh,
                                                                      self.bias_hh)
        h2, c2 = apply(LSTMCellFused, (gates, c), (gates._data, c._data)).chunk(2, 1)
        return (h2, c2) if batched else (h2.squeeze(0), c2.squeeze(0))


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx)
        gi = linear(x, self.weight_ih, self.bias_ih)
        gh = linear(h, self.weight_hh, self.bias_hh)
        out = apply(GRUCellFused, (gi, gh, h), (gi._data, gh._data, h._data))
        return out if batched else out.squeeze(0)


# ---- upsampling -------------------------------------------------------------------------------
class Upsample(Module):
    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return FX.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                              recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
