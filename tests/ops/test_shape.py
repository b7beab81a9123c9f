"""Shape ops against PyTorch: values, grad_fn names, first and second derivatives, finite
differences, view semantics (shared storage and version counter) and error messages."""
import warnings

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


# (name, fn(lib, x), input shape). fn squares its result so that the second derivative
# runs through the op's backward rule (the op itself is linear).
CASES = [
    ("view", lambda t, x: x.view(-1, 4), (3, 4)),
    ("view_tuple", lambda t, x: x.view((2, 6)), (3, 4)),
    ("view_nc_ok", lambda t, x: x.transpose(0, 1).view(4, 3, 1), (3, 4)),
    ("reshape", lambda t, x: x.reshape(2, -1), (3, 4)),
    ("reshape_nc_copy", lambda t, x: x.t().reshape(-1), (3, 4)),
    ("reshape_nc_alias", lambda t, x: x.transpose(0, 1).reshape(4, 3, 2), (3, 4, 2)),
    ("reshape_fn", lambda t, x: t.reshape(x, (6, 2)), (3, 4)),
    ("reshape_0d", lambda t, x: x.reshape(1, 1), ()),
    ("reshape_empty", lambda t, x: x.reshape(0, 2), (2, 0)),
    ("flatten", lambda t, x: x.flatten(), (2, 3, 4)),
    ("flatten_mid", lambda t, x: t.flatten(x, 1, 2), (2, 3, 4)),
    ("flatten_nc", lambda t, x: x.transpose(0, 2).flatten(0, 1), (2, 3, 4)),
    ("flatten_0d", lambda t, x: x.flatten(), ()),
    ("unflatten", lambda t, x: x.unflatten(1, (2, -1)), (3, 4)),
    ("ravel", lambda t, x: x.ravel(), (3, 4)),
    ("ravel_nc", lambda t, x: t.ravel(x.t()), (3, 4)),
    ("view_as", lambda t, x: x.view_as(t.zeros(12)), (3, 4)),
    ("reshape_as", lambda t, x: x.t().reshape_as(t.zeros(12)), (3, 4)),
    ("squeeze", lambda t, x: x.squeeze(), (1, 3, 1)),
    ("squeeze_dim", lambda t, x: t.squeeze(x, -1), (1, 3, 1)),
    ("squeeze_noop", lambda t, x: x.squeeze(1), (1, 3, 1)),
    ("squeeze_dims", lambda t, x: x.squeeze((0, 2)), (1, 3, 1)),
    ("squeeze_0d", lambda t, x: x.squeeze(0), ()),
    ("unsqueeze", lambda t, x: x.unsqueeze(1), (3, 4)),
    ("unsqueeze_neg", lambda t, x: t.unsqueeze(x, -1), (3, 4)),
    ("unsqueeze_0d", lambda t, x: x.unsqueeze(0), ()),
    ("permute", lambda t, x: x.permute(2, 0, 1), (2, 3, 4)),
    ("permute_fn", lambda t, x: t.permute(x, (1, -1, 0)), (2, 3, 4)),
    ("transpose", lambda t, x: x.transpose(0, -1), (2, 3, 4)),
    ("swapaxes", lambda t, x: t.swapaxes(x, 0, 1), (2, 3, 4)),
    ("swapdims", lambda t, x: x.swapdims(1, 2), (2, 3, 4)),
    ("t", lambda t, x: x.t(), (3, 4)),
    ("t_1d", lambda t, x: t.t(x), (3,)),
    ("T", lambda t, x: x.T, (3, 4)),
    ("mT", lambda t, x: x.mT, (2, 3, 4)),
    ("mH", lambda t, x: x.mH, (2, 3, 4)),
    ("H", lambda t, x: x.H, (3, 4)),
    ("adjoint", lambda t, x: t.adjoint(x), (2, 3, 4)),
    ("movedim", lambda t, x: x.movedim(0, -1), (2, 3, 4)),
    ("movedim_multi", lambda t, x: t.movedim(x, (0, 1), (2, 0)), (2, 3, 4)),
    ("moveaxis", lambda t, x: t.moveaxis(x, 2, 0), (2, 3, 4)),
    ("expand", lambda t, x: x.expand(2, 3, 4), (3, 1)),
    ("expand_neg", lambda t, x: x.expand(-1, 5), (3, 1)),
    ("expand_as", lambda t, x: x.expand_as(t.zeros(2, 3, 4)), (1, 4)),
    ("broadcast_to", lambda t, x: t.broadcast_to(x, (2, 3, 4)), (4,)),
    ("broadcast_tensors", lambda t, x: t.broadcast_tensors(x, x[0], x[:, :1])[1] * t.broadcast_tensors(x, x[:1])[1], (3, 4)),
    ("repeat", lambda t, x: x.repeat(2, 1, 3), (3, 2)),
    ("repeat_0d", lambda t, x: x.repeat(3), ()),
    ("tile", lambda t, x: t.tile(x, (2,)), (3, 2)),
    ("tile_more", lambda t, x: x.tile((2, 1, 2)), (3, 2)),
    ("tile_int", lambda t, x: x.tile(2), (3,)),
    ("tile_varargs", lambda t, x: x.tile(2, 1), (3, 2)),
    ("flip", lambda t, x: x.flip(0, 2), (2, 3, 4)),
    ("flip_fn", lambda t, x: t.flip(x, (-1,)), (2, 3, 4)),
    ("fliplr", lambda t, x: t.fliplr(x), (3, 4)),
    ("flipud", lambda t, x: x.flipud(), (3, 4)),
    ("roll", lambda t, x: x.roll(1, 0), (3, 4)),
    ("roll_multi", lambda t, x: t.roll(x, (1, -2), (1, 0)), (3, 4)),
    ("roll_flat", lambda t, x: x.roll(5), (3, 4)),
    ("narrow", lambda t, x: x.narrow(1, 1, 2), (3, 4)),
    ("narrow_neg", lambda t, x: t.narrow(x, 0, -2, 2), (3, 4)),
    ("select", lambda t, x: t.select(x, 1, -1), (3, 4)),
    ("diagonal", lambda t, x: x.diagonal(), (3, 4)),
    ("diagonal_off", lambda t, x: t.diagonal(x, 1, 2, 0), (2, 3, 4)),
    ("diagonal_neg", lambda t, x: x.diagonal(-1), (3, 4)),
    ("diagonal_empty", lambda t, x: x.diagonal(5), (3, 4)),
    ("diag_1d", lambda t, x: t.diag(x), (3,)),
    ("diag_1d_off", lambda t, x: x.diag(-2), (3,)),
    ("diag_2d", lambda t, x: x.diag(1), (3, 4)),
    ("diag_embed", lambda t, x: t.diag_embed(x, 1), (2, 3)),
    ("tril", lambda t, x: x.tril(), (3, 4)),
    ("tril_k", lambda t, x: t.tril(x, -1), (2, 3, 4)),
    ("triu", lambda t, x: x.triu(1), (3, 4)),
    ("triu_fn", lambda t, x: t.triu(x, -1), (4, 3)),
    ("unfold", lambda t, x: x.unfold(1, 2, 1), (3, 4)),
    ("unfold_step", lambda t, x: x.unfold(0, 2, 3), (7, 2)),
    ("cat", lambda t, x: t.cat([x, x * 2, x[:1]], 0), (3, 4)),
    ("cat_dim", lambda t, x: t.cat((x, x[:, 1:]), dim=-1), (3, 4)),
    ("cat_legacy_empty", lambda t, x: t.cat([x, t.zeros(0)]), (3, 4)),
    ("concat", lambda t, x: t.concat([x, x], 1), (3, 4)),
    ("concatenate", lambda t, x: t.concatenate([x, x.double()], 0), (3, 4)),
    ("stack", lambda t, x: t.stack([x, x * 2]), (3, 4)),
    ("stack_dim", lambda t, x: t.stack((x, x), -1), (3, 4)),
    ("hstack", lambda t, x: t.hstack([x, x]), (3, 4)),
    ("hstack_1d", lambda t, x: t.hstack([x[0], x[1]]), (3, 4)),
    ("vstack", lambda t, x: t.vstack([x, x[0]]), (3, 4)),
    ("split", lambda t, x: x.split(2), (5, 3)),
    ("split_sizes", lambda t, x: t.split(x, [1, 2], 1), (2, 3)),
    ("split_one_used", lambda t, x: x.split(2)[1], (5, 3)),
    ("chunk", lambda t, x: x.chunk(3, 1), (2, 7)),
    ("chunk_fn", lambda t, x: t.chunk(x, 2), (5, 3)),
    ("unbind", lambda t, x: x.unbind(1), (2, 3)),
    ("unbind_some", lambda t, x: t.unbind(x)[2] * 3, (3, 2)),
    ("unbind_1d_some", lambda t, x: x.unbind()[1] * x.unbind()[3], (5,)),  # 0-d pieces
    ("tensor_split", lambda t, x: x.tensor_split(3), (7, 2)),
    ("tensor_split_idx", lambda t, x: t.tensor_split(x, [1, 5, 3], 0), (4, 2)),
    ("cat_nc", lambda t, x: t.cat([x.t(), x[:, ::2].t()]), (3, 4)),
    ("stack_nc_bcast", lambda t, x: t.stack([x.t(), x[:1].expand(3, 4).t()]), (3, 4)),
    ("flip_nc", lambda t, x: x.t().flip(0), (3, 4)),
    ("roll_nc", lambda t, x: x.t().roll(1), (3, 4)),
    ("repeat_nc", lambda t, x: x.t().repeat(2, 1), (3, 4)),
    ("diagonal_nc", lambda t, x: x.t().diagonal(-1), (3, 4)),
    ("tril_nc", lambda t, x: x.t().tril(), (3, 4)),
    ("split_empty", lambda t, x: x.split(2, 1), (2, 0)),
    ("cat_empty", lambda t, x: t.cat([x, x], 1), (2, 0)),
    ("unbind_0_size", lambda t, x: x.unbind(1), (0, 2)),
    ("unfold_0d", lambda t, x: x.unfold(0, 1, 1), ()),
    ("repeat_interleave", lambda t, x: x.repeat_interleave(2), (2, 3)),
    ("repeat_interleave_dim", lambda t, x: t.repeat_interleave(x, 3, dim=-1), (2, 3)),
    ("repeat_interleave_tensor", lambda t, x: x.repeat_interleave(t.tensor([2, 0, 1]), dim=1), (2, 3)),
    ("atleast_2d", lambda t, x: t.atleast_2d(x), (3,)),
    ("atleast_3d", lambda t, x: t.atleast_3d(x, x[0])[1], (3, 2)),
]


