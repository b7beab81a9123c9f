"""Comparisons, logical and bitwise ops, float classification, nan_to_num and isclose/equal,
against PyTorch (values, dtypes, errors)."""
# ruff: noqa: B023  (loop lambdas are called at once, inside raises_like)
import operator

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from oracle import assert_same, check, fd_check, raises_like, to_both

import chainrule

CMP = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
       "not_equal"]
OPS = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
       "gt": operator.gt, "ge": operator.ge}
DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def _arr(dtype, shape=(3, 4), seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 3, shape).astype(dtype)


def _both(fn, *arrays):
    c = fn(chainrule, *[chainrule.tensor(a) for a in arrays])
    t = fn(torch, *[torch.tensor(a) for a in arrays])
    assert_same(c, t)
    return c


@pytest.mark.parametrize("name", CMP)
def test_comparisons_tensor_tensor_broadcast_and_methods(name):
    a, b = _arr("float32"), _arr("float32", (4,), 1)
    _both(lambda L, x, y: getattr(L, name)(x, y), a, b)
    _both(lambda L, x, y: getattr(x, name)(y), a, b)
    _both(lambda L, x, y: getattr(L, name)(x, y), a[0, 0], b)  # 0-d with 1-d
    _both(lambda L, x, y: getattr(L, name)(x, y), np.zeros((0, 4), np.float32), b)  # empty
    _both(lambda L, x, y: getattr(L, name)(x, y), a.T, a[:, 0])  # non-contiguous


@pytest.mark.parametrize("name", CMP)
def test_comparisons_with_python_scalars(name):
    a = _arr("int64")
    for s in (1, 1.5, True, -1, 0.0):
        _both(lambda L, x: getattr(L, name)(x, s), a)
    _both(lambda L, x: getattr(L, name)(x, 300), _arr("uint8"))  # out of uint8's range


@pytest.mark.parametrize("da", DTYPES)
def test_comparisons_across_dtypes(da):
    for db in DTYPES:
        a, b = _arr(da), _arr(db, (4,), 2)
        for name in ("eq", "lt", "ge"):
            _both(lambda L, x, y: getattr(L, name)(x, y), a, b)


def test_comparison_promotes_before_comparing():
    # float16 0.1 against a float32 0-d 0.1: compared in float16, as PyTorch does
    c = chainrule.tensor(np.array([0.1], np.float16)) == chainrule.tensor(np.float32(0.1))
    t = torch.tensor(np.array([0.1], np.float16)) == torch.tensor(np.float32(0.1))
    assert_same(c, t)
    assert_same(chainrule.tensor([16777217]) == 16777216.0, torch.tensor([16777217]) == 16777216.0)


def test_operators_and_reflected():
    a, b = _arr("float32"), _arr("float32", (4,), 1)
    for op in OPS.values():
        _both(lambda L, x, y: op(x, y), a, b)
        _both(lambda L, x: op(x, 1), a)
        _both(lambda L, x: op(1, x), a)  # reflected: 1 < x is x > 1
        _both(lambda L, x: op(np.float32(1.0), x), a)


def test_eq_with_none_or_strings_and_ordering_errors():
    c, t = chainrule.tensor([1.0]), torch.tensor([1.0])
    assert (c == None) is (t == None) is False
    assert (c != None) is (t != None) is True
    assert (c == "x") is (t == "x")
    raises_like(TypeError, lambda: c < "x", lambda: t < "x")
    raises_like(TypeError, lambda: c >= None, lambda: t >= None)
    raises_like(TypeError, lambda: chainrule.eq(c, "x"), lambda: torch.eq(t, "x"))
    raises_like(TypeError, lambda: chainrule.lt(c, None), lambda: torch.lt(t, None))


def test_broadcast_errors_worded_like_torch():
    c, t = chainrule.ones(2, 3), torch.ones(2, 3)
    for name in ("eq", "lt", "logical_and", "bitwise_and", "isclose"):
        other_c = chainrule.ones(4) if name != "bitwise_and" else chainrule.ones(4).long()
        other_t = torch.ones(4) if name != "bitwise_and" else torch.ones(4).long()
        cc = c if name != "bitwise_and" else c.long()
        tt = t if name != "bitwise_and" else t.long()
        raises_like(RuntimeError, lambda: getattr(chainrule, name)(cc, other_c),
                    lambda: getattr(torch, name)(tt, other_t))


