"""The recorded explanation: numbers, accumulation, broadcasting, names, and that explaining
changes nothing. Leaf gradients are checked against chainrule's autograd and PyTorch."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import raises_like

import chainrule
from chainrule.explain import Explanation


def steps(ex, kind):
    return [s for s in ex.steps if s.kind == kind]


def seed_graph(record=True):
    x = chainrule.tensor(1.0)
    y = chainrule.tensor(2.0)
    w = chainrule.tensor(1.0, requires_grad=True)
    if record:
        with chainrule.explain.record():
            y_hat = w * x
            s = y_hat - y
            loss = s**2
    else:
        y_hat = w * x
        s = y_hat - y
        loss = s**2
    return x, y, w, y_hat, s, loss


@pytest.mark.parametrize("record", [True, False])
def test_seed_example_numbers(record):
    x, y, w, y_hat, s, loss = seed_graph(record)  # noqa: RUF059  (the names label the graph)
    ex = loss.explain()  # names come from this frame's variables
    assert isinstance(ex, Explanation)
    v = {n: ex.vertex(n) for n in ("w", "x", "y_hat", "s", "loss")}
    assert v["y_hat"].value == 1 and v["s"].value == -1 and v["loss"].value == 1
    assert v["x"].kind == "const" and not v["x"].requires_grad
    # y is only known when recorded: Sub saves neither operand (never a made-up number)
    assert (ex.vertex("y").value == 2) if record else ("y" not in [u.label for u in ex.vertices])
    # local gradients: ∂loss/∂s = 2s = -2, ∂s/∂ŷ = 1, ∂ŷ/∂w = x = 1
    local = {(e.dst.label, e.src.label): e.local for u in ex.nodes for e in u.inputs if e.needs_grad}
    assert local == {("loss", "s"): -2.0, ("s", "y_hat"): 1.0, ("y_hat", "w"): 1.0}
    # backward: upstream × local = contribution
    bw = [(s.edge.src.label, float(s.edge.upstream), s.edge.local, float(s.edge.contribution))
          for s in steps(ex, "backward")]
    assert bw == [("s", 1.0, -2.0, -2.0), ("y_hat", -2.0, 1.0, -2.0), ("w", -2.0, 1.0, -2.0)]
    assert ex.grads == {"w": -2.0}
    # the red edges: constants get no gradient
    assert [e.needs_grad for e in v["y_hat"].inputs] == [True, False]
    text = str(ex)
    assert "∂loss/∂s = ∂loss/∂loss × ∂loss/∂s = 1 × -2 = -2" in text
    assert "∂loss/∂y_hat = ∂loss/∂s × ∂s/∂y_hat = -2 × 1 = -2" in text
    assert "∂loss/∂w = ∂loss/∂y_hat × ∂y_hat/∂w = -2 × 1 = -2" in text
    assert "∂loss/∂s = 2 · s = -2" in text
    assert "w.grad = -2" in text


def test_explaining_changes_nothing():
    x, y, w, y_hat, s, loss = seed_graph()  # noqa: RUF059
    y_hat.retain_grad()
    w.grad = chainrule.tensor(10.0)
    version = w._version[0]
    loss.explain()
    assert w.grad.item() == 10.0 and w._version[0] == version
    assert y_hat._grad is None  # the retain_grad hook did not fire
    assert loss.grad_fn is not None and loss.grad_fn.saved  # graph kept
    loss.backward()  # still usable, and accumulates as normal
    assert w.grad.item() == 8.0 and y_hat.grad.item() == -2.0
    assert loss.grad_fn.saved is not None


def test_tensor_used_twice_accumulates():
    a = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
    z = (a * a).sum()
    ex = z.explain()
    acc = steps(ex, "accumulate")
    assert len(acc) == 1 and acc[0].vertex.label == "a" and len(acc[0].parts) == 2
    for e in acc[0].parts:
        np.testing.assert_allclose(e.contribution, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(ex.grads["a"], [2.0, 4.0, 6.0])
    # local derivative of a*a per operand: the Jacobian diag(a), as PyTorch computes it
    j = torch.autograd.functional.jacobian(lambda t: t * torch.tensor([1.0, 2.0, 3.0]),
                                           torch.ones(3))
    for e in ex.nodes[0].inputs:
        np.testing.assert_allclose(e.local, j.numpy())
    assert "∂z/∂a = sum over its 2 uses = [1, 2, 3] + [1, 2, 3] = [2, 4, 6]" in str(ex)


def test_residual_connection_accumulates():
    x = chainrule.tensor([[0.5, -1.0], [2.0, 0.1]], requires_grad=True)
    W = chainrule.tensor([[1.0, 2.0], [-1.0, 0.5]], requires_grad=True)
    out = (x + (x @ W).tanh()).sum()  # residual: x feeds the add and the matmul
    ex = out.explain()
    (acc,) = [s for s in steps(ex, "accumulate") if s.vertex.label == "x"]
    total = sum(e.contribution for e in acc.parts)
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    Wt = torch.tensor(W.detach().numpy(), requires_grad=True)
    (xt + (xt @ Wt).tanh()).sum().backward()
    np.testing.assert_allclose(total, xt.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ex.grads["x"], xt.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ex.grads["W"], Wt.grad.numpy(), rtol=1e-6)


def test_broadcast_sum_is_a_step():
    h = chainrule.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    bias = chainrule.tensor([0.1, 0.2, 0.3], requires_grad=True)
    out = ((h + bias) * 2.0).sum()
    ex = out.explain()
    (b,) = steps(ex, "broadcast")
    assert b.vertex.label == "bias"
    assert b.edge.raw.shape == (2, 3) and b.edge.contribution.shape == (3,)
    np.testing.assert_allclose(b.edge.contribution, b.edge.raw.sum(0))
    np.testing.assert_allclose(ex.grads["bias"], [4.0, 4.0, 4.0])
    assert "∂out/∂bias: sum [2, 3] back to bias's shape [3] (it was broadcast) = [4, 4, 4]" in str(ex)
    # the 0-d case: a scalar tensor broadcast over a matrix
    s = chainrule.tensor(3.0, requires_grad=True)
    ex = (h * s).sum().explain()
    (b,) = steps(ex, "broadcast")
    assert b.edge.contribution.shape == () and float(b.edge.contribution) == 15.0


def test_non_contiguous_and_empty_inputs():
    base = chainrule.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    t = base.t()  # a non-contiguous view
    out = (t * t).sum()
    ex = out.explain()
    np.testing.assert_allclose(ex.grads["base"], 2 * np.arange(12.0).reshape(3, 4))
    e = chainrule.zeros(0, 3, requires_grad=True)
    ex = (e * 2.0).sum().explain()
    assert ex.grads["e"].shape == (0, 3)


def test_names_model_and_fallback():
    class Model:  # what explain needs from an nn.Module
        def __init__(self):
            self.w = chainrule.tensor([1.0, -1.0], requires_grad=True)

        def named_parameters(self):
            return iter([("layer.weight", self.w)])

    m = Model()
    ex = chainrule.explain((m.w * 3.0).sum(), model=m)
    assert [v.label for v in ex.leaves] == ["layer.weight"]
    assert ex.leaves[0].group == "layer" and ex.nodes[0].group == "layer"

    def make():
        q = chainrule.tensor(2.0, requires_grad=True)
        return q * q

    ex = chainrule.explain(make())  # q is no variable of this frame
    assert [v.label for v in ex.leaves] == ["t0"]
    ex = chainrule.explain(make(), names={ex.leaves[0].node: "q"})  # a different q: unnamed
    assert ex.leaves[0].label == "t0"


def test_inputs_and_grad_output():
    a = chainrule.tensor([1.0, 2.0], requires_grad=True)
    b = chainrule.tensor([3.0, 4.0], requires_grad=True)
    y = a * b
    ex = chainrule.explain(y, inputs=[a], grad_output=chainrule.tensor([1.0, -1.0]))
    assert list(ex.grads) == ["a"]
    np.testing.assert_allclose(ex.grads["a"], [3.0, -4.0])
    z = (y * y).sum()  # an intermediate value as the input, as autograd.grad allows
    ex = chainrule.explain(z, inputs=[y, b])
    np.testing.assert_allclose(ex.grads["y"], 2 * y.detach().numpy())
    np.testing.assert_allclose(ex.grads["b"], chainrule.autograd.grad(z, b)[0].numpy())


def test_errors_match_pytorch():
    raises_like(
        RuntimeError,
        lambda: chainrule.explain(chainrule.tensor(1.0)),
        lambda: torch.autograd.grad(torch.tensor(1.0), [torch.tensor(1.0, requires_grad=True)]),
    )
    a = chainrule.ones(2, requires_grad=True)
    at = torch.ones(2, requires_grad=True)
    raises_like(RuntimeError, lambda: (a * 2).explain(), lambda: (at * 2).backward())
    with pytest.raises(TypeError, match="must be Tensor"):
        chainrule.explain(1.0)
    with pytest.raises(RuntimeError, match="the output is a leaf tensor"):
        chainrule.explain(a)
    x, y, w, y_hat, s, loss = seed_graph()  # noqa: RUF059
    loss.backward()  # frees the graph
    with pytest.raises(RuntimeError, match="call it before backward"):
        loss.explain()


# ---- random graphs: explained gradients equal autograd's and PyTorch's ------------------------
SHAPES = [(), (3,), (2, 3), (1, 3), (2, 1)]
OPS = ["add", "mul", "sub", "div", "tanh", "exp", "square", "sum0"]


def _apply(lib, op, a, b):
    if op == "add":
        return a + b
    if op == "mul":
        return a * b
    if op == "sub":
        return a - b
    if op == "div":
        return a / (b * b + 1.0)
    if op == "tanh":
        return a.tanh()
    if op == "exp":
        return (a * 0.1).exp()
    if op == "square":
        return a**2
    return a.sum(0, keepdim=True) if a.dim() else a


@settings(max_examples=25, deadline=None)
@given(
    shapes=st.lists(st.sampled_from(SHAPES), min_size=1, max_size=4),
    prog=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 99), st.integers(0, 99)),
                  min_size=1, max_size=8),
    seed=st.integers(0, 2**16),
)
def test_random_graphs_match_autograd_and_torch(shapes, prog, seed):
    rng = np.random.default_rng(seed)
    data = [rng.standard_normal(s) for s in shapes]

    def run(lib):
        leaves = [lib.tensor(d, requires_grad=True) for d in data]
        vals = list(leaves)
        for op, i, j in prog:
            vals.append(_apply(lib, op, vals[i % len(vals)], vals[j % len(vals)]))
        return leaves, vals[-1].sum() + vals[0].sum() * 0.5

    leaves, out = run(chainrule)
    ex = chainrule.explain(out, names={t: f"p{k}" for k, t in enumerate(leaves)})
    tl, tout = run(torch)
    tout.backward()
    ours = chainrule.autograd.grad(out, leaves, allow_unused=True)
    got = ex.grads
    for k, (t, g) in enumerate(zip(tl, ours)):
        if g is None:  # a leaf the output does not use: no gradient anywhere
            assert f"p{k}" not in got and t.grad is None
            continue
        np.testing.assert_allclose(got[f"p{k}"], g.numpy(), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(got[f"p{k}"], t.grad.numpy(), rtol=1e-6, atol=1e-9)
    # every contribution reached its value: leaf gradient = sum of its edges' contributions
    for v in ex.leaves:
        contribs = [e.contribution for e in v.consumers if e.contribution is not None]
        np.testing.assert_allclose(sum(contribs), v.grad, rtol=1e-9, atol=1e-12)
