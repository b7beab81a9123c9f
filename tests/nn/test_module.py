"""nn.Module and nn.Parameter against PyTorch: registration, traversal order, state_dict
(printing, loading, every error message), reprs, modes, dtype moves and hooks."""
import contextlib
import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch
from oracle import assert_same, raises_like

import chainrule


def _net(lib):
    """The same small architecture in either library, weights copied from torch's."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 4)
            self.scale = nn.Parameter(lib.ones(4))
            self.register_buffer("running", lib.zeros(4))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)

        def forward(self, x):
            return self.fc(x) * self.scale + self.running

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.head = nn.Sequential(nn.Tanh(), nn.Linear(4, 2, bias=False))
            self.shared = self.head[1]  # the same module twice: listed once

        def forward(self, x):
            return self.head(self.block(x))

    return Net()


def _pair():
    torch.manual_seed(0)
    t = _net(torch)
    c = _net(chainrule)
    c.load_state_dict({k: chainrule.tensor(v.numpy()) for k, v in t.state_dict().items()})
    return c, t


def test_parameter_basics():
    c = chainrule.nn.Parameter(chainrule.tensor([[0.5153]]))
    t = torch.nn.Parameter(torch.tensor([[0.5153]]))
    assert repr(c) == repr(t)
    assert isinstance(c, chainrule.Tensor) and c.requires_grad and c.is_leaf
    assert type(c * 2) is chainrule.Tensor and type(c.detach()) is chainrule.Tensor
    assert repr(chainrule.nn.Parameter(chainrule.tensor([1.0]), requires_grad=False)) == repr(
        torch.nn.Parameter(torch.tensor([1.0]), requires_grad=False))
    assert chainrule.nn.Parameter().shape == torch.nn.Parameter().shape
    raises_like(RuntimeError, lambda: chainrule.nn.Parameter(chainrule.tensor([1, 2])),
                lambda: torch.nn.Parameter(torch.tensor([1, 2])), match="can require gradients")
    base = chainrule.tensor([1.0, 2.0])
    p = chainrule.nn.Parameter(base)
    base._data[0] = 5  # shares storage, as in PyTorch
    assert p.tolist()[0] == 5
    q = copy.deepcopy(p)
    assert type(q) is chainrule.nn.Parameter and q.requires_grad and q._data is not p._data


def test_traversal_names_and_order_match_torch():
    c, t = _pair()
    for method in ("named_parameters", "named_buffers", "named_modules", "named_children"):
        assert [n for n, _ in getattr(c, method)()] == [n for n, _ in getattr(t, method)()], method
    assert [n for n, _ in c.named_parameters(prefix="m", recurse=True)] == [
        n for n, _ in t.named_parameters(prefix="m")]
    assert [n for n, _ in c.named_parameters(remove_duplicate=False)] == [
        n for n, _ in t.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in c.named_parameters(recurse=False)] == []
    assert len(list(c.parameters())) == len(list(t.parameters()))
    assert len(list(c.modules())) == len(list(t.modules()))
    assert len(list(c.children())) == len(list(t.children()))
    assert c.get_submodule("head.1") is c.shared
    assert c.get_parameter("block.scale") is c.block.scale
    assert c.get_buffer("block.running") is c.block.running


def test_state_dict_prints_like_torch_and_round_trips():
    c, t = _pair()
    assert list(c.state_dict()) == list(t.state_dict())
    assert "scratch" not in " ".join(c.state_dict())
    lin_c, lin_t = chainrule.nn.Linear(1, 1), torch.nn.Linear(1, 1)
    lin_c.load_state_dict({k: chainrule.tensor(v.numpy()) for k, v in lin_t.state_dict().items()})
    assert repr(lin_c.state_dict()) == repr(lin_t.state_dict())
    assert c.state_dict()._metadata.keys() == t.state_dict()._metadata.keys()
    sd = c.state_dict()
    assert not sd["block.fc.weight"].requires_grad
    assert c.state_dict(keep_vars=True)["block.fc.weight"] is c.block.fc.weight
    assert repr(c.load_state_dict(sd)) == repr(t.load_state_dict(t.state_dict()))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    assert_same(c(chainrule.tensor(x)), t(torch.tensor(x)))


def test_load_state_dict_copies_in_place_and_assign_replaces():
    c = chainrule.nn.Linear(2, 2)
    w = c.weight
    c.load_state_dict({"weight": chainrule.ones(2, 2), "bias": chainrule.zeros(2)})
    assert c.weight is w and c.weight.tolist() == [[1, 1], [1, 1]]
    c.load_state_dict({"weight": chainrule.ones(2, 2) * 3, "bias": chainrule.zeros(2)}, assign=True)
    assert c.weight is not w and isinstance(c.weight, chainrule.nn.Parameter)
    assert c.weight.requires_grad


@pytest.mark.parametrize("sd", [
    {"weight": np.zeros((2, 2), np.float32), "foo": np.zeros(1, np.float32)},
    {"foo": np.zeros(1, np.float32)},
    {"weight": np.zeros((1, 1), np.float32)},
    {"weight": 3, "bias": np.zeros(1, np.float32)},
    {"weight": np.zeros((1, 1), np.float32), "bias": np.zeros(1, np.float32), "x.y": np.ones(1)},
])
def test_load_state_dict_errors_match_torch(sd):
    def load(lib, strict=True):
        m = lib.nn.Linear(1, 1)
        return m.load_state_dict(
            {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in sd.items()}, strict)

    raises_like(RuntimeError, lambda: load(chainrule), lambda: load(torch))
    if all(isinstance(v, np.ndarray) for v in sd.values()) and all(
            v.shape in ((1, 1), (1,)) for v in sd.values()):
        assert repr(load(chainrule, False)) == repr(load(torch, False))
    raises_like(TypeError, lambda: chainrule.nn.Linear(1, 1).load_state_dict([1]),
                lambda: torch.nn.Linear(1, 1).load_state_dict([1]))


def test_incompatible_keys_non_strict():
    c = chainrule.nn.Linear(1, 1).load_state_dict({"foo": chainrule.zeros(1)}, strict=False)
    t = torch.nn.Linear(1, 1).load_state_dict({"foo": torch.zeros(1)}, strict=False)
    assert repr(c) == repr(t)
    assert c.missing_keys == t.missing_keys and c.unexpected_keys == t.unexpected_keys


@pytest.mark.parametrize("action", [
    lambda lib, m: m.register_parameter("x", lib.zeros(1)),
    lambda lib, m: setattr(m, "weight", lib.zeros(1)),
    lambda lib, m: m.register_buffer("weight", lib.zeros(1)),
    lambda lib, m: m.register_buffer("a.b", lib.zeros(1)),
    lambda lib, m: m.register_buffer("", lib.zeros(1)),
    lambda lib, m: m.register_buffer("z", 3),
    lambda lib, m: m.register_parameter("a.b", None),
    lambda lib, m: m.add_module("z", 3),
    lambda lib, m: m.add_module("a.b", lib.nn.Tanh()),
    lambda lib, m: m.get_submodule("a.b"),
    lambda lib, m: m.get_parameter("foo"),
    lambda lib, m: m.foo,
    lambda lib, m: m.train("x"),
    lambda lib, m: m.to(lib.int64),
    lambda lib, m: lib.nn.Module()(1),
    lambda lib, m: lib.nn.Module(3),
    lambda lib, m: m.register_parameter("y", lib.nn.Parameter(lib.ones(1)) * 2),
])
def test_registration_errors_match_torch(action):
    exc = None
    try:
        action(torch, torch.nn.Linear(1, 1))
    except Exception as e:  # noqa: BLE001 - the class comes from torch
        exc = type(e)
    assert exc is not None
    raises_like(exc, lambda: action(chainrule, chainrule.nn.Linear(1, 1)),
                lambda: action(torch, torch.nn.Linear(1, 1)))


@pytest.mark.parametrize("lib", [chainrule, torch])
def test_uninitialised_module_errors(lib):
    class Bad(lib.nn.Module):
        def __init__(self):
            self.x = lib.nn.Parameter(lib.zeros(1))

    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__"):
        Bad()


def test_setattr_moves_between_kinds_and_delattr():
    m = chainrule.nn.Module()
    m.a = chainrule.nn.Parameter(chainrule.ones(1))
    m.a = None  # stays a (None) parameter
    assert "a" in m._parameters and m.a is None
    m.register_buffer("b", chainrule.ones(1))
    m.b = chainrule.zeros(1)  # assigning a tensor to a buffer name keeps it a buffer
    assert m._buffers["b"].tolist() == [0.0]
    m.c = chainrule.nn.Tanh()
    del m.c
    del m.b
    assert not m._modules and not m._buffers
    m.d = 3
    assert m.d == 3 and "d" in dir(m)
    m.e = chainrule.nn.Buffer(chainrule.ones(2), persistent=False)
    assert "e" in m._buffers and "e" not in m.state_dict() and type(m.e) is chainrule.Tensor


def test_repr_matches_torch():
    c, t = _pair()
    assert repr(c) == repr(t)
    assert repr(chainrule.nn.Module()) == repr(torch.nn.Module())

    class WithExtra(chainrule.nn.Module):
        def extra_repr(self):
            return "a=1\nb=2"

    assert repr(WithExtra()) == "WithExtra(\n  a=1\n  b=2\n)"


def test_train_eval_apply_requires_grad_zero_grad():
    c, t = _pair()
    assert c.training
    c.eval()
    assert not any(m.training for m in c.modules())
    c.train()
    assert all(m.training for m in c.modules())
    seen = []
    c.apply(lambda m: seen.append(type(m).__name__))
    t_seen = []
    t.apply(lambda m: t_seen.append(type(m).__name__))
    assert seen == t_seen
    c(chainrule.ones(2, 3)).sum().backward()
    assert all(p.grad is not None for p in c.parameters())
    c.zero_grad(set_to_none=False)
    assert all(not p.grad._data.any() for p in c.parameters())
    c.zero_grad()
    assert all(p.grad is None for p in c.parameters())
    c.requires_grad_(False)
    assert not any(p.requires_grad for p in c.parameters())


def test_to_double_keeps_parameter_objects():
    c, t = _pair()
    w = c.block.fc.weight
    c.double()
    t.double()
    assert c.block.fc.weight is w and c.block.fc.weight.dtype == chainrule.float64
    assert c.block.running.dtype == chainrule.float64
    x = np.ones((2, 3))
    assert_same(c(chainrule.tensor(x)), t(torch.tensor(x)))
    c.to(chainrule.float32)
    assert w.dtype == chainrule.float32
    c.half().float()
    assert c.to("cpu") is c and c.cpu() is c


# ---- hooks ---------------------------------------------------------------------------------
def _record_hooks(lib, m, log):
    m.register_forward_pre_hook(lambda mod, args: log.append(("pre", len(args))))
    m.register_forward_pre_hook(lambda mod, args: log.append(("pre0",)), prepend=True)
    m.register_forward_pre_hook(
        lambda mod, args, kwargs: log.append(("prekw", sorted(kwargs))), with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: log.append(("fwd", tuple(out.shape))))
    m.register_forward_hook(
        lambda mod, args, kwargs, out: log.append(("fwdkw", sorted(kwargs))), with_kwargs=True)


def test_forward_hooks_order_and_replacement_like_torch():
    logs = {}
    for lib in (chainrule, torch):
        m = lib.nn.Linear(3, 2)
        log = logs[lib] = []
        _record_hooks(lib, m, log)
        m(lib.ones(4, 3))
        h = m.register_forward_hook(lambda mod, args, out: out * 0)
        assert not m(lib.ones(1, 3)).detach().numpy().any()
        h.remove()
        assert m(lib.ones(1, 3)).detach().numpy().any()
        m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
        log.append(("bias", m(lib.ones(1, 3)).detach().numpy().round(6).tolist()
                    == m.bias.detach().numpy().round(6)[None].tolist()))
    assert logs[chainrule] == logs[torch]


@pytest.mark.parametrize("lib", [chainrule, torch])
def test_forward_hook_always_call(lib):
    m = lib.nn.Linear(3, 2)
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
    with pytest.raises(RuntimeError):
        m(lib.ones(2, 5))
    assert seen == [None]


def _grads_with_backward_hooks(lib, inputs_require_grad, replace=False):
    torch.manual_seed(0)
    tm = torch.nn.Linear(3, 2)
    m = lib.nn.Linear(3, 2)
    if lib is chainrule:
        m.load_state_dict({k: chainrule.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    else:
        m = tm
    log = []

    def pre(mod, grad_output):
        log.append(("pre", [g.detach().numpy().copy() for g in grad_output]))
        return (grad_output[0] * 2,) if replace else None

    def full(mod, grad_input, grad_output):
        log.append(("full", [None if g is None else g.detach().numpy().copy() for g in grad_input],
                     [g.detach().numpy().copy() for g in grad_output]))
        if replace and grad_input[0] is not None:
            return (grad_input[0] + 1,)
        return None

    m.register_full_backward_pre_hook(pre)
    m.register_full_backward_hook(full)
    warn = pytest.warns(UserWarning, match="Full backward hook is firing when gradients are "
                        "computed with respect to module outputs since no inputs require")
    if inputs_require_grad:
        warn = contextlib.nullcontext()
    x = lib.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) / 5,
                   requires_grad=inputs_require_grad)
    out = m(x)
    with warn:
        (out * lib.tensor(np.array([[1.0, -2.0], [0.5, 3.0]], np.float32))).sum().backward()
    return log, (None if x.grad is None else x.grad.numpy()), m.weight.grad.numpy()


@pytest.mark.parametrize("inputs_require_grad", [True, False])
@pytest.mark.parametrize("replace", [False, True])
def test_full_backward_hooks_match_torch(inputs_require_grad, replace):
    c_log, c_xg, c_wg = _grads_with_backward_hooks(chainrule, inputs_require_grad, replace)
    t_log, t_xg, t_wg = _grads_with_backward_hooks(torch, inputs_require_grad, replace)
    assert [e[0] for e in c_log] == [e[0] for e in t_log]
    for ce, te in zip(c_log, t_log):
        for cv, tv in zip(ce[1:], te[1:]):
            assert len(cv) == len(tv)
            for a, b in zip(cv, tv):
                assert (a is None) == (b is None)
                if a is not None:
                    np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(c_wg, t_wg, rtol=1e-6)
    if t_xg is None:
        assert c_xg is None
    else:
        np.testing.assert_allclose(c_xg, t_xg, rtol=1e-6)


def test_backward_hook_wrong_length_raises_like_torch():
    def run(lib):
        m = lib.nn.Linear(2, 2)
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
        m(lib.ones(1, 2, requires_grad=True)).sum().backward()

    raises_like(RuntimeError, lambda: run(chainrule), lambda: run(torch))


def test_hook_handles_and_state_dict_hooks():
    m = chainrule.nn.Linear(2, 2)
    calls = []
    h = m.register_forward_pre_hook(lambda mod, a: calls.append(1))
    with h:
        m(chainrule.ones(1, 2))
    m(chainrule.ones(1, 2))
    assert calls == [1]
    m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: (sd.pop("bias"), None)[1])
    assert list(m.state_dict()) == ["weight"]
    seen = []
    m.register_load_state_dict_post_hook(lambda mod, keys: seen.append(list(keys.missing_keys)))
    m.load_state_dict({"weight": chainrule.ones(2, 2)}, strict=False)
    assert seen == [["bias"]]


def test_sequential_ordered_dict_state_dict_prefixes():
    for lib in (chainrule, torch):
        s = lib.nn.Sequential(OrderedDict(a=lib.nn.Linear(1, 1), b=lib.nn.ReLU()))
        assert list(s.state_dict()) == ["a.weight", "a.bias"]


def _global_hook_log(lib):
    mod = lib.nn.modules.module
    log = []
    handles = [
        mod.register_module_forward_pre_hook(lambda m, a: log.append(("gpre", type(m).__name__))),
        mod.register_module_forward_hook(lambda m, a, o: log.append(("gfwd", type(m).__name__))),
        mod.register_module_full_backward_hook(
            lambda m, gi, go: log.append(("gbwd", type(m).__name__, len(gi), len(go)))),
    ]
    try:
        net = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Tanh())
        net[0].register_forward_hook(lambda m, a, o: log.append(("own", type(m).__name__)))
        net(lib.ones(1, 2, requires_grad=True)).sum().backward()
    finally:
        for h in handles:
            h.remove()
    net(lib.ones(1, 2))  # removed: only the module's own hook remains
    return log


def test_global_module_hooks_match_torch():
    assert _global_hook_log(chainrule) == _global_hook_log(torch)
    assert not chainrule.nn.modules.module._globals_active


@pytest.mark.parametrize("target,strict", [("head.0", False), ("block.fc", True), ("new", False),
                                           ("block.nope", True), ("block.scale", False), ("", False)])
def test_set_submodule_like_torch(target, strict):
    c, t = _pair()
    try:
        t.set_submodule(target, torch.nn.ReLU(), strict=strict)
    except (AttributeError, ValueError) as e:
        raises_like(type(e), lambda: c.set_submodule(target, chainrule.nn.ReLU(), strict=strict),
                    lambda: t.set_submodule(target, torch.nn.ReLU(), strict=strict))
        return
    c.set_submodule(target, chainrule.nn.ReLU(), strict=strict)
    assert repr(c) == repr(t)


def _multi_io_hook_log(lib, case):
    class M(lib.nn.Module):
        def forward(self, x, k, y):
            if case == "unused":
                return y * 2
            return x * k + y, (x * y).sum()

    m = M()
    log = []

    def fmt(gs):
        return [None if g is None else np.round(g.detach().numpy(), 5).tolist() for g in gs]

    m.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", fmt(go))))
    m.register_full_backward_hook(lambda mod, gi, go: log.append(("full", fmt(gi), fmt(go))))
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor([3.0, 4.0], requires_grad=case == "unused")
    if case == "unused":
        m(x, 2.0, y).sum().backward()
    else:
        a, _ = m(x, 2.0, y)
        a.sum().backward()  # the second output gets no gradient: None in grad_output
        a, b = m(x, 2.0, y)
        (a.sum() + b).backward()
    log.append(("xgrad", fmt([x.grad])))
    return log


@pytest.mark.parametrize("case", ["tuple_output", "unused"])
def test_full_backward_hooks_multi_io_match_torch(case):
    # non-tensor args are None in grad_input; tensor inputs without a gradient are zeros
    assert _multi_io_hook_log(chainrule, case) == _multi_io_hook_log(torch, case)