def _squared(fn):
    def f(t, x):
        out = fn(t, x)
        if isinstance(out, (tuple, list)):
            return tuple(o**2 for o in out)
        return out**2
    return f


def _names(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o.grad_fn.name().replace("torch::autograd::", "") for o in outs if o.grad_fn is not None]


@pytest.mark.parametrize("name,fn,shape", CASES, ids=[c[0] for c in CASES])
def test_op_against_torch(name, fn, shape):
    x = arr(*shape)
    check(_squared(fn), x)
    # the grad_fn PyTorch records for the op itself
    cx, tx = chainrule.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    assert _names(fn(chainrule, cx * 1)) == _names(fn(torch, tx * 1))


FD_CASES = [c for c in CASES[::3] if 0 not in c[2]]


@pytest.mark.parametrize("name,fn,shape", FD_CASES, ids=[c[0] for c in FD_CASES])
def test_op_finite_differences(name, fn, shape):
    fd_check(_squared(fn), R.standard_normal(shape))


def test_split_unbind_gradients_reach_one_node():
    x = chainrule.tensor(arr(5, 3), requires_grad=True)
    a, b, c = x.split(2)
    assert a.grad_fn is b.grad_fn is c.grad_fn
    assert a.grad_fn.next_functions[0][0].variable is x
    (a.sum() * 2 + c.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2] * 3] * 2 + [[0] * 3] * 2 + [[1] * 3])
    # iterating a tensor is unbind(0)
    y = chainrule.tensor(arr(3, 2), requires_grad=True)
    sum(r.sum() * i for i, r in enumerate(y)).backward()
    np.testing.assert_array_equal(y.grad.numpy(), [[0, 0], [1, 1], [2, 2]])


