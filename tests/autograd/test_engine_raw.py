"""The engine's array ("raw") mode and the lean recording path, each checked against PyTorch.

Without create_graph the engine passes plain arrays between nodes and runs ``array_backward``
rules on them (0-d values as NumPy scalars); these tests pin what users can observe of that:
gradients, their dtypes and storage, hooks, anomaly errors, retained graphs and version
counters all behave as PyTorch's do.
"""
import gc

import numpy as np
import pytest
import torch
from oracle import raises_like

import chainrule
from chainrule.autograd import graph


def both(fn):
    """fn(lib) run with chainrule and with torch."""
    return fn(chainrule), fn(torch)


def _chain(lib, n=50):
    w = lib.tensor(0.5, requires_grad=True)
    c = lib.tensor(0.1)
    x = w
    for _ in range(n):
        x = (x * c + w).tanh() / (1.5 - x)
    x.backward()
    return w


def test_scalar_chain_gradient_matches_torch_and_is_an_array():
    cw, tw = both(_chain)
    assert cw.grad.dtype == chainrule.float32
    assert isinstance(cw.grad._data, np.ndarray) and cw.grad._data.shape == ()
    np.testing.assert_allclose(cw.grad.item(), tw.grad.item(), rtol=1e-5)
    cw.grad.zero_()  # a real, writable tensor (PyTorch's grad is)
    assert cw.grad.item() == 0


def test_float64_scalar_chain_matches_finite_differences():
    def f(v):
        w = chainrule.tensor(v, dtype=chainrule.float64, requires_grad=True)
        x = w
        for _ in range(20):
            x = (x * 0.3 + w).tanh() - x / 7
        return w, x

    w, x = f(0.4)
    x.backward()
    h = 1e-6
    fd = (f(0.4 + h)[1].item() - f(0.4 - h)[1].item()) / (2 * h)
    assert w.grad.dtype == chainrule.float64
    np.testing.assert_allclose(w.grad.item(), fd, rtol=1e-7)


def test_shared_gradient_is_not_written_through():
    # Add hands the same upstream array to both operands; accumulating one of them in place
    # must not change the other (nor the caller's gradient).
    def run(lib):
        a = lib.ones(3, requires_grad=True)
        b = lib.ones(3, requires_grad=True)
        y = a + b
        z = y * 2 + a + b + a
        g = lib.full((3,), 1.5)
        z.backward(g)
        return a.grad, b.grad, g

    (ca, cb, cg), (ta, tb, tg) = both(run)
    for c, t in ((ca, ta), (cb, tb), (cg, tg)):
        np.testing.assert_array_equal(c.numpy(), t.numpy())


def test_leaf_gradient_is_private_storage():
    a = chainrule.ones(3, requires_grad=True)
    up = chainrule.full((3,), 2.0)
    (a * 1.0).backward(up)
    a.grad.add_(1)
    assert up.tolist() == [2.0, 2.0, 2.0]


def test_hooks_see_tensors_in_raw_mode():
    seen = []

    def run(lib):
        w = lib.tensor([0.5, -1.0], requires_grad=True)
        y = w * 3
        y.register_hook(lambda g: seen.append(type(g).__name__) or g * 2)
        y.grad_fn.register_hook(lambda gi, go: seen.append(type(gi[0]).__name__))
        z = (y.tanh() + w).sum()
        z.backward()
        return w.grad

    c, t = both(run)
    np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-6)
    assert seen == ["Tensor", "Tensor"] * 2


def test_anomaly_mode_catches_nan_from_an_array_rule():
    def run(lib):
        a = lib.tensor(0.0, requires_grad=True)
        b = lib.tensor(0.0, requires_grad=True)
        with lib.autograd.detect_anomaly():
            (a / b).backward()

    with pytest.warns(UserWarning):
        raises_like(RuntimeError, lambda: run(chainrule), lambda: run(torch), match="DivBackward0")


def test_retained_graph_runs_twice_with_array_rules():
    def run(lib):
        w = lib.tensor([0.3, 0.7], requires_grad=True)
        y = ((w * w).tanh() / (w + 1)).sum()
        y.backward(retain_graph=True)
        y.backward()
        (g,) = lib.autograd.grad((w * w).tanh().sum(), w, create_graph=True)
        g.sum().backward()
        return w.grad

    c, t = both(run)
    np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-6)


def test_version_counter_made_on_first_use_is_shared():
    def run(lib):
        # chainrule's _version is the shared counter itself; its count is _version_counter
        count = (lambda t: t._version_counter) if lib is chainrule else (lambda t: t._version)
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        d = y.detach()
        v = y[0:1]
        before = count(y)
        d.add_(1)
        v.mul_(2)
        return before, count(y), count(d), count(v)

    c, t = both(run)
    assert c == t == (0, 2, 2, 2)


