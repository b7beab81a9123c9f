"""Type promotion against PyTorch: every pair of dtypes across the three tiers (tensors with
dimensions, 0-d tensors, Python scalars), through ``+``, ``*`` and ``/``, ``result_type`` and
``promote_types``."""
import itertools
import operator

import numpy as np
import pytest
import torch

import chainrule

NAMES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]
SCALARS = {"int": 2, "float": 2.5, "bool": True}
OPS = {"add": operator.add, "mul": operator.mul, "truediv": operator.truediv}


def _tensor(lib, name, zero_dim):
    arr = np.array(1 if zero_dim else [1, 1], dtype=name)
    return lib.tensor(arr) if lib is torch else chainrule.tensor(arr)


def _result(lib, op, a, b):
    """(dtype name, shape) of op(a, b), or the exception class name."""
    try:
        r = op(a, b)
    except Exception as e:  # noqa: BLE001 - compared between the two libraries
        return type(e).__name__
    return str(r.dtype), tuple(r.shape)


@pytest.mark.parametrize("op_name", list(OPS))
@pytest.mark.parametrize("tiers", list(itertools.product(["dim", "zero"], repeat=2)),
                         ids=lambda t: "-".join(t))
def test_tensor_tensor_all_dtype_pairs(op_name, tiers):
    op = OPS[op_name]
    bad = []
    for da, db in itertools.product(NAMES, NAMES):
        c = _result(chainrule, op, _tensor(chainrule, da, tiers[0] == "zero"),
                    _tensor(chainrule, db, tiers[1] == "zero"))
        t = _result(torch, op, _tensor(torch, da, tiers[0] == "zero"),
                    _tensor(torch, db, tiers[1] == "zero"))
        if c != t:
            bad.append((da, db, c, t))
    assert not bad, bad


@pytest.mark.parametrize("op_name", list(OPS))
@pytest.mark.parametrize("tier", ["dim", "zero"])
def test_tensor_python_scalar_all_dtypes_both_sides(op_name, tier):
    op = OPS[op_name]
    bad = []
    for name, (kind, s) in itertools.product(NAMES, SCALARS.items()):
        for reflected in (False, True):
            args_c = (_tensor(chainrule, name, tier == "zero"), s)
            args_t = (_tensor(torch, name, tier == "zero"), s)
            if reflected:
                args_c, args_t = args_c[::-1], args_t[::-1]
            c, t = _result(chainrule, op, *args_c), _result(torch, op, *args_t)
            if c != t:
                bad.append((name, kind, reflected, c, t))
    assert not bad, bad


def test_result_type_all_tiers():
    def operands(lib):
        out = {}
        for name in NAMES:
            out[("dim", name)] = _tensor(lib, name, False)
            out[("zero", name)] = _tensor(lib, name, True)
        for kind, s in SCALARS.items():
            out[("scalar", kind)] = s
        return out

    oc, ot = operands(chainrule), operands(torch)
    bad = []
    for ka, kb in itertools.product(oc, oc):
        if ka[0] == "scalar" and kb[0] == "scalar":
            continue  # torch.result_type needs a tensor
        c = str(chainrule.result_type(oc[ka], oc[kb]))
        t = str(torch.result_type(ot[ka], ot[kb]))
        if c != t:
            bad.append((ka, kb, c, t))
    assert not bad, bad


def test_promote_types_all_pairs():
    for a, b in itertools.product(NAMES, NAMES):
        c = chainrule.promote_types(getattr(chainrule, a), getattr(chainrule, b))
        t = torch.promote_types(getattr(torch, a), getattr(torch, b))
        assert str(c) == str(t), (a, b)


def test_default_dtype_changes_float_scalar_promotion():
    prev = chainrule.get_default_dtype()
    try:
        chainrule.set_default_dtype(chainrule.float64)
        torch.set_default_dtype(torch.float64)
        for name in ("int64", "uint8", "bool"):
            for op in OPS.values():
                assert _result(chainrule, op, _tensor(chainrule, name, False), 2.5) == _result(
                    torch, op, _tensor(torch, name, False), 2.5)
            assert str(chainrule.exp(_tensor(chainrule, name, False)).dtype) == str(
                torch.exp(_tensor(torch, name, False)).dtype)
    finally:
        chainrule.set_default_dtype(prev)
        torch.set_default_dtype(torch.float32)


def test_numpy_scalars_are_weak_like_python_numbers():
    # NumPy 2 keeps its own scalars' dtype (float32 * np.float64 -> float64); PyTorch does not.
    import numpy as np

    for name, fn in [
        ("mul", lambda L: L.ones(2) * np.float64(2)),
        ("where", lambda L: L.where(L.tensor([True, False]), L.ones(2), np.float64(0))),
        ("clamp", lambda L: L.ones(2).clamp(np.float64(0), np.float64(0.5))),
        ("maximum-like clamp_min", lambda L: L.ones(2).clamp(min=np.float32(3))),
    ]:
        assert str(fn(chainrule).dtype) == str(fn(torch).dtype), name