def test_cat_promotes_and_splits_gradient_back():
    a = chainrule.tensor(arr(2, 3), requires_grad=True)
    b = chainrule.tensor(R.standard_normal((1, 3)), requires_grad=True)
    i = chainrule.tensor([[1, 2, 3]])
    out = chainrule.cat([a, b, i])
    assert out.dtype == chainrule.float64
    out.sum().backward()
    assert a.grad.dtype == chainrule.float32 and b.grad.dtype == chainrule.float64
    np.testing.assert_array_equal(a.grad.numpy(), np.ones((2, 3)))


# ---- views share storage and the version counter --------------------------------------
VIEWS = [
    ("view", lambda x: x.view(12)), ("reshape", lambda x: x.reshape(2, 6)),
    ("flatten", lambda x: x.flatten()), ("unflatten", lambda x: x.unflatten(1, (2, 2))),
    ("squeeze", lambda x: x[None].squeeze(0)), ("unsqueeze", lambda x: x.unsqueeze(1)),
    ("permute", lambda x: x.permute(1, 0)), ("transpose", lambda x: x.transpose(0, 1)),
    ("t", lambda x: x.t()), ("T", lambda x: x.T), ("mT", lambda x: x.mT),
    ("movedim", lambda x: x.movedim(0, 1)), ("narrow", lambda x: x.narrow(1, 1, 2)),
    ("select", lambda x: x.select(0, 1)), ("diagonal", lambda x: x.diagonal(1)),
    ("getitem_int", lambda x: x[1]), ("getitem_slice", lambda x: x[:, ::2]),
    ("getitem_0d", lambda x: x[1, 2]), ("getitem_none", lambda x: x[None, 1:]),
    ("split", lambda x: x.split(2, 1)[1]), ("chunk", lambda x: x.chunk(2)[0]),
    ("unbind", lambda x: x.unbind(1)[3]), ("tensor_split", lambda x: x.tensor_split(2, 1)[1]),
    ("view_nc", lambda x: x.t().view(4, 3)), ("ravel", lambda x: x.ravel()),
    ("reshape_nc_alias", lambda x: x.t().reshape(2, 2, 3)),
]


