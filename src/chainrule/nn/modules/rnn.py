"""nn.modules.rnn: RNN (tanh/relu), LSTM and GRU, multi-layer and bidirectional.

Each layer and direction projects the whole input sequence with one ``linear`` (a single
matmul), then runs through time: LSTM as one fused node per layer direction (backpropagation
through time on arrays), GRU and RNN step by step (GRU with a fused cell per step).
Parameter names, shapes, gate order and initialisation are PyTorch's, so state dicts load
either way. ``proj_size`` is not supported.
"""
import math
import warnings

from ... import ops
from ..._backend import xp
from ..._tensor import Tensor
from ...autograd.grad_mode import state
from ...autograd.graph import apply, array_of, like
from ...ops._core import Op
from .. import _functional_layers as F
from ._layer_utils import empty_param
from .module import Module

__all__ = ["GRU", "LSTM", "RNN", "RNNBase"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _linear(x, w, b):
    return F._nnf().linear(x, w, b)


# ---- fused cells: one node per time step ----------------------------------------------------
# Each cell's backward computes on arrays in one go; under create_graph it is written with
# chainrule ops instead (recomputing the activations from the saved inputs), so double
# backward stays exact.
def _sigmoid(a):
    return 1.0 / (1.0 + xp.exp(-a))


def _split(a, n):
    """n equal column blocks as views (xp.split costs more Python than these slices)."""
    w = a.shape[1] // n
    return [a[:, i * w:(i + 1) * w] for i in range(n)]


class LSTMCellFused(Op):
    """(gates, c) -> [h, c'] concatenated on dim 1: gates = x Wᵢₕᵀ + bᵢₕ + h Wₕₕᵀ + bₕₕ."""

    node_name = "LSTMCellBackward0"
    operands = ("gates", "cx")
    formulas = {
        "gates": "i,f,g,o activations' derivatives times grad of c' (and of h for o)",
        "cx": "f · grad(c')",
    }
    saves = (0, 1)
    array_backward = True  # (the plain rule is array code either way)

    def forward(ctx, gates, c):
        i, f, g, o = _split(gates, 4)
        i, f, o = _sigmoid(i), _sigmoid(f), _sigmoid(o)
        g = xp.tanh(g)
        c2 = f * c + i * g
        tc = xp.tanh(c2)
        if ctx is not None:
            ctx.extra = (i, f, g, o, tc)
        return xp.concatenate((o * tc, c2), axis=1)

    def backward(ctx, grad):
        gates, c = ctx.saved
        if state.enabled:
            return _lstm_backward_graph(gates, c, grad)
        i, f, g, o, tc = ctx.extra
        gh, gc = _split(array_of(grad), 2)
        gc = gc + gh * o * (1.0 - tc * tc)
        dg = xp.concatenate((gc * g * i * (1.0 - i), gc * array_of(c) * f * (1.0 - f),
                             gc * i * (1.0 - g * g), gh * tc * o * (1.0 - o)), axis=1)
        return like(grad, dg), like(grad, gc * f)


def _lstm_backward_graph(gates, c, grad):
    i, f, g, o = gates.chunk(4, 1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    tc = (f * c + i * g).tanh()
    gh, gc = grad.chunk(2, 1)
    gc = gc + gh * o * (1.0 - tc * tc)
    dg = ops.cat([gc * g * i * (1.0 - i), gc * c * f * (1.0 - f), gc * i * (1.0 - g * g),
                  gh * tc * o * (1.0 - o)], 1)
    return dg, gc * f


class LSTMLayer(Op):
    """A whole LSTM layer direction in one node. Operands: the input projection
    (T, N, 4H), w_hh, b_hh, h0, c0; args: (reverse,). Output (T + 1, N, H): the hidden
    states by time, then the last cell state (one array, so that all of it is differentiable).
    The backward is backpropagation through time on arrays; under create_graph it rebuilds
    the step-by-step graph (fused cells) and differentiates that, so higher orders are exact.
    """

    node_name = "MkldnnRnnLayerBackward0"
    operands = ("input", "weight_hh", "bias_hh", "hx", "cx")
    formulas = {
        "input": "backpropagation through time: each step's gate derivatives",
        "weight_hh": "Σ_t dgates_tᵀ h_{t-1}",
        "bias_hh": "Σ_t dgates_t",
        "hx": "dgates_first · W_hh",
        "cx": "f_first · dc_first",
    }
    saves = (0, 1, 2, 3, 4)
    array_backward = True  # (array_of for the operands, like for the results)

    def forward(ctx, xp_, w_hh, b_hh, h, c, reverse):
        steps, n, _ = xp_.shape
        hid = h.shape[-1]
        out = xp.empty((steps + 1, n, hid), dtype=xp_.dtype)
        # Per step: i, f, g, o, tanh(c), c_prev, h_prev: all the backward needs.
        acts = xp.empty((steps, 7, n, hid), dtype=xp_.dtype) if ctx is not None else None
        w_t = w_hh.T
        for t in range(steps - 1, -1, -1) if reverse else range(steps):
            gates = xp_[t] + h @ w_t
            if b_hh is not None:
                gates += b_hh
            i, f, g, o = _split(gates, 4)
            i, f, o = _sigmoid(i), _sigmoid(f), _sigmoid(o)
            g = xp.tanh(g)
            if acts is not None:
                a = acts[t]
                a[0], a[1], a[2], a[3], a[5], a[6] = i, f, g, o, c, h
            c = f * c + i * g
            tc = xp.tanh(c)
            h = o * tc
            out[t] = h
            if acts is not None:
                acts[t, 4] = tc
        out[steps] = c
        if ctx is not None:
            ctx.extra = acts
        return out

    def backward(ctx, grad):
        (reverse,) = ctx.args
        if state.enabled:
            return _lstm_layer_graph(ctx, grad, reverse)
        xp_t, w, _, h0, _ = (array_of(x) for x in ctx.saved)
        acts = ctx.extra
        g_all = array_of(grad)
        steps = xp_t.shape[0]
        hid = w.shape[1]
        dgates = xp.empty(xp_t.shape, dtype=g_all.dtype)
        dh = xp.zeros_like(h0)
        dc = g_all[steps].copy()
        for t in range(steps) if reverse else range(steps - 1, -1, -1):
            i, f, g, o, tc, c_prev, _ = acts[t]
            dh = dh + g_all[t]
            dc = dc + dh * o * (1.0 - tc * tc)
            dg = dgates[t]
            dg[:, :hid] = dc * g * i * (1.0 - i)
            dg[:, hid:2 * hid] = dc * c_prev * f * (1.0 - f)
            dg[:, 2 * hid:3 * hid] = dc * i * (1.0 - g * g)
            dg[:, 3 * hid:] = dh * tc * o * (1.0 - o)
            dh = dg @ w
            dc = dc * f
        flat = dgates.reshape(-1, 4 * hid)
        dw = db = None
        if ctx.edges[1] is not None:
            dw = flat.T @ acts[:, 6].reshape(-1, hid)  # one matmul over all steps
        if ctx.edges[2] is not None:
            db = flat.sum(0)
        return tuple(None if a is None else like(grad, a) for a in (dgates, dw, db, dh, dc))


def _lstm_layer_graph(ctx, grad, reverse):
    """create_graph: rebuild the layer from fused cells and differentiate that graph."""
    from ...autograd import grad as autograd_grad

    xp_t, w_hh, b_hh, h, c = saved = ctx.saved
    xs = xp_t.unbind(0)
    seq = [None] * len(xs)
    for t in range(len(xs) - 1, -1, -1) if reverse else range(len(xs)):
        gates = xs[t] + _linear(h, w_hh, b_hh)
        h, c = apply(LSTMCellFused, (gates, c), (gates._data, c._data)).chunk(2, 1)
        seq[t] = h
    y = ops.stack([*seq, c], 0)
    want = [i for i, e in enumerate(ctx.edges) if e is not None]
    grads = autograd_grad(y, [saved[i] for i in want], grad, create_graph=True,
                          allow_unused=True)
    out = [None] * 5
    for i, g in zip(want, grads):
        out[i] = g
    return tuple(out)


class GRUCellFused(Op):
    """(x Wᵢₕᵀ + bᵢₕ, h Wₕₕᵀ + bₕₕ, h) -> h'."""

    node_name = "GRUCellBackward0"
    operands = ("input_gates", "hidden_gates", "hx")
    formulas = {
        "input_gates": "[r, z, n] gate derivatives times grad",
        "hidden_gates": "[r, z, r · n] gate derivatives times grad",
        "hx": "z · grad",
    }
    saves = (0, 1, 2)
    array_backward = True  # (the plain rule is array code either way)

    def forward(ctx, gi, gh, h):
        i_r, i_z, i_n = _split(gi, 3)
        h_r, h_z, h_n = _split(gh, 3)
        r = _sigmoid(i_r + h_r)
        z = _sigmoid(i_z + h_z)
        n = xp.tanh(i_n + r * h_n)
        if ctx is not None:
            ctx.extra = (r, z, n)
        return n + z * (h - n)

    def backward(ctx, grad):
        _, gh, h = ctx.saved
        if state.enabled:
            return _gru_backward_graph(ctx, grad)
        r, z, n = ctx.extra
        g = array_of(grad)
        h_n = _split(array_of(gh), 3)[2]
        dz = g * (array_of(h) - n) * z * (1.0 - z)
        dn = g * (1.0 - z) * (1.0 - n * n)
        dr = dn * h_n * r * (1.0 - r)
        return (like(grad, xp.concatenate((dr, dz, dn), axis=1)),
                like(grad, xp.concatenate((dr, dz, dn * r), axis=1)), like(grad, g * z))


def _gru_backward_graph(ctx, grad):
    gi, gh, h = ctx.saved
    i_r, i_z, i_n = gi.chunk(3, 1)
    h_r, h_z, h_n = gh.chunk(3, 1)
    r = (i_r + h_r).sigmoid()
    z = (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()
    dz = grad * (h - n) * z * (1.0 - z)
    dn = grad * (1.0 - z) * (1.0 - n * n)
    dr = dn * h_n * r * (1.0 - r)
    return ops.cat([dr, dz, dn], 1), ops.cat([dr, dz, dn * r], 1), grad * z


class RNNBase(Module):
    """proj_size (LSTM projections) is not supported."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        if proj_size:
            raise NotImplementedError("chainrule: LSTM proj_size is not supported")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1 or \
                isinstance(dropout, bool):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                "element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}", stacklevel=2,
            )
        if not isinstance(hidden_size, int) or isinstance(hidden_size, bool):
            raise TypeError(
                f"hidden_size should be of type int, got: {type(hidden_size).__name__}"
            )
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        dirs = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(dirs):
                in_size = input_size if layer == 0 else hidden_size * dirs
                suffix = "_reverse" if direction == 1 else ""
                names = [f"weight_ih_l{layer}{suffix}", f"weight_hh_l{layer}{suffix}"]
                shapes = [(gate_size, in_size), (gate_size, hidden_size)]
                if bias:
                    names += [f"bias_ih_l{layer}{suffix}", f"bias_hh_l{layer}{suffix}"]
                    shapes += [(gate_size,), (gate_size,)]
                for name, shape in zip(names, shapes):
                    setattr(self, name, empty_param(shape, dtype))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    def flatten_parameters(self):
        """A no-op (there is no cuDNN weight buffer to compact)."""

    def reset_parameters(self):
        from .. import init

        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ---- forward ------------------------------------------------------------------------
    def _check_hidden(self, h, expected, what="hidden"):
        if tuple(h.shape) != expected:
            raise RuntimeError(f"Expected {what} size {expected}, got {list(h.shape)}")

    def forward(self, input, hx=None):
        lstm = self.mode == "LSTM"
        batched = input.dim() == 3
        if input.dim() not in (2, 3):
            raise ValueError(
                f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D "
                "tensor instead"
            )
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {input.shape[-1]}"
            )
        x = input
        if not batched:
            x = x.reshape((x.shape[0], 1, x.shape[1]))
        elif self.batch_first:
            x = x.transpose(0, 1)
        steps, n = x.shape[0], x.shape[1]
        dirs = 2 if self.bidirectional else 1
        expected = (self.num_layers * dirs, n, self.hidden_size)
        if hx is None:
            zeros = Tensor._make(xp.zeros(expected, dtype=x._data.dtype))
            hx = (zeros, zeros) if lstm else zeros
        else:
            if lstm:
                hx = tuple(h if batched else h.reshape((h.shape[0], 1, h.shape[1])) for h in hx)
                self._check_hidden(hx[0], expected)
                self._check_hidden(hx[1], expected, "hidden[1]")
            else:
                hx = hx if batched else hx.reshape((hx.shape[0], 1, hx.shape[1]))
                self._check_hidden(hx, expected)
        h0 = hx[0].unbind(0) if lstm else hx.unbind(0)
        c0 = hx[1].unbind(0) if lstm else None
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                i = layer * dirs + d
                params = [getattr(self, n) for n in self._all_weights[i]]
                w_ih, w_hh = params[0], params[1]
                b_ih, b_hh = (params[2], params[3]) if self.bias else (None, None)
                xp_ = _linear(x, w_ih, b_ih)  # every step's input projection in one matmul
                seq, h, c = self._run_direction(xp_, h0[i], c0[i] if lstm else None, w_hh,
                                                b_hh, d == 1)
                outs.append(seq)
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if dirs == 1 else ops.cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        output = x
        h_n = ops.stack(h_n, 0)
        c_n = ops.stack(c_n, 0) if lstm else None
        if not batched:
            output = output.reshape((steps, output.shape[-1]))
            h_n = h_n.reshape((h_n.shape[0], h_n.shape[-1]))
            c_n = c_n.reshape((c_n.shape[0], c_n.shape[-1])) if lstm else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if lstm else (output, h_n)


    def _run_direction(self, xp_, h, c, w_hh, b_hh, reverse):
        """Step through time with the cell: (outputs (T, N, H), last h, last c)."""
        xs = xp_.unbind(0)
        steps = len(xs)
        seq = [None] * steps
        for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
            h, c = self._cell(xs[t], h, c, w_hh, b_hh)
            seq[t] = h
        return ops.stack(seq, 0), h, c


class RNN(RNNBase):
    def __init__(self, *args, **kwargs):
        names = ("input_size", "hidden_size", "num_layers", "nonlinearity", "bias",
                 "batch_first", "dropout", "bidirectional")
        kw = dict(zip(names, args))
        kw.update(kwargs)
        nl = kw.pop("nonlinearity", "tanh")
        if nl not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nl}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nl
        super().__init__("RNN_TANH" if nl == "tanh" else "RNN_RELU", **kw)

    def _cell(self, xi, h, c, w_hh, b_hh):
        g = xi + _linear(h, w_hh, b_hh)
        return (g.tanh() if self.nonlinearity == "tanh" else g.relu()), None


class LSTM(RNNBase):
    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def _run_direction(self, xp_, h, c, w_hh, b_hh, reverse):
        """One fused node per layer direction (see LSTMLayer)."""
        steps = xp_.shape[0]
        if steps == 0:
            return super()._run_direction(xp_, h, c, w_hh, b_hh, reverse)
        arrays = (xp_._data, w_hh._data, None if b_hh is None else b_hh._data, h._data, c._data)
        y = apply(LSTMLayer, (xp_, w_hh, b_hh, h, c), arrays, (reverse,))
        return y[:steps], y[0 if reverse else steps - 1], y[steps]

    def _cell(self, xi, h, c, w_hh, b_hh):
        gates = xi + _linear(h, w_hh, b_hh)
        return apply(LSTMCellFused, (gates, c), (gates._data, c._data)).chunk(2, 1)


class GRU(RNNBase):
    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **kwargs)

    def _cell(self, xi, h, c, w_hh, b_hh):
        gh = _linear(h, w_hh, b_hh)
        return apply(GRUCellFused, (xi, gh, h), (xi._data, gh._data, h._data)), None
