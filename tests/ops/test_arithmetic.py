"""The arithmetic family against PyTorch: add/sub (alpha), rsub, mul, div (rounding modes),
floor_divide, remainder, fmod, pow (three forms), neg; the Python operators, reflected and
in-place; values, dtypes, grad_fn names, first/second derivatives, errors."""
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

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4)).astype(np.float32)
B = (RNG.choice([-1, 1], (4,)) * RNG.uniform(0.5, 2, (4,))).astype(np.float32)  # no zeros
POS = RNG.uniform(0.5, 2, (3, 4)).astype(np.float32)

# name, f(lib, x, y), x, y   (y broadcasts against x)
BINARY = [
    ("add", lambda L, x, y: L.add(x, y), A, B),
    ("add_alpha", lambda L, x, y: L.add(x, y, alpha=2.5), A, B),
    ("sub", lambda L, x, y: L.sub(x, y), A, B),
    ("sub_alpha", lambda L, x, y: L.sub(x, y, alpha=-3), A, B),
    ("subtract", lambda L, x, y: L.subtract(x, y), A, B),
    ("rsub", lambda L, x, y: L.rsub(x, y), A, B),
    ("rsub_alpha", lambda L, x, y: L.rsub(x, y, alpha=2), A, B),
    ("mul", lambda L, x, y: L.mul(x, y), A, B),
    ("multiply", lambda L, x, y: L.multiply(x, y), A, B),
    ("div", lambda L, x, y: L.div(x, y), A, B),
    ("divide", lambda L, x, y: L.divide(x, y), A, B),
    ("true_divide", lambda L, x, y: L.true_divide(x, y), A, B),
    ("div_trunc", lambda L, x, y: L.div(x * 3, y, rounding_mode="trunc"), A, B),
    ("div_floor", lambda L, x, y: L.div(x * 3, y, rounding_mode="floor"), A, B),
    ("remainder", lambda L, x, y: L.remainder(x * 3, y), A, B),
    ("fmod", lambda L, x, y: L.fmod(x * 3, y), A, B),
    ("pow_tensor", lambda L, x, y: L.pow(x, y), POS, B),
    ("float_power", lambda L, x, y: L.float_power(x, y), POS, B),
    ("op_add", lambda L, x, y: x + y, A, B),
    ("op_sub", lambda L, x, y: x - y, A, B),
    ("op_mul", lambda L, x, y: x * y, A, B),
    ("op_truediv", lambda L, x, y: x / y, A, B),
    ("op_mod", lambda L, x, y: (x * 3) % y, A, B),
    ("op_pow", lambda L, x, y: x ** y, POS, B),
]
B_IDS = [b[0] for b in BINARY]

# name, f(lib, x), x   (tensor with a Python number, either side)
SCALAR = [
    ("add_int", lambda L, x: x + 2, A), ("radd_float", lambda L, x: 2.5 + x, A),
    ("sub_float", lambda L, x: x - 1.5, A), ("rsub_int", lambda L, x: 3 - x, A),
    ("mul_float", lambda L, x: x * -1.5, A), ("rmul_int", lambda L, x: 4 * x, A),
    ("div_int", lambda L, x: x / 4, A), ("rdiv_float", lambda L, x: 1.5 / x, B),
    ("mod_float", lambda L, x: x % 0.7, A), ("fmod_int", lambda L, x: L.fmod(x * 3, 2), A),
    ("pow_2", lambda L, x: x ** 2, A), ("pow_3", lambda L, x: x ** 3, A),
    ("pow_0", lambda L, x: x ** 0, A), ("pow_half", lambda L, x: x ** 0.5, POS),
    ("pow_neg", lambda L, x: x ** -1.5, POS), ("pow_fn", lambda L, x: L.pow(x, 2.5), POS),
    ("rpow_float", lambda L, x: 2.5 ** x, A), ("rpow_int", lambda L, x: 3 ** x, A),
    ("rpow_fn", lambda L, x: L.pow(0.5, x), A), ("neg", lambda L, x: -x, A),
    ("neg_fn", lambda L, x: L.neg(x), A), ("negative", lambda L, x: L.negative(x), A),
    ("pos", lambda L, x: +x * 1, A), ("rsub_fn", lambda L, x: L.rsub(x, 2.0, alpha=3), A),
    ("add_alpha_scalar", lambda L, x: L.add(x, 2, alpha=3), A),
    ("sub_method", lambda L, x: x.sub(1.0, alpha=2), A),
]
S_IDS = [s[0] for s in SCALAR]


