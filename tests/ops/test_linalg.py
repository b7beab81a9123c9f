"""Linear algebra vs PyTorch: matmul over every rank combination, mm/bmm/dot/mv/outer,
linear/addmm, einsum, tensordot; values, dtypes, grad_fn names, 1st/2nd order, errors."""
# ruff: noqa: B023  (loop lambdas are called at once, inside their own iteration)
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import assert_same, check, fd_check, raises_like, to_both

import chainrule
from chainrule.ops.linalg import bilinear, linear

F32 = np.float32


def r(rng, *shape, dtype=F32):
    return rng.standard_normal(shape).astype(dtype)


RANKS = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)), ((5, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((3,), (5, 3, 4)), ((5, 2, 3), (3,)),
    ((2, 1, 2, 3), (5, 3, 4)), ((1, 2, 3), (4, 3, 2)), ((2, 5, 2, 3), (5, 3, 1)),
    ((0, 3), (3, 2)), ((2, 0), (0, 3)),
]


@pytest.mark.parametrize("sa,sb", RANKS)
def test_matmul_all_ranks(rng, sa, sb):
    a, b = r(rng, *sa), r(rng, *sb)
    check(lambda t, x, y: t.matmul(x, y), a, b, rtol=1e-4)
    # second order with non-zero mixed terms
    check(lambda t, x, y: (x @ y) * x.sum(), a.astype(np.float64), b.astype(np.float64))


@pytest.mark.parametrize("sa,sb", RANKS[:10])
def test_matmul_fd(rng, sa, sb):
    fd_check(lambda t, x, y: x @ y, r(rng, *sa, dtype=np.float64), r(rng, *sb, dtype=np.float64))


def test_matmul_transposed_views_and_rmatmul(rng):
    a = r(rng, 4, 3).T  # non-contiguous operands
    b = r(rng, 5, 4).T
    check(lambda t, x, y: x @ y, a, b, rtol=1e-4)
    check(lambda t, x, y: y.__rmatmul__(x), a, b, rtol=1e-4)
    check(lambda t, x, y: t.matmul(x.mT, y.mT.mT), r(rng, 2, 3, 4), r(rng, 2, 3, 5), rtol=1e-4)


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (3, 4))])
def test_matmul_grad_fn_names(rng, sa, sb):
    ca, ta = to_both(r(rng, *sa))
    cb, tb = to_both(r(rng, *sb))
    assert (ca @ cb).grad_fn.name() == (ta @ tb).grad_fn.name()


def test_rank_specific_functions(rng):
    m, n = r(rng, 2, 3), r(rng, 3, 4)
    v, w = r(rng, 3), r(rng, 3)
    b1, b2 = r(rng, 2, 3, 4), r(rng, 2, 4, 5)
    for fn, args in [
        (lambda t, x, y: t.mm(x, y), (m, n)), (lambda t, x, y: x.mm(y), (m, n)),
        (lambda t, x, y: t.bmm(x, y), (b1, b2)), (lambda t, x, y: x.bmm(y), (b1, b2)),
        (lambda t, x, y: t.dot(x, y), (v, w)), (lambda t, x, y: x.vdot(y), (v, w)),
        (lambda t, x, y: t.mv(x, y), (m, v)), (lambda t, x, y: t.outer(x, y), (v, r(rng, 4))),
        (lambda t, x, y: x.ger(y), (v, w)), (lambda t, x, y: t.inner(x, y), (m, r(rng, 4, 3))),
        (lambda t, x, y: t.inner(x, y), (v, w)),
    ]:
        check(fn, *args, rtol=1e-4)
    for name, args in [("mm", (m, n)), ("bmm", (b1, b2)), ("dot", (v, w)), ("vdot", (v, w)),
                       ("mv", (m, v)), ("outer", (v, w)), ("ger", (v, w))]:
        c_out = getattr(chainrule, name)(*[to_both(a)[0] for a in args])
        t_out = getattr(torch, name)(*[to_both(a)[1] for a in args])
        assert c_out.grad_fn.name() == t_out.grad_fn.name()


