"""The backward engine's observable behaviour, each program run under chainrule and torch.

A program is ``prog(lib)`` returning what it observed (tensors, grads, flags); the two
libraries must observe the same things. Errors compare class and PyTorch's wording.
"""
import warnings

import numpy as np
import pytest
import torch
from oracle import raises_like

import chainrule


def observe(x):
    if isinstance(x, (chainrule.Tensor, torch.Tensor)):
        return ("T", str(x.dtype), tuple(x.shape), np.round(x.detach().numpy().astype(np.float64), 5).tolist(),
                x.requires_grad)
    if isinstance(x, (list, tuple)):
        return [observe(v) for v in x]
    if isinstance(x, (chainrule.dtype, torch.dtype)):
        return str(x)
    return x


def same(prog):
    c, t = observe(prog(chainrule)), observe(prog(torch))
    assert c == t, f"\nchainrule: {c}\ntorch:     {t}"
    return c


def leaf(lib, values, dtype="float32"):
    return lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)


# ---- accumulation and graph shapes ---------------------------------------------------------
def test_gradients_accumulate_across_backward_calls():
    def prog(lib):
        x = leaf(lib, [1.0, 2.0])
        seen = []
        for _ in range(3):
            (x * x).sum().backward()
            seen.append(x.grad.clone())
        x.grad = None
        (x * 3).sum().backward()
        return seen + [x.grad]

    same(prog)


def test_same_tensor_twice_gives_two_edges():
    def prog(lib):
        a = leaf(lib, 3.0)
        y = a * a
        y.backward()
        return a.grad, len(y.grad_fn.next_functions), y.grad_fn.name()

    assert same(prog)[1:] == [2, "MulBackward0"]


def test_diamond_graph():
    def prog(lib):
        x = leaf(lib, [0.5, -1.0])
        a = x.exp()
        b = a * 2
        c = a.sin()
        d = (b * c + b).sum()
        d.backward()
        return x.grad, d

    same(prog)


def test_broadcast_gradient_summed_to_leaf_shape():
    def prog(lib):
        x = leaf(lib, np.arange(6.0).reshape(2, 3).tolist())
        b = leaf(lib, [1.0, 2.0, 3.0])
        s = leaf(lib, 2.0)
        col = leaf(lib, [[1.0], [2.0]])
        (x * b + s * col).sum().backward()
        return x.grad, b.grad, s.grad, col.grad

    same(prog)


def test_gradient_dtype_follows_the_leaf():
    def prog(lib):
        x64 = leaf(lib, [1.0, 2.0], "float64")
        c32 = lib.tensor([1.0, 2.0])
        y = x64 * c32
        y.sum().backward()
        w32 = leaf(lib, [1.0, 2.0])
        (w32 * lib.tensor([3.0, 4.0], dtype=lib.float64)).sum().backward()
        return x64.grad, y.dtype, w32.grad

    same(prog)


def test_requires_grad_propagation_and_leaves():
    def prog(lib):
        a = leaf(lib, [1.0])
        c = lib.tensor([2.0])
        y = a * c
        z = c * 2
        d = y.detach()
        return [y.requires_grad, y.is_leaf, z.requires_grad, z.is_leaf, d.requires_grad, d.is_leaf,
                a.is_leaf, y.grad_fn is None, z.grad_fn is None, (d * a).requires_grad]

    same(prog)


def test_grad_fn_names_and_next_functions():
    def prog(lib):
        x = leaf(lib, [1.0, 2.0])
        y = ((x * 2).exp() + 1) ** 2
        fn = y.grad_fn
        chain = []
        while fn is not None:
            chain.append(fn.name())
            nxt = [f for f, _ in fn.next_functions if f is not None]
            fn = nxt[0] if nxt and nxt[0].name() != "torch::autograd::AccumulateGrad" else None
        acc = (x * 2).grad_fn.next_functions[0][0]
        return chain, acc.name(), acc.variable is x, (x * 2).grad_fn.next_functions[1]

    same(prog)


# ---- non-leaf .grad ------------------------------------------------------------------------
def test_non_leaf_grad_warns_and_retain_grad_fills_it():
    def prog(lib):
        x = leaf(lib, [1.0, 2.0])
        y = x * x
        z = y * 3
        y.retain_grad()
        z.sum().backward()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            zg = z.grad
        return y.grad, zg, [(r.category.__name__, str(r.message)[:70]) for r in w], y.retains_grad

    same(prog)


# ---- freeing the graph ---------------------------------------------------------------------
def test_second_backward_raises_unless_retain_graph():
    def prog(lib):
        a = leaf(lib, 1.5)
        b = a.exp()
        b.backward(retain_graph=True)
        b.backward()
        return a.grad

    same(prog)
    ca, ta = leaf(chainrule, 1.5), leaf(torch, 1.5)
    cb, tb = ca.exp(), ta.exp()
    cb.backward()
    tb.backward()
    raises_like(RuntimeError, cb.backward, tb.backward)
    cm, tm = ca * 2, ta * 2  # the wrapped scalar is saved, as in PyTorch
    cm.backward()
    tm.backward()
    raises_like(RuntimeError, cm.backward, tm.backward)


