"""Optimizers against PyTorch: 30-step trajectories, state_dict layout and round trips, errors."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import raises_like

import chainrule

STEPS = 30


def _init(seed=0):
    rng = np.random.default_rng(seed)
    return [
        rng.standard_normal((4, 3)).astype(np.float32),
        rng.standard_normal((3, 5)).astype(np.float32).T,  # non-contiguous storage
        rng.standard_normal(()).astype(np.float32),  # 0-d
        rng.standard_normal((0, 2)).astype(np.float32),  # empty
    ]


def _grad(x, k):
    """A deterministic nonlinear 'gradient' of the current values (the same for both libs)."""
    return (np.sin(3 * x) + 0.5 * x - 0.1 * (k + 1)).astype(np.float32)


def _pair(arrays):
    cs, ts = [], []
    for a in arrays:
        # copy, keeping a transposed layout transposed (updates must work on strided storage)
        c = chainrule.from_numpy(a.copy() if a.flags.c_contiguous else np.ascontiguousarray(a.T).T)
        c.requires_grad_(True)
        cs.append(c)
        ts.append(torch.tensor(a, requires_grad=True))
    return cs, ts


def _set_grads(cs, ts, k):
    for c, t in zip(cs, ts):
        g = _grad(t.detach().numpy(), k)
        c.grad = chainrule.tensor(g)
        t.grad = torch.tensor(g)


def _optimizers(name, cs, ts, kw):
    """The same optimizer over chainrule's and PyTorch's parameters."""
    return getattr(chainrule.optim, name)(cs, **kw), getattr(torch.optim, name)(ts, **kw)


def _step_both(copt, topt, cs, ts, steps):
    """Step k's gradients set on both sides, then both optimizers stepped, for k in steps."""
    for k in steps:
        _set_grads(cs, ts, k)
        copt.step()
        topt.step()


def _compare(cs, ts, what):
    for i, (c, t) in enumerate(zip(cs, ts)):
        np.testing.assert_allclose(
            c.detach().numpy(), t.detach().numpy(), rtol=2e-5, atol=2e-6, err_msg=f"{what} p{i}"
        )


def _compare_state(csd, tsd):
    assert csd["param_groups"] == [
        {k: v for k, v in g.items()} for g in tsd["param_groups"]
    ]
    assert csd["state"].keys() == tsd["state"].keys()
    for k in tsd["state"]:
        assert list(csd["state"][k]) == list(tsd["state"][k]), k
        for name, tv in tsd["state"][k].items():
            cv = csd["state"][k][name]
            assert str(cv.dtype) == str(tv.dtype) and tuple(cv.shape) == tuple(tv.shape)
            np.testing.assert_allclose(cv.numpy(), tv.numpy(), rtol=2e-5, atol=2e-6)


CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.02, "momentum": 0.5, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "maximize": True}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.6), "eps": 1e-3}),  # lerp's other branch
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.3, "amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.05}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.3, "centered": True, "momentum": 0.5, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-4, "maximize": True}),
]


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory_and_state_dict_round_trip(name, kw):
    cs, ts = _pair(_init())
    copt, topt = _optimizers(name, cs, ts, kw)
    _compare_state(copt.state_dict(), topt.state_dict())
    for k in range(STEPS):
        _step_both(copt, topt, cs, ts, [k])
        _compare(cs, ts, f"step {k}")
        if k == STEPS // 2:
            _compare_state(copt.state_dict(), topt.state_dict())
            # resume mid-run in a fresh optimizer over fresh parameters holding the same values
            cs = [chainrule.tensor(c.detach().numpy(), requires_grad=True) for c in cs]
            fresh = getattr(chainrule.optim, name)(cs, lr=123.0)
            fresh.load_state_dict(copt.state_dict())
            copt = fresh
    _compare_state(copt.state_dict(), topt.state_dict())
    assert repr(copt) == repr(topt)


def test_param_groups_lr_and_skipped_params():
    cs, ts = _pair(_init()[:3])
    copt = chainrule.optim.SGD([{"params": cs[:2]}, {"params": cs[2], "lr": 0.5}], lr=0.1,
                               momentum=0.9)
    topt = torch.optim.SGD([{"params": ts[:2]}, {"params": ts[2], "lr": 0.5}], lr=0.1,
                           momentum=0.9)
    for k in range(20):
        _set_grads(cs[1:], ts[1:], k)  # p0 never gets a gradient: skipped, no state
        copt.step()
        topt.step()
        _compare(cs, ts, f"step {k}")
    _compare_state(copt.state_dict(), topt.state_dict())
    assert 0 not in copt.state_dict()["state"]


