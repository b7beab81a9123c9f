"""Tensor attributes and conversions, each compared with what torch gives for the same data."""
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from oracle import raises_like

import chainrule

M = [[1.5, 2.0, -3.0], [4.0, 5.0, 6.0]]


def make(lib):
    """Shared fixtures: a float matrix, a 0-d float, an int vector, a bool vector, a 3-d tensor."""
    return {
        "x": lib.tensor(M),
        "s": lib.tensor(2.5),
        "i": lib.tensor([1, 2, 3]),
        "b": lib.tensor([True, False]),
        "c": lib.tensor(np.arange(24.0).reshape(2, 3, 4)),
        "w": lib.tensor(M, requires_grad=True),
    }


def norm(v):
    """Comparable form of a result (tensors by repr, dtypes/sizes/devices by str)."""
    if isinstance(v, (chainrule.Tensor, torch.Tensor)):
        return "T:" + repr(v.detach() if v.requires_grad else v) + f"|rg={v.requires_grad}"
    if isinstance(v, (chainrule.dtype, torch.dtype, chainrule.device, torch.device)):
        return str(v)
    if isinstance(v, (tuple, list)) and not isinstance(v, (chainrule.Size, torch.Size)):
        return type(v).__name__, [norm(e) for e in v]
    if isinstance(v, (chainrule.Size, torch.Size)):
        return "Size", tuple(v), repr(v)
    if isinstance(v, np.ndarray):
        return "nd", v.dtype.str, v.tolist()
    return type(v).__name__, v


EXPRS = [
    "x.shape", "x.size()", "x.size(1)", "x.size(-1)", "c.shape[1:]", "x.dim()", "x.ndim", "s.ndim",
    "x.numel()", "s.numel()", "x.nelement()", "x.ndimension()", "x.dtype", "i.dtype", "b.dtype",
    "x.device", "x.is_cuda", "x.T", "x.mT", "c.mT", "s.item()", "i[1].item()", "b[0].item()",
    "x.tolist()", "s.tolist()", "i.tolist()", "b.tolist()", "x.to(lib.float64)",
    "x.to(dtype=lib.int32)", "x.to('cpu')", "x.to('cpu', lib.int32)", "x.to(device='cpu', dtype=lib.int64)",
    "x.to(i)", "x.float()", "x.double()", "x.long()", "x.int()", "x.bool()", "x.half()", "x.short()",
    "x.char()", "x.byte()", "i.float()", "b.int()", "x.type()", "i.type()", "b.type()", "x.double().type()",
    "x.type(lib.float64)", "x.type('torch.IntTensor')", "x.type_as(i)", "x.contiguous()",
    "x.T.is_contiguous()", "x.T.contiguous().is_contiguous()", "x.T.contiguous()", "x.clone()",
    "x.detach()", "x.requires_grad", "w.requires_grad", "x.grad", "x.grad_fn", "x.is_leaf", "w.is_leaf",
    "(w * 2).is_leaf", "(w * 2).requires_grad", "len(x)", "len(c)", "list(i)", "[v.tolist() for v in x]",
    "bool(s)", "bool(lib.tensor([0.0]))", "float(s)", "int(s)", "int(lib.tensor([3]))",
    "float(lib.tensor([[2.5]]))", "[10, 20, 30][lib.tensor(1)]", "f'{s:.3f}'", "f'{s}'", "f'{i[0]}'",
    "f'{x}'", "'{:>8.2f}'.format(s)", "np.asarray(x)", "np.asarray(x, dtype=np.float64)",
    "np.asarray(i)", "x.numpy()", "x.element_size()", "x.stride()", "x.T.stride()", "c.stride(1)",
    "x.is_floating_point()", "i.is_floating_point()", "x.is_signed()", "b.is_signed()",
    "x.is_complex()", "x.new_zeros(2)", "x.new_ones((1, 2))", "x.new_tensor([1, 2])",
    "i.new_tensor([1.5])", "x.new_full((2,), 3)", "x.new_zeros(2, dtype=lib.int64)",
    "x.new_empty(2).shape", "w.new_tensor([1.0]).requires_grad", "x.nbytes", "x.itemsize",
    "x.get_device()", "x[:, 1:].storage_offset()", "x.is_sparse", "x.data", "w.data.requires_grad",
    "x.cpu()", "x.to(lib.float64, copy=True).dtype", "x.numpy(force=True)", "w.detach().numpy()",
    "x.requires_grad_().requires_grad", "x.sum().item()", "c[1, 2].tolist()", "s.shape", "x.size(dim=0)",
]


@pytest.mark.parametrize("expr", EXPRS)
def test_attribute_matches_torch(expr):
    results = []
    for lib in (chainrule, torch):
        env = make(lib)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results.append(norm(eval(expr, {"lib": lib, "np": np}, env)))
    assert results[0] == results[1]


