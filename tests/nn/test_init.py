"""nn.init: bounds and statistics (values cannot match torch's RNG), gains, fans, errors as
torch, generator reproducibility, no autograd history."""
import math

import numpy as np
import pytest
import torch
from oracle import raises_like

import chainrule
from chainrule.nn import init


def _t(*shape, rg=True):
    return chainrule.nn.Parameter(chainrule.zeros(*shape)) if rg else chainrule.zeros(*shape)


@pytest.mark.parametrize("args", [
    ("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",),
    ("leaky_relu", 0.2), ("leaky_relu", 1), ("selu",),
])
def test_calculate_gain(args):
    assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))


def test_calculate_gain_errors():
    raises_like(ValueError, lambda: init.calculate_gain("foo"),
                lambda: torch.nn.init.calculate_gain("foo"))
    raises_like(ValueError, lambda: init.calculate_gain("leaky_relu", "x"),
                lambda: torch.nn.init.calculate_gain("leaky_relu", "x"))


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3, 3), (2, 7, 4)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(chainrule.zeros(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))


@pytest.mark.parametrize("name,args", [
    ("xavier_uniform_", ()), ("xavier_normal_", ()), ("kaiming_uniform_", ()),
    ("kaiming_normal_", ()), ("orthogonal_", ()), ("eye_", ()), ("dirac_", ()),
    ("sparse_", (0.5,)),
])
def test_dimension_errors_match_torch(name, args):
    raises_like(ValueError, lambda: getattr(init, name)(chainrule.zeros(3), *args),
                lambda: getattr(torch.nn.init, name)(torch.zeros(3), *args))


def test_kaiming_mode_error():
    raises_like(ValueError, lambda: init.kaiming_uniform_(chainrule.zeros(2, 2), mode="fan"),
                lambda: torch.nn.init.kaiming_uniform_(torch.zeros(2, 2), mode="fan"))


def test_in_place_no_history_returns_tensor():
    p = _t(64, 32)
    v = p._version
    out = init.kaiming_uniform_(p)
    assert out is p and p.grad_fn is None and p.requires_grad and v[0] == 1
    assert isinstance(p, chainrule.nn.Parameter)


def _stats(fn, shape=(400, 300), **kw):
    t = _t(*shape)
    fn(t, **kw)
    return t.detach().numpy()


def test_uniform_normal_constant():
    a = _stats(init.uniform_, a=-2.0, b=3.0)
    assert a.min() >= -2 and a.max() <= 3 and abs(a.mean() - 0.5) < 0.05
    a = _stats(init.normal_, mean=1.0, std=2.0)
    assert abs(a.mean() - 1) < 0.03 and abs(a.std() - 2) < 0.03
    assert (_stats(init.constant_, val=0.25) == 0.25).all()
    assert (_stats(init.ones_) == 1).all() and (_stats(init.zeros_) == 0).all()


def test_trunc_normal_bounds():
    a = _stats(init.trunc_normal_, mean=0.0, std=1.0, a=-0.5, b=1.0)
    assert a.min() >= -0.5 and a.max() <= 1.0
    # the truncated normal's mean on [-0.5, 1] is about 0.212
    assert abs(a.mean() - 0.2117) < 0.02


def test_xavier_and_kaiming_statistics():
    fan_in, fan_out = 300, 400
    a = _stats(init.xavier_uniform_, gain=2.0)
    bound = 2.0 * math.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.99 * bound
    a = _stats(init.xavier_normal_)
    assert abs(a.std() - math.sqrt(2.0 / (fan_in + fan_out))) < 0.002
    a = _stats(init.kaiming_uniform_, a=math.sqrt(5))
    bound = math.sqrt(6 / ((1 + 5) * fan_in))
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.99 * bound
    a = _stats(init.kaiming_normal_, mode="fan_out", nonlinearity="relu")
    assert abs(a.std() - math.sqrt(2.0 / fan_out)) < 0.002


def test_eye_dirac_orthogonal_sparse():
    assert (_stats(init.eye_, shape=(3, 5)) == np.eye(3, 5)).all()
    c = _t(4, 2, 3, 3)
    t = torch.zeros(4, 2, 3, 3)
    init.dirac_(c, groups=2)
    torch.nn.init.dirac_(t, groups=2)
    assert (c.detach().numpy() == t.numpy()).all()
    q = _stats(init.orthogonal_, shape=(6, 10), gain=2.0)
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(6), atol=1e-5)
    q = _stats(init.orthogonal_, shape=(5, 2, 2))
    q = q.reshape(5, 4)
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)
    s = _stats(init.sparse_, shape=(10, 20), sparsity=0.3)
    assert ((s == 0).sum(0) >= 3).all()


def test_generator_reproducible_and_zero_element_warning():
    g = chainrule.Generator().manual_seed(3)
    a = _t(4, 4)
    init.normal_(a, generator=g)
    g.manual_seed(3)
    b = _t(4, 4)
    init.normal_(b, generator=g)
    assert (a.detach().numpy() == b.detach().numpy()).all()
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_uniform_(_t(0, 3))
