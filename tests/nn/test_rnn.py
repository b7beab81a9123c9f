"""RNN, LSTM and GRU vs PyTorch with the same weights: outputs, final states, every gradient."""
import numpy as np
import pytest
import torch
from layer_oracle import compare, twin
from oracle import raises_like

import chainrule


def _arr(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


CONFIGS = [
    {},
    {"num_layers": 2, "bidirectional": True, "batch_first": True},
    {"num_layers": 2, "bias": False},
]


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("cfg", CONFIGS)
def test_recurrent_matches_torch(rng, name, cfg):
    c, t = twin(name, 3, 4, **cfg)
    assert repr(c) == repr(t)
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in t.named_parameters()]
    x = _arr(rng, 2, 5, 3) if cfg.get("batch_first") else _arr(rng, 5, 2, 3)
    compare(c, t, x)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_recurrent_with_initial_state_and_unbatched(rng, name):
    c, t = twin(name, 3, 4, num_layers=2, bidirectional=True)
    h0 = _arr(rng, 4, 2, 4)
    if name == "LSTM":
        def call(m, x, h, cc):
            return m(x, (h, cc))
        compare(c, t, _arr(rng, 5, 2, 3), h0, _arr(rng, 4, 2, 4), call=call)
    else:
        compare(c, t, _arr(rng, 5, 2, 3), h0)
    compare(c, t, _arr(rng, 6, 3))  # unbatched (L, H_in)


def test_rnn_relu_and_dropout_between_layers(rng):
    c, t = twin("RNN", 3, 4, nonlinearity="relu", num_layers=2)
    compare(c, t, _arr(rng, 4, 2, 3))
    m = chainrule.nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = chainrule.tensor(_arr(rng, 4, 2, 3))
    m.eval()
    a, b = m(x)[0].detach().numpy(), m(x)[0].detach().numpy()
    np.testing.assert_array_equal(a, b)  # eval: deterministic
    m.train()
    assert not np.allclose(m(x)[0].detach().numpy(), a)  # train: dropout between the layers


def test_recurrent_errors_like_torch(rng):
    x = _arr(rng, 5, 2, 3)
    raises_like(RuntimeError, lambda: chainrule.nn.LSTM(4, 4)(chainrule.tensor(x)),
                lambda: torch.nn.LSTM(4, 4)(torch.tensor(x)))
    h = _arr(rng, 1, 3, 4)
    raises_like(RuntimeError,
                lambda: chainrule.nn.GRU(3, 4)(chainrule.tensor(x), chainrule.tensor(h)),
                lambda: torch.nn.GRU(3, 4)(torch.tensor(x), torch.tensor(h)))
    raises_like(ValueError, lambda: chainrule.nn.RNN(3, 4, nonlinearity="gelu"),
                lambda: torch.nn.RNN(3, 4, nonlinearity="gelu"))


def test_default_init_range():
    m = chainrule.nn.LSTM(3, 16)
    for p in m.parameters():
        assert np.abs(p.detach().numpy()).max() <= 0.25  # U(±1/√hidden)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_fused_cells_double_backward(rng, name):
    """Second derivatives through the fused cells (create_graph path) match torch's."""
    c, t = twin(name, 3, 4)
    x = _arr(rng, 4, 2, 3)
    v = _arr(rng, 4, 2, 3)
    results = []
    for lib, m in ((chainrule, c), (torch, t)):
        xt = lib.tensor(x, requires_grad=True)
        out = m(xt)[0]
        (g,) = lib.autograd.grad((out * out).sum(), [xt], create_graph=True)
        (g2,) = lib.autograd.grad((g * lib.tensor(v)).sum(), [xt])
        results.append((g, g2))
    from oracle import assert_same

    assert_same(results[0][0], results[1][0], 1e-4, 1e-5, "grad")
    assert_same(results[0][1], results[1][1], 1e-3, 1e-4, "grad of grad")
