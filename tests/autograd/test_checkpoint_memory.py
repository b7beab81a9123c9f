"""Activation checkpointing and memory: graphs are freed, nothing accumulates over steps."""
import gc
import resource
import weakref

import numpy as np
import torch

import chainrule
from chainrule.utils.checkpoint import checkpoint


def block(lib):
    return lambda x, w: (x @ w).tanh() @ w


def test_checkpoint_gradients_equal_plain_backward_and_torch():
    rng = np.random.default_rng(0)
    xa, wa = rng.standard_normal((4, 3)), rng.standard_normal((3, 3))
    grads = []
    for lib, ck in ((chainrule, checkpoint), (torch, torch.utils.checkpoint.checkpoint)):
        for use_ck in (False, True):
            x = lib.tensor(xa, requires_grad=True)
            w = lib.tensor(wa, requires_grad=True)
            out = ck(block(lib), x, w, use_reentrant=False) if use_ck else block(lib)(x, w)
            out.sum().backward()
            grads.append((x.grad.numpy().copy(), w.grad.numpy().copy()))
    for g in grads[1:]:
        np.testing.assert_allclose(g[0], grads[0][0], rtol=1e-10)
        np.testing.assert_allclose(g[1], grads[0][1], rtol=1e-10)


def test_checkpoint_keeps_no_intermediate_activations():
    x = chainrule.tensor(np.ones((2, 2)), requires_grad=True)
    seen = []

    def fn(x):
        h = x * 2
        seen.append(weakref.ref(h))
        return h.sum()

    out = checkpoint(fn, x)
    gc.collect()
    assert seen[0]() is None  # the forward's intermediate is gone
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.ones((2, 2)))


def test_graph_is_freed_after_backward_by_refcount_alone():
    gc.disable()
    try:
        x = chainrule.tensor([1.0, 2.0], requires_grad=True)
        y = (x * 2).exp()
        node = weakref.ref(y.grad_fn)
        y.sum().backward()
        del y
        assert node() is None  # no reference cycle keeps the graph alive
        _ = (x * x).grad_fn.next_functions  # AccumulateGrad cached on the leaf, held weakly
        del _
        assert x.grad is not None
    finally:
        gc.enable()


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_resident_memory_flat_over_many_steps():
    rng = np.random.default_rng(0)
    w = chainrule.tensor(rng.standard_normal((64, 32)).astype(np.float32), requires_grad=True)
    x = chainrule.tensor(rng.standard_normal((16, 64)).astype(np.float32))

    def step():
        loss = ((x @ w).tanh() ** 2).mean()
        loss.backward()
        with chainrule.no_grad():
            w.sub_(w.grad * 0.01)
        w.grad = None

    for _ in range(300):
        step()
    before = _rss_mb()
    for _ in range(10_000):
        step()
    grown = _rss_mb() - before
    assert grown < 5, f"resident memory grew by {grown:.1f} MB over 10k steps"
