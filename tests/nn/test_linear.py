"""Linear and Bilinear against PyTorch (outputs, input and parameter gradients), their
default initialisation bounds, reprs and errors."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from layer_oracle import compare, twin

import chainrule

R = np.random.default_rng(0)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (3,), (2, 5, 3), (0, 3)])
def test_linear_matches_torch(bias, shape):
    c, t = twin("Linear", 3, 2, bias=bias)
    assert repr(c) == repr(t)
    compare(c, t, R.standard_normal(shape).astype(np.float32))
    c.eval()
    t.eval()
    compare(c, t, R.standard_normal(shape).astype(np.float32))


def test_linear_noncontiguous_input_and_double():
    t = torch.nn.Linear(4, 3, dtype=torch.float64)
    c = chainrule.nn.Linear(4, 3, dtype=chainrule.float64)
    assert c.weight.dtype == chainrule.float64 and c.bias.dtype == chainrule.float64
    c.load_state_dict({k: chainrule.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = R.standard_normal((4, 5))
    compare(c, t, x, call=lambda m, x: m(x.t()))


def test_linear_default_init_bounds():
    chainrule.manual_seed(0)
    m = chainrule.nn.Linear(400, 50)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=√5) gives the same bound as the bias
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert m.weight.requires_grad and m.weight.is_leaf and m.weight.dtype == chainrule.float32


def test_bilinear_matches_torch():
    c, t = twin("Bilinear", 3, 4, 2)
    assert repr(c) == repr(t)
    compare(c, t, R.standard_normal((5, 3)).astype(np.float32),
            R.standard_normal((5, 4)).astype(np.float32))
    bound = 1 / math.sqrt(3)
    fresh = chainrule.nn.Bilinear(3, 4, 2, bias=False)
    assert np.abs(fresh.weight.detach().numpy()).max() <= bound and fresh.bias is None


def test_linear_shape_error_like_torch():
    from oracle import raises_like

    c, t = twin("Linear", 3, 2)
    raises_like(RuntimeError, lambda: c(chainrule.ones(2, 4)), lambda: t(torch.ones(2, 4)))


def test_mlp_training_steps_match_torch():
    """End to end: same weights, five SGD steps on cross-entropy, identical losses."""
    def build(lib):
        nn = lib.nn
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))

    torch.manual_seed(0)
    t = build(torch)
    c = build(chainrule)
    c.load_state_dict({k: chainrule.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = R.standard_normal((16, 4)).astype(np.float32)
    y = R.integers(0, 3, 16)
    losses = {}
    for lib, m in ((chainrule, c), (torch, t)):
        xs, ys = lib.tensor(x), lib.tensor(y)
        losses[lib] = []
        for _ in range(5):
            m.zero_grad()
            loss = lib.nn.functional.cross_entropy(m(xs), ys, label_smoothing=0.05)
            loss.backward()
            with lib.no_grad():
                for p in m.parameters():
                    p -= 0.5 * p.grad
            losses[lib].append(loss.item())
    np.testing.assert_allclose(losses[chainrule], losses[torch], rtol=1e-5)
    assert losses[torch][-1] < losses[torch][0]


@settings(max_examples=25, deadline=None)
@given(batch=st.lists(st.integers(0, 3), max_size=3), fin=st.integers(1, 5),
       fout=st.integers(1, 5), bias=st.booleans())
def test_linear_shapes_property(batch, fin, fout, bias):
    c, t = twin("Linear", fin, fout, bias=bias)
    compare(c, t, R.standard_normal((*batch, fin)).astype(np.float32))
