"""Whole-tensor in-place writes: copy_, fill_, zero_, and the random fills (uniform_, ...).

Under no_grad (initialisation, optimizer code) they write straight into the storage and
bump the version counter. When autograd is recording they go through ``_inplace``, so the
tensor's history is rebased onto a node whose backward is exact (copy_ passes the
gradient to ``src``; a fill passes none to what it overwrote) and leaves that require grad
are refused as PyTorch refuses them.
"""
from .._backend import xp
from .._tensor import Tensor
from ..autograd.grad_mode import state
from ..autograd.graph import apply
from ._core import Op, _bump, broadcast_error, method
from .creation import _rng

__all__ = []


class Copy(Op):
    node_name = "CopyBackwards"
    operands = ("self", "src")
    formulas = {"self": "0 (overwritten)", "src": "1"}

    def forward(ctx, a, src):
        return xp.broadcast_to(src, a.shape).astype(a.dtype, copy=True)

    def backward(ctx, grad):
        return grad * 0, grad  # the engine sums grad back to src's shape and dtype


class Fill(Op):
    node_name = "FillBackward0"
    formulas = {"self": "0 (overwritten)"}

    def forward(ctx, a, value):
        return xp.full_like(a, value)

    def backward(ctx, grad):
        return grad * 0


class Zero(Fill):
    node_name = "ZeroBackward0"


def _recording(*ts):
    return state.enabled and any(isinstance(t, Tensor) and t._requires_grad for t in ts)


@method("copy_")
def copy_(self, src, non_blocking=False):
    s = src._data if isinstance(src, Tensor) else xp.asarray(src)
    try:
        shape = xp.broadcast_shapes(s.shape, self._data.shape)
    except ValueError:
        raise broadcast_error(self._data.shape, s.shape) from None
    if shape != self._data.shape:
        raise RuntimeError(
            f"output with shape {list(self._data.shape)} doesn't match the broadcast shape {list(shape)}"
        )
    if _recording(self, src):
        return self._inplace(apply(Copy, (self, src), (self._data, s)), "copy_")
    xp.copyto(self._data, s, casting="unsafe")
    _bump(self, "copy_")
    return self


@method("fill_")
def fill_(self, value):
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with {value._data.ndim} dimensions."
            )
        if _recording(value):  # differentiable in the fill value: a broadcast copy
            return copy_(self, value)
        value = value.item()
    if _recording(self):
        return self._inplace(apply(Fill, (self,), (self._data,), (value,)), "fill_")
    self._data.fill(value)
    _bump(self, "fill_")
    return self


@method("zero_")
def zero_(self):
    if _recording(self):
        return self._inplace(apply(Zero, (self,), (self._data,), (0,)), "zero_")
    self._data.fill(0)
    _bump(self, "zero_")
    return self


def _random_fill(name, sample):
    """A Tensor method ``name(..., generator=None)`` filling self with ``sample(rng, shape, ...)``."""

    def fill(self, *args, generator=None, **kwargs):
        if state.enabled and self._requires_grad and self.grad_fn is None:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )
        values = sample(_rng(generator), self._data.shape, *args, **kwargs)
        self._data[...] = values.astype(self._data.dtype, copy=False)
        _bump(self, name)
        if self.grad_fn is not None:  # the old history no longer describes the values
            self.grad_fn = None
            self._requires_grad = False
        return self

    fill.__name__ = name
    setattr(Tensor, name, fill)


def _uniform(rng, shape, a=0.0, b=1.0, *, from_=None, to=None):
    return rng.uniform(a, b, shape)


def _normal(rng, shape, mean=0.0, std=1.0):
    return rng.normal(mean, std, shape)


def _bernoulli(rng, shape, p=0.5):
    p = p._data if isinstance(p, Tensor) else p
    return rng.random(shape) < p


def _random(rng, shape, low=None, high=None, to=None):
    if high is None and to is not None:
        high = to
    if low is not None and high is None:
        low, high = 0, low
    if low is None:
        low, high = 0, 2 ** 24  # PyTorch: [0, 2^mantissa] for floats; a safe common range
    return rng.integers(low, high, shape)


def _exponential(rng, shape, lambd=1.0):
    return rng.exponential(1.0 / lambd, shape)


def _log_normal(rng, shape, mean=1.0, std=2.0):
    return rng.lognormal(mean, std, shape)


def _geometric(rng, shape, p):
    return rng.geometric(p, shape)


def _cauchy(rng, shape, median=0.0, sigma=1.0):
    return median + sigma * rng.standard_cauchy(shape)


for _name, _fn in [
    ("uniform_", _uniform), ("normal_", _normal), ("bernoulli_", _bernoulli),
    ("random_", _random), ("exponential_", _exponential), ("log_normal_", _log_normal),
    ("geometric_", _geometric), ("cauchy_", _cauchy),
]:
    _random_fill(_name, _fn)