def test_backward_releases_what_the_forward_stashed():
    # A conv keeps its im2col matrix and cross_entropy its softmax for the backward (in the
    # node's extra); like saved tensors they go once the node ran without retain_graph, so a
    # graph the user still holds does not keep them alive. With retain_graph they stay and a
    # second backward accumulates the same gradients as PyTorch's.
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((2, 1, 6, 6)).astype(np.float32)
    ws = rng.standard_normal((3, 1, 3, 3)).astype(np.float32)
    target = np.array([1, 7])

    def prog(lib, retain):
        w = lib.tensor(ws, requires_grad=True)
        y = lib.nn.functional.conv2d(lib.tensor(xs), w)
        loss = lib.nn.functional.cross_entropy(y.flatten(1), lib.tensor(target))
        loss.backward(retain_graph=retain)
        kept = [getattr(t.grad_fn, "extra", None) is not None for t in (y, loss)]
        if retain:
            loss.backward()
        return w.grad, kept

    cg, kept = prog(chainrule, False)
    assert kept == [False, False]
    cg2, kept = prog(chainrule, True)
    assert kept == [True, True]
    tg2 = prog(torch, True)[0]
    np.testing.assert_allclose(cg2.numpy(), tg2.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cg2.numpy(), 2 * cg.numpy(), rtol=1e-6)