@pytest.mark.parametrize("name,fn,x,y", BINARY, ids=B_IDS)
def test_binary_broadcast_first_and_second_derivatives(name, fn, x, y):
    co, to = check(fn, x, y, rtol=1e-4, atol=1e-5)
    assert co.grad_fn.name() == to.grad_fn.name()


@pytest.mark.parametrize("name,fn,x,y", BINARY, ids=B_IDS)
def test_binary_zero_dim_empty_and_non_contiguous(name, fn, x, y):
    check(fn, x, y[0].reshape(()), rtol=1e-4, atol=1e-5)  # 0-d operand
    check(fn, y[0].reshape(()), y[1].reshape(()), rtol=1e-4, atol=1e-5)  # both 0-d
    check(fn, np.zeros((0, 4), np.float32) + 1, y, rtol=1e-4, atol=1e-5)  # empty
    check(fn, np.ascontiguousarray(x.T).T, y, rtol=1e-4, atol=1e-5)  # non-contiguous


@pytest.mark.parametrize("name,fn,x,y", BINARY, ids=B_IDS)
def test_binary_float64_and_finite_differences(name, fn, x, y):
    x64, y64 = x[:2, :3].astype(np.float64), y[:3].astype(np.float64)
    check(fn, x64, y64, rtol=1e-7, atol=1e-9)
    if name in ("div_trunc", "div_floor"):  # piecewise constant: torch's gradient is zero
        return
    fd_check(fn, x64, y64)


