"""out=: written into, resized, cast-checked and refused under autograd, as PyTorch does."""
import warnings

import numpy as np
import pytest
import torch

import chainrule

LIBS = [chainrule, torch]
IDS = ["chainrule", "torch"]

CASES = [
    ("add", lambda L: (L.ones(2, 3), 2.0), {}),
    ("mul", lambda L: (L.ones(2, 3), L.arange(3.0)), {}),
    ("matmul", lambda L: (L.arange(6.0).reshape(2, 3), L.ones(3, 4)), {}),
    ("exp", lambda L: (L.arange(4.0),), {}),
    ("sum", lambda L: (L.arange(6.0).reshape(2, 3), 1), {}),
    ("clamp", lambda L: (L.arange(-2.0, 3.0),), {"min": -1.0, "max": 1.0}),
    ("cat", lambda L: ([L.ones(2), L.zeros(3)],), {}),
    ("eq", lambda L: (L.arange(3.0), 1.0), {}),
]


@pytest.mark.parametrize("name,args,kwargs", CASES, ids=[c[0] for c in CASES])
def test_out_is_written_and_returned(name, args, kwargs):
    results = []
    for lib in LIBS:
        ref = getattr(lib, name)(*args(lib), **kwargs)
        out = lib.empty(ref.shape, dtype=ref.dtype)
        r = getattr(lib, name)(*args(lib), **kwargs, out=out)
        assert r is out
        results.append(out.numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)  # libm may differ by an ulp


@pytest.mark.parametrize("lib", LIBS, ids=IDS)
def test_out_resized_with_warning_cast_and_refusals(lib):
    out = lib.zeros(3)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        lib.add(lib.ones(2), 1, out=out)
    assert out.tolist() == [2.0, 2.0] and any("was resized" in str(x.message) for x in w)
    wide = lib.zeros(2, dtype=lib.float64)
    lib.add(lib.ones(2), 1, out=wide)
    assert wide.dtype == lib.float64 and wide.tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        lib.add(lib.ones(2), 1.5, out=lib.zeros(2, dtype=lib.long))
    x = lib.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="functions with out=... arguments don't support automatic differentiation"):
        lib.mul(x, 2, out=lib.zeros(2))


def test_out_tuple_for_values_and_indices():
    res = []
    for lib in LIBS:
        v, i = lib.empty(0), lib.empty(0, dtype=lib.long)
        r = lib.max(lib.tensor([[1.0, 3.0], [2.0, 0.0]]), 1, out=(v, i))
        assert r.values is v and r.indices is i
        res.append((v.tolist(), i.tolist()))
    assert res[0] == res[1]
