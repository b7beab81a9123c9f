"""LR schedulers against PyTorch: 25-step trajectories, momentum cycling, state round trips."""
import math
import warnings

import pytest
import torch
from oracle import raises_like

import chainrule

STEPS = 25


def _flat(lrs):
    return [x for row in lrs for x in row]


def _opts(lib, opt="SGD", **kw):
    a = lib.zeros(2, requires_grad=True)
    b = lib.zeros(3, requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.05}]
    if opt == "SGD":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9, **kw)
    return getattr(lib.optim, opt)(groups, lr=0.1, **kw)


def _sched(lib, opt, spec):
    name, kw = spec
    S = lib.optim.lr_scheduler
    if name == "LambdaLR":
        return S.LambdaLR(opt, [lambda e: 0.95**e, lambda e: 1 / (e + 1)])
    if name == "MultiplicativeLR":
        return S.MultiplicativeLR(opt, lambda e: 0.9)
    if name == "Chained":
        return S.ChainedScheduler([S.StepLR(opt, 3, 0.5), S.ExponentialLR(opt, 0.97)])
    if name == "Sequential":
        return S.SequentialLR(opt, [S.LinearLR(opt, 0.2, total_iters=4),
                                    S.CosineAnnealingLR(opt, T_max=10)], milestones=[5])
    return getattr(S, name)(opt, **kw)


SPECS = [
    ("StepLR", {"step_size": 4, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [3, 7, 7, 15], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 8, "eta_min": 1e-3}),  # passes T_max: restarts upward
    ("LinearLR", {"start_factor": 0.25, "end_factor": 0.9, "total_iters": 10}),
    ("ConstantLR", {"factor": 0.5, "total_iters": 4}),
    ("PolynomialLR", {"total_iters": 12, "power": 2.0}),
    ("LambdaLR", {}),
    ("MultiplicativeLR", {}),
    ("OneCycleLR", {"max_lr": [1.0, 0.5], "total_steps": STEPS}),
    ("OneCycleLR", {"max_lr": 0.8, "total_steps": STEPS + 5, "anneal_strategy": "linear",
                        "three_phase": True, "pct_start": 0.25}),
    ("Chained", {}),
    ("Sequential", {}),
]


def _run(lib, spec, opt_name="SGD", resume_at=None):
    opt = _opts(lib, opt_name)
    sched = _sched(lib, opt, spec)
    lrs = [sched.get_last_lr()]
    moms = []
    for k in range(STEPS):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
        g = opt.param_groups[0]
        moms.append(g["betas"][0] if "betas" in g else g["momentum"])
        if resume_at == k:  # a fresh scheduler takes over from the saved state
            sd = sched.state_dict()
            sched = _sched(lib, opt, spec)
            sched.load_state_dict(sd)
    return lrs, moms


@pytest.mark.parametrize("spec", SPECS, ids=[f"{s[0]}-{i}" for i, s in enumerate(SPECS)])
def test_trajectory_matches_torch(spec):
    c_lrs, c_moms = _run(chainrule, spec)
    t_lrs, t_moms = _run(torch, spec)
    assert _flat(c_lrs) == pytest.approx(_flat(t_lrs), rel=1e-12, abs=1e-15)
    assert c_moms == pytest.approx(t_moms, rel=1e-12)


@pytest.mark.parametrize("spec", [SPECS[0], SPECS[3], SPECS[9]], ids=lambda s: s[0])
def test_state_dict_resume(spec):
    assert _run(chainrule, spec, resume_at=10) == _run(torch, spec)


def test_one_cycle_cycles_adam_beta1():
    spec = ("OneCycleLR", {"max_lr": 0.3, "epochs": 5, "steps_per_epoch": 5, "base_momentum": 0.8})
    c, t = _run(chainrule, spec, "Adam"), _run(torch, spec, "Adam")
    assert _flat(c[0]) == pytest.approx(_flat(t[0]), rel=1e-12)
    assert c[1] == pytest.approx(t[1], rel=1e-12)
    assert min(c[1]) == pytest.approx(0.8, abs=1e-3) and max(c[1]) == pytest.approx(0.95)


