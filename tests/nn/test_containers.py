"""Containers against PyTorch: indexing, slicing, mutation, renumbering, reprs, errors."""
from collections import OrderedDict

import numpy as np
import pytest
import torch
from oracle import assert_same, raises_like

import chainrule


def _both(build):
    return build(chainrule), build(torch)


def _seq(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1), nn.Tanh())


def _names(m):
    return [type(x).__name__ for x in m]


@pytest.mark.parametrize("op", [
    lambda s, lib: s[0], lambda s, lib: s[-1], lambda s, lib: s[1:3], lambda s, lib: s[::-2],
    lambda s, lib: s + lib.nn.Sequential(lib.nn.Sigmoid()),
    lambda s, lib: s.append(lib.nn.Sigmoid()),
    lambda s, lib: s.insert(1, lib.nn.Sigmoid()), lambda s, lib: s.insert(-1, lib.nn.Sigmoid()),
    lambda s, lib: s.extend([lib.nn.Sigmoid(), lib.nn.ReLU()]),
    lambda s, lib: (s.__delitem__(1), s)[1], lambda s, lib: (s.__delitem__(slice(0, 2)), s)[1],
    lambda s, lib: (s.pop(0), s)[1], lambda s, lib: (s.__setitem__(-1, lib.nn.ReLU()), s)[1],
    lambda s, lib: s * 2,
])
def test_sequential_ops_match_torch(op):
    c, t = _both(lambda lib: op(_seq(lib), lib))
    assert repr(c) == repr(t)


def test_sequential_forward_and_ordered_dict():
    c, t = _both(lambda lib: lib.nn.Sequential(OrderedDict(
        [("fc", lib.nn.Linear(2, 3)), ("act", lib.nn.GELU()), ("out", lib.nn.Linear(3, 1))])))
    c.load_state_dict({k: chainrule.tensor(v.numpy()) for k, v in t.state_dict().items()})
    assert repr(c) == repr(t) and len(c) == len(t) == 3
    assert _names(c) == _names(t)
    x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    assert_same(c(chainrule.tensor(x)), t(torch.tensor(x)), rtol=1e-5)
    assert repr(c[1:]) == repr(t[1:])


@pytest.mark.parametrize("exc,fn", [
    (IndexError, lambda lib: _seq(lib)[4]),
    (IndexError, lambda lib: _seq(lib)[-5]),
    (ValueError, lambda lib: _seq(lib) + 1),
    (IndexError, lambda lib: _seq(lib).insert(9, lib.nn.ReLU())),
    (IndexError, lambda lib: lib.nn.ModuleList([lib.nn.ReLU()])[1]),
    (TypeError, lambda lib: lib.nn.ModuleList(3)),
    (TypeError, lambda lib: lib.nn.ModuleDict(3)),
    (ValueError, lambda lib: lib.nn.ModuleDict([("a", lib.nn.ReLU(), 1)])),
    (TypeError, lambda lib: lib.nn.ParameterList(lib.ones(2))),
    (TypeError, lambda lib: lib.nn.ParameterDict({1: lib.ones(1)})),
    (RuntimeError, lambda lib: lib.nn.ParameterList([lib.ones(1)])()),
])
def test_container_errors_match_torch(exc, fn):
    raises_like(exc, lambda: fn(chainrule), lambda: fn(torch))


def test_module_list():
    def build(lib):
        nn = lib.nn
        ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
        ml.append(nn.ReLU())
        ml.extend([nn.Tanh(), nn.Tanh()])
        ml.insert(1, nn.Sigmoid())
        ml += [nn.ReLU()]
        del ml[0]
        return ml

    c, t = _both(build)
    assert repr(c) == repr(t)
    assert repr(c[1:4]) == repr(t[1:4]) and repr(c[-1]) == repr(t[-1])
    assert repr(c + c) == repr(t + t)
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert repr(chainrule.nn.ModuleList()) == repr(torch.nn.ModuleList())
    c.pop(0)
    t.pop(0)
    assert repr(c) == repr(t)


def test_module_dict():
    def build(lib):
        nn = lib.nn
        d = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Linear(1, 2)})
        d["c"] = nn.Tanh()
        d.update([("e", nn.Sigmoid())])
        del d["b"]
        return d

    c, t = _both(build)
    assert repr(c) == repr(t)
    assert list(c) == list(t) and list(c.keys()) == list(t.keys())
    assert "a" in c and len(c) == len(t)
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert repr(c.pop("a")) == repr(t.pop("a"))


def test_parameter_list_and_dict():
    def build(lib):
        nn = lib.nn
        pl = nn.ParameterList([nn.Parameter(lib.ones(2, 3)), lib.zeros(3, dtype=lib.float64)])
        pl.append(lib.ones(1))
        pd = nn.ParameterDict({"w": lib.ones(2), "a": nn.Parameter(lib.zeros(1, 1))})
        pd["z"] = lib.ones(4)
        return pl, pd

    (cl, cd), (tl, td) = _both(build)
    assert repr(cl) == repr(tl) and repr(cd) == repr(td)
    assert repr(cl[1:]) == repr(tl[1:])
    assert all(isinstance(p, chainrule.nn.Parameter) for p in cl)
    assert [n for n, _ in cl.named_parameters()] == [n for n, _ in tl.named_parameters()]
    assert [n for n, _ in cd.named_parameters()] == [n for n, _ in td.named_parameters()]
    assert list(cd.keys()) == list(td.keys()) and "w" in cd
    assert cd.get("nope") is None
    del cd["w"]
    del td["w"]
    assert repr(cd) == repr(td)


@pytest.mark.parametrize("make,shape", [
    (lambda lib: lib.nn.Flatten(), (2, 3, 4)),
    (lambda lib: lib.nn.Flatten(0, 1), (2, 3, 4)),
    (lambda lib: lib.nn.Unflatten(1, (2, 3)), (4, 6)),
    (lambda lib: lib.nn.Identity(3, foo=1), (2, 2)),
])
def test_flatten_unflatten_identity(make, shape):
    c, t = _both(make)
    assert repr(c) == repr(t)
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    cx = chainrule.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    assert_same(c(cx), t(tx))
    c(cx).sum().backward()
    t(tx).sum().backward()
    assert_same(cx.grad, tx.grad)