def test_closure_with_autograd_and_version_counter():
    w = chainrule.tensor([1.0, -2.0, 3.0], requires_grad=True)
    tw = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    copt, topt = chainrule.optim.Adam([w], lr=0.1), torch.optim.Adam([tw], lr=0.1)

    def closure(opt, x):
        def f():
            opt.zero_grad()
            loss = (x * x * x).sum()
            loss.backward()
            return loss
        return f

    v0 = w._version_counter
    for _ in range(25):
        cl = copt.step(closure(copt, w))
        tl = topt.step(closure(topt, tw))
        assert abs(cl.item() - tl.item()) <= 1e-4 * max(1.0, abs(tl.item()))
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert w._version_counter == v0 + 25
    assert w.is_leaf and w.requires_grad


def test_update_is_in_place_on_storage():
    base = np.ones(6, dtype=np.float32)
    p = chainrule.from_numpy(base[::2]).requires_grad_()
    p.grad = chainrule.ones(3)
    chainrule.optim.SGD([p], lr=0.5).step()
    np.testing.assert_array_equal(base, [0.5, 1, 0.5, 1, 0.5, 1])


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    p = chainrule.tensor([1.0, 2.0], requires_grad=True)
    tp = torch.tensor([1.0, 2.0], requires_grad=True)
    for x in (p, tp):
        (x * x).sum().backward()
    chainrule.optim.SGD([p]).zero_grad(set_to_none)
    torch.optim.SGD([tp]).zero_grad(set_to_none)
    if set_to_none:
        assert p.grad is None and tp.grad is None
    else:
        assert p.grad.tolist() == tp.grad.tolist() == [0.0, 0.0]
        assert not p.grad.requires_grad


def test_named_parameters_in_state_dict():
    cs, ts = _pair(_init()[:2])
    copt = chainrule.optim.SGD([("a", cs[0]), ("b", cs[1])], lr=0.1)
    topt = torch.optim.SGD([("a", ts[0]), ("b", ts[1])], lr=0.1)
    assert copt.state_dict() == topt.state_dict()


def _p(lib):
    return lib.tensor([1.0], requires_grad=True)


@pytest.mark.parametrize("make", [
    lambda L, p: L.optim.SGD(p, lr=0.1),
    lambda L, p: L.optim.SGD([], lr=0.1),
    lambda L, p: L.optim.SGD([1.0], lr=0.1),
    lambda L, p: L.optim.SGD([p * 2], lr=0.1),
    lambda L, p: L.optim.SGD([p], lr=-1),
    lambda L, p: L.optim.SGD([p], lr=0.1, momentum=-0.5),
    lambda L, p: L.optim.SGD([p], lr=0.1, weight_decay=-1e-3),
    lambda L, p: L.optim.SGD([p], lr=0.1, nesterov=True),
    lambda L, p: L.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1),
    lambda L, p: L.optim.SGD([{"params": {p}}], lr=0.1),
    lambda L, p: L.optim.SGD([("a", p)], lr=0.1).add_param_group({"params": [_p(L)]}),
    lambda L, p: L.optim.SGD([p]).add_param_group([p]),
    lambda L, p: L.optim.Adam([p], betas=(0, 0.9)),
    lambda L, p: L.optim.Adam([p], betas=(1.0, 0.9)),
    lambda L, p: L.optim.Adam([p], betas=(0.9, -0.1)),
    lambda L, p: L.optim.Adam([p], eps=-1.0),
    lambda L, p: L.optim.AdamW([p], weight_decay=-1.0),
    lambda L, p: L.optim.RMSprop([p], alpha=-1.0),
    lambda L, p: L.optim.RMSprop([p], momentum=-1.0),
    lambda L, p: L.optim.Adagrad([p], lr_decay=-1.0),
    lambda L, p: L.optim.Adagrad([p], initial_accumulator_value=-1.0),
    lambda L, p: L.optim.SGD([p]).load_state_dict(
        {"state": {}, "param_groups": [{"params": [0]}, {"params": [1]}]}),
    lambda L, p: L.optim.SGD([p]).load_state_dict({"state": {}, "param_groups": [{"params": []}]}),
])
def test_errors_match_torch(make):
    with pytest.raises(Exception) as et:
        make(torch, _p(torch))
    raises_like(type(et.value), lambda: make(chainrule, _p(chainrule)), lambda: make(torch, _p(torch)))