@pytest.mark.parametrize("name,fn", VIEWS, ids=[v[0] for v in VIEWS])
def test_views_share_storage_and_version(name, fn):
    for lib in (chainrule, torch):
        x = lib.arange(12.0).reshape(3, 4)
        v = fn(x)
        before = x.clone()
        v.add_(100)  # writes through the view ...
        changed = (x != before).sum().item()
        assert changed == v.numel(), (lib.__name__, name)
        assert v._version == x._version
        x.mul_(2)  # ... and the base's writes show in the view, on one counter
        assert v._version == x._version
        assert float(v.sum()) == float(fn(x).sum())
    cx = chainrule.arange(12.0).reshape(3, 4)
    assert fn(cx)._base is not None


COPIES = [
    ("flip", lambda x: x.flip(0)), ("roll", lambda x: x.roll(1, 0)), ("repeat", lambda x: x.repeat(1, 1)),
    ("tril", lambda x: x.tril()), ("diag", lambda x: x.diag()), ("cat", lambda x: chainrule.cat([x])),
    ("reshape_copy", lambda x: x.t().reshape(12)), ("index", lambda x: x[[0, 1]]),
    ("masked_select", lambda x: x.masked_select(x > 3)),
]


@pytest.mark.parametrize("name,fn", COPIES, ids=[c[0] for c in COPIES])
def test_copies_do_not_alias(name, fn):
    x = chainrule.arange(12.0).reshape(3, 4)
    y = fn(x)
    y.add_(1)
    np.testing.assert_array_equal(x.numpy(), np.arange(12.0).reshape(3, 4))
    assert y._base is None


