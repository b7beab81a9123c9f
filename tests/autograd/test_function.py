"""Custom autograd.Function: same programs under chainrule and torch give the same results."""
import numpy as np
import pytest
import torch
from oracle import assert_same

import chainrule

LIBS = [chainrule, torch]


def make_functions(lib):
    class MyExp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            r = x.exp()
            ctx.save_for_backward(r)
            return r

        @staticmethod
        def backward(ctx, g):
            (r,) = ctx.saved_tensors
            return g * r

    class ScaleShift(lib.autograd.Function):
        """Non-tensor args get None gradients; needs_input_grad reflects each input."""

        @staticmethod
        def forward(ctx, x, scale, y):
            ctx.scale = scale
            ctx.flags = ctx.needs_input_grad
            return x * scale + y

        @staticmethod
        def backward(ctx, g):
            return g * ctx.scale, None, (g if ctx.needs_input_grad[2] else None)

    class TwoOut(lib.autograd.Function):
        @staticmethod
        def forward(x):
            return x * 2, x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, g1, g2):
            (x,) = ctx.saved_tensors
            return g1 * 2 + g2 * 2 * x

    class ArgMaxish(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            idx = (x > 0).to(x.dtype)
            ctx.mark_non_differentiable(idx)
            return x * 1, idx

        @staticmethod
        def backward(ctx, g, g_idx):
            return g

    class NoMaterialize(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x.clone(), x.clone()

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.seen = (g1 is None, g2 is None)
            return g1 if g1 is not None else g2

    class DoubleInPlace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    return MyExp, ScaleShift, TwoOut, ArgMaxish, NoMaterialize, DoubleInPlace


def run_program(lib):
    MyExp, ScaleShift, TwoOut, ArgMaxish, NoMaterialize, DoubleInPlace = make_functions(lib)
    x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = {}
    e = MyExp.apply(x)
    out["name"] = e.grad_fn.name()
    s = ScaleShift.apply(x, 3.0, y)
    a, b = TwoOut.apply(x)
    v, idx = ArgMaxish.apply(x)
    out["idx_requires_grad"] = idx.requires_grad
    loss = (e * e).sum() + s.sum() + (a * b).sum() + (v * 3).sum()
    loss.backward()
    out["x.grad"] = x.grad.detach().numpy().copy()
    out["y.grad"] = y.grad.detach().numpy().copy()
    # only one of two outputs used: the other's gradient is zeros (materialised) or None
    x.grad = None
    a, b = TwoOut.apply(x)
    b.sum().backward()
    out["one_output"] = x.grad.detach().numpy().copy()
    p, q = NoMaterialize.apply(x)
    q.sum().backward()
    out["no_materialize"] = p.grad_fn.seen
    z = lib.tensor([1.0, 2.0], requires_grad=True)
    w = z * 1
    r = DoubleInPlace.apply(w)
    out["dirty_is_input"] = r is w
    r.sum().backward()
    out["dirty_grad"] = z.grad.detach().numpy().copy()
    return out


def test_custom_function_programs_match_torch():
    c, t = run_program(chainrule), run_program(torch)
    assert c.keys() == t.keys()
    for k in c:
        if isinstance(t[k], np.ndarray):
            np.testing.assert_allclose(c[k], t[k], rtol=1e-6, err_msg=k)
        else:
            assert c[k] == t[k], k


def test_grad_fn_named_after_class_and_in_graph():
    MyExp = make_functions(chainrule)[0]
    x = chainrule.tensor([1.0], requires_grad=True)
    y = MyExp.apply(x) * 2
    assert y.grad_fn.next_functions[0][0].name() == "MyExpBackward"
    assert "MyExpBackward" in repr(y.grad_fn.next_functions[0][0])


def test_double_backward_through_custom_function():
    for lib in LIBS:
        MyExp = make_functions(lib)[0]
        x = lib.tensor([0.3, 0.7], requires_grad=True)
        (g,) = lib.autograd.grad(MyExp.apply(x).sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad(g.sum(), x)
        np.testing.assert_allclose(g2.detach().numpy(), np.exp([0.3, 0.7]), rtol=1e-6)


def test_once_differentiable_blocks_double_backward():
    errors = []
    for lib in LIBS:
        class Sq(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        # the upstream gradient (x) requires grad, so the result would be differentiable
        (g,) = lib.autograd.grad((Sq.apply(x) * x).sum(), x, create_graph=True)
        np.testing.assert_allclose(g.detach().numpy(), [3.0, 12.0])
        with pytest.raises(RuntimeError) as e:
            g.sum().backward()
        errors.append(str(e.value))
    assert "once_differentiable" in errors[0] and "once_differentiable" in errors[1]


@pytest.mark.parametrize("lib", LIBS, ids=["chainrule", "torch"])
def test_wrong_number_of_gradients_is_an_error(lib):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return (g,)

    x = lib.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients"):
        Bad.apply(x, x).sum().backward()


@pytest.mark.parametrize("lib", LIBS, ids=["chainrule", "torch"])
def test_wrong_gradient_shape_is_an_error(lib):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return lib.ones(5)

    x = lib.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="returned an invalid gradient at index 0"):
        Bad.apply(x).sum().backward()


def test_saved_tensors_freed_after_backward():
    for lib in LIBS:
        MyExp = make_functions(lib)[0]
        x = lib.tensor([1.0], requires_grad=True)
        y = MyExp.apply(x)
        y.sum().backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.sum().backward()


def test_forward_runs_without_recording():
    for lib in LIBS:
        class Probe(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.inner = (x * 2).requires_grad
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2

        x = lib.tensor([1.0], requires_grad=True)
        y = Probe.apply(x)
        assert y.grad_fn.inner is False
        assert y.requires_grad


def test_apply_without_grad_records_nothing():
    MyExp = make_functions(chainrule)[0]
    x = chainrule.tensor([1.0])
    assert MyExp.apply(x).grad_fn is None
    with chainrule.no_grad():
        y = MyExp.apply(chainrule.tensor([1.0], requires_grad=True))
    assert y.grad_fn is None and not y.requires_grad


def test_results_equal_for_vector_outputs():
    for_both = []
    for lib in LIBS:
        TwoOut = make_functions(lib)[2]
        x = lib.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
        a, b = TwoOut.apply(x)
        (a.sin() * b).sum().backward()
        for_both.append(x.grad)
    assert_same(*for_both)