def test_dtypes_kept(rng):
    check(lambda t, x, y: x @ y, r(rng, 2, 3, dtype=np.float64), r(rng, 3, 2, dtype=np.float64))
    check(lambda t, x, y: x @ y, r(rng, 2, 3, dtype=np.float16), r(rng, 3, 2, dtype=np.float16),
          grad=False)
    ci, ti = to_both(np.arange(6).reshape(2, 3))
    cj, tj = to_both(np.arange(6).reshape(3, 2))
    assert_same(ci @ cj, ti @ tj)
    cv, tv = to_both(np.arange(3))
    assert_same(chainrule.dot(cv, cv), torch.dot(tv, tv))


# ---- linear / addmm / baddbmm ---------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3), (3,), (2, 2, 2, 3), (0, 3)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear(rng, shape, with_bias):
    x, w, b = r(rng, *shape), r(rng, 6, 3), r(rng, 6)
    if with_bias:
        check(lambda t, a, ww, bb: (linear if t is chainrule else TF.linear)(a, ww, bb), x, w, b, rtol=1e-4)
        check(lambda t, a, ww, bb: (linear if t is chainrule else TF.linear)(a, ww, bb) ** 2,
              x.astype(np.float64), w.astype(np.float64), b.astype(np.float64))
    else:
        check(lambda t, a, ww: (linear if t is chainrule else TF.linear)(a, ww) ** 2,
              x.astype(np.float64), w.astype(np.float64))


def test_linear_is_one_node_named_like_torch(rng):
    cx, tx = to_both(r(rng, 4, 3))
    cw, tw = to_both(r(rng, 6, 3))
    cb, tb = to_both(r(rng, 6))
    y = linear(cx, cw, cb)
    assert y.grad_fn.name() == TF.linear(tx, tw, tb).grad_fn.name() == "AddmmBackward0"
    assert len(y.grad_fn.next_functions) == 3
    assert all(f.name() == "torch::autograd::AccumulateGrad" for f, _ in y.grad_fn.next_functions)
    assert linear(cx, cw).grad_fn.name() == TF.linear(tx, tw).grad_fn.name()
    c3 = chainrule.tensor(r(rng, 2, 4, 3), requires_grad=True)
    y3 = linear(c3, cw, cb)
    assert [f.name() for f, _ in y3.grad_fn.next_functions] == ["torch::autograd::AccumulateGrad"] * 3


def test_linear_fd(rng):
    fd_check(lambda t, a, ww, bb: linear(a, ww, bb), r(rng, 2, 2, 3, dtype=np.float64),
             r(rng, 2, 3, dtype=np.float64), r(rng, 2, dtype=np.float64))


def test_addmm_baddbmm(rng):
    for beta, alpha in [(1, 1), (0.5, 2.0), (0, 1)]:
        check(lambda t, c, a, b: t.addmm(c, a, b, beta=beta, alpha=alpha),
              r(rng, 3), r(rng, 2, 4), r(rng, 4, 3), rtol=1e-4)
        check(lambda t, c, a, b: t.baddbmm(c, a, b, beta=beta, alpha=alpha),
              r(rng, 2, 2, 3), r(rng, 2, 2, 4), r(rng, 2, 4, 3), rtol=1e-4)
    check(lambda t, c, a, b: c.addmm(a, b) * a.sum(), r(rng, 2, 3), r(rng, 2, 4), r(rng, 4, 3),
          rtol=1e-4)
    c, t = to_both(r(rng, 3))
    a, ta = to_both(r(rng, 2, 4))
    b, tb = to_both(r(rng, 4, 3))
    assert chainrule.addmm(c, a, b).grad_fn.name() == torch.addmm(t, ta, tb).grad_fn.name()
    fd_check(lambda t, cc, aa, bb: t.addmm(cc, aa, bb, beta=0.5, alpha=2.0),
             r(rng, 3, dtype=np.float64), r(rng, 2, 4, dtype=np.float64), r(rng, 4, 3, dtype=np.float64))


def test_bilinear(rng):
    check(lambda t, a, b, w, bias: (bilinear if t is chainrule else TF.bilinear)(a, b, w, bias),
          r(rng, 4, 3), r(rng, 4, 2), r(rng, 5, 3, 2), r(rng, 5), rtol=1e-4)