def test_hash_is_identity():
    a, b = chainrule.tensor([1.0]), chainrule.tensor([1.0])
    assert hash(a) == object.__hash__(a) and hash(a) != hash(b)
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b" and len({a, b, a}) == 2


def test_inplace_comparisons_keep_self_dtype():
    for name in ("eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "less_equal_",
                 "logical_and_", "logical_or_", "logical_xor_", "logical_not_"):
        a = _arr("float32")
        c, t = chainrule.tensor(a), torch.tensor(a)
        if name == "logical_not_":
            cargs, targs = (), ()
        elif name.startswith("logical"):
            cargs, targs = (chainrule.tensor([0.0, 1.0, 2.0, 0.0]),), (torch.tensor([0.0, 1, 2, 0]),)
        else:
            cargs = targs = (1.0,)
        assert getattr(c, name)(*cargs) is c
        getattr(t, name)(*targs)
        assert_same(c, t)
    c, t = chainrule.ones(2), torch.ones(2)
    raises_like(TypeError, lambda: chainrule.logical_and(c, 1.0), lambda: torch.logical_and(t, 1.0))


# ---- logical and bitwise -----------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_logical_ops(dtype):
    a, b = _arr(dtype), _arr("float32", (4,), 3)
    for name in ("logical_and", "logical_or", "logical_xor"):
        _both(lambda L, x, y: getattr(L, name)(x, y), a, b)
        _both(lambda L, x, y: getattr(x, name)(y), a, b)
    _both(lambda L, x: L.logical_not(x), a)
    _both(lambda L, x: x.logical_not(), a)


@pytest.mark.parametrize("da", ["int64", "int32", "int16", "int8", "uint8", "bool"])
def test_bitwise_ops_and_operators(da):
    for db in ["int64", "int8", "uint8", "bool"]:
        a, b = _arr(da), _arr(db, (4,), 4)
        for name, op in (("bitwise_and", operator.and_), ("bitwise_or", operator.or_),
                         ("bitwise_xor", operator.xor)):
            _both(lambda L, x, y: getattr(L, name)(x, y), a, b)
            _both(lambda L, x, y: op(x, y), a, b)
            for s in (1, True):
                _both(lambda L, x: op(x, s), a)
                _both(lambda L, x: op(s, x), a)
    _both(lambda L, x: ~x, _arr(da))
    _both(lambda L, x: L.bitwise_not(x), _arr(da))


def test_inplace_bitwise_operators():
    for op in (operator.iand, operator.ior, operator.ixor):
        for da, db in [("int64", "int64"), ("int32", "bool"), ("bool", "bool"), ("int64", "int8")]:
            a, b = _arr(da), _arr(db, (4,), 5)
            c, t = chainrule.tensor(a), torch.tensor(a)
            c2 = op(c, chainrule.tensor(b))
            t2 = op(t, torch.tensor(b))
            assert c2 is c
            assert_same(c2, t2)
        raises_like(RuntimeError, lambda: op(chainrule.tensor([True]), chainrule.tensor([1])),
                    lambda: op(torch.tensor([True]), torch.tensor([1])))


def test_bitwise_on_floats_refused_like_torch():
    c, t = chainrule.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    ci, ti = chainrule.tensor([1, 2]), torch.tensor([1, 2])
    raises_like(NotImplementedError, lambda: c & c, lambda: t & t)
    raises_like(NotImplementedError, lambda: c | 1, lambda: t | 1)
    raises_like(NotImplementedError, lambda: ci ^ 1.5, lambda: ti ^ 1.5)
    raises_like(NotImplementedError, lambda: chainrule.bitwise_xor(c, ci),
                lambda: torch.bitwise_xor(t, ti))
    raises_like(NotImplementedError, lambda: c.bitwise_not(), lambda: t.bitwise_not())
    raises_like(TypeError, lambda: ~c, lambda: ~t)