def test_identity_and_sharing():
    x = chainrule.tensor(M)
    assert x.to(chainrule.float32) is x and x.cpu() is x and x.contiguous() is x
    assert x.to(chainrule.float32, copy=True) is not x
    assert np.shares_memory(x.numpy(), x.detach().numpy())
    a = np.asarray(x)
    a[0, 0] = 42.0  # np.asarray and .numpy() share memory, as in PyTorch
    assert x.tolist()[0][0] == 42.0
    c = x.clone()
    c.numpy()[0, 0] = -1.0
    assert x.tolist()[0][0] == 42.0
    assert x.detach()._data is x._data or np.shares_memory(x.detach().numpy(), a)


def test_numpy_shares_memory_with_from_numpy_roundtrip():
    a = np.zeros(3)
    t = chainrule.from_numpy(a)
    t.numpy()[1] = 5
    assert a[1] == 5


def test_autograd_attributes():
    for lib in (chainrule, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (w * 2).exp()
        assert y.grad_fn.name() == "ExpBackward0"
        (mul, idx), = y.grad_fn.next_functions
        assert mul.name() == "MulBackward0" and idx == 0
        acc, _ = mul.next_functions[0]
        assert acc.name() == "torch::autograd::AccumulateGrad" and acc.variable is w
        assert mul.next_functions[1] == (None, 0)
        y.retain_grad()
        y.sum().backward()
        assert y.grad.tolist() == [1.0, 1.0]
        assert w.grad.tolist() == pytest.approx((2 * y).detach().tolist())
        w.requires_grad_(False)
        assert not w.requires_grad


def test_errors_match_torch():
    cases = [
        (RuntimeError, lambda lib: lib.tensor(M).item()),
        (RuntimeError, lambda lib: lib.tensor(M, requires_grad=True).numpy()),
        (RuntimeError, lambda lib: np.asarray(lib.tensor(M, requires_grad=True))),
        (RuntimeError, lambda lib: lib.tensor([1, 2]).requires_grad_()),
        (RuntimeError, lambda lib: setattr(lib.tensor([1, 2]), "requires_grad", True)),
        (RuntimeError, lambda lib: bool(lib.tensor([1.0, 2.0]))),
        (RuntimeError, lambda lib: bool(lib.tensor([]))),
        (ValueError, lambda lib: float(lib.tensor([1.0, 2.0]))),
        (ValueError, lambda lib: int(lib.tensor([1, 2]))),
        (TypeError, lambda lib: [1, 2][lib.tensor(1.0)]),
        (TypeError, lambda lib: len(lib.tensor(1.0))),
        (TypeError, lambda lib: iter(lib.tensor(1.0))),
        (IndexError, lambda lib: lib.tensor(M).size(2)),
        (ValueError, lambda lib: lib.tensor(M).type("torch.Foo")),
        (RuntimeError, lambda lib: setattr(lib.tensor([1.0], requires_grad=True) * 2, "requires_grad", False)),
        (AssertionError, lambda lib: lib.tensor(M).to("cuda")),
    ]
    for exc, fn in cases:
        raises_like(exc, lambda f=fn: f(chainrule), lambda f=fn: f(torch))


def test_requires_grad_flag_on_creation_and_leaf_rules():
    for lib in (chainrule, torch):
        x = lib.tensor([1.0, 2.0])
        assert not x.requires_grad and x.grad_fn is None and x.is_leaf
        x.requires_grad = True
        y = x * 2
        assert y.requires_grad and not y.is_leaf
        d = y.detach()
        assert not d.requires_grad and d.is_leaf
        d.requires_grad_()
        assert d.requires_grad


def test_iteration_and_len_over_first_dim():
    for lib in (chainrule, torch):
        rows = list(lib.tensor(np.arange(6.0).reshape(3, 2)))
        assert len(rows) == 3 and [r.tolist() for r in rows] == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]


def test_floating_point_edge_cases_print_no_warnings_as_in_torch():
    # log(0), x/0, overflow, sqrt(-1) and their gradients give inf/nan silently in PyTorch;
    # NumPy's RuntimeWarnings from chainrule's own calls are ignored, the user's still show.
    prog = (
        "import {lib} as torch\n"
        "x = torch.tensor([0., 1., -1.], requires_grad=True)\n"
        "y = (x.log() + x / 0 + torch.tensor(1e38) * 10 + x.sqrt() + x.reciprocal()).sum()\n"
        "y.backward()\n"
        "print(x.grad)\n"
    )
    out = {}
    for lib in ("chainrule", "torch"):
        r = subprocess.run([sys.executable, "-W", "default", "-c", prog.format(lib=lib)],
                           check=False, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert r.stderr == "", r.stderr
        out[lib] = r.stdout
    assert out["chainrule"] == out["torch"]
    r = subprocess.run([sys.executable, "-W", "default", "-c",
                        "import chainrule, numpy; numpy.log(numpy.zeros(1))"],
                       check=False, capture_output=True, text=True, timeout=120)
    assert "RuntimeWarning: divide by zero" in r.stderr
