"""inv, det, slogdet, logdet, solve vs PyTorch (forward, 1st and 2nd order) and finite
differences; errors as PyTorch words them."""
import numpy as np
import pytest
import torch
from oracle import check, fd_check, raises_like

import chainrule


def _wellcond(rng, *shape, dtype=np.float64):
    """Random matrices kept well conditioned (diagonally dominant), so gradients are stable."""
    n = shape[-1]
    return (rng.standard_normal(shape) + 3 * np.eye(n)).astype(dtype)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1), (2, 0, 0)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inv(rng, shape, dtype):
    a = _wellcond(rng, *shape, dtype=dtype)
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == np.float32 else {}
    check(lambda t, x: t.linalg.inv(x), a, **tol)
    check(lambda t, x: t.inverse(x) * 2, a, **tol)
    c, tt = check(lambda t, x: x.inverse(), a, **tol)
    assert c.grad_fn.name() == tt.grad_fn.name() == "LinalgInvExBackward0"


def test_inv_noncontiguous_fd(rng):
    a = _wellcond(rng, 3, 3)
    check(lambda t, x: t.linalg.inv(x.mT), a)
    fd_check(lambda t, x: t.linalg.inv(x), a)


@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3), (1, 1), (0, 0)])
def test_det(rng, shape):
    a = _wellcond(rng, *shape)
    c, _tt = check(lambda t, x: t.linalg.det(x), a)
    assert c.grad_fn.name() == "LinalgDetBackward0"
    check(lambda t, x: t.det(x), a)
    check(lambda t, x: x.det(), a)
    if a.size:
        fd_check(lambda t, x: t.linalg.det(x), a)


def test_slogdet_logdet(rng):
    a = _wellcond(rng, 2, 3, 3)
    a[1] = -a[1]  # odd size: negative determinant
    c, _tt = check(lambda t, x: t.linalg.slogdet(x), a, grad=False)
    assert type(c).__name__ == "linalg_slogdet" and "sign=" in repr(c)
    check(lambda t, x: t.linalg.slogdet(x).logabsdet, a)
    check(lambda t, x: t.slogdet(x)[1], a)
    check(lambda t, x: x.slogdet().sign, a, grad=False)
    fd_check(lambda t, x: t.linalg.slogdet(x)[1], a)
    # logdet: NaN for negative determinants
    check(lambda t, x: t.logdet(x), a)
    check(lambda t, x: x.logdet(), np.abs(a[0]) + 3 * np.eye(3))
    check(lambda t, x: t.logdet(x), np.zeros((2, 2)), grad=False)


def test_slogdet_singular():
    check(lambda t, x: t.linalg.slogdet(x), np.zeros((3, 3)), grad=False)
    check(lambda t, x: t.linalg.det(x), np.zeros((3, 3)), grad=False)


@pytest.mark.parametrize("ashape,bshape", [
    ((3, 3), (3, 2)), ((3, 3), (3,)), ((2, 3, 3), (2, 3)), ((2, 3, 3), (3,)),
    ((2, 3, 3), (3, 4)), ((1, 3, 3), (2, 3, 1)), ((3, 3), (2, 3, 1)), ((0, 0), (0,)),
])
def test_solve(rng, ashape, bshape):
    a = _wellcond(rng, *ashape)
    b = rng.standard_normal(bshape)
    c, _tt = check(lambda t, x, y: t.linalg.solve(x, y), a, b)
    if c.requires_grad:
        assert c.grad_fn.name() == "LinalgSolveExBackward0"


def test_solve_left_false_and_fd(rng):
    a = _wellcond(rng, 2, 3, 3)
    b = rng.standard_normal((2, 4, 3))
    check(lambda t, x, y: t.linalg.solve(x, y, left=False), a, b)
    b2 = b.swapaxes(-1, -2)[..., :2]  # (2, 3, 2)
    check(lambda t, x, y: t.linalg.solve(x, y), a.astype(np.float32), b2.astype(np.float32),
          rtol=1e-4, atol=1e-5)
    fd_check(lambda t, x, y: t.linalg.solve(x, y), a[0], b2[0])


