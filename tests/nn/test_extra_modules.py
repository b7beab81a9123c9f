"""nn modules added by the compatibility audit, each against PyTorch with copied weights."""
import numpy as np
import pytest
import torch
from layer_oracle import compare, twin
from oracle import assert_same, raises_like

import chainrule

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# ---- recurrent cells ----------------------------------------------------------------------
CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu", "bias": False}),
         ("LSTMCell", {}), ("LSTMCell", {"bias": False}), ("GRUCell", {}),
         ("GRUCell", {"bias": False})]


@pytest.mark.parametrize(("name", "kw"), CELLS)
def test_cell_repr_params_and_init(name, kw):
    c, t = twin(name, 3, 5, **kw)
    assert repr(c) == repr(t)
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in t.named_parameters()]
    fresh = getattr(chainrule.nn, name)(3, 5, **kw)
    for p in fresh.parameters():  # uniform(-1/sqrt(H), 1/sqrt(H)) as PyTorch
        assert p.abs().max().item() <= 1 / np.sqrt(5)


def _hidden(name, n):
    h = rand(*n, 5)
    return (h, rand(*n, 5)) if name == "LSTMCell" else (h,)


@pytest.mark.parametrize(("name", "kw"), CELLS)
@pytest.mark.parametrize("batch", [(4,), (), (0,)])
def test_cell_matches_torch(name, kw, batch):
    c, t = twin(name, 3, 5, **kw)
    x = rand(*batch, 3)
    compare(c, t, x)  # hx omitted: zeros
    hs = _hidden(name, batch)
    if name == "LSTMCell":
        compare(c, t, x, *hs, call=lambda m, x, h, cc: m(x, (h, cc)))
    else:
        compare(c, t, x, *hs)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_in_a_loop_backprops_through_time(name):
    c, t = twin(name, 3, 5)
    xs = rand(6, 2, 3)

    def run(m, seq):
        h = None
        outs = []
        for x in seq.unbind(0):
            h = m(x, h)
            outs.append(h[0] if isinstance(h, tuple) else h)
        return outs[-1], outs[2]

    compare(c, t, xs, call=run)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_double_backward(name):
    c, t = twin(name, 3, 4)
    x = rand(2, 3)
    res = []
    for lib, m in ((chainrule, c), (torch, t)):
        xi = lib.tensor(x, requires_grad=True)
        out = m(xi, m(xi))  # the hidden state depends on x too
        out = out[0] * out[1] if isinstance(out, tuple) else out
        (g,) = lib.autograd.grad((out * out).sum(), xi, create_graph=True)
        (g2,) = lib.autograd.grad(g.pow(2).sum(), xi)
        res.append((g, g2))
    assert_same(res[0], res[1], 1e-4, 1e-5)


def test_cell_errors_match_torch():
    c, t = twin("LSTMCell", 3, 4)
    raises_like(RuntimeError, lambda: c(chainrule.randn(2, 5)), lambda: t(torch.randn(2, 5)))
    raises_like(ValueError, lambda: c(chainrule.randn(2, 2, 3)), lambda: t(torch.randn(2, 2, 3)))
    raises_like(ValueError, lambda: c(chainrule.randn(2, 3), (chainrule.randn(1, 2, 4),) * 2),
                lambda: t(torch.randn(2, 3), (torch.randn(1, 2, 4),) * 2))
    c, t = twin("GRUCell", 3, 4)
    raises_like(RuntimeError, lambda: c(chainrule.randn(2, 3), chainrule.randn(3, 4)),
                lambda: t(torch.randn(2, 3), torch.randn(3, 4)))
    raises_like(RuntimeError, lambda: c(chainrule.randn(2, 3), chainrule.randn(2, 5)),
                lambda: t(torch.randn(2, 3), torch.randn(2, 5)))
    raises_like(ValueError, lambda: c(chainrule.randn(2, 3), chainrule.randn(1, 2, 4)),
                lambda: t(torch.randn(2, 3), torch.randn(1, 2, 4)))
    c = chainrule.nn.RNNCell(3, 4, nonlinearity="x")
    t = torch.nn.RNNCell(3, 4, nonlinearity="x")
    raises_like(RuntimeError, lambda: c(chainrule.randn(2, 3)), lambda: t(torch.randn(2, 3)))