def test_required_lr_in_custom_optimizer():
    from chainrule.optim.optimizer import Optimizer, required

    class MyOpt(Optimizer):
        def __init__(self, params, lr=required):
            super().__init__(params, {"lr": lr})

    with pytest.raises(ValueError, match="required optimization parameter lr"):
        MyOpt([_p(chainrule)])
    assert repr(required) == "<required parameter>"


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3), seed=st.integers(0, 2**16),
       name=st.sampled_from(["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]))
def test_any_shape_five_steps(shape, seed, name):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    cs, ts = _pair([a])
    kw = {"lr": 0.05, "momentum": 0.5} if name == "SGD" else {"lr": 0.05}
    copt, topt = _optimizers(name, cs, ts, kw)
    _step_both(copt, topt, cs, ts, range(5))
    _compare(cs, ts, "after 5 steps")
    _compare_state(copt.state_dict(), topt.state_dict())


def _hook_log(lib):
    p = lib.tensor([1.0, 2.0], requires_grad=True)
    p.grad = lib.tensor([1.0, 1.0])
    lib.optim.SGD([p])  # PyTorch hooks a class's step when its first instance is made

    class Sub(lib.optim.SGD):
        def step(self, closure=None):
            return super().step(closure)

    opt = Sub([p], lr=0.5)
    log = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: log.append(("pre", len(a), sorted(k))))
    opt.register_step_post_hook(lambda o, a, k: log.append(("post", a[0] is o, sorted(k))))
    opt.step()
    h1.remove()
    opt.step(closure=None)
    opt.register_step_pre_hook(lambda o, a, k: (a[:1], {"closure": lambda: 7.0}))
    loss = opt.step()
    return log, p.tolist(), loss


def test_step_hooks():
    assert _hook_log(chainrule) == _hook_log(torch)


ADAM_FLAT = [
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "maximize": True}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.6), "eps": 1e-3}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.3, "amsgrad": True}),
]


def _loop_and_flat(name, kw, steps):
    """The same steps by the per-parameter loop (foreach=False) and by the flat path, the
    parameters compared bit for bit after each; returns both optimizers and their params."""
    loop_ps, flat_ps = (_pair(_init())[0] for _ in range(2))
    loop = getattr(chainrule.optim, name)(loop_ps, foreach=False, **kw)
    flat = getattr(chainrule.optim, name)(flat_ps, **kw)
    for k in range(steps):
        for a, b in zip(loop_ps, flat_ps):
            g = _grad(a.detach().numpy(), k)
            a.grad, b.grad = chainrule.tensor(g), chainrule.tensor(g)
        loop.step()
        flat.step()
        for a, b in zip(loop_ps, flat_ps):
            assert a.detach().numpy().tobytes() == b.detach().numpy().tobytes()
    return loop, flat, loop_ps, flat_ps


@pytest.mark.parametrize("name,kw", ADAM_FLAT, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ADAM_FLAT)])
def test_adam_flat_update_is_the_loop_bit_for_bit(name, kw):
    """A group whose parameters all have gradients updates as passes over flat buffers; it
    must give the per-parameter loop's (foreach=False) bits, parameters and state alike."""
    loop, flat, loop_ps, flat_ps = _loop_and_flat(name, kw, 6)
    assert flat._flats and not getattr(loop, "_flats", None)  # each ran the path it names
    for a, b in zip(loop_ps, flat_ps):
        sa, sb = loop.state[a], flat.state[b]
        assert list(sa) == list(sb)
        for key in sa:
            assert sa[key].numpy().tobytes() == sb[key].numpy().tobytes(), key