def test_linalg_cross(rng):
    a, b = rng.standard_normal((2, 4, 3))
    check(lambda t, x, y: t.linalg.cross(x, y), a, b)


def _pair(fn, *arrays):
    return (lambda: fn(chainrule, *[chainrule.tensor(a) for a in arrays]),
            lambda: fn(torch, *[torch.tensor(a) for a in arrays]))


@pytest.mark.parametrize("fn,arrays", [
    (lambda t, x: t.linalg.inv(x), [np.zeros((3, 3))]),
    (lambda t, x: t.linalg.inv(x), [np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])]),
    (lambda t, x: t.linalg.inv(x), [np.stack([np.eye(2), np.zeros((2, 2))])]),
    (lambda t, x: t.linalg.solve(x, x[0]), [np.zeros((3, 3))]),
])
def test_singular_errors(fn, arrays):
    err = raises_like(RuntimeError, *_pair(fn, *arrays))
    assert isinstance(err, chainrule.linalg.LinAlgError)


@pytest.mark.parametrize("fn,arrays", [
    (lambda t, x: t.linalg.inv(x), [np.zeros((2, 3))]),
    (lambda t, x: t.linalg.inv(x), [np.zeros(3)]),
    (lambda t, x: t.linalg.inv(x), [np.zeros((3, 3), dtype=np.int64)]),
    (lambda t, x: t.linalg.inv(x), [np.eye(3, dtype=np.float16)]),
    (lambda t, x: t.linalg.det(x), [np.zeros((2, 3))]),
    (lambda t, x: t.linalg.slogdet(x), [np.zeros(3)]),
    (lambda t, x, y: t.linalg.solve(x, y), [np.eye(3), np.ones(4)]),
    (lambda t, x, y: t.linalg.solve(x, y), [np.eye(3), np.ones((2, 4))]),
    (lambda t, x, y: t.linalg.solve(x, y), [np.ones((2, 3)), np.ones(3)]),
    (lambda t, x, y: t.linalg.solve(x, y), [np.eye(3), np.ones(3, dtype=np.float32)]),
    (lambda t, x, y: t.linalg.solve(x, y), [np.ones((2, 3, 3)), np.ones((4, 3, 1))]),
])
def test_shape_dtype_errors(fn, arrays):
    raises_like(RuntimeError, *_pair(fn, *arrays))


@pytest.mark.parametrize("ord", [1, -1, float("inf"), -float("inf")])
@pytest.mark.parametrize("dim,keepdim", [((-2, -1), False), ((0, 2), True), ((2, 1), False)])
def test_matrix_norm_abs_sum(rng, ord, dim, keepdim):
    a = rng.standard_normal((2, 3, 4))
    check(lambda t, x: t.linalg.matrix_norm(x, ord, dim=dim, keepdim=keepdim), a)
    check(lambda t, x: t.linalg.matrix_norm(x.mT, ord), a.astype(np.float32), rtol=1e-4)
    fd_check(lambda t, x: t.linalg.norm(x, ord), a[0])


@pytest.mark.parametrize("fn,arrays", [
    (lambda t, x: t.linalg.matrix_norm(x, 1), [np.ones(3)]),
    (lambda t, x: t.linalg.matrix_norm(x, 3), [np.ones((2, 2))]),
    (lambda t, x: t.linalg.matrix_norm(x, 1, dim=(0, 0)), [np.ones((2, 2))]),
    (lambda t, x: t.linalg.matrix_norm(x, -1), [np.ones((2, 2), dtype=np.int64)]),
])
def test_matrix_norm_errors(fn, arrays):
    raises_like(RuntimeError, *_pair(fn, *arrays))
