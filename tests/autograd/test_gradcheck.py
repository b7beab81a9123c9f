"""gradcheck / gradgradcheck: accept correct rules, catch wrong ones (as PyTorch's do)."""
import numpy as np
import pytest
import torch
from oracle import raises_like

import chainrule
from chainrule.autograd.gradcheck import GradcheckError
from chainrule.ops import Op
from chainrule.ops._core import unary


class BadSquare(Op):
    """x*x with a wrong first derivative (x instead of 2x)."""

    node_name = "BadSquareBackward0"
    saves = (0,)

    def forward(ctx, a):
        return a * a

    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * x


class GoodSquareBadSecond(Op):
    """x*x whose first derivative is right in value but built from a constant, so its own
    derivative (the second derivative of x*x, 2) comes out as 0."""

    node_name = "GoodSquareBadSecondBackward0"
    saves = (0,)

    def forward(ctx, a):
        return a * a

    def backward(ctx, grad):
        (x,) = ctx.saved
        return grad * chainrule.tensor(2 * x.detach().numpy())


def bad_square(x):
    return unary(BadSquare, x)


def bad_second(x):
    return unary(GoodSquareBadSecond, x)


def leaf(shape, seed=0, dtype=np.float64):
    return chainrule.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype),
                            requires_grad=True)


@pytest.mark.parametrize(
    "fn, shapes",
    [
        (lambda x: x * x, [(3,)]),
        (lambda x, y: x * y + x / (y * y + 1), [(2, 3), (3,)]),
        (lambda x: (x.exp() - 1).tanh().sum(), [(4,)]),
        (lambda x, w: (x @ w).sin(), [(2, 3), (3, 2)]),
        (lambda x: (x * 2, x.sum()), [(2, 2)]),  # several outputs
        (lambda x: x ** 3, [()]),  # 0-d
    ],
)
def test_accepts_correct_ops(fn, shapes):
    inputs = [leaf(s, seed=i) for i, s in enumerate(shapes)]
    assert chainrule.autograd.gradcheck(fn, inputs)
    assert chainrule.autograd.gradgradcheck(fn, inputs)


def test_outputs_and_inputs_that_do_not_need_grad():
    x = leaf((2,))
    c = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64)
    assert chainrule.autograd.gradcheck(lambda a, b: (a * b, a.detach() * 2), (x, c))
    assert chainrule.autograd.gradcheck(lambda a: a.sum(), x)  # one tensor, not a tuple


def test_catches_wrong_first_derivative_with_torch_message():
    x = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as e:
        chainrule.autograd.gradcheck(bad_square, (x,))
    assert isinstance(e.value, RuntimeError)

    class TorchBad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return g * a

    tx = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    with pytest.raises(torch.autograd.gradcheck.__globals__["GradcheckError"]) as te:
        torch.autograd.gradcheck(TorchBad.apply, (tx,))
    assert str(e.value) == str(te.value)  # both Jacobians, printed exactly as PyTorch does
    assert chainrule.autograd.gradcheck(bad_square, (x,), raise_exception=False) is False


def test_gradgradcheck_catches_wrong_second_derivative():
    x = leaf((3,))
    assert chainrule.autograd.gradcheck(bad_second, (x,))  # first order is right
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0"):
        chainrule.autograd.gradgradcheck(bad_second, (x,))
    assert chainrule.autograd.gradgradcheck(bad_second, (x,), raise_exception=False) is False
    go = chainrule.tensor(np.ones(3), requires_grad=True)
    assert chainrule.autograd.gradgradcheck(lambda a: a * a, (x,), (go,))


def test_tolerances_matter():
    x = leaf((3,))
    # float32 finite differences with eps=1e-6 are too coarse for the default tolerances
    x32 = leaf((3,), dtype=np.float32)
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double precision"):
        assert not chainrule.autograd.gradcheck(lambda a: a.exp() * 100, (x32,), raise_exception=False)
    assert chainrule.autograd.gradcheck(lambda a: a.exp(), (x,), eps=1e-3, atol=1e-4)
    assert not chainrule.autograd.gradcheck(lambda a: a.exp(), (x,), eps=1e-1, atol=0, rtol=1e-6,
                                            raise_exception=False)


def test_no_input_requires_grad():
    raises_like(
        ValueError,
        lambda: chainrule.autograd.gradcheck(lambda a: a * 2, (chainrule.ones(2, dtype=chainrule.float64),)),
        lambda: torch.autograd.gradcheck(lambda a: a * 2, (torch.ones(2, dtype=torch.float64),)),
    )


def test_inputs_are_restored():
    x = leaf((2, 2))
    before = x.detach().numpy().copy()
    chainrule.autograd.gradcheck(lambda a: a.sin(), (x,))
    np.testing.assert_array_equal(x.detach().numpy(), before)
