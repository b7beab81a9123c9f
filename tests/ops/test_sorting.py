"""sort/argsort/topk/kthvalue/median/unique against torch (values, indices, gradients)."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import assert_same, check, fd_check

import chainrule

A = np.array([[3.0, 1.0, 2.0, 5.0], [0.0, 4.0, -4.0, -1.0], [7.0, -2.0, 6.0, 0.5]])


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_values_indices_and_gradients(dim, descending):
    check(lambda lib, x: x.sort(dim=dim, descending=descending), A)
    check(lambda lib, x: lib.argsort(x, dim=dim, descending=descending), A, grad=False)


@pytest.mark.parametrize("k,dim,largest", [(2, -1, True), (1, 0, False), (3, 1, False), (0, 1, True)])
def test_topk(k, dim, largest):
    check(lambda lib, x: lib.topk(x, k, dim=dim, largest=largest), A)


@pytest.mark.parametrize("k,dim,keepdim", [(1, 0, False), (2, 1, True), (3, -1, False)])
def test_kthvalue(k, dim, keepdim):
    check(lambda lib, x: x.kthvalue(k, dim, keepdim), A)


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True)])
def test_median_lower_middle_and_gradient(dim, keepdim):
    fn = (lambda lib, x: x.median()) if dim is None else (lambda lib, x: x.median(dim, keepdim))
    check(fn, A)
    check(fn, A[:, :3])


def test_nan_ordering_matches_torch():
    a = np.array([2.0, np.nan, -1.0, 5.0])
    check(lambda lib, x: x.sort(descending=True), a, grad=False)
    check(lambda lib, x: x.sort(), a, grad=False)
    check(lambda lib, x: x.median(0), a, grad=False)
    check(lambda lib, x: x.nanmedian(0), a, grad=False)


def test_zero_d_and_float32():
    check(lambda lib, x: x.sort(), np.float32(3.0))
    check(lambda lib, x: x.topk(2), A.astype(np.float32))


def test_finite_differences():
    fd_check(lambda lib, x: x.sort(dim=1)[0] * lib.tensor([1.0, 2.0, 3.0, 4.0]), A)
    fd_check(lambda lib, x: x.topk(2, dim=0)[0], A)


def test_unique():
    a = np.array([3, 1, 3, 2, 1, 1])
    for kw in [{}, {"return_inverse": True}, {"return_counts": True}, {"return_inverse": True, "return_counts": True}]:
        assert_same(chainrule.unique(chainrule.tensor(a), **kw), torch.unique(torch.tensor(a), **kw))
    m = np.array([[1, 2], [1, 2], [0, 5]])
    assert_same(chainrule.unique(chainrule.tensor(m), dim=0), torch.unique(torch.tensor(m), dim=0))


def test_topk_k_out_of_range_is_an_error():
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match="selected index k out of range"):
            lib.tensor([1.0, 2.0]).topk(3)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.booleans(), st.integers(0, 2 ** 16))
def test_sort_random_shapes(r, c, desc, seed):
    a = np.random.default_rng(seed).permutation(r * c).reshape(r, c).astype(np.float64)  # no ties
    check(lambda lib, x: x.sort(dim=-1, descending=desc), a, second=False)
