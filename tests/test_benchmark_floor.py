"""The plain-NumPy transformer step beside tiny_transformer_step (benchmarks/workloads.py
``numpy_transformer``): a floor is only worth reporting if it computes what the libraries do,
so its loss, hand-written gradients and AdamW update are checked against chainrule's and
PyTorch's on the same weights and data."""
import os
import sys

import numpy as np
import torch

import chainrule

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.__main__ import markdown, run_workload
from benchmarks.workloads import TinyTransformer, _t, numpy_transformer


def _model_step(lib):
    """The workload's model, weights and data (its rng order), one forward and backward."""
    rng = np.random.default_rng(0)
    model = TinyTransformer(lib)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.05))
    idx = _t(lib, rng.integers(0, 64, (16, 32)))
    tgt = _t(lib, rng.integers(0, 64, (16, 32)))
    loss = lib.nn.functional.cross_entropy(model(idx).reshape(-1, 64), tgt.reshape(-1))
    loss.backward()
    return model, float(loss.detach())


def _close(ours, ref, rtol=2e-5):
    # float32 sums in another order: relative to each gradient's largest entry
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() <= rtol * np.abs(ref).max()


def test_numpy_step_has_the_libraries_loss_and_gradients():
    floor = numpy_transformer(False)
    loss = floor.forward_backward()
    for lib in (chainrule, torch):
        model, ref_loss = _model_step(lib)
        assert abs(loss - ref_loss) <= 1e-6 * abs(ref_loss)
        params = list(model.parameters())
        assert len(params) == len(floor.grads)
        for p, g in zip(params, floor.grads):
            _close(g, p.grad.numpy())


def test_numpy_step_updates_as_adamw():
    floor = numpy_transformer(False)
    floor.forward_backward()
    model, _ = _model_step(torch)
    for p, g in zip(model.parameters(), floor.grads):
        g[...] = p.grad.numpy()  # the same gradients: only the update is compared
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for _ in range(2):
        opt.step()
        floor.adamw()
    for p, x in zip(model.parameters(), floor.params):
        assert np.abs(x - p.detach().numpy()).max() <= 1e-7


def test_the_benchmark_reports_the_numpy_step():
    r = run_workload("tiny_transformer_step", [chainrule, torch], rounds=2, quick=True)
    assert r["numpy"]["median_s"] > 0 and r["over_numpy"] > 0 and r["numpy_over_torch"] > 0
    meta = {"date": "-", "machine": "-", "cpus": 2, "numpy": np.__version__, "threads": 1,
            "rounds": 2, "quick": True}
    text = markdown({"tiny_transformer_step": r}, None, meta)
    assert "| tiny_transformer_step in plain NumPy |" in text
    assert f"chainrule / NumPy {r['over_numpy']:.2f} per round" in text
    # over --repeat runs: each ratio's min / median / max
    r.update(ratio_runs=[0.9, 0.8, 1.0], over_numpy_runs=[1.3, 1.2, 1.4],
             numpy_over_torch_runs=[0.7, 0.6, 0.8])
    text = markdown({"tiny_transformer_step": r}, None, {**meta, "repeat": 3})
    assert "| tiny_transformer_step | 1.20 / 1.30 / 1.40 | 0.60 / 0.70 / 0.80 |" in text


def test_a_comparison_against_another_reference_does_not_time_the_numpy_step():
    # --base compares two chainrule packages: the NumPy floors are not part of it
    r = run_workload("tiny_transformer_step", [torch, chainrule], rounds=1, quick=True,
                     ref="torch")
    assert "numpy" in r
    r = run_workload("tiny_transformer_step", [torch, chainrule], rounds=1, quick=True,
                     ref="chainrule")
    assert "numpy" not in r and "over_numpy" not in r
