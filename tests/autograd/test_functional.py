"""autograd.functional and chainrule.func against torch's."""
import numpy as np
import pytest
import torch
import torch.autograd.functional as TF
import torch.func as tfunc
from oracle import assert_same

import chainrule
import chainrule.autograd.functional as CF
from chainrule import func as cfunc

X = np.array([0.5, -1.2, 2.0])
Y = np.array([[1.0, 2.0], [3.0, -1.0]])


def f_vec(lib):
    return lambda x: x ** 3 * 2 + x


def f_scalar(lib):
    return lambda x: (x ** 3).sum() + (x * x).prod()


def f_two(lib):
    return lambda x, y: ((x[:2] * y.sum(0)) ** 2).sum() + x.sum() * 3


def both(a):
    return chainrule.tensor(a), torch.tensor(a)


def test_vjp_jvp_jacobian_hessian_hvp_vhp_match_torch():
    cx, tx = both(X)
    v = np.array([1.0, -2.0, 0.5])
    cv, tv = both(v)
    assert_same(CF.vjp(f_vec(chainrule), cx, cv), TF.vjp(f_vec(torch), tx, tv))
    assert_same(CF.jvp(f_vec(chainrule), cx, cv), TF.jvp(f_vec(torch), tx, tv))
    assert_same(CF.jacobian(f_vec(chainrule), cx), TF.jacobian(f_vec(torch), tx))
    assert_same(CF.hessian(f_scalar(chainrule), cx), TF.hessian(f_scalar(torch), tx), rtol=1e-6)
    assert_same(CF.hvp(f_scalar(chainrule), cx, cv), TF.hvp(f_scalar(torch), tx, tv), rtol=1e-6)
    assert_same(CF.vhp(f_scalar(chainrule), cx, cv), TF.vhp(f_scalar(torch), tx, tv), rtol=1e-6)


def test_jacobian_and_hessian_of_several_inputs():
    cx, tx = both(X)
    cy, ty = both(Y)
    assert_same(CF.jacobian(f_two(chainrule), (cx, cy)), TF.jacobian(f_two(torch), (tx, ty)))
    assert_same(CF.hessian(f_two(chainrule), (cx, cy)), TF.hessian(f_two(torch), (tx, ty)), rtol=1e-6)


def test_create_graph_allows_differentiating_the_jacobian():
    for lib, F in ((chainrule, CF), (torch, TF)):
        x = lib.tensor(X, requires_grad=True)
        J = F.jacobian(lambda x: x ** 3, x, create_graph=True)
        (g,) = lib.autograd.grad(J.sum(), x)
        np.testing.assert_allclose(g.detach().numpy(), 6 * X)


def test_user_inputs_get_no_grad():
    x = chainrule.tensor(X, requires_grad=True)
    CF.jacobian(f_vec(chainrule), x)
    assert x.grad is None


@pytest.mark.parametrize("F,lib", [(CF, chainrule), (TF, torch)], ids=["chainrule", "torch"])
def test_strict_mode_rejects_independent_outputs(F, lib):
    x, y = lib.tensor(X), lib.tensor(X)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is independent of input 1"):
        F.jacobian(lambda x, y: x * 2, (x, y), strict=True)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not require gradients"):
        F.jacobian(lambda x: lib.ones(2), x, strict=True)


def test_func_grad_composes_and_matches_torch_func():
    cx, tx = both(X)
    assert_same(cfunc.grad(f_scalar(chainrule))(cx), tfunc.grad(f_scalar(torch))(tx))
    c2 = cfunc.grad(lambda x: cfunc.grad(lambda y: (y ** 4).sum())(x).sum())(cx)
    t2 = tfunc.grad(lambda x: tfunc.grad(lambda y: (y ** 4).sum())(x).sum())(tx)
    assert_same(c2, t2)
    cy, ty = both(Y)
    assert_same(cfunc.grad(f_two(chainrule), argnums=(0, 1))(cx, cy), tfunc.grad(f_two(torch), argnums=(0, 1))(tx, ty))


def test_func_grad_and_value_has_aux_vjp_jacrev_hessian():
    cx, tx = both(X)
    fc = lambda x: ((x ** 2).sum(), x * 2)
    ft = lambda x: ((x ** 2).sum(), x * 2)
    (gc, (vc, ac)) = cfunc.grad_and_value(fc, has_aux=True)(cx)
    (gt, (vt, at)) = tfunc.grad_and_value(ft, has_aux=True)(tx)
    assert_same((gc, vc, ac), (gt, vt, at))
    oc, fnc = cfunc.vjp(f_vec(chainrule), cx)
    ot, fnt = tfunc.vjp(f_vec(torch), tx)
    cv, tv = both(np.array([1.0, 0.0, -1.0]))
    assert_same((oc, fnc(cv)), (ot, fnt(tv)))
    assert_same(cfunc.jacrev(f_vec(chainrule))(cx), tfunc.jacrev(f_vec(torch))(tx))
    assert_same(cfunc.hessian(f_scalar(chainrule))(cx), tfunc.hessian(f_scalar(torch))(tx), rtol=1e-6)
