"""Creation functions against PyTorch: dtype inference, shapes, values, errors; random
functions by shape, dtype, range, distribution and determinism (their streams differ)."""
import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from oracle import assert_same, raises_like

import chainrule


def run_both(fn):
    return fn(chainrule), fn(torch)


def same(fn, **tol):
    c, t = run_both(fn)
    assert_same(c, t, **tol)
    return c, t


# ---- tensor(): dtype inference from data --------------------------------------------------
DATA = [
    1, 1.5, True, -0.0, [], [[], []], [1, 2], [1, 2.0], [True, 1], [True, 1.5], [True, False],
    [[1, 2], [3, 4]], ((1, 2), (3, 4)), [[[1.5]]], [np.float64(1.5), 2], [np.float32(1.5), 2],
    [np.int32(1), 2], [np.int32(1), True], [np.float16(1), 2], np.float64(2.5), np.int32(3),
    np.array([1, 2], dtype=np.int32), np.array(2.5), np.arange(6.0).reshape(2, 3).T,
]


@pytest.mark.parametrize("data", DATA, ids=repr)
def test_tensor_infers_dtype_like_torch(data):
    same(lambda lib: lib.tensor(data))


@pytest.mark.parametrize("dtype", ["float64", "int32", "bool", "float16", "uint8", "int8"])
def test_tensor_with_dtype(dtype):
    same(lambda lib: lib.tensor([1.7, -1.7, 0.0], dtype=getattr(lib, dtype)) if dtype != "uint8"
         else lib.tensor([1.7, 0.0], dtype=lib.uint8))


def test_tensor_of_tensors_and_copy_warning():
    same(lambda lib: lib.tensor([lib.tensor(1.0), lib.tensor(2.0)]))
    same(lambda lib: lib.tensor([lib.tensor([1.0]), lib.tensor(2, dtype=lib.int32)]))
    same(lambda lib: lib.tensor([[lib.tensor(1, dtype=lib.int32)], [2]]))
    same(lambda lib: lib.tensor([lib.tensor(1), 2.5]))
    with warnings.catch_warnings():  # torch warns that lists of ndarrays are slow
        warnings.simplefilter("ignore")
        same(lambda lib: lib.tensor([np.array([1, 2]), np.array([3, 4])]))
    for bad, exc in (([1, 2], TypeError), ([1.0, 2.0], ValueError)):
        raises_like(exc, lambda b=bad: chainrule.tensor([chainrule.tensor(b)]),
                    lambda b=bad: torch.tensor([torch.tensor(b)]))
    src = chainrule.tensor([1.0, 2.0])
    with pytest.warns(UserWarning, match="To copy construct from a tensor"):
        copy = chainrule.tensor(src)
    copy.numpy()[0] = 5.0
    assert src.tolist() == [1.0, 2.0]


def test_tensor_copies_ndarray():
    a = np.array([1.0, 2.0])
    t = chainrule.tensor(a)
    a[0] = 9
    assert t.tolist() == [1.0, 2.0]


def test_tensor_requires_grad():
    c, _ = same(lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True))
    assert c.requires_grad and c.is_leaf
    raises_like(RuntimeError, lambda: chainrule.tensor([1, 2], requires_grad=True),
                lambda: torch.tensor([1, 2], requires_grad=True))


@pytest.mark.parametrize(
    "data, exc",
    [
        ([[1, 2], [3]], ValueError),
        ([[1, 2], [3, 4, 5]], ValueError),
        ([[1, 2], []], ValueError),
        ([[1, 2], 3], TypeError),
        ([1, [2]], TypeError),
        ([1, "a"], TypeError),
        ("a", TypeError),
        (None, RuntimeError),
        ([None], RuntimeError),
    ],
    ids=repr,
)
def test_tensor_bad_data_errors(data, exc):
    raises_like(exc, lambda: chainrule.tensor(data), lambda: torch.tensor(data))


# ---- sharing memory -------------------------------------------------------------------------
def test_from_numpy_and_as_tensor_share_memory():
    a = np.arange(4.0)
    for t in (chainrule.from_numpy(a), chainrule.as_tensor(a)):
        a[0] = 7.0
        assert t.tolist()[0] == 7.0
        assert np.shares_memory(t.numpy(), a)
    b = np.arange(6.0).reshape(2, 3).T  # non-contiguous views are shared too
    assert np.shares_memory(chainrule.from_numpy(b).numpy(), b)
    assert chainrule.as_tensor(a, dtype=chainrule.float32).dtype == chainrule.float32
    x = chainrule.ones(2)
    assert chainrule.as_tensor(x) is x
    same(lambda lib: lib.as_tensor([1, 2]))