def test_modified_saved_tensor_without_a_counter_yet_is_caught():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = y * y  # saves y while its counter is untouched
        y.add_(1)
        z.sum().backward()

    raises_like(RuntimeError, lambda: run(chainrule), lambda: run(torch), match="inplace")


def test_modified_tanh_output_is_caught():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.tanh()  # saves its output
        y.mul_(2)
        y.sum().backward()

    raises_like(RuntimeError, lambda: run(chainrule), lambda: run(torch), match="inplace")


def test_recorded_op_keeps_few_objects():
    # The cyclic GC's work grows with the objects a graph keeps: a recorded mul keeps its
    # node, the edge list, its result and the saved pair, nothing per operand.
    w = chainrule.tensor(0.5, requires_grad=True)
    c = chainrule.tensor(0.1)
    x = w * c
    keep = []
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        before = gc.get_count()[0]
        for _ in range(200):
            keep.append(x * c)
        per_op = (gc.get_count()[0] - before) / 200
    finally:
        if was:
            gc.enable()
    assert per_op <= 4.1


def test_meta_cache_is_bounded():
    for n in range(1, 5000):
        chainrule.ones(n, requires_grad=True) * 2
    assert len(graph._metas) <= 4097


@pytest.mark.parametrize("how", ["view", "detach", "data_then_view"])
def test_saved_output_modified_through_a_sharer_is_caught(how):
    # tanh watches its output's version counter, which is only made when something first
    # shares or modifies the output: every way of reaching that storage must still count.
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        if how == "view":
            y[0:1].mul_(2)
        elif how == "detach":
            y.detach().mul_(2)
        else:
            d = y.detach()
            d[1:].add_(1)
        y.sum().backward()

    raises_like(RuntimeError, lambda: run(chainrule), lambda: run(torch), match="inplace")


def test_unmodified_saved_output_with_a_shared_counter_is_fine():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.tanh()
        v = y.detach()  # shares the counter, modifies nothing
        y.sum().backward()
        return x.grad, v

    (c, _), (t, _) = both(run)
    np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-6)


def test_saving_beside_a_modified_weight_makes_no_counter_and_still_catches_edits():
    # After an optimizer step a weight is at version 1; recording the next linear saves its
    # input too. Only the weight's version is noted: the input gets no counter of its own
    # (it would have made every saved activation watch its producer), and editing that
    # input in place is still caught, as in PyTorch.
    def run(lib, edit):
        lin = lib.nn.Linear(3, 2)
        with lib.no_grad():
            lin.weight.copy_(lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]]))
            lin.weight.add_(1)
        x = lib.tensor([[1.0, -2.0, 3.0]], requires_grad=True)
        h = x.relu()
        out = lin(h)
        fresh = lib is not chainrule or h._vbox is None
        if edit:
            h.mul_(2)
        out.sum().backward()
        return fresh, x.grad

    (fresh, cg), (_, tg) = both(lambda lib: run(lib, False))
    assert fresh
    np.testing.assert_allclose(cg.numpy(), tg.numpy(), rtol=1e-6)
    raises_like(RuntimeError, lambda: run(chainrule, True), lambda: run(torch, True),
                match="inplace")


def test_weight_modified_after_recording_is_caught():
    def run(lib):
        lin = lib.nn.Linear(3, 2)
        with lib.no_grad():
            lin.weight.add_(1)  # version 1 when saved ...
        out = lin(lib.ones(1, 3, requires_grad=True))
        with lib.no_grad():
            lin.weight.add_(1)  # ... 2 at backward
        out.sum().backward()

    raises_like(RuntimeError, lambda: run(chainrule), lambda: run(torch), match="inplace")


def test_scalar_gradient_fitting():
    # A rule's NumPy-scalar gradient is matched to its operand's meta by identity with the
    # interned 0-d metas; any other meta (made elsewhere, or another dtype) is checked in full.
    from chainrule.autograd import engine

    f32 = np.dtype(np.float32)
    assert graph.SCALAR_METAS[np.float32] is graph._metas[((), f32)]
    g = engine._fit_scalar(np.float64(1.5), ((), f32))
    assert g == 1.5 and g.dtype == f32
    with pytest.raises(RuntimeError, match="0-d gradient"):
        engine._fit_scalar(np.float32(1.5), ((2,), f32))
    for n in range(4100):  # past the cache's bound, which clears it: 0-d metas stay interned
        graph._intern_meta(((n + 10,), f32))
    assert graph._metas[((), f32)] is graph.SCALAR_METAS[np.float32]
    cw, tw = both(_chain)
    np.testing.assert_allclose(cw.grad.item(), tw.grad.item(), rtol=1e-5)