def test_one_cycle_past_the_end():
    raises_like(ValueError, lambda: _run(chainrule, ("OneCycleLR", {"max_lr": 1.0, "total_steps": 10})),
                lambda: _run(torch, ("OneCycleLR", {"max_lr": 1.0, "total_steps": 10})))


def test_step_with_epoch_uses_closed_form():
    res = []
    for lib in (chainrule, torch):
        opt = _opts(lib)
        s = lib.optim.lr_scheduler.StepLR(opt, 3, gamma=0.5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opt.step()
            s.step(7)
        res.append(s.get_last_lr())
    assert res[0] == res[1]


@pytest.mark.parametrize("kw", [
    {},
    {"mode": "max", "factor": 0.5, "patience": 2, "threshold": 0.05, "cooldown": 2, "min_lr": [0.02, 0.0]},
    {"mode": "min", "threshold_mode": "abs", "threshold": 0.1, "patience": 1, "eps": 1e-3},
    {"mode": "max", "threshold_mode": "abs", "patience": 0, "factor": 0.3, "min_lr": 0.01},
])
def test_reduce_lr_on_plateau(kw):
    metrics = [1.0, 0.9, 0.95, 0.97, 0.96, 0.98, 0.5, 0.55, 0.56, 0.57, 0.58, 0.59, 0.6] * 3
    out = []
    for lib in (chainrule, torch):
        opt = _opts(lib)
        s = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
        trace = []
        for i, m in enumerate(metrics):
            opt.step()
            s.step(m)
            trace.append((s.get_last_lr(), s.num_bad_epochs, s.cooldown_counter, s.best))
            if i == 17:
                sd = s.state_dict()
                s = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
                s.load_state_dict(sd)
        out.append(trace)
    assert out[0] == out[1]


def test_warns_when_stepped_before_optimizer():
    opt = _opts(chainrule)
    s = chainrule.optim.lr_scheduler.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()


@pytest.mark.parametrize("make", [
    lambda L, o: L.optim.lr_scheduler.StepLR(object(), 2),
    lambda L, o: L.optim.lr_scheduler.StepLR(o, 2, last_epoch=3),
    lambda L, o: L.optim.lr_scheduler.LinearLR(o, start_factor=0),
    lambda L, o: L.optim.lr_scheduler.LinearLR(o, end_factor=2),
    lambda L, o: L.optim.lr_scheduler.ConstantLR(o, factor=2),
    lambda L, o: L.optim.lr_scheduler.LambdaLR(o, [lambda e: 1.0]),
    lambda L, o: L.optim.lr_scheduler.OneCycleLR(o, 1.0),
    lambda L, o: L.optim.lr_scheduler.OneCycleLR(o, 1.0, total_steps=0),
    lambda L, o: L.optim.lr_scheduler.OneCycleLR(o, 1.0, 10, pct_start=2.0),
    lambda L, o: L.optim.lr_scheduler.OneCycleLR(o, 1.0, 10, anneal_strategy="tri"),
    lambda L, o: L.optim.lr_scheduler.OneCycleLR(o, [1.0], 10),
    lambda L, o: L.optim.lr_scheduler.ReduceLROnPlateau(o, factor=1.0),
    lambda L, o: L.optim.lr_scheduler.ReduceLROnPlateau(o, mode="avg"),
    lambda L, o: L.optim.lr_scheduler.ReduceLROnPlateau(o, threshold_mode="x"),
    lambda L, o: L.optim.lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]),
])
def test_errors_match_torch(make):
    with pytest.raises(Exception) as et:
        make(torch, _opts(torch))
    raises_like(type(et.value), lambda: make(chainrule, _opts(chainrule)),
                lambda: make(torch, _opts(torch)))


def test_cosine_closed_form_values():
    opt = _opts(chainrule)
    s = chainrule.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    for e in range(1, 11):
        opt.step()
        s.step()
        assert s.get_last_lr()[0] == pytest.approx(0.1 * (1 + math.cos(math.pi * e / 10)) / 2)