def test_from_numpy_errors():
    raises_like(TypeError, lambda: chainrule.from_numpy([1]), lambda: torch.from_numpy([1]))
    s = np.array(["a"])
    raises_like(TypeError, lambda: chainrule.from_numpy(s), lambda: torch.from_numpy(s),
                match="can't convert np.ndarray of type numpy.str_. The only supported types are")
    r = np.arange(3.0)[::-1]
    raises_like(ValueError, lambda: chainrule.from_numpy(r), lambda: torch.from_numpy(r))


# ---- filled ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["zeros", "ones"])
@pytest.mark.parametrize(
    "args, kw",
    [((2, 3), {}), (((2, 3),), {}), (([2, 3],), {}), (((),), {}), ((0, 2), {}),
     ((2,), {"dtype": "int32"}), ((2,), {"dtype": "bool"}), ((3,), {"dtype": "float64"})],
    ids=repr,
)
def test_zeros_ones(name, args, kw):
    def f(lib):
        k = {key: getattr(lib, v) for key, v in kw.items()}
        return getattr(lib, name)(*args, **k)

    same(f)


def test_size_forms_and_errors():
    same(lambda lib: lib.zeros(lib.Size([2, 1])))
    assert chainrule.empty(2, 3).shape == (2, 3)
    assert chainrule.empty((0,), dtype=chainrule.int64).dtype == chainrule.int64
    for name in ("zeros", "ones", "empty", "rand", "randn"):
        raises_like(RuntimeError, lambda n=name: getattr(chainrule, n)(2, -1),
                    lambda n=name: getattr(torch, n)(2, -1))
    raises_like(TypeError, lambda: chainrule.zeros(2.5), lambda: torch.zeros(2.5))
    raises_like(RuntimeError, lambda: chainrule.zeros(2, dtype=chainrule.int64, requires_grad=True),
                lambda: torch.zeros(2, dtype=torch.int64, requires_grad=True))
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        chainrule.ones(2, device="cuda")
    assert chainrule.ones(2, device="cpu").device == chainrule.device("cpu")


@pytest.mark.parametrize("value", [1, True, 1.5, -2, np.float64(1.5), 0.0])
def test_full_infers_dtype(value):
    same(lambda lib: lib.full((2, 3), value))
    same(lambda lib: lib.full([2], value, dtype=lib.float64))


def test_full_size_must_be_tuple():
    raises_like(TypeError, lambda: chainrule.full(2, 1.5), lambda: torch.full(2, 1.5))


@pytest.mark.parametrize("dtype", [None, "int64", "float64", "bool"])
def test_like_functions(dtype):
    for src in (np.zeros((2, 3), np.float32), np.zeros((4,), np.int32)):
        def k(lib):
            return {} if dtype is None else {"dtype": getattr(lib, dtype)}

        same(lambda lib, a=src: lib.zeros_like(lib.tensor(a), **k(lib)))
        same(lambda lib, a=src: lib.ones_like(lib.tensor(a), **k(lib)))
        same(lambda lib, a=src: lib.full_like(lib.tensor(a), 2.7, **k(lib)))
        c, t = run_both(lambda lib, a=src: lib.empty_like(lib.tensor(a), **k(lib)))
        assert c.shape == t.shape and str(c.dtype) == str(t.dtype)
    c = chainrule.zeros_like(chainrule.ones(2), requires_grad=True)
    assert c.requires_grad and c.is_leaf


# ---- ranges ---------------------------------------------------------------------------------
ARANGE = [
    (5,), (0, 5), (2, 10, 3), (5, 0, -2), (0.0, 5), (0, 5, 1.0), (0, 1, 0.1), (1, 0, -0.3),
    (-1.5, 2.5, 0.5), (0, 10, 3, "float32"), (0.0, 5.5, 1.5, "int64"), (0.5, 5, 1, "int64"),
    (0, 5, 1.5, "int64"), (0, 3, 1, "float64"), (3, 3), (np.int32(3),), (0, 1, 1e-1, "float64"),
]


@pytest.mark.parametrize("args", ARANGE, ids=repr)
def test_arange(args):
    def f(lib):
        *a, d = args if isinstance(args[-1], str) else (*args, None)
        return lib.arange(*a, dtype=None if d is None else getattr(lib, d))

    # (to an ulp: PyTorch's own last bit depends on the CPU's vector width)
    same(f, rtol=1e-6, atol=0)