RESHAPES = [  # non-contiguous inputs: a view where the strides allow, else a copy
    lambda y: y[:, :4].reshape(4, 2, 2), lambda y: y[:, :4].reshape(8, 2),
    lambda y: y.t().reshape(24), lambda y: y[:, 2:].reshape(2, 2, 4),
    lambda y: y.t().reshape(2, 3, 4), lambda y: y[::2].reshape(2, 3, 2),
]


@pytest.mark.parametrize("fn", RESHAPES)
def test_reshape_node_and_aliasing_like_torch(fn):
    """PyTorch names a reshape that could view ReshapeAliasBackward0 and one that had to
    copy UnsafeViewBackward0; the first shares storage with its input, the second not."""
    ys = []
    for lib in (chainrule, torch):
        x = lib.arange(24.0).reshape(4, 6).requires_grad_()
        y = x * 1
        r = fn(y)
        ys.append((r.grad_fn.name(), r._base is not None))
        with lib.no_grad():
            r.add_(1)  # through a view it reaches y
        ys.append(float(y.sum()))
    assert ys[:2] == ys[2:]
    # on memory an array does not own (a buffer's): the view is still told from the copy
    buf = np.frombuffer(bytearray(np.arange(24.0).tobytes()), dtype=np.float64).reshape(4, 6)
    viewed = ys[0][0] == "ReshapeAliasBackward0"
    assert np.shares_memory(fn(chainrule.from_numpy(buf)).numpy(), buf) == viewed


def test_inplace_through_view_is_seen_by_autograd():
    x = chainrule.tensor(arr(3, 4), requires_grad=True)
    y = x * 2
    z = y.exp()  # saves its output
    for lib, yy, zz in ((chainrule, y, z), (torch, *_torch_pair(x))):
        with lib.no_grad():
            zz.t().add_(1)  # through a view of the saved output: bumps the shared counter
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            zz.sum().backward()


def _torch_pair(x):
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    ty = tx * 2
    return ty, ty.exp()


# ---- broadcasting helpers -------------------------------------------------------------------
def test_broadcast_shapes_and_tensors():
    assert chainrule.broadcast_shapes((3, 1), (4,), 1) == torch.broadcast_shapes((3, 1), (4,), 1)
    a, b = chainrule.broadcast_tensors(chainrule.zeros(3, 1), chainrule.ones(4))
    assert a.shape == b.shape == (3, 4)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.data())
def test_hypothesis_permute_reshape_roundtrip(shape, data):
    x = arr(*shape)
    perm = data.draw(st.permutations(range(len(shape))))
    shifts = data.draw(st.integers(-5, 5))

    def fn(t, a):
        p = a.permute(*perm)
        return (p.reshape(-1).roll(shifts).reshape(p.shape).flip(0)) ** 2

    check(fn, x)


# ---- errors as PyTorch words them ----------------------------------------------------------
def _x(t):
    return t.zeros(3, 4, 5)


