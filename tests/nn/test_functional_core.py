"""nn.functional (core half) against PyTorch: every exported name exists in
torch.nn.functional, re-exports are the op families' functions, and the composites
(one_hot, normalize, cosine_similarity, pairwise_distance, prelu, l1_loss, kl_div)."""
import numpy as np
import pytest
import torch
from oracle import check, fd_check, raises_like

import chainrule
from chainrule.nn import _functional_core as core
from chainrule.nn import functional as F

R = np.random.default_rng(0)


def _x(*shape):
    return R.standard_normal(shape).astype(np.float32)


def test_every_name_is_torch_functional_and_exported():
    for name in core.__all__:
        assert hasattr(torch.nn.functional, name), name
        assert getattr(F, name) is getattr(core, name), name


def test_reexports_are_the_op_families_functions():
    from chainrule.ops import linalg, pointwise

    assert F.relu is pointwise.relu and F.linear is linalg.linear
    for name in pointwise.__all_functional__:
        assert getattr(F, name) is getattr(pointwise, name)


@pytest.mark.parametrize("num_classes", [-1, 6])
def test_one_hot(num_classes):
    t = np.array([[0, 3], [2, 1]], dtype=np.int64)
    check(lambda lib, t: F_of(lib).one_hot(t, num_classes), t, grad=False)


def F_of(lib):
    return lib.nn.functional


@pytest.mark.parametrize("arr,kw", [
    (np.array([0, -1]), {}), (np.array([0, 4]), {"num_classes": 3}),
    (np.array([0.0, 1.0]), {}),
])
def test_one_hot_errors(arr, kw):
    raises_like(RuntimeError, lambda: F.one_hot(chainrule.tensor(arr), **kw),
                lambda: torch.nn.functional.one_hot(torch.tensor(arr), **kw))


@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 0), (3.0, -1)])
def test_normalize(p, dim):
    x = _x(3, 4)
    check(lambda lib, x: F_of(lib).normalize(x, p=p, dim=dim), x, rtol=1e-4, atol=1e-5)
    x[0] = 0.0  # the eps clamp (the norm's 2nd derivative at 0 is the norm op's business)
    check(lambda lib, x: F_of(lib).normalize(x, p=p, dim=dim), x, rtol=1e-4, atol=1e-5,
          second=False)


@pytest.mark.parametrize("shapes,dim", [(((4, 3), (4, 3)), 1), (((2, 3, 5), (1, 3, 5)), 1),
                                        (((5,), (5,)), 0),
                                        # broadcast along the reduced dim (was silently wrong)
                                        (((4, 5), (1, 5)), 0)])
def test_cosine_similarity(shapes, dim):
    a, b = _x(*shapes[0]), _x(*shapes[1])
    check(lambda lib, a, b: F_of(lib).cosine_similarity(a, b, dim=dim), a, b, rtol=1e-4, atol=1e-5)


def test_pairwise_distance():
    check(lambda lib, a, b: F_of(lib).pairwise_distance(a, b), _x(4, 3), _x(4, 3), rtol=1e-4,
          atol=1e-5)
    check(lambda lib, a, b: F_of(lib).pairwise_distance(a, b, p=1.0, keepdim=True), _x(4, 3),
          _x(4, 3), rtol=1e-4, atol=1e-5)


def test_prelu_fd():
    fd_check(lambda lib, x, w: lib.nn.functional.prelu(x, w), _x(2, 3, 2), np.array([0.2, -0.3, 1.5]))


def test_l1_and_kl_div_fd():
    fd_check(lambda lib, a, b: lib.nn.functional.l1_loss(a, b), _x(3, 2), _x(3, 2))
    t = np.abs(_x(2, 3)) + 0.1
    fd_check(lambda lib, x: lib.nn.functional.kl_div(x, lib.tensor(t), reduction="batchmean"),
             _x(2, 3))


def test_kl_div_bad_reduction():
    raises_like(ValueError, lambda: F.kl_div(chainrule.ones(2), chainrule.ones(2), reduction="x"),
                lambda: torch.nn.functional.kl_div(torch.ones(2), torch.ones(2), reduction="x"))
