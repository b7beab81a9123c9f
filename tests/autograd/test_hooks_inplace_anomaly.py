"""Tensor hooks, in-place safety and anomaly detection, compared with torch's behaviour."""
import warnings

import numpy as np
import pytest
import torch

import chainrule

LIBS = [chainrule, torch]
IDS = ["chainrule", "torch"]


def hook_program(lib):
    log = []
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    h1 = y.register_hook(lambda g: log.append(("y", g.tolist())) or g * 10)
    y.register_hook(lambda g: log.append(("y2", g.tolist())))
    x.register_hook(lambda g: log.append(("x", g.tolist())))
    acc = []
    x.register_post_accumulate_grad_hook(lambda p: acc.append(p.grad.tolist()))
    z = (y * y).sum()
    z.backward(retain_graph=True)
    h1.remove()
    z.backward()
    return log, acc, x.grad.tolist()


def test_hooks_order_replacement_and_removal_match_torch():
    assert hook_program(chainrule) == hook_program(torch)


@pytest.mark.parametrize("lib", LIBS, ids=IDS)
def test_retain_grad_on_non_leaf(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.retain_grad()
    (y * 2).sum().backward()
    assert y.grad.tolist() == [2.0, 2.0]
    assert y.retains_grad


@pytest.mark.parametrize("lib", LIBS, ids=IDS)
def test_hook_on_tensor_without_grad_raises(lib):
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        lib.tensor([1.0]).register_hook(lambda g: g)


@pytest.mark.parametrize("lib", LIBS, ids=IDS)
def test_modified_saved_tensor_raises_torch_error(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError) as e:
        y.sum().backward()
    msg = str(e.value)
    assert "one of the variables needed for gradient computation has been modified by an inplace operation" in msg
    assert "is at version 1; expected version 0 instead" in msg


# The constant operand: 0-d float32 (the scalar fast path), a float64 matrix (arrays,
# broadcast), an int vector (promoted to the variable's dtype: the general record path).
CONSTANTS = {
    "0-d": lambda lib: lib.tensor(5.0),
    "float64": lambda lib: lib.full((3, 2), 5.0, dtype=lib.float64),
    "int64": lambda lib: lib.tensor([5, 7]),
}


def _inplace_after(lib, name, const, constant_first):
    """Change the variable operand of ``name`` in place after the op ran, then backward."""
    w = lib.tensor([1.0, 2.0], requires_grad=True, dtype=lib.float64 if const == "float64" else None)
    a = w * 3  # not a leaf: may change in place
    c = CONSTANTS[const](lib)
    out = getattr(lib, name)(c, a) if constant_first else getattr(lib, name)(a, c)
    a.add_(1)
    try:
        out.sum().backward()
    except RuntimeError as e:
        assert "modified by an inplace operation" in str(e)
        return "error"
    return w.grad.tolist()


@pytest.mark.parametrize("const", list(CONSTANTS))
@pytest.mark.parametrize("constant_first", [False, True])
@pytest.mark.parametrize("name", ["mul", "div"])
def test_saved_operands_are_those_the_running_gradients_need(name, constant_first, const):
    # PyTorch saves only what the gradients that will run read: x * c and x / c keep c, so x
    # may change in place afterwards; c / x reads x for x's own gradient
    expected = _inplace_after(torch, name, const, constant_first)
    assert _inplace_after(chainrule, name, const, constant_first) == expected
    assert (expected == "error") == (name == "div" and constant_first)


def test_modified_error_names_saving_op_modifying_op_and_versions():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    b = a * a  # MulBackward0 saves a
    a.mul_(2)
    a.add_(1)
    with pytest.raises(RuntimeError) as e:
        b.sum().backward()
    msg = str(e.value)
    assert "saved for backward by MulBackward0 at version 0" in msg
    assert "modified in place by add_ (now version 2)" in msg


@pytest.mark.parametrize("lib", LIBS, ids=IDS)
def test_inplace_on_leaf_requiring_grad_raises(lib):
    x = lib.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation."):
        x.mul_(2)
    with lib.no_grad():
        x.mul_(2)  # allowed without recording
    assert x.tolist() == [2.0]


@pytest.mark.parametrize("lib", LIBS, ids=IDS)
def test_inplace_on_non_leaf_rebases_history(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.mul_(x)  # y = 2x * x
    y.sum().backward()
    assert x.grad.tolist() == [4.0, 8.0]


@pytest.mark.parametrize("lib", LIBS, ids=IDS)
def test_version_counter_bumps(lib):
    # torch exposes the count as the int `_version`; chainrule keeps the shared counter there
    # and gives the count as `_version_counter`.
    version = (lambda t: t._version) if lib is torch else (lambda t: t._version_counter)
    x = lib.tensor([1.0, 2.0])
    v0 = version(x)
    x.add_(1)
    x.mul_(2)
    view = x[:1]
    view.add_(1)
    assert version(x) == v0 + 3 and version(view) == v0 + 3


def anomaly_program(lib):
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lib.autograd.detect_anomaly():
            y = x.sqrt()  # backward at 0: inf * 0 = nan
            z = (y * 0).sum()
            try:
                z.backward()
            except RuntimeError as e:
                return str(e)
    return None


def test_anomaly_detection_names_the_backward_node_and_user_line():
    c, t = anomaly_program(chainrule), anomaly_program(torch)
    assert t is not None and c is not None
    assert "SqrtBackward0" in t and "SqrtBackward0" in c
    assert "returned nan values" in c or "returned inf values" in c
    assert "y = x.sqrt()" in c  # beyond torch: the user's forward line is in the message


def test_anomaly_forward_check_reports_first_non_finite_op():
    x = chainrule.tensor([1.0, 0.0], requires_grad=True)
    with chainrule.autograd.detect_anomaly(check_forward=True):
        y = x * 2
        with pytest.raises(RuntimeError) as e:
            z = y / x  # noqa: F841  (0/0 -> nan: reported here, at the forward)
    assert "DivBackward0" in str(e.value) and "z = y / x" in str(e.value)


def test_anomaly_off_by_default_and_restored():
    assert not chainrule.autograd.is_anomaly_enabled()
    with chainrule.autograd.detect_anomaly():
        assert chainrule.autograd.is_anomaly_enabled()
    assert not chainrule.autograd.is_anomaly_enabled()
    chainrule.autograd.set_detect_anomaly(True)
    assert chainrule.autograd.is_anomaly_enabled()
    chainrule.autograd.set_detect_anomaly(False)
    assert not chainrule.autograd.is_anomaly_enabled()


def copy_slices_program(lib):
    x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64, requires_grad=True)
    y = x * 2
    y[0].mul_(x[1])  # in-place through a view, with a differentiable operand
    y.t()[2].add_(1)  # through a chain of views
    v = y.view(-1)
    v[1:3].sin_()
    z = lib.zeros(2, 3, dtype=lib.float64)
    z[:, 1:].copy_(x[:, :2] ** 2)  # a base that did not require grad starts to
    (y * lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64) + z).sum().backward()
    return x.grad.tolist(), y.tolist(), z.requires_grad


def test_inplace_through_views_rebases_the_base_as_torch_copyslices():
    c, t = copy_slices_program(chainrule), copy_slices_program(torch)
    np.testing.assert_allclose(c[0], t[0], rtol=1e-12)
    np.testing.assert_allclose(c[1], t[1], rtol=1e-12)
    assert c[2] is t[2] is True
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y[0].mul_(3)
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    assert "grad_fn=<CopySlices>" in repr(y)


@pytest.mark.parametrize("lib", LIBS, ids=IDS)
def test_inplace_through_a_view_of_a_leaf_requiring_grad_raises(lib):
    x = lib.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used in an in-place operation"):
        x[0].add_(1)