@pytest.mark.parametrize("kind", ["pointwise", "linear"])
def test_hooks_added_after_recording_leave_the_quick_path(kind):
    # A node recorded as plain (run inline by the engine) that later gets a hook must run
    # it: what the hooks see and change matches PyTorch.
    def run(lib):
        x = lib.tensor([[1.0, -2.0, 3.0]], requires_grad=True)
        if kind == "pointwise":
            y = x * 3
        else:
            w = lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], requires_grad=True)
            y = lib.nn.functional.linear(x, w, lib.tensor([0.1, 0.2]))
        seen = []
        y.grad_fn.register_prehook(lambda gs: seen.append(gs[0].sum().item()))
        y.grad_fn.register_hook(lambda gi, go: tuple(None if t is None else t * 2 for t in gi))
        (y * y).sum().backward()
        return seen, x.grad

    (cs, cg), (ts, tg) = both(run)
    np.testing.assert_allclose(cs, ts, rtol=1e-6)
    np.testing.assert_allclose(cg.numpy(), tg.numpy(), rtol=1e-6)


@pytest.mark.parametrize("hook, err", [
    (lambda gi, go: (gi[0],), RuntimeError),  # wrong count
    (lambda gi, go: [gi[0], gi[1]], TypeError),  # not a tuple
    (lambda gi, go: (gi[0], gi[0]), RuntimeError),  # a None replaced by a gradient
    (lambda gi, go: (np.ones(2, np.float32), None), TypeError),  # not a tensor
    (lambda gi, go: (gi[0][:1], None), RuntimeError),  # another size
])
def test_post_hook_results_are_checked_as_in_torch(hook, err):
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3  # two inputs, the second a constant: grad_inputs (gx, None)
        y.grad_fn.register_hook(hook)
        y.sum().backward()

    raises_like(err, lambda: run(chainrule), lambda: run(torch))


def test_post_hook_may_drop_a_gradient():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        y = x * w
        y.grad_fn.register_hook(lambda gi, go: (gi[0] * 2, None))
        y.sum().backward()
        return x.grad, w.grad

    (cx, cw), (tx, tw) = both(run)
    np.testing.assert_allclose(cx.numpy(), tx.numpy())
    assert cw is None and tw is None


def test_no_view_op_saves_its_output():
    # _mark_view gives a view result its base's version box without asking whether the
    # result's node watches its output: that holds because no view op saves its output.
    from chainrule.ops._core import Op

    def subclasses(c):
        for s in c.__subclasses__():
            yield s
            yield from subclasses(s)

    ops = list(subclasses(Op))
    assert any(op.is_view for op in ops)
    assert [op.__name__ for op in ops if op.is_view and op.saves_output] == []


def test_views_share_the_version_box_and_keep_their_chain_like_torch():
    # in-place through a chain of views (reshape, transpose, slice) after recording: PyTorch
    # rebases the root's history (CopySlices) and catches a saved tensor edited in place
    grads = []
    for L in (chainrule, torch):
        base = L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        root = base * 1
        v = root.reshape(3, 2).transpose(0, 1)[:, 1:]
        v.mul_(10)
        (root * root).sum().backward()
        grads.append((base.grad.tolist(), root.tolist()))
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = y.reshape(2, 1).tanh()
        y.reshape(2, 1).add_(1)  # a second view of y, edited: z's input is unaffected
        z.sum().backward()
        w = L.tensor([1.0, 2.0], requires_grad=True)
        s = (w * 1).reshape(2, 1)
        t = s * s
        s.transpose(0, 1).add_(1)  # a view of s shares its version box: t's saved s is stale
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            t.sum().backward()
    assert grads[0] == grads[1]


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_rules_on_arrays_give_the_same_gradients_when_the_explainer_watches(approximate):
    # Rules run on arrays in a plain backward (array_backward) and on Tensors while an
    # observer (the explainer) watches: both paths must give PyTorch's gradients.
    from chainrule.autograd import engine

    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    mask = np.triu(np.ones((4, 4), bool), 1)

    def f(L, t):
        F = L.nn.functional
        h = F.layer_norm(t, (4,), L.ones(4) * 1.5, L.ones(4) * 0.1)
        a = (h.reshape(2, 3, 4, 1) @ h.reshape(2, 3, 1, 4)).transpose(-2, -1)
        a = a.masked_fill(L.tensor(mask), float("-inf")).softmax(-1)
        return F.gelu(a.reshape(2, 12, 4), approximate=approximate).log_softmax(-1).sum()

    tt = torch.tensor(x, requires_grad=True)
    f(torch, tt).backward()
    seen = []
    for watch in (False, True):
        ct = chainrule.tensor(x, requires_grad=True)
        out = f(chainrule, ct)
        def watcher(node, g, gi):
            seen.append(node)

        if watch:
            engine._observers.append(watcher)
        try:
            out.backward()
        finally:
            if watch:
                engine._observers.remove(watcher)
        np.testing.assert_allclose(ct.grad.numpy(), tt.grad.numpy(), rtol=1e-4, atol=1e-5)
    assert seen  # the watched backward did go through the observer