# ---- classification, nan_to_num ---------------------------------------------------------
SPECIAL = np.array([0.0, -1.5, np.nan, np.inf, -np.inf, 3.0], np.float32)


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit"])
def test_classification(name):
    signed = np.array([-0.0, 0.0, -np.nan, np.nan, -2.0], np.float32)
    for arr in (SPECIAL, signed, np.array([-3, 0, 4], np.int8), np.array([0, 200], np.uint8), SPECIAL.astype(np.float16), SPECIAL.astype(np.float64),
                np.array([1, 2], np.int64), np.array([True, False]), np.zeros((0, 2))):
        _both(lambda L, x: getattr(L, name)(x), arr)
        _both(lambda L, x: getattr(x, name)(), arr)


def test_nan_to_num_values_and_gradient():
    for dt in (np.float32, np.float64, np.float16):
        arr = SPECIAL.astype(dt)
        _both(lambda L, x: L.nan_to_num(x), arr)
        _both(lambda L, x: x.nan_to_num(nan=1.0, posinf=2.0, neginf=-2.0), arr)
    _both(lambda L, x: L.nan_to_num(x), np.array([1, 2]))
    co, _ = check(lambda L, x: L.nan_to_num(x, nan=0.5), SPECIAL)
    assert co.grad_fn.name() == "NanToNumBackward0"
    check(lambda L, x: (x * 1).nan_to_num_(posinf=7.0), SPECIAL)
    fd_check(lambda L, x: L.nan_to_num(x * x), np.array([0.5, -2.0]))


# ---- isclose / allclose / equal ----------------------------------------------------------
def test_isclose_allclose_equal():
    a = np.array([1.0, 1.0 + 1e-6, 1.1, np.inf, -np.inf, np.nan, 0.0], np.float32)
    b = np.array([1.0, 1.0, 1.0, np.inf, np.inf, np.nan, 1e-9], np.float32)
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.2}, {"atol": 1e-3, "rtol": 0}):
        _both(lambda L, x, y: L.isclose(x, y, **kw), a, b)
        _both(lambda L, x, y: x.isclose(y, **kw), a, b)
        for i in range(len(a)):
            assert chainrule.allclose(chainrule.tensor(a[i:i + 1]), chainrule.tensor(b[i:i + 1]),
                                      **kw) == torch.allclose(torch.tensor(a[i:i + 1]),
                                                              torch.tensor(b[i:i + 1]), **kw)
    _both(lambda L, x, y: L.isclose(x, y), np.array([1, 2, 3]), np.array([1, 3, 3]))
    ca, ta = to_both(a, False)
    raises_like(RuntimeError, lambda: chainrule.isclose(ca, ca.double()),
                lambda: torch.isclose(ta, ta.double()))
    raises_like(RuntimeError, lambda: chainrule.isclose(ca, ca, rtol=-1),
                lambda: torch.isclose(ta, ta, rtol=-1))
    raises_like(RuntimeError, lambda: chainrule.allclose(ca, chainrule.ones(3)),
                lambda: torch.allclose(ta, torch.ones(3)))
    for x, y in [([1.0, 2.0], [1.0, 2.0]), ([1.0, 2.0], [1, 2]), ([1.0], [1.0, 1.0]),
                 ([1.0, np.nan], [1.0, np.nan]), ([1.0, 2.0], [2.0, 1.0])]:
        assert chainrule.equal(chainrule.tensor(x), chainrule.tensor(y)) is torch.equal(
            torch.tensor(x), torch.tensor(y))


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_comparison_broadcasting_property(data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    a = data.draw(hnp.arrays(np.int64, shapes.input_shapes[0], elements=st.integers(-2, 2)))
    b = data.draw(hnp.arrays(np.float32, shapes.input_shapes[1],
                             elements=st.sampled_from([-1.0, 0.0, 0.5, 2.0])))
    for name in ("eq", "lt", "ge", "logical_xor"):
        _both(lambda L, x, y: getattr(L, name)(x, y), a, b)
