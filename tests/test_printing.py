"""repr/str of tensors compared verbatim with PyTorch's output for the same data."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule


def both(data, dtype=None, requires_grad=False):
    arr = np.array(data, dtype=dtype)
    c = chainrule.tensor(arr.copy(), requires_grad=requires_grad)
    t = torch.tensor(arr.copy(), requires_grad=requires_grad)
    return c, t


def same_repr(c, t):
    assert repr(c) == repr(t), f"\nchainrule:\n{c!r}\ntorch:\n{t!r}"
    assert str(c) == repr(c)


nan, inf = math.nan, math.inf
rs = np.random.RandomState(0)

CASES = {
    "scalar_int_float": (3.0, None),
    "scalar_frac": (3.14159, None),
    "scalar_neg_zero": (-0.0, None),
    "scalar_nan": (nan, None),
    "scalar_inf": (-inf, None),
    "scalar_big": (123456789.0, None),
    "scalar_tiny": (1e-7, None),
    "scalar_int": (7, None),
    "scalar_bool": (True, None),
    "scalar_f64": (2.5, np.float64),
    "scalar_i32": (-4, np.int32),
    "vec_int_mode": ([1.0, 2.0, -3.0], None),
    "vec_fixed": ([1.5, -2.25, 3.0], None),
    "vec_neg_zero": ([-0.0, 1.0], None),
    "vec_all_zero": ([0.0, 0.0, -0.0], None),
    "vec_nan_inf": ([1.0, nan, inf, -inf], None),
    "vec_only_nonfinite": ([nan, inf], None),
    "vec_nan_frac": ([1.5, nan], None),
    "vec_sci_ratio": ([1.0, 2000.0], None),
    "vec_sci_ratio_frac": ([0.5, 600.0], None),
    "vec_no_sci_999": ([1.5, 999.0], None),
    "vec_sci_big": ([1.0e9, 2.0e9], None),
    "vec_sci_small": ([1e-5, 2e-5], None),
    "vec_sci_small_edge": ([1e-4, 2e-4], None),
    "vec_sci_with_nan": ([1e-5, nan, 3.0], None),
    "vec_int_sci_zero": ([0.0, 1e10], None),
    "vec_rounding": ([0.99996, 0.12345], None),
    "vec_int_negative": ([-1, -20, 300], None),
    "vec_int64_big": ([2**40, -1], None),
    "vec_bool": ([True, False, True], None),
    "vec_int32": ([1, 2, 3], np.int32),
    "vec_int16": ([1, -2], np.int16),
    "vec_int8": ([1, -2], np.int8),
    "vec_uint8": ([1, 255], np.uint8),
    "vec_f64": ([1.0, 2.5], np.float64),
    "vec_f16": ([1.0, 2.5, 1000.0], np.float16),
    "vec_f16_int": ([1.0, 2.0], np.float16),
    "mat_int_mode": ([[1.0, 2.0], [3.0, 4.0]], None),
    "mat_alignment": ([[1.0, -200.5], [3.25, 4.0]], None),
    "mat_int": ([[1, 22, 333], [-4, 5, 6]], None),
    "mat_bool": ([[True, False], [False, True]], None),
    "mat_sci": ([[1e-6, 1.0], [2.0, 3.0]], None),
    "cube": (np.arange(24.0).reshape(2, 3, 4), None),
    "cube_frac": (np.arange(24.0).reshape(2, 3, 4) / 7, None),
    "4d": (np.arange(16).reshape(2, 2, 2, 2), None),
    "one_elem_nested": ([[[5.0]]], None),
    "long_row_wrap": (np.arange(40.0) / 3, None),
    "long_row_int": (np.arange(100), None),
    "long_row_int_mode": (np.arange(60.0), None),
    "wide_matrix_wrap": (np.arange(60.0).reshape(2, 30) / 7, None),
    "summarize_vec": (np.arange(2000.0), None),
    "summarize_vec_frac": (np.arange(1001) / 3, None),
    "summarize_matrix": (np.arange(2000.0).reshape(40, 50) / 9, None),
    "summarize_cube": (np.arange(3000).reshape(10, 15, 20), None),
    "summarize_short_dim": (np.arange(1200.0).reshape(2, 600), None),
    "summarize_width_from_shown": (np.concatenate([[1.5], np.full(1500, 1e9), [2.5]]), None),
    "not_summarized_1000": (np.arange(1000.0), None),
    "random_normal": (rs.randn(3, 5), None),
    "random_f64": (rs.randn(4, 3), np.float64),
    "random_sci": (rs.randn(3, 3) * 1e5, None),
    "empty_vec": ([], None),
    "empty_2d": (np.zeros((0, 3)), np.float32),
    "empty_int": (np.zeros((0,), np.int64), None),
    "empty_f64_3d": (np.zeros((2, 0, 1)), np.float64),
    "empty_bool": (np.zeros((0,), bool), None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_repr_matches_torch(name):
    data, dtype = CASES[name]
    same_repr(*both(data, dtype))


def test_non_contiguous_input():
    a = np.arange(12.0).reshape(3, 4) / 3
    for view in (a.T, a[:, ::2]):
        assert not view.flags.c_contiguous
        same_repr(chainrule.from_numpy(view), torch.from_numpy(view))


@pytest.mark.parametrize("data", [1.0, [1.0, 2.0], np.arange(30.0) / 7, [[1.5, 2.0]], []])
def test_requires_grad_suffix(data):
    same_repr(*both(data, np.float32, requires_grad=True))


@pytest.mark.parametrize("data", [[1.0, 2.0], np.arange(2000.0), [2.0]])
def test_requires_grad_and_dtype_suffixes(data):
    same_repr(*both(data, np.float64, requires_grad=True))


def test_suffix_moves_to_new_line_when_row_is_full():
    # a row that ends near column 80: PyTorch puts the suffix on its own line
    for n in (9, 10, 11, 12):
        same_repr(*both(np.arange(n) / 7 + 100, np.float64, requires_grad=True))


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, w: (w * 2.0 - 3.0) ** 2,
        lambda lib, w: w * w,
        lambda lib, w: (w + 1).sum(),
        lambda lib, w: w.exp(),
        lambda lib, w: -w,
        lambda lib, w: w / 3,
    ],
)
def test_grad_fn_suffix(fn):
    c, t = both([1.0, 2.5], np.float32, requires_grad=True)
    same_repr(fn(chainrule, c), fn(torch, t))


def test_seed_notebook_lines():
    x, y = chainrule.tensor(1.0), chainrule.tensor(2.0)
    w = chainrule.tensor(1.0, requires_grad=True)
    loss = (w * x - y) ** 2
    assert repr(loss) == "tensor(1., grad_fn=<PowBackward0>)"
    loss.backward()
    assert repr(w.grad) == "tensor(-2.)"


def test_prefix_and_contents_helpers():
    from chainrule._printing import tensor_repr

    c, t = both([[1.0, 2.5], [3.0, 4.0]], requires_grad=True)
    p = torch.nn.Parameter(t.detach())
    assert "Parameter containing:\n" + tensor_repr(c) == repr(p)
    assert tensor_repr(c, prefix="Foo(") == (
        "Foo([[1.0000, 2.5000],\n     [3.0000, 4.0000]], dtype=torch.float64, requires_grad=True)"
    )
    assert tensor_repr(c, tensor_contents="...") == "tensor(..., dtype=torch.float64, requires_grad=True)"


@pytest.fixture
def printopts():
    yield
    chainrule.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


@pytest.mark.parametrize(
    "opts",
    [
        {"precision": 2},
        {"precision": 8},
        {"threshold": 5},
        {"threshold": 5, "edgeitems": 1},
        {"threshold": 5, "edgeitems": 0},
        {"linewidth": 30},
        {"sci_mode": True},
        {"sci_mode": False},
        {"profile": "short"},
        {"profile": "full"},
        {"profile": "short", "precision": 6},
    ],
)
def test_set_printoptions(printopts, opts):
    chainrule.set_printoptions(**opts)
    torch.set_printoptions(**opts)
    for data in (np.arange(24.0).reshape(2, 3, 4) / 7, [1e-6, 1.0], np.arange(2000.0), [1, 2, 3], 3.5):
        same_repr(*both(data))


def test_sci_mode_resets_with_plain_call(printopts):
    chainrule.set_printoptions(sci_mode=True)
    chainrule.set_printoptions(precision=4)  # sci_mode=None again, as in PyTorch
    assert repr(chainrule.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"


def test_printoptions_context_restores(printopts):
    from chainrule._printing import get_printoptions, printoptions

    before = get_printoptions()
    with printoptions(precision=1):
        assert repr(chainrule.tensor([1.25])) == repr(torch.tensor([1.25])).replace("1.2500", "1.2")
    assert get_printoptions() == before == torch._tensor_str.get_printoptions()


def test_default_dtype_float64_changes_suffixes():
    old = chainrule.get_default_dtype()
    chainrule.set_default_dtype(chainrule.float64)
    torch.set_default_dtype(torch.float64)
    try:
        for data, dt in (([1.5, 2.0], np.float32), ([1.5, 2.0], np.float64), ([], np.float32), ([], np.float64)):
            same_repr(*both(data, dt))
    finally:
        chainrule.set_default_dtype(old)
        torch.set_default_dtype(torch.float32)


def test_format_zero_dim():
    c, t = both(3.14159)
    assert f"{c:.3f}" == f"{t:.3f}" == "3.142"
    assert f"{c}" == f"{t}"


_float_elems = st.one_of(
    st.floats(-1e3, 1e3, width=32, allow_subnormal=False),
    st.floats(-2.0**40, 2.0**40, width=32, allow_subnormal=False),
    st.sampled_from([0.0, -0.0, 1.0, nan, inf, -inf, 1e-6, 123.0]),
)


@settings(max_examples=25, deadline=None)
@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=0, max_dims=3, max_side=6), elements=_float_elems))
def test_random_float_arrays(arr):
    same_repr(chainrule.tensor(arr.copy()), torch.tensor(arr.copy()))


@settings(max_examples=25, deadline=None)
@given(
    hnp.arrays(
        st.sampled_from([np.int64, np.int32, np.float64, np.bool_]),
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=7),
    )
)
def test_random_arrays_of_other_dtypes(arr):
    same_repr(chainrule.tensor(arr.copy()), torch.tensor(arr.copy()))


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 4), st.integers(990, 1400), st.floats(1e-3, 1e4))
def test_random_summarised(ndim, n, scale):
    side = max(2, round(n ** (1 / ndim)))
    arr = (np.random.default_rng(n).standard_normal((side,) * ndim) * scale).astype(np.float32)
    same_repr(chainrule.tensor(arr.copy()), torch.tensor(arr.copy()))
