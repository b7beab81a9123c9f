"""Loss ops: each loss is one node whose forward is one stable pass over arrays.

Cross-entropy is fused (log-softmax and the weighted target in one pass). Every loss here
is written as ``ℓ = -Σ_c q_c · lsm_c`` (cross-entropy) or an elementwise loss, so the
local derivatives are closed forms: ``softmax·Σq − q`` for cross-entropy.

Backward rules have two paths: without ``create_graph`` they reuse arrays the forward
already computed (the softmax, the masks); under ``create_graph`` they rebuild the same
expression from chainrule ops on the saved inputs, so higher derivatives are exact.

Not imported by ``ops/__init__``; ``nn._functional_core`` exposes the functional forms.
"""
import warnings

from .. import _dtype
from .._backend import amax, xp
from .._tensor import Size, Tensor
from ..autograd.grad_mode import state
from ..autograd.graph import array_of, like
from ._core import Op, apply, constant_array
from .reductions import max_last, sum_last

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber_loss",
    "mse_loss", "nll_loss", "smooth_l1_loss",
]

_REDUCTIONS = ("none", "mean", "sum")


def reduction_of(reduction, size_average=None, reduce=None):
    """Validate ``reduction`` (PyTorch's message), honouring the legacy size_average/reduce."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
        warnings.warn(
            "size_average and reduce args will be deprecated, please use "
            f"reduction='{reduction}' instead.",
            UserWarning,
            stacklevel=3,
        )
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(per, reduction, denom=None):
    if reduction == "none":
        return per
    s = per.sum()
    if reduction == "sum":
        return s
    n = per.size if denom is None else denom
    return s / per.dtype.type(n) if n else per.dtype.type(xp.nan)  # empty: nan, as PyTorch


def _upstream(grad, reduction, n):
    """The upstream gradient for each element: grad itself ('none'/'sum') or grad / n.
    n == 0 (everything ignored or empty) gives zero gradients, as PyTorch."""
    if reduction != "mean":
        return grad
    return grad / n if n else grad * 0


def _const(a):
    return Tensor._make(a)


def _check_weight_no_grad(w, fname):
    if isinstance(w, Tensor) and w._requires_grad and state.enabled:
        raise RuntimeError(
            f"The function '{fname}' is not differentiable with respect to argument 'weight'. "
            "This input cannot have requires_grad True."
        )


def _float_pair(x, t):
    """The arrays of input and target at their promoted dtype."""
    if isinstance(t, Tensor) and t._data.dtype == x._data.dtype:
        return x._data, t._data
    d = _dtype.result_type(x, t).np
    xa = x._data if x._data.dtype == d else x._data.astype(d)
    ta = t._data.astype(d) if isinstance(t, Tensor) else xp.asarray(t, dtype=d)
    return xa, ta


def _warn_size(x, t):
    if x._data.shape != t._data.shape:
        warnings.warn(
            f"Using a target size ({Size(t._data.shape)}) that is different to the input size "
            f"({Size(x._data.shape)}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )


# ---- cross-entropy and NLL ----------------------------------------------------------------------
def _class_dim(x):
    return 1 if x.ndim >= 2 else 0


def _keep(a, cd):
    """``a`` with a unit class dimension inserted at ``cd`` (a view)."""
    shape = a.shape
    return a.reshape(shape[:cd] + (1,) + shape[cd:])


class _Dense:
    """A target distribution ``q`` held as an array (probability targets)."""

    __slots__ = ("cd", "q")

    def __init__(self, q, cd):
        self.q, self.cd = q, cd

    def dense(self):
        return self.q

    def dot(self, a):
        """Per sample ``Σ_c q_c · a_c``."""
        return (self.q * a).sum(axis=self.cd)

    def total(self):
        """Per sample ``Σ_c q_c``, with the class dimension kept."""
        return self.q.sum(axis=self.cd, keepdims=True)

    def sub_from(self, out, g):
        """``out -= q · g`` in place (g broadcasts with a kept class dimension)."""
        out -= self.q * g


def _rows(n):
    """``arange(n)``: the row index of a per-row gather or scatter."""
    return constant_array("arange", n, xp.intp)


class _Indices:
    """``q = a·onehot(target) + b·weight`` for class-index targets, never materialised on
    the hot path: gathers and one scatter replace dense (N, C) products. ``a`` is None when
    every sample weighs 1 (no class weights, nothing ignored, no smoothing): nothing to
    multiply by."""

    __slots__ = ("a", "b", "cd", "dtype", "shape", "tc", "w")

    def __init__(self, tc, a, b, w, shape, dtype, cd):
        self.tc, self.a, self.b, self.w = tc, a, b, w
        self.shape, self.dtype, self.cd = shape, dtype, cd

    def _wb(self):
        return _along(self.w, self.cd, len(self.shape))

    def _gather(self, a):
        if a.ndim == 2:
            return a[_rows(a.shape[0]), self.tc]
        if a.ndim == 1:
            return a[self.tc]
        return xp.take_along_axis(a, _keep(self.tc, 1), axis=1)[:, 0]

    def dense(self):
        q = xp.zeros(self.shape, self.dtype)
        a = 1 if self.a is None else self.a
        if q.ndim == 2:
            q[_rows(q.shape[0]), self.tc] = a
        elif q.ndim == 1:
            q[self.tc] = a
        else:
            xp.put_along_axis(q, _keep(self.tc, 1), a if self.a is None else _keep(a, 1), axis=1)
        if self.b is not None:
            q += _keep(self.b, self.cd) * (1 if self.w is None else self._wb())
        return q

    def dot(self, a):
        out = self._gather(a)
        if self.a is not None:
            out = self.a * out
        if self.b is not None:
            out = out + self.b * (a.sum(axis=self.cd) if self.w is None
                                  else (a * self._wb()).sum(axis=self.cd))
        return out

    def total(self):
        """Per sample ``Σ_c q_c``, class dimension kept (None: all ones)."""
        t = self.a
        if t is None and self.b is None:
            return None
        if self.b is not None:
            t = t + self.b * (self.shape[self.cd] if self.w is None else self.w.sum())
        return _keep(t, self.cd)

    def sub_from(self, out, g):
        if g.ndim:  # reduction 'none': one upstream value per sample
            g = g.reshape(self.tc.shape)
        vals = g if self.a is None else self.a * g
        if out.ndim == 2:
            out[_rows(out.shape[0]), self.tc] -= vals
        elif out.ndim == 1:
            out[self.tc] -= vals
        else:
            idx = _keep(self.tc, 1)
            xp.put_along_axis(out, idx, xp.take_along_axis(out, idx, axis=1) - _keep(vals, 1),
                              axis=1)
        if self.b is not None:
            out -= _keep(self.b * g, self.cd) * (1 if self.w is None else self._wb())


def _target_dist(xa, ta, w, ignore_index, eps, probs, tmin=None):
    """(q, denominator): loss per sample is ``-Σ_c q_c · lsm_c``; 'mean' divides the sum by
    the denominator (Σ of target weights for class indices, the sample count for
    probabilities), as PyTorch's nll_loss / label-smoothing / probability paths do."""
    cd = _class_dim(xa)
    C = xa.shape[cd]
    if probs:
        q = ta * (1 - eps) + eps / C if eps else ta
        if w is not None:
            q = q * _along(w, cd, xa.ndim)
        return _Dense(q.astype(xa.dtype, copy=False), cd), (xa.size // C if C else 0)
    if tmin is None and ta.size:
        tmin = ta.min()
    if ignore_index < 0 and (not ta.size or tmin >= 0):  # nothing ignored: skip masks
        if w is None and not eps:  # every weight 1: the denominator is the sample count
            return _Indices(ta, None, None, None, xa.shape, xa.dtype, cd), xa.dtype.type(ta.size)
        tc = ta
        wy = xp.ones(ta.shape, xa.dtype) if w is None else w[ta]
        b = xp.full(ta.shape, eps / C, xa.dtype) if eps else None
    else:
        valid = ta != ignore_index
        tc = xp.where(valid, ta, 0)
        wy = valid.astype(xa.dtype) if w is None else w[tc] * valid
        b = valid * xa.dtype.type(eps / C) if eps else None
    a = wy * (1 - eps) if eps else wy
    return _Indices(tc, a, b, w, xa.shape, xa.dtype, cd), wy.sum()


def _check_class_target(x, t, ignore_index, fname):
    """PyTorch's checks on (input, class-index target) for nll_loss / cross_entropy."""
    xs, ts = x._data.shape, t._data.shape
    dt = t._data.dtype
    if (dt.kind, dt.itemsize) not in (("i", 8), ("u", 1)):  # int64 or uint8 (dtype.name: 1.5 µs)
        raise RuntimeError(
            "expected target dtype to be Long or Byte, but got "
            f"{_SCALAR_NAMES.get(t._data.dtype.name, t._data.dtype.name)}"
        )
    if len(xs) >= 2 and ts[:1] != xs[:1]:
        raise ValueError(
            f"Expected input batch_size ({xs[0]}) to match target batch_size "
            f"({ts[0] if ts else 1})."
        )
    if len(xs) <= 2:
        if len(ts) > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    else:
        want = xs[:1] + xs[2:]
        if ts != want:
            if fname == "cross_entropy":
                raise RuntimeError(f"Expected target size {list(want)}, got {list(ts)}")
            raise RuntimeError(f"size mismatch (got input: {list(xs)} , target: {list(ts)}")
    C = xs[_class_dim(x._data)]
    ta = t._data
    if not ta.size:
        return None
    if ta.dtype.kind == "i" and ta.view(_UNSIGNED[ta.itemsize]).max() < C:
        return 0  # one pass: a negative target is huge read as unsigned
    lo = ta.min()
    if lo < 0 or ta.max() >= C:  # cheap test first; then find the culprit
        bad = (ta != ignore_index) & ((ta < 0) | (ta >= C))
        if bad.any():
            raise IndexError(f"Target {int(ta[bad].flat[0])} is out of bounds.")
    return lo  # the smallest target, for _target_dist


_UNSIGNED = {1: xp.uint8, 2: xp.uint16, 4: xp.uint32, 8: xp.uint64}
_INT64 = xp.dtype(xp.int64)

_SCALAR_NAMES = {  # PyTorch's ScalarType names, as its messages print them
    "int32": "Int", "int16": "Short", "int8": "Char", "bool": "Bool", "float32": "Float",
    "float64": "Double", "float16": "Half",
}


def _check_weight(w, C):
    if w is not None and (w._data.ndim != 1 or w._data.shape[0] != C):
        raise RuntimeError(
            f"weight tensor should be defined either for all {C} classes or no classes but got "
            f"weight tensor of shape: {list(w._data.shape)}"
        )


class CrossEntropy(Op):
    """Fused log-softmax + weighted negative log-likelihood over the class dimension."""

    node_name = "NllLossBackward0"  # what PyTorch's (unfused) graph ends in
    operands = ("self", "target")
    formulas = {"self": "softmax(self)·Σq − q   (q: weighted, smoothed target)",
                "target": "−(1−ε)·weight·log_softmax(self)"}
    saves = (0, 1)
    array_backward = True

    def forward(ctx, x, t, q, denom, reduction, eps, w, probs):
        if x.ndim == 2 and q.__class__ is _Indices and q.a is None and q.b is None and x.size:
            # (N, C) logits, unit-weight class indices: the same steps with fewer calls.
            # Shifted by the target's own logit, not the row maximum: Σ exp(x - x_t) >= 1 (its
            # own term is 1) cannot underflow, and its log is the loss itself, as precise as
            # the maximum's form where the target dominates (the small losses). Only a target
            # logit ~88 below the row's maximum overflows: the maximum shift then, as before.
            rows = _rows(x.shape[0])
            with xp.errstate(over="ignore", invalid="ignore"):
                e = xp.exp(x - x[rows, q.tc][:, None])
            s = sum_last(e)
            if amax(s, None) < xp.inf:  # (no exp overflowed; NaN fails)
                if ctx is not None:
                    ctx.extra = (e, s, None)
                return _reduce(xp.log(s)[:, 0], reduction, denom)
            z = x - max_last(x)
            e = xp.exp(z)
            s = sum_last(e)
            logs = xp.log(s)
            per = logs[:, 0] - z[rows, q.tc]
            if ctx is not None:
                ctx.extra = (e, s, None)
            return _reduce(per, reduction, denom)
        cd = _class_dim(x)
        z = x - (max_last(x) if cd == x.ndim - 1 else x.max(axis=cd, keepdims=True)) \
            if x.size else x
        e = xp.exp(z)
        s = sum_last(e) if cd == e.ndim - 1 else e.sum(axis=cd, keepdims=True)
        logs = xp.log(s)
        lsm = None
        if probs:
            lsm = z - logs
            per = -q.dot(lsm)
        else:  # Σ q·lsm = Σ q·z − Σq·log s: no dense log-softmax needed
            tot = q.total()
            per = (logs if tot is None else tot * logs) - _keep(q.dot(z), cd)
            if reduction == "none":  # (a sum needs no shape)
                per = per.reshape(per.shape[:cd] + per.shape[cd + 1:])
        if ctx is not None:  # the softmax, e / s, for the backward: divided there, in the
            ctx.extra = (e, s, lsm)  # pass that scales it by the upstream gradient anyway
        return _reduce(per, reduction, denom)

    def backward(ctx, grad):
        x, t = ctx.saved
        q, denom, reduction, eps, w, probs = ctx.args
        cd = q.cd
        raw = not isinstance(grad, Tensor)  # the engine runs this rule on arrays
        if raw or not state.enabled:  # plain array code: the same formula, no graph to build
            e, s, lsm = ctx.extra
            g = grad if raw else grad._data
            if reduction == "none":
                g = _keep(g, cd)
            elif reduction == "mean":
                g = g / denom if denom else g * 0  # all ignored: zero gradient, as PyTorch
            gx = gt = None
            if ctx.edges[0] is not None:
                tot = q.total()
                out = e * ((g if tot is None else tot * g) / s)
                q.sub_from(out, g)
                gx = out if raw else _const(out)
            if probs and ctx.edges[1] is not None:
                ga = lsm * (g * -(1 - eps))
                ga = ga if w is None else ga * _along(w, cd, ga.ndim)
                gt = ga if raw else _const(ga)
            return gx, gt
        # create_graph: rebuilt from chainrule ops, differentiable in x (and the target)
        if reduction == "none":
            grad = grad.reshape(_keep(grad._data, cd).shape)
        G = _upstream(grad, reduction, denom)
        z = x - _const(x._data.max(axis=cd, keepdims=True))
        e = z.exp()
        s = e.sum(cd, keepdim=True)
        p = e / s
        qt = _const(q.dense())
        if probs and t._requires_grad:  # q is a function of the target
            qt = t * (1 - eps) + eps / x._data.shape[cd] if eps else t
            if w is not None:
                qt = qt * _const(_along(w, cd, x._data.ndim))
        gx = gt = None
        if ctx.edges[0] is not None:
            gx = G * (p * qt.sum(cd, keepdim=True) - qt)
        if probs and ctx.edges[1] is not None:
            gt = G * (z - s.log()) * -(1 - eps)
            if w is not None:
                gt = gt * _const(_along(w, cd, x._data.ndim))
        return gx, gt


def _along(w, cd, ndim):
    """The class weights shaped to broadcast along the class dimension."""
    shape = [1] * ndim
    shape[cd] = -1
    return w.reshape(shape)


def _named(base, name):
    """``base`` printed under another node name, kept out of REGISTRY (the name belongs to
    the op PyTorch means by it)."""
    cls = type(base.__name__ + "_" + name, (base,), {"node_name": None})
    cls.node_name = name
    return cls


# PyTorch's graph for probability targets and label smoothing ends in other nodes; the fused
# node prints as the one PyTorch shows.
_CE_NAMES = {
    name: _named(CrossEntropy, name)
    for name in ("AddBackward0", "DivBackward1", "NegBackward0")
}


class NllLoss(Op):
    """Negative log-likelihood of log-probabilities: ``-Σ_c q_c · input_c``."""

    node_name = "NllLossBackward0"
    operands = ("self", "target")
    formulas = {"self": "−weight[target]·onehot(target)"}
    array_backward = True

    def forward(ctx, x, t, q, denom, reduction):
        return _reduce(-q.dot(x), reduction, denom)

    def backward(ctx, grad):
        q, denom, reduction = ctx.args
        if reduction == "none":
            grad = grad.reshape(_keep(array_of(grad), q.cd).shape)
        return _upstream(grad, reduction, denom) * like(grad, -q.dense()), None


def _weight_array(weight, x):
    if weight is None:
        return None
    w = weight._data
    return w if w.dtype == x.dtype else w.astype(x.dtype)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """One fused node (PyTorch records log_softmax then nll_loss); gradient
    ``softmax·Σq − q``, stable for logits of any magnitude."""
    xa, ta = input._data, target._data
    if weight is None and not label_smoothing and ignore_index < 0 and size_average is None \
            and reduce is None and xa.ndim == 2 and ta.ndim == 1 and ta.dtype is _INT64 \
            and 0 < ta.shape[0] == xa.shape[0] and xa.dtype.kind == "f" \
            and reduction in _REDUCTIONS and amax(ta.view(xp.uint64), None) < xa.shape[1]:
        # A classifier's usual call: (N, C) logits and N class indices, all valid (a negative
        # one reads huge as unsigned), no weights or smoothing, none to ignore: the checks
        # and the node of the general path below, in one frame.
        q = _Indices(ta, None, None, None, xa.shape, xa.dtype, 1)
        return apply(CrossEntropy, (input, target), (xa, ta),
                     (q, xa.dtype.type(ta.shape[0]), reduction, 0.0, None, False))
    reduction = reduction_of(reduction, size_average, reduce)
    x = input
    _check_weight_no_grad(weight, "nll_loss_forward")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    xa = x._data if x._data.dtype.kind == "f" else x._data.astype(_dtype.defaults.float.np)
    cd = _class_dim(xa)
    C = xa.shape[cd] if xa.ndim else 0
    _check_weight(weight, C)
    w = _weight_array(weight, xa)
    probs = target._data.shape == xa.shape and target._data.dtype.kind == "f"
    if probs:
        ta = target._data if target._data.dtype == xa.dtype else target._data.astype(xa.dtype)
        name = "DivBackward1" if reduction == "mean" else "NegBackward0"
    else:
        tmin = _check_class_target(x, target, ignore_index, "cross_entropy")
        ta = target._data
        name = "AddBackward0" if label_smoothing else "NllLossBackward0"
    q, denom = _target_dist(xa, ta, w, ignore_index, label_smoothing, probs,
                            None if probs else tmin)
    op = CrossEntropy if name == "NllLossBackward0" else _CE_NAMES[name]
    return apply(op, (x, target), (xa, ta), (q, denom, reduction, label_smoothing, w, probs))


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    reduction = reduction_of(reduction, size_average, reduce)
    _check_weight_no_grad(weight, "nll_loss_forward")
    xa = input._data
    C = xa.shape[_class_dim(xa)] if xa.ndim else 0
    _check_weight(weight, C)
    tmin = _check_class_target(input, target, ignore_index, "nll_loss")
    q, denom = _target_dist(xa, target._data, _weight_array(weight, xa), ignore_index, 0.0, False,
                            tmin)
    return apply(NllLoss, (input, target), (xa, target._data), (q, denom, reduction))


# ---- elementwise losses ---------------------------------------------------------------------------
class _Elementwise(Op):
    """``reduce(f(input, target))``; subclasses give ``f`` and its derivative in the
    difference ``d = input - target`` (the target's derivative is the negative)."""

    operands = ("self", "target")
    saves = (0, 1)
    array_backward = True  # (dloss takes arrays too)

    def backward(ctx, grad):
        a, b = ctx.saved
        reduction, param = ctx.args
        if state.enabled:
            d = a - b
        else:  # plain: the difference as a constant (an array when the rule runs on arrays)
            d = like(grad, array_of(a) - array_of(b))
        n = array_of(d).size
        g = _upstream(grad, reduction, n) * ctx.op.dloss(d, param)
        return (g if ctx.edges[0] is not None else None,
                -g if ctx.edges[1] is not None else None)


class MseLoss(_Elementwise):
    node_name = "MseLossBackward0"
    formulas = {"self": "2·(self − target)", "target": "−2·(self − target)"}

    def forward(ctx, a, b, reduction, param):
        d = a - b
        return _reduce(d * d, reduction)

    @staticmethod
    def dloss(d, param):
        return d * 2


class SmoothL1Loss(_Elementwise):
    node_name = "SmoothL1LossBackward0"
    formulas = {"self": "d/β if |d| < β else sign(d)   (d = self − target)"}

    def forward(ctx, a, b, reduction, beta):
        d = a - b
        ad = xp.abs(d)
        return _reduce(xp.where(ad < beta, 0.5 * d * d / (beta or 1), ad - 0.5 * beta), reduction)

    @staticmethod
    def dloss(d, beta):
        # The masks are piecewise constant, so treating them as constants is exact.
        da = array_of(d)
        inner = xp.abs(da) < beta
        out = like(d, xp.sign(da) * ~inner)
        if inner.any():
            out = out + d * like(d, inner / da.dtype.type(beta))
        return out


class HuberLoss(_Elementwise):
    node_name = "HuberLossBackward0"
    formulas = {"self": "d if |d| < δ else δ·sign(d)   (d = self − target)"}

    def forward(ctx, a, b, reduction, delta):
        d = a - b
        ad = xp.abs(d)
        return _reduce(xp.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta)), reduction)

    @staticmethod
    def dloss(d, delta):
        da = array_of(d)
        inner = xp.abs(da) < delta
        return d * like(d, inner.astype(da.dtype)) + like(d, delta * xp.sign(da) * ~inner)