@pytest.mark.parametrize("name,fn,x,y", BINARY, ids=B_IDS)
def test_binary_float16(name, fn, x, y):
    check(fn, x.astype(np.float16), y.astype(np.float16), second=False, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("name,fn,x", SCALAR, ids=S_IDS)
def test_scalar_operands(name, fn, x):
    co, to = check(fn, x, rtol=1e-4, atol=1e-5)
    assert co.grad_fn.name() == to.grad_fn.name()
    fd_check(fn, x[:2, :2].astype(np.float64) if x.ndim == 2 else x[:3].astype(np.float64))


def test_integer_arithmetic_and_rounding_modes():
    a = np.array([7, -7, 3, -3, 0], np.int64)
    b = np.array([2, 2, -2, -2, 5], np.int64)
    fns = [lambda L, x, y: x // y, lambda L, x, y: x % y, lambda L, x, y: L.fmod(x, y),
           lambda L, x, y: L.div(x, y, rounding_mode="trunc"),
           lambda L, x, y: L.div(x, y, rounding_mode="floor"), lambda L, x, y: x / y,
           lambda L, x, y: L.true_divide(x, y), lambda L, x, y: x * y + x - y,
           lambda L, x, y: L.add(x, y, alpha=3), lambda L, x, y: x ** L.abs(y),
           lambda L, x, y: x ** -L.abs(y), lambda L, x, y: 2 ** y, lambda L, x, y: x ** 2,
           lambda L, x, y: -x, lambda L, x, y: 7 // y, lambda L, x, y: 7 % y,
           lambda L, x, y: x // 2.5, lambda L, x, y: x % 2.5, lambda L, x, y: x / 2]
    for dt in (np.int64, np.int32, np.int8, np.int16):
        for fn in fns:
            check(fn, a.astype(dt), b.astype(dt), grad=False)
    u = np.array([5, 200, 7], np.uint8)
    for fn in (lambda L, x: x - 10, lambda L, x: x * 2, lambda L, x: x + 100,
               lambda L, x: x // 3, lambda L, x: -x):
        check(fn, u, grad=False)
    for fn in (lambda L, x: x + 300, lambda L, x: 300 + x, lambda L, x: x * 1000,
               lambda L, x: x - 300, lambda L, x: x // 300):  # out-of-range ints wrap, as torch
        check(fn, u, grad=False)
        check(fn, np.array([100, -100], np.int8), grad=False)
    check(lambda L, x: x ** L.tensor([-1, -2, 0, 1, -3]),
          np.array([0, 1, -1, 2, -1]), grad=False)  # integer negative powers


def test_integer_division_by_zero_is_an_error():
    c, t = chainrule.tensor([1, 2]), torch.tensor([1, 2])
    for fn in (lambda L, x: x // 0, lambda L, x: x % 0, lambda L, x: L.fmod(x, 0),
               lambda L, x: L.div(x, 0, rounding_mode="trunc"),
               lambda L, x: L.div(x, L.tensor([1, 0]), rounding_mode="floor")):
        raises_like(RuntimeError, lambda: fn(chainrule, c), lambda: fn(torch, t))
    assert_same(c / 0, t / 0)  # true division gives inf, no error


def test_dtypes_of_mixed_operations():
    pairs = [(np.array([1, 2]), np.array([0.5, 2], np.float32)),
             (np.array([1, 2], np.int8), np.array([3, 4], np.uint8)),
             (np.array([True, False]), np.array([3, 4], np.int16)),
             (np.array([1.0, 2.0], np.float16), np.array([3.0, 4.0], np.float64)),
             (np.array([1, 2]), np.array(2.5))]
    for a, b in pairs:
        for op in (operator.add, operator.mul, operator.truediv, operator.floordiv,
                   operator.mod, operator.pow):
            if op is operator.floordiv and (a.dtype == bool or b.dtype == bool):
                continue
            check(lambda L, x, y: op(x, y), a, b, grad=False)


def test_bool_subtraction_negation_and_floor_division_errors():
    b, tb = chainrule.tensor([True, False]), torch.tensor([True, False])
    f, tf = chainrule.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    for fn in (lambda L, x, y: x - x, lambda L, x, y: x - 1, lambda L, x, y: 1 - x,
               lambda L, x, y: y - x, lambda L, x, y: x - True, lambda L, x, y: y - True,
               lambda L, x, y: L.sub(y, x), lambda L, x, y: L.rsub(x, y), lambda L, x, y: -x,
               lambda L, x, y: L.neg(x), lambda L, x, y: x.sub_(x)):
        raises_like(RuntimeError, lambda: fn(chainrule, b, f), lambda: fn(torch, tb, tf))
    raises_like(NotImplementedError, lambda: b // b, lambda: tb // tb)
    raises_like(NotImplementedError, lambda: chainrule.div(b, b, rounding_mode="floor"),
                lambda: torch.div(tb, tb, rounding_mode="floor"))
    assert_same(b + b, tb + tb)
    assert_same(b * b, tb * tb)
    assert_same(b / b, tb / tb)


def test_argument_errors_like_torch():
    c, t = to_both(A, False)
    ci, ti = chainrule.tensor([1, 2]), torch.tensor([1, 2])
    cases = [
        (RuntimeError, lambda L, x, xi: x + L.ones(5)),
        (RuntimeError, lambda L, x, xi: L.mul(x, L.ones(2, 1, 3))),
        (RuntimeError, lambda L, x, xi: L.div(x, x, rounding_mode="round")),
        (RuntimeError, lambda L, x, xi: xi ** -1),
        (RuntimeError, lambda L, x, xi: L.add(xi, xi, alpha=0.5)),
        (TypeError, lambda L, x, xi: L.add(x, "a")),
        (TypeError, lambda L, x, xi: L.mul(x, [1.0])),
        (TypeError, lambda L, x, xi: L.fmod(2, x)),
        (TypeError, lambda L, x, xi: x + "a"),
        (TypeError, lambda L, x, xi: x * None),
        (TypeError, lambda L, x, xi: x - [1]),
        (TypeError, lambda L, x, xi: x / {}),
        (RuntimeError, lambda L, x, xi: xi.add_(1.5)),
        (RuntimeError, lambda L, x, xi: xi.div_(2)),
        (RuntimeError, lambda L, x, xi: xi.__itruediv__(xi)),
        (RuntimeError, lambda L, x, xi: L.ones(4).add_(L.ones(3, 4))),
    ]
    for exc, fn in cases:
        raises_like(exc, lambda: fn(chainrule, c, ci), lambda: fn(torch, t, ti))


def test_non_differentiable_forms_refuse_backward_like_torch():
    for fn in (lambda L, x: x // 2, lambda L, x: L.floor_divide(x, x), lambda L, x: 2 % x):
        c, t = to_both(POS)
        co, to = fn(chainrule, c), fn(torch, t)
        assert co.grad_fn.name() == to.grad_fn.name()
        raises_like(RuntimeError, lambda: co.sum().backward(), lambda: to.sum().backward())


def test_pow_special_points_like_torch():
    # d/dx x^y at x = 0; d/dy 0^y (0 for y >= 0, as PyTorch defines it); y = 0
    x = np.array([0.0, 0.0, 2.0, 0.0, 1.5], np.float64)
    y = np.array([2.0, 0.0, 0.0, 3.0, 1.0], np.float64)
    check(lambda L, a, b: a ** b, x, y)
    check(lambda L, a: a ** 0, x)
    check(lambda L, a: a ** 2, x)
    check(lambda L, a: 0.0 ** a, np.array([1.0, 2.0]))


# ---- operators: reflected and in-place --------------------------------------------------
IOPS = [("iadd", operator.iadd), ("isub", operator.isub), ("imul", operator.imul),
        ("itruediv", operator.itruediv), ("ifloordiv", operator.ifloordiv),
        ("imod", operator.imod), ("ipow", operator.ipow)]


@pytest.mark.parametrize("name,op", IOPS, ids=[i[0] for i in IOPS])
def test_inplace_operators(name, op):
    for other in (2.0, B):
        base = POS if name == "ipow" else A
        c, t = chainrule.tensor(base), torch.tensor(base)
        oc = chainrule.tensor(other) if isinstance(other, np.ndarray) else other
        ot = torch.tensor(other) if isinstance(other, np.ndarray) else other
        r = op(c, oc)
        assert r is c and c._version_counter == 1
        assert_same(c, op(t, ot))
        if name not in ("ifloordiv",):  # torch: floor_divide has no derivative
            # through a non-leaf: value and first/second derivatives (the saved input is kept)
            check(lambda L, x, y: op(x * 1, y), base, B, rtol=1e-4, atol=1e-5)
        cl, tl = to_both(base)
        raises_like(RuntimeError, lambda: op(cl, oc), lambda: op(tl, ot))


@pytest.mark.parametrize("name", ["add_", "sub_", "mul_", "div_", "pow_", "remainder_", "fmod_",
                                  "subtract_", "multiply_", "divide_", "true_divide_"])
def test_inplace_methods(name):
    base = POS if name == "pow_" else A
    check(lambda L, x, y: getattr(x * 1, name)(y), base, B, rtol=1e-4, atol=1e-5)
    c, t = chainrule.tensor(base), torch.tensor(base)
    assert getattr(c, name)(1.5) is c
    assert_same(c, getattr(t, name)(1.5))
    raises_like(RuntimeError, lambda: getattr(chainrule.ones(3), name)(chainrule.ones(2, 3)),
                lambda: getattr(torch.ones(3), name)(torch.ones(2, 3)))


def test_neg_inplace_and_view_sharing():
    c = chainrule.tensor(A.copy())
    v = c[0] if hasattr(chainrule.Tensor, "__getitem__") else None
    c.neg_()
    assert_same(c, torch.tensor(-A))
    if v is not None:
        assert_same(v, torch.tensor(-A[0]))


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_arithmetic_broadcasting_property(data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    a = data.draw(hnp.arrays(np.float64, shapes.input_shapes[0],
                             elements=st.floats(-3, 3, width=64)))
    b = data.draw(hnp.arrays(np.float64, shapes.input_shapes[1],
                             elements=st.floats(0.5, 3, width=64)))
    check(lambda L, x, y: (x + y) * y - x / y + L.sub(x, y, alpha=2) + (y ** 1.5) ** x.tanh(),
          a, b, rtol=1e-7, atol=1e-8)
