"""nn.utils against PyTorch: clip_grad_norm_ (norm types, non-finite), clip_grad_value_,
parameters_to_vector / vector_to_parameters."""
import math

import numpy as np
import pytest
import torch
from oracle import assert_same, raises_like

import chainrule
from chainrule.nn import utils

R = np.random.default_rng(0)


def _params(lib, grads):
    ps = []
    for g in grads:
        p = lib.nn.Parameter(lib.zeros(*g.shape))
        p.grad = lib.tensor(g.copy())
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf", 0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    grads = [R.standard_normal((3, 4)).astype(np.float32), R.standard_normal(5).astype(np.float32)]
    cp, tp = _params(chainrule, grads), _params(torch, grads)
    cn = utils.clip_grad_norm_(cp, max_norm, norm_type)
    tn = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type)
    assert_same(cn, tn, rtol=1e-5)
    for a, b in zip(cp, tp):
        assert_same(a.grad, b.grad, rtol=1e-5)


def test_clip_grad_norm_edge_cases():
    assert_same(utils.clip_grad_norm_([chainrule.nn.Parameter(chainrule.ones(2))], 1.0),
                torch.nn.utils.clip_grad_norm_([torch.nn.Parameter(torch.ones(2))], 1.0))
    g = np.array([np.inf, 1.0], np.float32)
    raises_like(RuntimeError,
                lambda: utils.clip_grad_norm_(_params(chainrule, [g]), 1.0, error_if_nonfinite=True),
                lambda: torch.nn.utils.clip_grad_norm_(_params(torch, [g]), 1.0,
                                                       error_if_nonfinite=True))
    cp, tp = _params(chainrule, [g]), _params(torch, [g])
    assert_same(utils.clip_grad_norm_(cp, 1.0), torch.nn.utils.clip_grad_norm_(tp, 1.0))
    assert_same(cp[0].grad, tp[0].grad)
    p = chainrule.nn.Parameter(chainrule.zeros(3))
    p.grad = chainrule.tensor([3.0, 4.0, 0.0])
    v = p.grad._version[0]
    utils.clip_grad_norm_(p, 1.0)  # a single tensor, scaled in place
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8, 0], atol=1e-6)
    assert p.grad._version[0] == v + 1
    model = chainrule.nn.Linear(2, 2)
    model(chainrule.ones(1, 2)).sum().backward()
    assert utils.clip_grad_norm_(model.parameters(), 0.1).item() > 0.1  # a generator


def test_clip_grad_value():
    grads = [R.standard_normal((4, 4)).astype(np.float32) * 3]
    cp, tp = _params(chainrule, grads), _params(torch, grads)
    assert utils.clip_grad_value_(cp, 1.5) is None
    torch.nn.utils.clip_grad_value_(tp, 1.5)
    assert_same(cp[0].grad, tp[0].grad)


def test_parameters_vector_round_trip():
    lin_c, lin_t = chainrule.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    lin_c.load_state_dict({k: chainrule.tensor(v.numpy()) for k, v in lin_t.state_dict().items()})
    vc = utils.parameters_to_vector(lin_c.parameters())
    vt = torch.nn.utils.parameters_to_vector(lin_t.parameters())
    assert_same(vc, vt)
    assert vc.grad_fn.name() == type(vt.grad_fn).__name__
    new = np.arange(8, dtype=np.float32)
    w = lin_c.weight
    utils.vector_to_parameters(chainrule.tensor(new), lin_c.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), lin_t.parameters())
    assert lin_c.weight is w
    assert_same(lin_c.weight, lin_t.weight)
    assert_same(lin_c.bias, lin_t.bias)
    raises_like(TypeError, lambda: utils.vector_to_parameters([1], lin_c.parameters()),
                lambda: torch.nn.utils.vector_to_parameters([1], lin_t.parameters()))