def _contiguous(seed=0):
    """Parameters whose arrays nothing else holds: the flat path moves them onto its buffer."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in ((4, 3), (5,), (), (3, 5))]


@pytest.mark.parametrize("name,kw", ADAM_FLAT, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ADAM_FLAT)])
def test_adam_updates_parameters_on_its_flat_buffer_bit_for_bit(name, kw):
    """Parameters that only their Tensors hold move onto the group's flat buffer and are
    updated there in place: the per-parameter loop's bits, as PyTorch's values."""
    loop_ps, flat_ps = (_pair(_contiguous())[0] for _ in range(2))
    cs, ts = _pair(_contiguous())
    loop = getattr(chainrule.optim, name)(loop_ps, foreach=False, **kw)
    flat = getattr(chainrule.optim, name)(flat_ps, **kw)
    copt, topt = _optimizers(name, cs, ts, kw)
    for k in range(6):
        for a, b in zip(loop_ps, flat_ps):
            a.grad = chainrule.tensor(_grad(a.detach().numpy(), k))
            b.grad = chainrule.tensor(_grad(b.detach().numpy(), k))
        loop.step()
        flat.step()
        _step_both(copt, topt, cs, ts, [k])
        for a, b in zip(loop_ps, flat_ps):
            assert a.detach().numpy().tobytes() == b.detach().numpy().tobytes()
    (fs,) = flat._flats.values()
    assert fs.params_flat()  # it ran on the parameters' own buffer
    assert all(p._version[0] == 6 for p in flat_ps)  # one in-place update a step each
    _compare(cs, ts, "after six steps")


def test_parameters_others_hold_stay_where_they_are():
    """An array or a view of a parameter taken before the first step keeps seeing its
    updates (as in PyTorch, where the optimizer never moves a parameter's storage); a
    parameter replaced after the move is still updated; a deep copy steps on its own."""
    import copy

    cs, ts = _pair(_contiguous())
    held = cs[0].detach().numpy()  # shares the parameter's memory
    view = cs[3][1]
    copt, topt = _optimizers("AdamW", cs, ts, {"lr": 0.05, "weight_decay": 0.1})
    _step_both(copt, topt, cs, ts, range(3))
    (fs,) = copt._flats.values()
    assert not fs.params_flat()
    np.testing.assert_array_equal(held, cs[0].detach().numpy())
    np.testing.assert_array_equal(view.detach().numpy(), cs[3].detach().numpy()[1])
    _compare(cs, ts, "held")

    cs, ts = _pair(_contiguous(1))
    copt, topt = _optimizers("AdamW", cs, ts, {"lr": 0.05, "weight_decay": 0.1})
    _step_both(copt, topt, cs, ts, range(2))
    (fs,) = copt._flats.values()
    assert fs.params_flat()
    (cs2, copt2), (ts2, topt2) = copy.deepcopy((cs, copt)), copy.deepcopy((ts, topt))
    with chainrule.no_grad():
        cs[1].data = chainrule.ones(5)
    with torch.no_grad():
        ts[1].data = torch.ones(5)
    _step_both(copt, topt, cs, ts, range(2, 5))
    _compare(cs, ts, "after a replacement")
    _step_both(copt2, topt2, cs2, ts2, range(2, 5))
    _compare(cs2, ts2, "the deep copy")


def test_adam_flat_state_follows_torch_through_skips_and_replacement():
    """Steps where one parameter has no gradient (per-parameter step counts diverge), a
    state tensor replaced by hand, and a state tensor held across steps: as PyTorch."""
    cs, ts = _pair(_init()[:3])
    copt = chainrule.optim.AdamW(cs, lr=0.05, weight_decay=0.1)
    topt = torch.optim.AdamW(ts, lr=0.05, weight_decay=0.1)
    held_c = held_t = None
    for k in range(12):
        n = 2 if 5 <= k < 8 else 3  # p2 gets no gradient on steps 5-7
        _set_grads(cs[:n], ts[:n], k)
        if n == 2:
            cs[2].grad = ts[2].grad = None
        copt.step()
        topt.step()
        _compare(cs, ts, f"step {k}")
        if k == 0:
            held_c, held_t = copt.state[cs[0]]["exp_avg"], topt.state[ts[0]]["exp_avg"]
        if k == 2:  # a user replaces a state tensor (the flat path then adopts it)
            assert copt._flats
            copt.state[cs[1]]["exp_avg_sq"] = chainrule.ones(cs[1].shape)
            topt.state[ts[1]]["exp_avg_sq"] = torch.ones(ts[1].shape)
    _compare_state(copt.state_dict(), topt.state_dict())
    np.testing.assert_allclose(held_c.numpy(), held_t.numpy(), rtol=2e-5, atol=2e-6)
    assert copt.state[cs[0]]["step"].item() == 12 and copt.state[cs[2]]["step"].item() == 9


def test_adam_flat_update_of_a_large_group_keeps_no_scratch(monkeypatch):
    """A group above the scratch limit makes its flat scratch anew each step (no resident copy
    of a big model's size); the update is the loop's, bit for bit."""
    from chainrule.optim import optimizer as O

    monkeypatch.setattr(O, "_SCRATCH_MAX", 0)
    _, flat, _, _ = _loop_and_flat("AdamW", {"lr": 0.01}, 4)
    (fs,) = flat._flats.values()
    assert fs.kept == {}


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_deepcopied_optimizer_steps_like_the_original(name):
    """A deep copy steps as the original does, from the copied state, and leaves the original
    alone, as in PyTorch. (A copy used to miss its step-hook registries.)"""
    import copy

    kw = {"lr": 0.05, "momentum": 0.9} if name == "SGD" else {"lr": 0.05}
    cs, ts = _pair(_init()[:2])
    copt, topt = _optimizers(name, cs, ts, kw)
    _step_both(copt, topt, cs, ts, range(3))
    (cs2, copt2), (ts2, topt2) = copy.deepcopy((cs, copt)), copy.deepcopy((ts, topt))
    _step_both(copt2, topt2, cs2, ts2, range(3, 6))
    _compare(cs2, ts2, "after the copy")
    _compare(cs, ts, "the original, untouched")
    _compare_state(copt2.state_dict(), topt2.state_dict())
