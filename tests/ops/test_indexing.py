"""Indexing against PyTorch: getitem/setitem over a hypothesis-drawn mix of index kinds,
gather/scatter/index ops, masks, pad; first and second derivatives, finite differences,
accumulation over repeated indices, view semantics and error messages."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import assert_same, check, fd_check, raises_like

import chainrule

R = np.random.default_rng(0)


def arr(*shape):
    return R.standard_normal(shape).astype(np.float32)


def F(t):
    return t.nn.functional


def L(t, values):
    return t.tensor(values, dtype=t.int64)


def _names(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o.grad_fn.name().replace("torch::autograd::", "") for o in outs if o.grad_fn is not None]


# ---- drawing indices -----------------------------------------------------------------------
@st.composite
def index_cases(draw, for_setitem=False):
    """(shape, spec): an index as plain data, built for either library by ``build``."""
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    adv_len = draw(st.integers(1, 3))
    state = {"mask": False, "ints": False}

    def item(d):
        size = shape[d]
        kinds = ["int", "slice", "slice", "full", "list", "tensor", "tensor0"]
        if not state["mask"] and not state["ints"]:
            kinds.append("mask")
        kind = draw(st.sampled_from(kinds))
        if kind == "int":
            return ("int", draw(st.integers(-size, size - 1)))
        if kind == "tensor0":
            return ("tensor0", draw(st.integers(-size, size - 1)))
        if kind == "full":
            return ("slice", None, None, None)
        if kind == "slice":
            bound = st.none() | st.integers(-size - 1, size + 1)
            return ("slice", draw(bound), draw(bound), draw(st.none() | st.integers(1, 3)))
        if kind == "mask":
            if state["ints"]:
                return ("int", 0)
            state["mask"] = True
            return ("mask", draw(st.lists(st.booleans(), min_size=size, max_size=size)))
        if state["mask"]:
            return ("int", draw(st.integers(-size, size - 1)))
        state["ints"] = True
        vals = draw(st.lists(st.integers(-size, size - 1), min_size=adv_len, max_size=adv_len))
        return (kind, vals)

    head = draw(st.integers(0, ndim))
    spec = []
    for d in range(head):
        if draw(st.booleans()) and draw(st.booleans()):
            spec.append(("none",))
        spec.append(item(d))
    if draw(st.booleans()):
        spec.append(("ell",))
        tail = draw(st.integers(0, ndim - head))
        for d in range(ndim - tail, ndim):
            spec.append(item(d))
    if draw(st.booleans()):
        spec.append(("none",))
    if not spec:
        spec = [("slice", None, None, None)]
    return shape, spec


def build(t, spec):
    out = []
    for s in spec:
        k = s[0]
        if k == "int":
            out.append(s[1])
        elif k == "slice":
            out.append(slice(*s[1:]))
        elif k == "none":
            out.append(None)
        elif k == "ell":
            out.append(Ellipsis)
        elif k == "list":
            out.append(list(s[1]))
        elif k in ("tensor", "tensor0"):
            out.append(L(t, s[1]))
        else:
            out.append(t.tensor(s[1], dtype=t.bool))
    return tuple(out)


@settings(max_examples=60, deadline=None)
@given(index_cases(), st.booleans())
def test_getitem_hypothesis_against_torch(case, strided):
    shape, spec = case
    if strided:  # index a non-contiguous tensor: the transpose of a reversed-shape one
        rev = tuple(reversed(range(len(shape))))
        check(lambda t, a: a.permute(*rev)[build(t, spec)] ** 2, arr(*shape[::-1]))
    x = arr(*shape)
    check(lambda t, a: a[build(t, spec)] ** 2, x)
    cx, tx = chainrule.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    assert _names((cx * 1)[build(chainrule, spec)]) == _names((tx * 1)[build(torch, spec)])


@settings(max_examples=30, deadline=None)
@given(index_cases(), st.booleans())
def test_setitem_hypothesis_against_torch(case, scalar):
    shape, spec = case
    x = arr(*shape)

    def fn(t, a, v):
        y = a * 1
        y[build(t, spec)] = 2.5 if scalar else v  # a 0-d value: repeated indices agree
        return y**2

    check(fn, x, np.float32(0.7))


GETITEM = [
    ("int", lambda t, x: x[1], (3, 4)),
    ("neg_int", lambda t, x: x[-1, -2], (3, 4)),
    ("int_1d_0d_view", lambda t, x: x[2], (4,)),
    ("slice_step", lambda t, x: x[::2, 1:3], (5, 4)),
    ("slice_past_end", lambda t, x: x[1:10], (3, 4)),
    ("none_ell", lambda t, x: x[None, ..., None], (3, 4)),
    ("ell_int", lambda t, x: x[..., 1], (2, 3, 4)),
    ("list", lambda t, x: x[[2, 0, 2]], (3, 4)),
    ("list_2d", lambda t, x: x[L(t, [[0, 1], [2, 2]])], (3, 4)),
    ("two_lists", lambda t, x: x[[0, 2], [1, 3]], (3, 4)),
    ("list_broadcast", lambda t, x: x[L(t, [[0], [2]]), L(t, [1, 3])], (3, 4)),
    ("separated_adv", lambda t, x: x[[0, 1], :, [1, 2]], (2, 3, 4)),
    ("int_then_adv_torch_order", lambda t, x: x[0, :, [0, 1]], (2, 3, 4)),
    ("slice_adv", lambda t, x: x[1:, [0, 0, 3]], (3, 4)),
    ("mask", lambda t, x: x[t.tensor([[True, False, True, False]] * 3)], (3, 4)),
    ("mask_rows", lambda t, x: x[t.tensor([True, False, True])], (3, 4)),
    ("mask_then_slice", lambda t, x: x[t.tensor([False, True, True]), 1:], (3, 4)),
    ("mask_all_false", lambda t, x: x[t.tensor([False, False, False])], (3, 4)),
    ("true", lambda t, x: x[True], (3,)),
    ("false", lambda t, x: x[False], (3,)),
    ("0d_tensor", lambda t, x: x[L(t, 1)], (3, 4)),
    ("int32_index", lambda t, x: x[t.tensor([2, 0], dtype=t.int32)], (3, 4)),
    ("empty_list", lambda t, x: x[L(t, [])], (3, 4)),
    ("on_0d_ell", lambda t, x: x[...], ()),
    ("on_0d_none", lambda t, x: x[None], ()),
    ("on_empty", lambda t, x: x[:, 1], (0, 3)),
    ("non_contiguous", lambda t, x: x.t()[[1, 1], 1:], (3, 4)),
]


@pytest.mark.parametrize("name,fn,shape", GETITEM, ids=[g[0] for g in GETITEM])
def test_getitem_cases(name, fn, shape):
    x = arr(*shape)
    check(lambda t, a: fn(t, a) ** 2, x)
    cx, tx = chainrule.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    assert _names(fn(chainrule, cx * 1)) == _names(fn(torch, tx * 1))


def test_repeated_indices_accumulate():
    x = chainrule.zeros(4, requires_grad=True)
    x[[0, 0, 3, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 0, 0, 1])
    x.grad = None
    (x.index_select(0, L(chainrule, [1, 1])) * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 4, 0, 0])
    x.grad = None
    x.take(L(chainrule, [2, 2, 2])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 3, 0])
    x.grad = None
    x.gather(0, L(chainrule, [3, 3])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0, 2])
    y = chainrule.zeros(3).index_put((L(chainrule, [1, 1, 1]),), chainrule.ones(3), accumulate=True)
    np.testing.assert_array_equal(y.numpy(), [0, 3, 0])
    z = chainrule.zeros(3).index_add(0, L(chainrule, [2, 2]), chainrule.ones(2), alpha=2)
    np.testing.assert_array_equal(z.numpy(), [0, 0, 4])


# ---- ops along a dim, masks, take, nonzero -----------------------------------------------
def _i(t, shape, high, seed=1):
    return L(t, np.random.default_rng(seed).integers(0, high, shape).tolist())


OPS = [
    ("index_select", lambda t, x: x.index_select(1, L(t, [3, 0, 3])), [(3, 4)]),
    ("index_select_fn", lambda t, x: t.index_select(x, -2, L(t, [2])), [(3, 4)]),
    ("index_select_0d_index", lambda t, x: x.index_select(0, L(t, 1)), [(3, 4)]),
    ("gather", lambda t, x: x.gather(1, _i(t, (3, 5), 4)), [(3, 4)]),
    ("gather_smaller", lambda t, x: t.gather(x, 0, _i(t, (2, 2), 3)), [(3, 4)]),
    ("gather_int32", lambda t, x: x.gather(1, t.tensor([[0, 0], [3, 1], [2, 2]], dtype=t.int32)), [(3, 4)]),
    ("scatter_src", lambda t, x, s: x.scatter(1, L(t, [[0, 2], [1, 3], [3, 0]]), s), [(3, 4), (3, 2)]),
    ("scatter_value", lambda t, x: x.scatter(0, L(t, [[2, 0, 1, 0]]), 1.5), [(3, 4)]),
    ("scatter_fn", lambda t, x, s: t.scatter(x, 0, L(t, [[2, 0, 1, 0]]), s), [(3, 4), (1, 4)]),
    ("scatter_add", lambda t, x, s: x.scatter_add(0, _i(t, (4, 4), 3), s), [(3, 4), (4, 4)]),
    ("scatter_add_fn", lambda t, x, s: t.scatter_add(x, 1, _i(t, (3, 6), 4), s), [(3, 4), (3, 6)]),
    ("index_add", lambda t, x, s: x.index_add(0, L(t, [2, 0, 2]), s), [(3, 4), (3, 4)]),
    ("index_add_alpha", lambda t, x, s: t.index_add(x, 1, L(t, [1]), s, alpha=-2.0), [(3, 4), (3, 1)]),
    ("index_put", lambda t, x, v: x.index_put((L(t, [0, 2]), L(t, [1, 1])), v), [(3, 4), (2,)]),
    ("index_put_acc", lambda t, x, v: x.index_put((L(t, [0, 0]),), v, accumulate=True), [(3, 4), (4,)]),
    ("masked_fill", lambda t, x: x.masked_fill(t.tensor([True, False, True, False]), -1.0), [(3, 4)]),
    ("masked_fill_tensor", lambda t, x, v: t.masked_fill(x, t.tensor([[True], [False], [True]]), v), [(3, 4), ()]),
    ("masked_fill_broadcast", lambda t, x: x.masked_fill(t.tensor([[True, False, True]] * 2), 2.0), [(3,)]),
    ("masked_fill_both_broadcast", lambda t, x: x.masked_fill(t.tensor([[True, False, True]]), 2.0), [(2, 1)]),
    ("masked_fill_causal", lambda t, x: x.masked_fill(t.triu(t.ones(4, 4, dtype=t.bool), 1), float("-inf")).softmax(-1), [(2, 3, 4, 4)]),
    ("masked_select", lambda t, x: x.masked_select(t.tensor([True, False, True, True])), [(3, 4)]),
    ("masked_select_bcast", lambda t, x: t.masked_select(x, t.tensor([[True], [False]])), [(3,)]),
    ("take", lambda t, x: x.take(L(t, [[0, 11], [5, 5]])), [(3, 4)]),
    ("take_fn_nc", lambda t, x: t.take(x.t(), L(t, [1, 2, -1])), [(3, 4)]),
    ("gather_nc", lambda t, x: x.t().gather(0, _i(t, (2, 3), 4)), [(3, 4)]),
    ("index_select_nc", lambda t, x: x.t().index_select(1, L(t, [0, 0, 2])), [(3, 4)]),
    ("masked_fill_nc", lambda t, x: x.t().masked_fill(t.tensor([True, False, True]), 0.5), [(3, 4)]),
    ("scatter_add_nc", lambda t, x, s: x.t().scatter_add(0, _i(t, (2, 3), 4), s.t()), [(3, 4), (3, 2)]),
    ("masked_select_empty", lambda t, x: x.masked_select(t.zeros(0, 4, dtype=t.bool)), [(0, 4)]),
    ("gather_0d", lambda t, x: x.gather(0, L(t, 0)), [()]),
    ("take_0d", lambda t, x: x.take(L(t, [0, 0])), [()]),
    ("scatter_0d", lambda t, x, s: x.scatter(0, L(t, 0), s), [(), ()]),
    ("scatter_add_0d", lambda t, x, s: t.scatter_add(x, 0, L(t, 0), s), [(), ()]),
]


@pytest.mark.parametrize("name,fn,shapes", OPS, ids=[o[0] for o in OPS])
def test_indexing_ops_against_torch(name, fn, shapes):
    xs = [arr(*s) for s in shapes]
    check(lambda t, *a: fn(t, *a) ** 2, *xs)
    cs = [chainrule.tensor(a, requires_grad=True) * 1 for a in xs]
    ts = [torch.tensor(a, requires_grad=True) * 1 for a in xs]
    assert _names(fn(chainrule, *cs)) == _names(fn(torch, *ts))


@pytest.mark.parametrize("name,fn,shapes", OPS[::3], ids=[o[0] for o in OPS[::3]])
def test_indexing_ops_finite_differences(name, fn, shapes):
    fd_check(lambda t, *a: fn(t, *a) ** 2, *[R.standard_normal(s) for s in shapes])


def test_scatter_src_larger_than_index_fd():
    # PyTorch itself fails here (its gradient for src has the index's shape, not src's).
    idx = [[0, 2], [1, 3]]
    fd_check(lambda t, x, s: x.scatter(1, L(t, idx), s) ** 2, R.standard_normal((3, 4)), R.standard_normal((3, 3)))
    fd_check(lambda t, x, s: x.scatter_add(0, L(t, [[0, 2], [1, 0]]), s) ** 2, R.standard_normal((3, 4)), R.standard_normal((2, 5)))


INPLACE = [
    ("masked_fill_", lambda t, y, v: y.masked_fill_(t.tensor([False, True, True, False]), v)),
    ("scatter_", lambda t, y, v: y.scatter_(0, L(t, [[1, 0, 2, 1]]), v.expand(1, 4))),
    ("scatter_add_", lambda t, y, v: y.scatter_add_(1, L(t, [[0], [0], [3]]), v.expand(3, 1))),
    ("index_add_", lambda t, y, v: y.index_add_(0, L(t, [1, 1]), v.expand(2, 4))),
    ("index_put_", lambda t, y, v: y.index_put_((L(t, [0, 2]),), v, accumulate=True)),
]


@pytest.mark.parametrize("name,fn", INPLACE, ids=[i[0] for i in INPLACE])
def test_inplace_forms(name, fn):
    def f(t, x, v):
        y = x * 1
        out = fn(t, y, v)
        assert out is y
        return y**2

    check(f, arr(3, 4), np.float32(0.3))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("value", [float("-inf"), 0.0, -0.0, float("nan"), 2.5])
def test_masked_fill_large_is_bitwise_like_torch(dtype, value):
    # Past 256 elements masked_fill and its backward select bitwise (see _fill_where): results
    # must match PyTorch bit for bit, NaN, ±inf and -0.0 included, with the mask broadcast
    # over the input (a causal mask over attention scores), over more dimensions than the
    # input, in full, and over a non-contiguous input.
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 2, 16, 16)).astype(dtype)
    x.flat[:5] = [np.nan, np.inf, -np.inf, -0.0, 0.0]
    up = rng.standard_normal((4, 2, 16, 16)).astype(dtype)
    up.flat[5:8] = [np.nan, np.inf, -0.0]
    cases = [
        (x, np.triu(np.ones((16, 16), bool), 1)),
        (x[0, 0], rng.random((3, 16, 16)) < 0.5),
        (x, rng.random(x.shape) < 0.5),
        (x.transpose(0, 1, 3, 2), rng.random((16, 16)) < 0.5),
    ]
    for a, m in cases:
        outs, grads = [], []
        for L in (chainrule, torch):
            t = L.tensor(np.ascontiguousarray(a), requires_grad=True)
            if a is not x and a.ndim == 4:  # a transposed view, not a copy
                t = L.tensor(np.ascontiguousarray(a.transpose(0, 1, 3, 2)), requires_grad=True)
                src = t.transpose(2, 3)
            else:
                src = t
            out = src.masked_fill(L.tensor(m), value)
            out.backward(L.tensor(up[..., :out.shape[-2], :out.shape[-1]].copy() if out.ndim == 4
                                  else np.broadcast_to(up[0, 0], out.shape).copy()))
            outs.append(out.detach().numpy())
            grads.append(t.grad.numpy())
        for c, t in ((outs[0], outs[1]), (grads[0], grads[1])):
            assert c.dtype == t.dtype and c.shape == t.shape
            assert np.array_equal(c.view(f"i{c.itemsize}"), t.view(f"i{t.itemsize}"))
    # a 0-d tensor value that requires grad (MaskedFillBackward1): the input's gradient bit
    # for bit, the value's (a sum over the masked positions) as PyTorch's
    m = np.triu(np.ones((16, 16), bool), 1)
    got = []
    for L in (chainrule, torch):
        t = L.tensor(x, requires_grad=True)
        v = L.tensor(np.asarray(value, dtype), requires_grad=True)
        t.masked_fill(L.tensor(m), v).backward(L.tensor(up))
        got.append((t.grad.numpy(), v.grad.numpy()))
    (gc, vc), (gt, vt) = got
    assert np.array_equal(gc.view(f"i{gc.itemsize}"), gt.view(f"i{gt.itemsize}"))
    assert_same(chainrule.tensor(vc), torch.tensor(vt), rtol=1e-5, atol=1e-5)


def test_nonzero_argwhere():
    a = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]], dtype=np.float32)
    for fn in (
        lambda t, x: x.nonzero(),
        lambda t, x: t.nonzero(x, as_tuple=True),
        lambda t, x: t.argwhere(x),
        lambda t, x: x[0, 0].nonzero(),
        lambda t, x: x[0, 1].nonzero(as_tuple=True),
        lambda t, x: (x[:0]).nonzero(),
    ):
        check(fn, a, grad=False, requires_grad=False)


# ---- setitem -------------------------------------------------------------------------------
SETITEM = [
    ("int_scalar", lambda t: 1, 2.0, (3, 4), None),
    ("slice_tensor", lambda t: (slice(None), slice(1, 3)), "v", (3, 4), (3, 2)),
    ("broadcast_row", lambda t: slice(1, None), "v", (3, 4), (4,)),
    ("leading_one_dim", lambda t: 0, "v", (3, 4), (1, 4)),
    ("adv", lambda t: ([0, 2],), "v", (3, 4), (2, 4)),
    ("adv_pairs", lambda t: (L(t, [0, 2]), L(t, [3, 1])), "v", (3, 4), (2,)),
    ("int_adv", lambda t: (1, [0, 3]), "v", (3, 4), ()),
    ("mask", lambda t: t.tensor([[True, False, False, True]] * 3), "v", (3, 4), ()),
    ("ell", lambda t: Ellipsis, "v", (3, 4), (3, 4)),
    ("ell_0d_value", lambda t: Ellipsis, "v", (3, 4), ()),
    ("value_float64", lambda t: 0, "v64", (3, 4), (4,)),
]


@pytest.mark.parametrize("name,idx,value,shape,vshape", SETITEM, ids=[s[0] for s in SETITEM])
def test_setitem_with_gradients(name, idx, value, shape, vshape):
    if value == "v" or value == "v64":
        v = R.standard_normal(vshape).astype(np.float64 if value == "v64" else np.float32)

        def fn(t, x, val):
            y = x * 1
            y[idx(t)] = val
            return y**2, y

        check(lambda t, x, val: fn(t, x, val)[0], arr(*shape), v)
        outs = [fn(lib, lib.tensor(arr(*shape), requires_grad=True), lib.tensor(v, requires_grad=True))[1] for lib in (chainrule, torch)]
    else:
        def fn(t, x):
            y = x * 1
            y[idx(t)] = value
            return y

        check(lambda t, x: fn(t, x) ** 2, arr(*shape))
        outs = [fn(lib, lib.tensor(arr(*shape), requires_grad=True)) for lib in (chainrule, torch)]
    assert _names(outs[0]) == _names(outs[1])


def test_setitem_fd():
    def fn(t, x, v):
        y = x * 1
        y[[0, 2], 1:] = v * v
        return y.exp()

    fd_check(fn, R.standard_normal((3, 3)), R.standard_normal((2,)))


def test_setitem_writes_through_views_and_bumps_version():
    x = chainrule.zeros(3, 4)
    row = x[1]
    v0 = x._version_counter
    x[1, 2] = 5.0
    x[[0, 0], [3, 3]] = chainrule.tensor(7.0)
    assert row[2].item() == 5.0 and x[0, 3].item() == 7.0
    assert x._version is row._version and x._version_counter == v0 + 2
    row[0] = -1  # writing into the view writes the base
    assert x[1, 0].item() == -1
    with chainrule.no_grad():  # no graph: allowed on a leaf that requires grad
        w = chainrule.zeros(2, requires_grad=True)
        w[0] = 3.0
    assert w.tolist() == [3.0, 0.0]


def test_setitem_saved_tensor_check():
    for lib in (chainrule, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = y * y  # saves y
        y[0] = 0.0
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


# In-place changes through views (the root records CopySlices and replays the view ops).
VIEW_INPLACE = [
    ("getitem_iadd", lambda t, y, v: y[:, 0].add_(v[0])),
    ("select_mul", lambda t, y, v: y[1].mul_(v[1])),
    ("setitem_on_transposed_view", lambda t, y, v: y.t()[1:3, 1].__setitem__(slice(None), v)),
    ("setitem_through_t", lambda t, y, v: y.t().__setitem__((slice(1, 3), 1), v)),
    ("diagonal_mul", lambda t, y, v: y.diagonal().mul_(2)),
    ("flat_view_setitem", lambda t, y, v: y.view(-1).__setitem__(slice(0, 2), v)),
    ("nested_getitem", lambda t, y, v: y[0].__setitem__(slice(1, 3), v)),
    ("unsqueeze_step", lambda t, y, v: y.unsqueeze(0).__setitem__((0, 2, slice(None, None, 2)), v)),
    ("narrow_squeeze", lambda t, y, v: y[..., 1:3].narrow(0, 1, 1).squeeze(0).mul_(v)),
    ("permute_expand_src", lambda t, y, v: y.permute(1, 0)[:2].add_(v.unsqueeze(1))),
]


@pytest.mark.parametrize("name,fn", VIEW_INPLACE, ids=[v[0] for v in VIEW_INPLACE])
def test_inplace_through_views_against_torch(name, fn):
    def f(t, x, v):
        y = x * 1
        fn(t, y, v)
        return y**2

    check(f, arr(3, 4), arr(2))


def test_inplace_into_a_buffer_view_carries_gradient():
    def f(t, x, v):
        z = t.zeros(3, 4)
        row = z[1]
        row[2:] = v  # z did not require grad; now it does, through CopySlices
        return (z + x) ** 2

    check(f, arr(3, 4), arr(2))


def test_split_pieces_refuse_inplace_while_recording():
    for lib in (chainrule, torch):
        y = lib.tensor(arr(4, 2), requires_grad=True) * 1
        with pytest.raises(RuntimeError):
            y.split(2)[0].mul_(2)
        with lib.no_grad():
            y.unbind(0)[1].zero_() if hasattr(y, "zero_") else y.unbind(0)[1].mul_(0)
        assert float(y[1].abs().sum()) == 0.0


# ---- pad ---------------------------------------------------------------------------------
PADS = [
    ("const_1", (3, 4), (1, 2), "constant", None),
    ("const_value", (2, 3, 4), (0, 1, 2, 0), "constant", 1.5),
    ("const_all_dims", (2, 3), (1, 1, 2, 2), "constant", None),
    ("const_negative", (3, 5), (-1, 2, 1, -2), "constant", None),
    ("reflect_1d", (2, 5), (2, 3), "reflect", None),
    ("reflect_1d_batched", (2, 3, 5), (1, 4), "reflect", None),
    ("reflect_2d", (2, 3, 4), (1, 2, 2, 1), "reflect", None),
    ("reflect_3d", (1, 2, 3, 3, 4), (1, 1, 2, 0, 1, 2), "reflect", None),
    ("replicate_1d", (2, 3, 4), (3, 1), "replicate", None),
    ("replicate_2d", (1, 2, 3, 4), (2, 1, 0, 3), "replicate", None),
    ("replicate_3d", (2, 3, 2, 3), (1, 1, 1, 1, 1, 1), "replicate", None),
    ("replicate_neg", (2, 5), (-1, 2), "replicate", None),
    ("circular_1d", (2, 3, 4), (2, 4), "circular", None),
    ("circular_2d", (1, 2, 3, 4), (1, 2, 3, 0), "circular", None),
    ("circular_3d", (1, 2, 2, 3), (1, 1, 1, 1, 2, 2), "circular", None),
    ("const_empty", (0, 3), (1, 1), "constant", None),
]


@pytest.mark.parametrize("name,shape,p,mode,value", PADS, ids=[p[0] for p in PADS])
def test_pad_against_torch(name, shape, p, mode, value):
    kw = {} if value is None else {"value": value}

    def fn(t, x):
        return F(t).pad(x, p, mode=mode, **kw)

    check(lambda t, x: fn(t, x) ** 2, arr(*shape))
    cx, tx = chainrule.tensor(arr(*shape), requires_grad=True), torch.tensor(arr(*shape), requires_grad=True)
    assert _names(fn(chainrule, cx)) == _names(fn(torch, tx))


@pytest.mark.parametrize("name,shape,p,mode,value", PADS[::4], ids=[p[0] for p in PADS[::4]])
def test_pad_fd(name, shape, p, mode, value):
    fd_check(lambda t, x: F(t).pad(x, p, mode=mode) ** 2, R.standard_normal(shape))


# ---- errors as PyTorch words them ----------------------------------------------------------
def _x(t):
    return t.zeros(3, 4, 5)


def _set(x, idx, v):
    x[idx] = v


ERRORS = [
    (IndexError, lambda t: _x(t)[5]),
    (IndexError, lambda t: _x(t)[0, 7]),
    (IndexError, lambda t: _x(t)[..., 9]),
    (IndexError, lambda t: _x(t)[-4]),
    (IndexError, lambda t: _x(t)[t.tensor([0.5])]),
    (IndexError, lambda t: _x(t)[t.tensor([0, 1], dtype=t.int8)]),
    (IndexError, lambda t: _x(t)[0, 0, 0, 0]),
    (IndexError, lambda t: _x(t)[L(t, [0, 5])]),
    (IndexError, lambda t: _x(t)[:, L(t, [0, 5])]),
    (IndexError, lambda t: _x(t)[[0, -4]]),
    (IndexError, lambda t: _x(t)[[0, 1], :, [1, 9]]),
    (IndexError, lambda t: _x(t)[t.ones(2, dtype=t.bool)]),
    (IndexError, lambda t: _x(t)[1.5]),
    (ValueError, lambda t: _x(t)[::0]),
    (ValueError, lambda t: _x(t)[::-1]),
    (IndexError, lambda t: t.tensor(1.0)[0]),
    (IndexError, lambda t: t.tensor(1.0)[0, 0]),
    (IndexError, lambda t: t.tensor(1.0)[:]),
    (RuntimeError, lambda t: _set(_x(t), (slice(None),), t.ones(2))),
    (RuntimeError, lambda t: _set(_x(t), [0, 1], t.ones(3))),
    (RuntimeError, lambda t: _set(t.zeros(3, requires_grad=True), 0, 1.0)),
    (RuntimeError, lambda t: _set(t.zeros(3, requires_grad=True), [0], 1.0)),
    (IndexError, lambda t: _set(_x(t), 3, 1.0)),
    (RuntimeError, lambda t: _x(t).index_select(0, t.tensor([0.0]))),
    (IndexError, lambda t: _x(t).index_select(0, L(t, [7]))),
    (IndexError, lambda t: _x(t).index_select(0, L(t, [[0]]))),
    (RuntimeError, lambda t: _x(t).gather(0, t.zeros(2, 2, dtype=t.int64))),
    (RuntimeError, lambda t: _x(t).gather(0, t.zeros(2, 5, 2, dtype=t.int64))),
    (RuntimeError, lambda t: _x(t).gather(0, t.full((2, 2, 2), 7, dtype=t.int64))),
    (RuntimeError, lambda t: _x(t).gather(0, t.zeros(2, 2, 2, dtype=t.int16))),
    (RuntimeError, lambda t: _x(t).scatter_add(0, t.zeros(2, 2, 2, dtype=t.int16), _x(t))),
    (RuntimeError, lambda t: _x(t).index_add(0, t.zeros(2, dtype=t.int16), _x(t)[:2])),
    (RuntimeError, lambda t: _x(t).take(t.zeros(2, dtype=t.int32))),
    (RuntimeError, lambda t: _x(t).masked_fill(t.ones(5, dtype=t.int64), 1.0)),
    (RuntimeError, lambda t: _x(t).scatter(0, t.full((2, 2, 2), 7, dtype=t.int64), 1.0)),
    (RuntimeError, lambda t: _x(t).scatter(0, t.zeros(2, 2, 2, dtype=t.int64), t.ones(1, 1, 1))),
    (RuntimeError, lambda t: _x(t).scatter(0, t.zeros(2, 2, 2, dtype=t.int64), t.ones(2, 2, 2, dtype=t.float64))),
    (RuntimeError, lambda t: _x(t).masked_fill(t.ones(5), 1.0)),
    (RuntimeError, lambda t: _x(t).masked_fill(t.ones(5, dtype=t.bool), t.ones(2))),
    (RuntimeError, lambda t: t.zeros(3).masked_fill(t.ones(2, dtype=t.bool), 1.0)),
    (RuntimeError, lambda t: t.zeros(3).masked_select(t.ones(2, dtype=t.bool))),
    (RuntimeError, lambda t: _x(t).masked_select(_x(t))),
    (IndexError, lambda t: _x(t).take(L(t, [60]))),
    (RuntimeError, lambda t: F(t).pad(_x(t), (1,))),
    (RuntimeError, lambda t: F(t).pad(_x(t), (1,) * 8)),
    (RuntimeError, lambda t: F(t).pad(_x(t), (5, 5), mode="reflect")),
    (NotImplementedError, lambda t: F(t).pad(t.zeros(5), (1, 1), mode="reflect")),
    (NotImplementedError, lambda t: F(t).pad(_x(t), (1,) * 6, mode="replicate")),
    (NotImplementedError, lambda t: F(t).pad(_x(t), (1, 1), mode="foo")),
    (RuntimeError, lambda t: F(t).pad(_x(t), (6, 6), mode="circular")),
    (RuntimeError, lambda t: F(t).pad(_x(t), (1, 1), mode="reflect", value=2.0)),
]


@pytest.mark.parametrize("exc,fn", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors_like_torch(exc, fn):
    raises_like(exc, lambda: fn(chainrule), lambda: fn(torch))


def test_getitem_basic_is_a_view_and_advanced_a_copy():
    x = chainrule.arange(12.0).reshape(3, 4)
    b, a = x[1:, ::2], x[[1, 2]]
    x.add_(1)
    assert_same(b, torch.arange(12.0).reshape(3, 4).add(1)[1:, ::2])
    assert a[0, 0].item() == 4.0 and b._base is x._base and a._base is None


@pytest.mark.parametrize("index", [
    np.s_[:4], np.s_[...], np.s_[:], np.s_[0:4, ...], np.s_[:, :5], np.s_[-4:],  # every element
    np.s_[:3], np.s_[1:], np.s_[:, ::2], np.s_[:4, None], np.s_[None],  # some, or reshaped
])
def test_slice_gradient_of_a_whole_tensor_and_of_part(index):
    # A slice that takes every element in order (a position table cut to its full length)
    # passes its gradient straight through; any other writes it into zeros: both as PyTorch,
    # first and second derivatives, and against finite differences.
    x = np.random.default_rng(5).standard_normal((4, 5))
    check(lambda L, a: (a[index] * a[index]).tanh(), x.astype(np.float32))
    fd_check(lambda L, a: (a[index] * a[index]).tanh(), x)