def test_arange_tensor_bound_and_errors():
    same(lambda lib: lib.arange(lib.tensor(3)))
    for args in ((0, 5, 0), (0, 5, -1), (5, 0, 1)):
        raises_like(RuntimeError, lambda a=args: chainrule.arange(*a), lambda a=args: torch.arange(*a))
    # the sign check uses the bounds as given, before an integral dtype truncates them
    raises_like(RuntimeError, lambda: chainrule.arange(-9.4, -9.0, -2.5, dtype=chainrule.int64),
                lambda: torch.arange(-9.4, -9.0, -2.5, dtype=torch.int64))
    raises_like(ValueError, lambda: chainrule.arange(-1.0, 1.0, 0.5, dtype=chainrule.int64),
                lambda: torch.arange(-1.0, 1.0, 0.5, dtype=torch.int64))
    raises_like(NotImplementedError, lambda: chainrule.arange(3, dtype=chainrule.bool),
                lambda: torch.arange(3, dtype=torch.bool))


@pytest.mark.parametrize(
    "args, kw",
    [((0, 1, 5), {}), ((0, 10, 5), {"dtype": "int64"}), ((0, 1, 1), {}), ((0, 1, 0), {}),
     ((-3, 7.5, 11), {"dtype": "float64"}), ((1, 0, 4), {})],
    ids=repr,
)
def test_linspace_logspace(args, kw):
    def k(lib):
        return {key: getattr(lib, v) for key, v in kw.items()}

    same(lambda lib: lib.linspace(*args, **k(lib)))
    same(lambda lib: lib.logspace(*args, **k(lib)), rtol=1e-6)
    same(lambda lib: lib.logspace(*args, base=2, **k(lib)), rtol=1e-6)


def test_range_errors_and_eye():
    raises_like(RuntimeError, lambda: chainrule.linspace(0, 1, -1), lambda: torch.linspace(0, 1, -1))
    same(lambda lib: lib.linspace(lib.tensor(0.0), 1, 3))
    same(lambda lib: lib.logspace(0, 3, 4, dtype=lib.int64))
    same(lambda lib: lib.eye(3))
    same(lambda lib: lib.eye(2, 3))
    same(lambda lib: lib.eye(0))
    same(lambda lib: lib.eye(2, dtype=lib.int64))
    raises_like(RuntimeError, lambda: chainrule.eye(-1), lambda: torch.eye(-1))
    raises_like(RuntimeError, lambda: chainrule.eye(2, -1), lambda: torch.eye(2, -1))


# ---- random ---------------------------------------------------------------------------------
def test_seed_determinism_and_generators():
    chainrule.manual_seed(0)
    a = chainrule.randn(5)
    chainrule.manual_seed(0)
    b = chainrule.randn(5)
    assert a.tolist() == b.tolist()
    assert chainrule.initial_seed() == 0
    g1 = chainrule.Generator().manual_seed(7)
    g2 = chainrule.Generator().manual_seed(7)
    chainrule.randn(3)  # the default stream must not disturb g1/g2
    x = chainrule.rand(4, generator=g1)
    y = chainrule.rand(4, generator=g2)
    assert x.tolist() == y.tolist()
    assert chainrule.rand(4, generator=g1).tolist() != x.tolist()
    assert chainrule.Generator().initial_seed() == torch.Generator().initial_seed()
    assert isinstance(chainrule.manual_seed(3), chainrule.Generator)
    s = chainrule.seed()
    assert isinstance(s, int) and chainrule.initial_seed() == s


def test_rng_state_roundtrip():
    chainrule.manual_seed(1)
    state = chainrule.get_rng_state()
    assert state.dtype == chainrule.uint8 and state.dim() == 1
    a = chainrule.rand(3)
    chainrule.set_rng_state(state)
    assert chainrule.rand(3).tolist() == a.tolist()
    g = chainrule.Generator()
    st = g.get_state()
    b = chainrule.randint(0, 100, (5,), generator=g)
    g.set_state(st)
    assert chainrule.randint(0, 100, (5,), generator=g).tolist() == b.tolist()
    with pytest.raises(RuntimeError):
        chainrule.set_rng_state(chainrule.zeros(3, dtype=chainrule.uint8))