ERRORS = [
    (RuntimeError, lambda t: _x(t).view(7)),
    (RuntimeError, lambda t: _x(t).view(-1, -1)),
    (RuntimeError, lambda t: t.zeros(0, 3).view(-1, 0)),
    (RuntimeError, lambda t: _x(t).transpose(0, 1).view(-1)),
    (RuntimeError, lambda t: _x(t).permute(0, 1)),
    (RuntimeError, lambda t: _x(t).permute(0, 1, 1)),
    (RuntimeError, lambda t: _x(t).t()),
    (RuntimeError, lambda t: t.zeros(3).mT),
    (RuntimeError, lambda t: _x(t).H),
    (RuntimeError, lambda t: _x(t).flatten(2, 1)),
    (RuntimeError, lambda t: _x(t).unflatten(1, (3, 2))),
    (RuntimeError, lambda t: _x(t).repeat(2)),
    (RuntimeError, lambda t: t.zeros(3).fliplr()),
    (RuntimeError, lambda t: t.zeros(()).flipud()),
    (IndexError, lambda t: _x(t).narrow(0, 4, 1)),
    (RuntimeError, lambda t: _x(t).narrow(0, 2, 3)),
    (RuntimeError, lambda t: t.diag(_x(t))),
    (RuntimeError, lambda t: t.zeros(3).tril()),
    (RuntimeError, lambda t: _x(t).split(0)),
    (RuntimeError, lambda t: _x(t).split([1, 1])),
    (RuntimeError, lambda t: _x(t).chunk(0)),
    (ValueError, lambda t: t.cat([])),
    (RuntimeError, lambda t: t.cat([_x(t), _x(t)[:, :2, :3]], 1)),
    (RuntimeError, lambda t: t.cat([_x(t), _x(t)[0]])),
    (RuntimeError, lambda t: t.cat([t.zeros(()), t.zeros(())])),
    (IndexError, lambda t: t.cat([_x(t), _x(t)], 3)),
    (RuntimeError, lambda t: t.stack([_x(t), _x(t)[:2]])),
    (RuntimeError, lambda t: t.stack([])),
    (IndexError, lambda t: t.stack([_x(t)], 5)),
    (RuntimeError, lambda t: _x(t).expand(3, 3, 5)),
    (RuntimeError, lambda t: t.broadcast_tensors(_x(t), t.zeros(3), t.zeros(2))),
    (RuntimeError, lambda t: _x(t).roll((1, 2), 0)),
    (RuntimeError, lambda t: _x(t).movedim((0, 1), (1,))),
    (IndexError, lambda t: t.zeros(()).unbind()),
    (IndexError, lambda t: _x(t).squeeze(3)),
    (IndexError, lambda t: _x(t).unsqueeze(5)),
    (RuntimeError, lambda t: _x(t).tensor_split(0)),
    (RuntimeError, lambda t: _x(t).diagonal(0, 1, 1)),
    (RuntimeError, lambda t: _x(t).repeat_interleave(t.tensor([1, 2]), dim=0)),
    (RuntimeError, lambda t: _x(t).unfold(0, 4, 1)),
    (RuntimeError, lambda t: _x(t).unfold(0, 2, 0)),
]


def test_repeat_interleave_counts():
    assert_same(chainrule.repeat_interleave(chainrule.tensor([1, 0, 3])),
                torch.repeat_interleave(torch.tensor([1, 0, 3])))


@pytest.mark.parametrize("exc,fn", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors_like_torch(exc, fn):
    raises_like(exc, lambda: fn(chainrule), lambda: fn(torch))


def test_T_warns_beyond_2d_like_torch():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = chainrule.zeros(2, 3, 4).T
    assert out.shape == (4, 3, 2)
    assert any("x.T" in str(m.message) for m in w)
    assert_same(chainrule.arange(6.0).reshape(2, 3).T, torch.arange(6.0).reshape(2, 3).T)


@pytest.mark.parametrize("shape,n", [((-1, 4), 8), ((-1,), 0), ((2, -1, 2), 8), ((4,), 4)])
def test_reshape_infers_the_minus_one(shape, n):
    for method in ("reshape", "view"):
        c = getattr(chainrule.zeros(n), method)(*shape)
        assert tuple(c.shape) == tuple(getattr(torch.zeros(n), method)(*shape).shape)


@pytest.mark.parametrize("shape,n", [((0, -1), 0), ((-1, 3), 8), ((-1, -1), 4), ((2, -2), 4),
                                     ((-1, 0), 5), ((-1, 0), 0), ((3,), 4)])
def test_reshape_shape_errors_like_torch(shape, n):
    raises_like(RuntimeError, lambda: chainrule.zeros(n).reshape(*shape),
                lambda: torch.zeros(n).reshape(*shape))