def _elementwise(op, input, target, reduction, param):
    _warn_size(input, target)
    xa, ta = _float_pair(input, target)
    try:
        xp.broadcast_shapes(xa.shape, ta.shape)
    except ValueError:
        from ._core import broadcast_error

        raise broadcast_error(xa.shape, ta.shape) from None
    return apply(op, (input, target), (xa, ta), (reduction, param))


def weighted_reduce(loss, input, weight, reduction, mean_over_weight=True):
    """PyTorch's composite for an elementwise loss with ``weight`` (same size as input):
    ``loss · weight``, then sum, or for 'mean' sum / Σweight (mse, l1) or mean (huber)."""
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    wl = loss * weight
    if reduction == "none":
        return wl
    if reduction == "sum":
        return wl.sum()
    return wl.sum() / weight.sum() if mean_over_weight else wl.mean()


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = reduction_of(reduction, size_average, reduce)
    if weight is not None:
        return weighted_reduce(_elementwise(MseLoss, input, target, "none", None), input, weight,
                               reduction)
    return _elementwise(MseLoss, input, target, reduction, None)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    reduction = reduction_of(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    return _elementwise(SmoothL1Loss, input, target, reduction, float(beta))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    reduction = reduction_of(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is not None:
        return weighted_reduce(_elementwise(HuberLoss, input, target, "none", float(delta)),
                               input, weight, reduction, mean_over_weight=False)
    return _elementwise(HuberLoss, input, target, reduction, float(delta))


# ---- binary cross-entropy -------------------------------------------------------------------------
class BinaryCrossEntropy(Op):
    """``-w·(t·log x + (1−t)·log(1−x))`` with each log clamped at −100, as PyTorch."""

    node_name = "BinaryCrossEntropyBackward0"
    operands = ("self", "target")
    formulas = {"self": "w·(self − target) / max(self·(1 − self), 1e-12)",
                "target": "w·(log(1 − self) − log(self))"}
    saves = (0, 1)
    array_backward = True

    def forward(ctx, x, t, w, reduction):
        with xp.errstate(divide="ignore"):
            lx = xp.maximum(xp.log(x), -100)
            l1x = xp.maximum(xp.log1p(-x), -100)
        per = -(t * lx + (1 - t) * l1x)
        if w is not None:
            per = per * w
        if ctx is not None:
            ctx.extra = (lx, l1x)
        return _reduce(per, reduction)

    def backward(ctx, grad):
        x, t = ctx.saved
        w, reduction = ctx.args
        G = _upstream(grad, reduction, array_of(x).size)
        if w is not None:
            G = G * like(grad, w)
        gx = gt = None
        if ctx.edges[0] is not None:
            if state.enabled:
                gx = G * (x - t) / ((1 - x) * x).clamp(min=1e-12)
            else:
                xa = array_of(x)
                gx = G * like(grad, (xa - array_of(t)) / xp.maximum((1 - xa) * xa,
                                                                     xa.dtype.type(1e-12)))
        if ctx.edges[1] is not None:
            if state.enabled:
                gt = G * ((-x).log1p().clamp(min=-100) - x.log().clamp(min=-100))
            else:
                lx, l1x = ctx.extra
                gt = G * like(grad, l1x - lx)
        return gx, gt


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = reduction_of(reduction, size_average, reduce)
    if target._data.shape != input._data.shape:
        raise ValueError(
            f"Using a target size ({Size(target._data.shape)}) that is different to the input "
            f"size ({Size(input._data.shape)}) is deprecated. Please ensure they have the same "
            "size."
        )
    _check_weight_no_grad(weight, "binary_cross_entropy")
    xa, ta = _float_pair(input, target)
    if ((xa < 0) | (xa > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    w = None if weight is None else _broadcast_weight(_weight_array(weight, xa), xa.shape)
    return apply(BinaryCrossEntropy, (input, target), (xa, ta), (w, reduction))


class BinaryCrossEntropyWithLogits(Op):
    """``w·((1−t)·x + (1+(pw−1)·t)·softplus(−x))``, softplus computed stably."""

    node_name = "BinaryCrossEntropyWithLogitsBackward0"
    operands = ("self", "target")
    formulas = {"self": "w·((1 − t) − (1 + (pw − 1)·t)·σ(−self))",
                "target": "w·(−self + (pw − 1)·softplus(−self))"}
    saves = (0, 1)
    array_backward = True

    def forward(ctx, x, t, w, pw, reduction):
        sp = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))  # softplus(-x)
        lw = 1 if pw is None else 1 + (pw - 1) * t
        per = (1 - t) * x + lw * sp
        if w is not None:
            per = per * w
        if ctx is not None:
            ctx.extra = sp
        return _reduce(per, reduction)

    def backward(ctx, grad):
        x, t = ctx.saved
        w, pw, reduction = ctx.args
        G = _upstream(grad, reduction, array_of(x).size)
        if w is not None:
            G = G * like(grad, w)
        pwt = None if pw is None else like(grad, pw)
        gx = gt = None
        if state.enabled:
            from . import pointwise

            sp = pointwise.softplus(-x)
            sig_neg = (-x).sigmoid()
        else:
            sp = like(grad, ctx.extra)
            sig_neg = like(grad, _sigmoid(-array_of(x)))
        if ctx.edges[0] is not None:
            lw = 1 if pwt is None else 1 + (pwt - 1) * t
            gx = G * ((1 - t) - sig_neg * lw)
        if ctx.edges[1] is not None:
            gt = G * (-x if pwt is None else -x + (pwt - 1) * sp)
        return gx, gt


def _broadcast_weight(w, shape):
    """``weight`` broadcast to the input's shape, with PyTorch's errors when it cannot be."""
    try:
        full = xp.broadcast_shapes(w.shape, shape)
    except ValueError:
        from ._core import broadcast_error

        raise broadcast_error(shape, w.shape) from None
    if full != tuple(shape):
        raise RuntimeError(
            f"output with shape {list(shape)} doesn't match the broadcast shape {list(full)}"
        )
    return xp.broadcast_to(w, shape)


def _sigmoid(a):
    # Stable for either sign: exp of a non-positive number only.
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    reduction = reduction_of(reduction, size_average, reduce)
    if target._data.shape != input._data.shape:
        raise ValueError(
            f"Target size ({Size(target._data.shape)}) must be the same as input size "
            f"({Size(input._data.shape)})"
        )
    _check_weight_no_grad(weight, "binary_cross_entropy_with_logits")
    xa, ta = _float_pair(input, target)
    w = None if weight is None else _broadcast_weight(_weight_array(weight, xa), xa.shape)
    pw = None if pos_weight is None else _weight_array(pos_weight, xa)
    if pw is not None:
        try:
            xp.broadcast_shapes(pw.shape, xa.shape)
        except ValueError:
            from ._core import broadcast_error

            raise broadcast_error(pw.shape, xa.shape) from None
    return apply(BinaryCrossEntropyWithLogits, (input, target), (xa, ta), (w, pw, reduction))