@pytest.mark.parametrize("generator", [False, True])
def test_every_random_function_honours_generator(generator):
    calls = [
        lambda lib, **g: lib.rand(3, 2, **g),
        lambda lib, **g: lib.randn(3, **g),
        lambda lib, **g: lib.rand_like(lib.zeros(3), **g),
        lambda lib, **g: lib.randn_like(lib.zeros(3), **g),
        lambda lib, **g: lib.randint(0, 9, (4,), **g),
        lambda lib, **g: lib.randint_like(lib.zeros(4), 9, **g),
        lambda lib, **g: lib.randperm(6, **g),
        lambda lib, **g: lib.normal(0.0, 1.0, (3,), **g),
        lambda lib, **g: lib.normal(lib.zeros(3), lib.ones(3), **g),
        lambda lib, **g: lib.bernoulli(lib.full((8,), 0.5), **g),
        lambda lib, **g: lib.multinomial(lib.ones(5), 3, **g),
    ]
    for fn in calls:
        def draw(fn=fn):
            if generator:
                return fn(chainrule, generator=chainrule.Generator().manual_seed(11)).tolist()
            chainrule.manual_seed(11)
            return fn(chainrule).tolist()

        first = draw()
        if generator:
            chainrule.manual_seed(99)  # the default stream is irrelevant with a generator
        assert draw() == first
        torch_shape = tuple(fn(torch).shape)
        assert np.array(first).shape == torch_shape


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib: lib.rand(2, 3),
        lambda lib: lib.rand(2, dtype=lib.float64),
        lambda lib: lib.rand(2, dtype=lib.float16),
        lambda lib: lib.randn((2, 3)),
        lambda lib: lib.randn(()),
        lambda lib: lib.randn(2, dtype=lib.float64, requires_grad=True),
        lambda lib: lib.rand_like(lib.zeros(2, dtype=lib.float64)),
        lambda lib: lib.randn_like(lib.zeros(2, 2)),
        lambda lib: lib.randint(10, (3,)),
        lambda lib: lib.randint(0, 10, (2, 2), dtype=lib.float64),
        lambda lib: lib.randint(-5, 5, size=(3,)),
        lambda lib: lib.randint_like(lib.zeros(2), 5),
        lambda lib: lib.randint_like(lib.zeros(2, dtype=lib.int32), 2, 5),
        lambda lib: lib.randperm(5),
        lambda lib: lib.randperm(0),
        lambda lib: lib.randperm(5, dtype=lib.float32),
        lambda lib: lib.normal(0.0, 1.0, size=(2,)),
        lambda lib: lib.normal(lib.zeros(2), 1.0),
        lambda lib: lib.normal(0.0, lib.ones(2, 1)),
        lambda lib: lib.normal(lib.zeros(3), lib.ones(2, 1)),
        lambda lib: lib.normal(lib.zeros(2, dtype=lib.float64), lib.ones(2, dtype=lib.float64)),
        lambda lib: lib.bernoulli(lib.tensor([0.0, 1.0])),
        lambda lib: lib.bernoulli(lib.zeros(3), 0.5),
        lambda lib: lib.multinomial(lib.tensor([0.0, 1.0, 1.0]), 2),
        lambda lib: lib.multinomial(lib.tensor([[0.0, 1.0], [1.0, 0.0]]), 1),
        lambda lib: lib.multinomial(lib.tensor([0.0, 1.0, 1.0]), 4, replacement=True),
    ],
)
def test_random_shapes_dtypes_flags(fn):
    c, t = run_both(fn)
    assert tuple(c.shape) == tuple(t.shape)
    assert str(c.dtype) == str(t.dtype)
    assert c.requires_grad == t.requires_grad