def _fresh_grad_fn(keep):
    """A Function whose backward returns a new array (kept by the caller when ``keep``)."""
    made = []

    class Fresh(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            out = np.full(tuple(g.shape), 3.0, np.float32)
            made.append(out if keep else id(out))
            return chainrule.from_numpy(out)

    return Fresh, made


def test_unshared_gradient_arrays_become_grad_without_a_copy():
    # As PyTorch's AccumulateGrad steals an unshared buffer: a gradient array nobody else
    # holds becomes .grad as it is; one someone holds is copied, so that accumulating into
    # .grad later can never write into it.
    Fresh, made = _fresh_grad_fn(keep=False)
    x = chainrule.ones(4, requires_grad=True)
    Fresh.apply(x).sum().backward()
    assert id(x.grad._data) == made[0]
    Held, held = _fresh_grad_fn(keep=True)
    y = chainrule.ones(4, requires_grad=True)
    Held.apply(y).sum().backward()
    assert y.grad._data is not held[0]
    Held.apply(y).sum().backward()  # accumulates in place into .grad
    assert y.grad.tolist() == [6.0] * 4 and held[0].tolist() == [3.0] * 4
    z = chainrule.ones(4, requires_grad=True)
    g = chainrule.ones(4)
    z.backward(g)  # the user's gradient itself reaches the leaf: copied
    z.grad.add_(1)
    assert g.tolist() == [1.0] * 4


def test_ops_without_saved_tensors_can_backward_twice():
    def prog(lib):
        a = leaf(lib, [1.0, 2.0])
        out = []
        for y in (a + 1, -a, a.sum(), a - 3):
            s = y.sum()
            s.backward()
            s.backward()
            out.append(a.grad.clone())
        return out

    same(prog)


# ---- backward() arguments ------------------------------------------------------------------
def test_backward_argument_errors():
    cases = [
        lambda lib: (leaf(lib, [1.0, 2.0]) * 2).backward(),
        lambda lib: (leaf(lib, [1.0, 2.0]) * 2).backward(lib.ones(3)),
        lambda lib: (leaf(lib, [1.0, 2.0]) * 2).sum().backward(inputs=[]),
        lambda lib: lib.tensor([1.0]).sum().backward(),
    ]
    for prog in cases:
        raises_like(RuntimeError, lambda p=prog: p(chainrule), lambda p=prog: p(torch))


def test_backward_with_gradient_and_inputs():
    def prog(lib):
        x = leaf(lib, [1.0, 2.0])
        w = leaf(lib, [3.0, 4.0])
        y = x * w
        y.backward(lib.tensor([1.0, 0.5]), inputs=[x])
        first = (x.grad, w.grad)
        h = x * 2
        k = h * 3
        k.sum().backward(inputs=[h])
        return first, x.grad, h.grad

    same(prog)


# ---- grad modes ----------------------------------------------------------------------------
def test_grad_mode_context_managers_and_decorators():
    def prog(lib):
        x = leaf(lib, [1.0])
        out = []
        with lib.no_grad():
            out.append((x * 2).requires_grad)
            with lib.enable_grad():
                out.append((x * 2).requires_grad)
            out.append(lib.is_grad_enabled())
        with lib.set_grad_enabled(False):
            out.append((x * 2).requires_grad)
        with lib.inference_mode():
            out.append((x * 2).requires_grad)
        with lib.inference_mode(False):
            out.append((x * 2).requires_grad)

        @lib.no_grad
        def bare(t):
            return t * 2

        @lib.no_grad()
        def called(t):
            return t * 2

        @lib.enable_grad()
        def enabled(t):
            return t * 2

        @lib.inference_mode()
        def infer(t):
            return t * 2

        @lib.set_grad_enabled(False)
        def disabled(t):
            return t * 2

        out += [bare(x).requires_grad, called(x).requires_grad, infer(x).requires_grad,
                disabled(x).requires_grad, lib.is_grad_enabled()]
        with lib.no_grad():
            out.append(enabled(x).requires_grad)
        lib.set_grad_enabled(False)  # a plain call switches the mode until switched back
        out.append((x * 2).requires_grad)
        lib.set_grad_enabled(True)
        out.append((x * 2).requires_grad)
        return out

    assert same(prog) == [False, True, False, False, False, True, False, False, False, False, True,
                          True, False, True]


def test_no_grad_restores_mode_after_exception():
    for lib in (chainrule, torch):
        with pytest.raises(ValueError), lib.no_grad():
            raise ValueError
        assert lib.is_grad_enabled()


# ---- autograd.grad -------------------------------------------------------------------------
def test_grad_with_grad_outputs_and_retain_graph():
    def prog(lib):
        x = leaf(lib, [1.0, 2.0])
        y = x.exp() * x
        (g1,) = lib.autograd.grad(y, x, grad_outputs=lib.tensor([1.0, -1.0]), retain_graph=True)
        (g2,) = lib.autograd.grad(y.sum(), [x])
        return g1, g2, x.grad

    same(prog)


def test_higher_order_third_derivative_of_x4():
    def prog(lib):
        x = leaf(lib, [1.0, 2.0, -0.5])
        (g,) = lib.autograd.grad((x ** 4).sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad(g.sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad(g2.sum(), x)
        return g, g2, g3

    g3 = same(prog)[2]
    assert g3[3] == [24.0, 48.0, -12.0]


def test_allow_unused_and_materialize_grads():
    def prog(lib):
        x = leaf(lib, [1.0, 2.0])
        u = leaf(lib, 5.0)
        a = lib.autograd.grad((x * 2).sum(), [x, u], allow_unused=True)
        b = lib.autograd.grad((x * 2).sum(), [x, u], materialize_grads=True)
        return a[1] is None, b

    same(prog)


def test_grad_errors():
    progs = [
        lambda lib: lib.autograd.grad((leaf(lib, [1.0]) * 2).sum(), [leaf(lib, [1.0])]),
        lambda lib: lib.autograd.grad((leaf(lib, [1.0]) * 2).sum(), [lib.tensor([1.0])]),
        lambda lib: lib.autograd.grad(lib.tensor(1.0) * 2, [leaf(lib, [1.0])]),
        lambda lib: lib.autograd.grad(leaf(lib, [1.0, 2.0]) * 2, [leaf(lib, [1.0])]),
    ]
    for prog in progs:
        raises_like(RuntimeError, lambda p=prog: p(chainrule), lambda p=prog: p(torch))

    def shape_mismatch(lib):
        a = leaf(lib, 1.0)
        return lib.autograd.grad(a * 2, a, grad_outputs=lib.ones(2))

    raises_like(RuntimeError, lambda: shape_mismatch(chainrule), lambda: shape_mismatch(torch))


# ---- in-place safety -----------------------------------------------------------------------
def test_inplace_on_leaf_requiring_grad_raises():
    raises_like(RuntimeError, lambda: leaf(chainrule, [1.0]).add_(1), lambda: leaf(torch, [1.0]).add_(1))

    def under_no_grad(lib):
        x = leaf(lib, [1.0])
        with lib.no_grad():
            x.mul_(3)
        return x

    same(under_no_grad)


def test_saved_tensor_modified_in_place_raises():
    def prog(lib):
        w = leaf(lib, [1.0, 2.0])
        z = w * 1
        e = z * z
        z.add_(1)
        e.sum().backward()

    raises_like(
        RuntimeError, lambda: prog(chainrule), lambda: prog(torch),
        match="one of the variables needed for gradient computation has been modified by an inplace "
              "operation: [torch.FloatTensor [2]]",
    )

    def saved_output_not_input(lib):  # exp saves its result, not its input: still fine
        w = leaf(lib, [1.0, 2.0])
        z = w * 1
        e = z.exp()
        z.add_(1)
        e.sum().backward()
        return w.grad

    same(saved_output_not_input)


def test_tensor_backward_calls_autograd_backward_as_it_is_now(monkeypatch):
    # Tensor.backward resolves autograd.backward at each call: explain's CLI swaps it in
    # while a script runs (to retain the graph) and puts it back after.
    import chainrule.autograd as ag

    x = chainrule.tensor(2.0, requires_grad=True)
    (x * x).backward()  # (binds the module on first use)
    seen = []
    monkeypatch.setattr(ag, "backward", lambda *a, **k: seen.append(a[0]))
    y = x * 3
    y.backward()
    assert seen == [y] and x.grad.item() == 4.0
    monkeypatch.undo()
    (x * 3).backward()
    assert x.grad.item() == 7.0
