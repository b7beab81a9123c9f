"""copy_/fill_/zero_ and the random fills, compared with torch's behaviour."""
import numpy as np
import pytest
import torch

import chainrule

LIBS = [chainrule, torch]
IDS = ["chainrule", "torch"]


@pytest.mark.parametrize("lib", LIBS, ids=IDS)
def test_copy_broadcasts_casts_and_bumps_version(lib):
    x = lib.zeros(2, 3)
    x.copy_(lib.tensor([1, 2, 3]))
    assert x.tolist() == [[1.0, 2.0, 3.0]] * 2 and x.dtype == lib.float32
    with pytest.raises(RuntimeError):
        x.copy_(lib.ones(4))
    with pytest.raises(RuntimeError):
        lib.zeros(3).copy_(lib.ones(2, 3))


def test_copy_gradient_goes_to_source_and_not_to_the_overwritten():
    res = []
    for lib in LIBS:
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        src = lib.tensor([5.0], requires_grad=True)
        y = a * 2
        y.copy_(src * 3)
        (y * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        res.append((a.grad.tolist(), src.grad.tolist(), y.grad_fn.name()))
    assert res[0][:2] == res[1][:2]
    assert res[0][2] == "CopyBackwards"


@pytest.mark.parametrize("lib", LIBS, ids=IDS)
def test_fill_and_zero(lib):
    x = lib.ones(2, 2)
    assert x.fill_(2.5).tolist() == [[2.5, 2.5]] * 2
    assert x.zero_().tolist() == [[0.0, 0.0]] * 2
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    y = a * 3
    y.fill_(7.0)
    (y * a).sum().backward()
    assert a.grad.tolist() == [7.0, 7.0]  # only the direct use of a contributes


@pytest.mark.parametrize("lib", LIBS, ids=IDS)
def test_inplace_fills_on_leaf_requiring_grad_raise(lib):
    p = lib.zeros(3, requires_grad=True)
    for fn in (lambda: p.fill_(1.0), lambda: p.zero_(), lambda: p.copy_(lib.ones(3)), lambda: p.uniform_()):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
            fn()
    with lib.no_grad():
        p.uniform_(-1, 1)
        p.copy_(lib.ones(3))
    assert p.tolist() == [1.0, 1.0, 1.0]


def test_random_fills_distributions_and_generator():
    g = chainrule.Generator().manual_seed(0)
    x = chainrule.empty(20000)
    x.uniform_(-2, 3, generator=g)
    assert -2 <= x.min().item() and x.max().item() <= 3 and abs(x.mean().item() - 0.5) < 0.05
    x.normal_(1.0, 2.0)
    assert abs(x.mean().item() - 1.0) < 0.1 and abs(x.std().item() - 2.0) < 0.1
    x.bernoulli_(0.3)
    assert set(np.unique(x.numpy())) <= {0.0, 1.0} and abs(x.mean().item() - 0.3) < 0.02
    x.exponential_(2.0)
    assert abs(x.mean().item() - 0.5) < 0.05
    y = chainrule.empty(1000, dtype=chainrule.int64).random_(0, 10)
    assert y.min().item() >= 0 and y.max().item() <= 9
    a = chainrule.empty(5).uniform_(generator=chainrule.Generator().manual_seed(7))
    b = chainrule.empty(5).uniform_(generator=chainrule.Generator().manual_seed(7))
    assert a.tolist() == b.tolist()