def test_random_values_and_distributions():
    chainrule.manual_seed(0)
    u = chainrule.rand(20000).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert chainrule.rand(5000, dtype=chainrule.float16).numpy().max() < 1
    n = chainrule.randn(20000, dtype=chainrule.float64).numpy()
    assert abs(n.mean()) < 0.03 and abs(n.std() - 1) < 0.03
    m = chainrule.normal(3.0, 2.0, (20000,)).numpy()
    assert abs(m.mean() - 3) < 0.06 and abs(m.std() - 2) < 0.06
    means = np.tile(np.float32([-10.0, 10.0]), (5000, 1))
    mt = chainrule.normal(chainrule.tensor(means), 0.1).numpy()
    assert np.allclose(mt, means, atol=1) and abs(mt.std(0) - 0.1).max() < 0.01
    r = chainrule.randint(-3, 4, (5000,)).numpy()
    assert r.min() == -3 and r.max() == 3 and r.dtype == np.int64
    p = chainrule.randperm(50).numpy()
    assert sorted(p.tolist()) == list(range(50))
    b = chainrule.bernoulli(chainrule.full((20000,), 0.3)).numpy()
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.02
    assert chainrule.bernoulli(chainrule.tensor([0.0, 1.0])).tolist() == [0.0, 1.0]
    w = chainrule.tensor([0.0, 1.0, 3.0])
    draws = chainrule.multinomial(w, 20000, replacement=True).numpy()
    assert (draws != 0).all() and abs((draws == 2).mean() - 0.75) < 0.02
    no_rep = chainrule.multinomial(chainrule.ones(2, 6), 6).numpy()
    assert all(sorted(row) == list(range(6)) for row in no_rep.tolist())


def test_random_errors():
    cases = [
        (RuntimeError, lambda lib: lib.randint(5, 3, (3,))),
        (TypeError, lambda lib: lib.normal(0.0, 1.0)),
        (RuntimeError, lambda lib: lib.normal(0.0, -1.0, size=(2,))),
        (RuntimeError, lambda lib: lib.normal(lib.zeros(2), -1.0)),
        (RuntimeError, lambda lib: lib.normal(lib.zeros(2), lib.tensor([1.0, -1.0]))),
        (RuntimeError, lambda lib: lib.normal(lib.zeros(2), lib.ones(3))),
        (RuntimeError, lambda lib: lib.bernoulli(lib.tensor([0.0, 2.0]))),
        (RuntimeError, lambda lib: lib.bernoulli(lib.zeros(2), 2.0)),
        (NotImplementedError, lambda lib: lib.bernoulli(lib.tensor([0, 1]))),
        (NotImplementedError, lambda lib: lib.rand(2, dtype=lib.int64)),
        (NotImplementedError, lambda lib: lib.randn(2, dtype=lib.int64)),
        (NotImplementedError, lambda lib: lib.rand_like(lib.zeros(2, dtype=lib.int64))),
        (NotImplementedError, lambda lib: lib.randn_like(lib.zeros(2, dtype=lib.int64))),
        (RuntimeError, lambda lib: lib.randint(0, 3, (2,), requires_grad=True)),
        (RuntimeError, lambda lib: lib.randperm(-1)),
        (RuntimeError, lambda lib: lib.multinomial(lib.tensor([0.0, 1.0]), 3)),
        (RuntimeError, lambda lib: lib.multinomial(lib.tensor([-1.0, 1.0]), 1)),
        (RuntimeError, lambda lib: lib.multinomial(lib.tensor([0.0, 0.0]), 1)),
        (RuntimeError, lambda lib: lib.multinomial(lib.zeros(2, 2, 2), 1)),
    ]
    for exc, fn in cases:
        match = "normal() received an invalid combination of arguments" if exc is TypeError else None
        raises_like(exc, lambda fn=fn: fn(chainrule), lambda fn=fn: fn(torch), match=match)


def test_default_dtype_is_honoured():
    old = chainrule.get_default_dtype()
    chainrule.set_default_dtype(chainrule.float64)
    torch.set_default_dtype(torch.float64)
    try:
        for fn in (lambda lib: lib.tensor([1.5]), lambda lib: lib.zeros(2), lambda lib: lib.full((1,), 2.0),
                   lambda lib: lib.arange(0.0, 2), lambda lib: lib.linspace(0, 1, 3), lambda lib: lib.rand(2)):
            c, t = run_both(fn)
            assert str(c.dtype) == str(t.dtype) == "torch.float64"
    finally:
        chainrule.set_default_dtype(old)
        torch.set_default_dtype(torch.float32)


def test_no_warning_for_plain_data():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chainrule.tensor([1.0, math.pi])


@settings(max_examples=25, deadline=None)
@given(
    hnp.arrays(
        st.sampled_from([np.bool_, np.int64, np.float64]),
        hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4),
        elements={"allow_nan": False, "allow_subnormal": False, "min_value": -1e6, "max_value": 1e6},
    ),
    st.booleans(),
)
def test_tensor_from_random_nested_lists(arr, as_tuples):
    """Python lists (or tuples) of any depth, including empty dimensions, as torch reads them."""
    data = arr.tolist()
    if as_tuples and isinstance(data, list):
        data = tuple(data)
    same(lambda lib: lib.tensor(data))
