"""Activation modules against PyTorch: output and gradients (train and eval), reprs, and
PReLU's learnable slopes."""
import numpy as np
import pytest
import torch
from layer_oracle import compare, twin
from oracle import check, raises_like

import chainrule

R = np.random.default_rng(0)

CASES = [
    ("ReLU", (), {}), ("ReLU", (True,), {}), ("ReLU6", (), {}), ("LeakyReLU", (0.2,), {}),
    ("LeakyReLU", (), {"inplace": True}), ("ELU", (0.5,), {}), ("SELU", (), {}),
    ("CELU", (1.5,), {}), ("GELU", (), {}), ("GELU", ("tanh",), {}), ("SiLU", (), {}),
    ("Mish", (), {}), ("Tanh", (), {}), ("Sigmoid", (), {}), ("Softplus", (2.0, 5.0), {}),
    ("Hardtanh", (-2.0, 0.5), {}), ("Hardswish", (), {}), ("Hardsigmoid", (), {}),
    ("LogSigmoid", (), {}), ("Softsign", (), {}), ("Tanhshrink", (), {}),
    ("Softmax", (1,), {}), ("LogSoftmax", (), {"dim": -1}), ("Softmin", (0,), {}),
    ("PReLU", (), {}), ("PReLU", (3, 0.1), {}),
]


@pytest.mark.parametrize("name,args,kwargs", CASES)
def test_activation_module_matches_torch(name, args, kwargs):
    c, t = twin(name, *args, **kwargs)
    assert repr(c) == repr(t)
    x = (R.standard_normal((4, 3, 2)) * 3).astype(np.float32)
    # in-place modules may not write into a leaf that requires grad: feed them x * 1
    call = (lambda m, x: m(x * 1)) if kwargs.get("inplace") or args == (True,) else None
    compare(c, t, x, call=call)
    c.eval()
    t.eval()
    compare(c, t, x[:1], call=call)


@pytest.mark.parametrize("shape", [(5,), (), (2, 3)])
def test_prelu_shapes_and_double_backward(shape):
    x = R.standard_normal(shape).astype(np.float32)
    w = np.array([0.3], np.float32) if len(shape) < 2 else np.array([0.1, -0.2, 0.5], np.float32)
    check(lambda lib, x, w: lib.nn.functional.prelu(x, w), x, w)


def test_prelu_errors_and_module_params():
    raises_like(RuntimeError,
                lambda: chainrule.nn.functional.prelu(chainrule.ones(2, 3), chainrule.ones(2)),
                lambda: torch.nn.functional.prelu(torch.ones(2, 3), torch.ones(2)))
    m = chainrule.nn.PReLU(4, init=0.3)
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert m.weight.tolist() == pytest.approx([0.3] * 4)


def test_softmax_without_dim_warns_like_torch():
    c, t = twin("Softmax")
    x = R.standard_normal((2, 3)).astype(np.float32)
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        compare(c, t, x, grad=False)


def test_hardtanh_bad_range():
    raises_like(AssertionError, lambda: chainrule.nn.Hardtanh(1.0, 0.0),
                lambda: torch.nn.Hardtanh(1.0, 0.0))