# ---- einsum / tensordot -------------------------------------------------------------------
EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]), ("ij->", [(2, 3)]), ("i,j->ij", [(2,), (3,)]), ("ba", [(2, 3)]),
    ("...ij,...jk->...ik", [(5, 2, 3), (5, 3, 4)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("ijk->kji", [(2, 3, 4)]), ("i,i->", [(3,), (3,)]), ("ij,ij->ij", [(2, 3), (2, 3)]),
    ("iij->j", [(3, 3, 2)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ij,j->i", [(2, 3), (1,)]), ("...,...->...", [(2, 3), (3,)]), ("i...->...", [(2, 3, 4)]),
    ("ij,kj->ikj", [(2, 3), (4, 3)]), ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij , jk -> ik", [(2, 3), (3, 4)]), ("iji->j", [(2, 3, 2)]), ("Ab,bc->Ac", [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM)
def test_einsum(rng, eq, shapes):
    arrays = [r(rng, *s, dtype=np.float64) for s in shapes]
    check(lambda t, *xs: t.einsum(eq, *xs), *arrays)
    check(lambda t, *xs: t.einsum(eq, *xs) * xs[0].sum(), *arrays)  # mixed second order
    check(lambda t, *xs: t.einsum(eq, list(xs)), *[a.astype(F32) for a in arrays], rtol=1e-4)


@pytest.mark.parametrize("eq,shapes", EINSUM[:8])
def test_einsum_fd(rng, eq, shapes):
    fd_check(lambda t, *xs: t.einsum(eq, *xs), *[r(rng, *s, dtype=np.float64) for s in shapes])


def test_tensordot(rng):
    a, b = r(rng, 2, 3, 4), r(rng, 3, 4, 5)
    check(lambda t, x, y: t.tensordot(x, y), a, b, rtol=1e-4)
    check(lambda t, x, y: t.tensordot(x, y, 1), r(rng, 2, 3), r(rng, 3, 4), rtol=1e-4)
    check(lambda t, x, y: t.tensordot(x, y, ([1, 0], [1, 0])), r(rng, 3, 2, 4), b[:, :2], rtol=1e-4)
    check(lambda t, x, y: t.tensordot(x, y, dims=([0], [2])), r(rng, 5, 2), b, rtol=1e-4)
    check(lambda t, x, y: t.tensordot(x, y, 0), r(rng, 2), r(rng, 3), rtol=1e-4)


# ---- errors -------------------------------------------------------------------------------
def _pair(rng, sa, sb, db="float32"):
    ca, ta = to_both(r(rng, *sa), requires_grad=False)
    cb, tb = to_both(r(rng, *sb).astype(db), requires_grad=False)
    return ca, ta, cb, tb


@pytest.mark.parametrize("sa,sb", [
    ((2, 3), (4, 2)), ((2, 3, 4), (5, 2)), ((4,), (5, 2)), ((2, 3), (4,)), ((2, 5, 3), (4,)),
    ((3,), (2, 4, 5)), ((2, 1, 3, 4), (3, 5, 2)), ((2, 3, 4), (2, 5, 6)), ((3, 4), (2, 5, 3)),
    ((2, 3, 4), (3, 5, 6)), ((0, 3), (4, 2)), ((3,), (4,)), ((), (3,)), ((2, 3), ()),
])
def test_matmul_shape_errors(rng, sa, sb):
    ca, ta, cb, tb = _pair(rng, sa, sb)
    raises_like(RuntimeError, lambda: ca @ cb, lambda: ta @ tb)


def test_named_function_errors(rng):
    cases = [
        ("mm", (2, 3), (4, 2)), ("mm", (3,), (2, 3)), ("mm", (2, 3), (2, 3, 3)),
        ("bmm", (2, 3), (2, 3)), ("bmm", (1, 2, 3), (1, 3)), ("bmm", (2, 3, 4), (3, 4, 5)),
        ("bmm", (2, 3, 4), (2, 5, 5)), ("dot", (3,), (4,)), ("dot", (2, 3), (3,)),
        ("vdot", (3,), (4,)), ("mv", (2, 3), (4,)), ("mv", (2, 3), (2, 3)), ("mv", (3,), (3,)),
        ("outer", (2, 3), (3,)), ("outer", (3,), (2, 3)), ("tensordot", (2, 3), (4, 3)),
    ]
    for name, sa, sb in cases:
        ca, ta, cb, tb = _pair(rng, sa, sb)
        if name == "tensordot":
            raises_like(RuntimeError, lambda: chainrule.tensordot(ca, cb, ([1], [0])),
                        lambda: torch.tensordot(ta, tb, ([1], [0])))
            continue
        raises_like(RuntimeError, lambda: getattr(chainrule, name)(ca, cb),
                    lambda: getattr(torch, name)(ta, tb))


def test_dtype_mismatch_errors(rng):
    for sa, sb, name in [((2, 3), (3, 2), "matmul"), ((2, 3), (3, 2), "mm"), ((3,), (3,), "dot"),
                         ((2, 3), (3,), "mv"), ((1, 2, 3), (1, 3, 2), "bmm"),
                         ((1, 2, 3), (3, 2), "matmul")]:
        ca, ta, cb, tb = _pair(rng, sa, sb, "float64")
        raises_like(RuntimeError, lambda: getattr(chainrule, name)(ca, cb),
                    lambda: getattr(torch, name)(ta, tb))
    ca, ta, cb, tb = _pair(rng, (2, 3), (4, 3), "float64")
    raises_like(RuntimeError, lambda: linear(ca, cb), lambda: TF.linear(ta, tb))
    cw, tw = to_both(r(rng, 4, 3), requires_grad=False)
    cb, tb = to_both(r(rng, 4, dtype=np.float64), requires_grad=False)
    raises_like(RuntimeError, lambda: linear(ca, cw, cb), lambda: TF.linear(ta, tw, tb))
    raises_like(RuntimeError, lambda: chainrule.addmm(cb, ca, cw.T), lambda: torch.addmm(tb, ta, tw.T))


def test_linear_addmm_errors(rng):
    for sx, sw, sb in [((2, 3), (2, 4), None), ((2, 3), (5, 3), (4,)), ((), (2, 3), None),
                       ((3,), (2, 3, 3), None), ((2, 3), (3,), (2,)), ((2, 2, 3), (4, 2), None)]:
        cx, tx = to_both(r(rng, *sx), requires_grad=False)
        cw, tw = to_both(r(rng, *sw), requires_grad=False)
        cb, tb = to_both(r(rng, *sb), requires_grad=False) if sb else (None, None)
        raises_like(RuntimeError, lambda: linear(cx, cw, cb), lambda: TF.linear(tx, tw, tb))
    for sc, sa, sb in [((3,), (2,), (2, 3)), ((5,), (2, 2), (2, 3)), ((3,), (2, 4), (3, 3))]:
        cc, tc = to_both(r(rng, *sc), requires_grad=False)
        ca, ta = to_both(r(rng, *sa), requires_grad=False)
        cb, tb = to_both(r(rng, *sb), requires_grad=False)
        raises_like(RuntimeError, lambda: chainrule.addmm(cc, ca, cb), lambda: torch.addmm(tc, ta, tb))


@pytest.mark.parametrize("eq,shapes", [
    ("i,i", [(3,), (4,)]), ("ij->j", [(2, 3), (3, 2)]), ("ij,jk->ik", [(2, 3)]),
    ("ij->ijk", [(2, 3)]), ("ijk", [(2, 3)]), ("ii", [(3, 2)]), ("ij->iij", [(2, 3)]),
    ("ij..->", [(2, 3)]), ("ij,jk", [(2, 3), (4, 2)]),
])
def test_einsum_errors(rng, eq, shapes):
    pairs = [to_both(r(rng, *s), requires_grad=False) for s in shapes]
    raises_like(RuntimeError, lambda: chainrule.einsum(eq, *[p[0] for p in pairs]),
                lambda: torch.einsum(eq, *[p[1] for p in pairs]))


# ---- hypothesis: random batched shapes ----------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(
    batch_a=st.lists(st.integers(1, 3), max_size=2), batch_b=st.lists(st.integers(1, 3), max_size=2),
    n=st.integers(1, 3), k=st.integers(1, 3), m=st.integers(1, 3),
    vec_a=st.booleans(), vec_b=st.booleans(),
)
def test_matmul_random_broadcast(batch_a, batch_b, n, k, m, vec_a, vec_b):
    # make the batch dims broadcastable: where both have a dim, one of them is 1 or equal
    la, lb = len(batch_a), len(batch_b)
    for i in range(1, min(la, lb) + 1):
        if batch_a[-i] != batch_b[-i]:
            batch_b[-i] = 1
    sa = (k,) if vec_a else tuple(batch_a) + (n, k)
    sb = (k,) if vec_b else tuple(batch_b) + (k, m)
    rng = np.random.default_rng(la + 3 * lb)
    check(lambda t, x, y: x @ y, rng.standard_normal(sa), rng.standard_normal(sb))


def test_broadcast_operands_go_to_blas(rng):
    # The gradient of a sum is a zero-stride view; NumPy's matmul leaves BLAS for such
    # operands (~40x slower), so the product copies them once first.
    from chainrule.ops.linalg import _blas

    v = np.broadcast_to(np.float32(1.0), (64, 64))
    assert 0 not in _blas(v).strides
    t = r(rng, 3, 4)
    assert _blas(t.T) is not None and _blas(t.T).base is t  # a transposed view is kept as is
    check(lambda tt, x, y: x.expand(3, 4) @ y, r(rng, 1, 4), r(rng, 4, 5), rtol=1e-4)
    check(lambda tt, x, y: (x @ y).sum() * 1.0, r(rng, 3, 4), r(rng, 4, 5), rtol=1e-4)


def test_float16_grads(rng):
    check(lambda t, x, y: x @ y, r(rng, 2, 3, dtype=np.float16), r(rng, 3, 4, dtype=np.float16))
    check(lambda t, x, y: t.einsum("ij,jk->ik", x, y), r(rng, 2, 3, dtype=np.float16),
          r(rng, 3, 4, dtype=np.float16))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(64, 5), (3, 7, 5), (0, 5), (5,)])
def test_linear_bias_grad_plain_backward(rng, dtype, shape):
    # Plain backward (no create_graph) sums the bias gradient with one BLAS product; the
    # upstream gradient is made non-contiguous by a transpose downstream.
    x, w, b = r(rng, *shape, dtype=dtype), r(rng, 6, 5, dtype=dtype), r(rng, 6, dtype=dtype)
    up = r(rng, 6, *shape[:-1], dtype=dtype)
    grads = []
    for L, lin in ((chainrule, linear), (torch, TF.linear)):
        xs = [L.tensor(a, requires_grad=True) for a in (x, w, b)]
        y = lin(*xs)
        y.movedim(-1, 0).backward(L.tensor(up))
        grads.append([t.grad for t in xs])
    assert_same(grads[0], grads[1], rtol=1e-5, atol=1e-5)
    bias = r(rng, 3, dtype=dtype)
    for beta in (0.5, 0):
        c = chainrule.tensor(bias, requires_grad=True)
        t = torch.tensor(bias, requires_grad=True)
        for L, bb in ((chainrule, c), (torch, t)):
            o = [L.tensor(np.ones(s, dtype)) for s in ((4, 2), (2, 3))]
            L.addmm(bb, *o, beta=beta).sum().backward()
        assert_same(c.grad, t.grad)


def test_matmul_gradients_of_permuted_head_views():
    # attention's heads split out of one projection: q, k and v are permuted views of it,
    # and their gradients come back through transpose, reshape and split; against PyTorch,
    # second derivatives included, and finite differences in float64
    def attn(L, qkv):
        q, k, v = qkv.split(4, dim=-1)
        q, k, v = (t.reshape(2, 5, 2, 2).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)).softmax(-1)
        return (att @ v).transpose(1, 2).reshape(2, 5, 4)

    x = np.random.default_rng(7).standard_normal((2, 5, 12))
    check(attn, x.astype(np.float32), rtol=1e-4, atol=1e-5)
    fd_check(attn, x)
