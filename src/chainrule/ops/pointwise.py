"""Pointwise math and activations (forward beside backward)."""
from .._backend import xp
from ._core import Op, method, unary

__all__ = ["exp", "tanh"]


class Exp(Op):
    node_name = "ExpBackward0"
    formulas = {"self": "exp(self)"}
    saves_output = True

    def forward(ctx, a):
        return xp.exp(a)

    def backward(ctx, grad):
        return grad * ctx.output


class Tanh(Op):
    node_name = "TanhBackward0"
    formulas = {"self": "1 − tanh²(self)"}
    saves_output = True

    def forward(ctx, a):
        return xp.tanh(a)

    def backward(ctx, grad):
        y = ctx.output
        return grad * (1 - y * y)


def exp(input, *, out=None):
    return unary(Exp, input, floating=True)


def tanh(input, *, out=None):
    return unary(Tanh, input, floating=True)


method("exp")(exp)
method("tanh")(tanh)
