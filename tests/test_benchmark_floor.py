"""The plain-NumPy transformer step beside tiny_transformer_step (benchmarks/workloads.py
``numpy_transformer``): a floor is only worth reporting if it computes what the libraries do,
so its loss, hand-written gradients and AdamW update are checked against chainrule's and
PyTorch's on the same weights and data."""
import json
import os
import subprocess
import sys

import numpy as np
import torch

import chainrule

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from benchmarks.__main__ import fmt_time, markdown, run_workload
from benchmarks.ops import numpy_sections, sections_markdown
from benchmarks.workloads import TinyTransformer, _t, numpy_transformer

SECTIONS = [
    "embedding + positions", "layer norm 1", "qkv linear + split", "scores + mask", "softmax",
    "p @ v", "proj linear + residual", "layer norm 2", "fc1 linear", "gelu (+ slope)",
    "fc2 linear + residual", "layer norm f", "head linear", "loss", "backward: loss",
    "backward: head + layer norm f", "backward: fc2 + gelu", "backward: fc1 + layer norm 2",
    "backward: proj", "backward: p @ v", "backward: softmax + mask + scale",
    "backward: q k + qkv gather", "backward: qkv + layer norm 1",
    "backward: embedding + positions", "adamw",
]


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


def test_section_marks_leave_the_numpy_step_bit_for_bit():
    plain, marked = numpy_transformer(True), numpy_transformer(True)
    seen = []
    for _ in range(2):  # the second step from weights AdamW has updated
        assert marked.forward_backward(seen.append) == plain.forward_backward()
        for a, b in zip(plain.grads, marked.grads):
            assert a.tobytes() == b.tobytes()
        plain.adamw()
        marked.adamw()
        for a, b in zip(plain.params, marked.params):
            assert a.tobytes() == b.tobytes()
    assert seen == SECTIONS[:-1] * 2  # adamw's end is the step's: numpy_sections marks it


def test_numpy_sections_cover_the_step_in_order():
    step = numpy_transformer(True)
    step()
    sections, total = numpy_sections(step, 20)
    assert list(sections) == SECTIONS
    assert all(s > 0 for s in sections.values())
    # medians of parts, not parts of one median: about the whole, no tighter
    assert 0.5 * total <= sum(sections.values()) <= 1.5 * total
    text = sections_markdown("tiny_transformer_step", sections, total, fmt_time)
    rows = [line.split(" | ")[0][2:] for line in text.splitlines() if line.startswith("| ")]
    assert rows == ["section", *SECTIONS, "(sum)", "(whole step)"]
    assert f"| (whole step) | {fmt_time(total)} |" in text


def test_ops_run_prints_the_numpy_sections(tmp_path):
    """The one command: `--ops` on tiny_transformer_step prints (and saves) the NumPy step's
    sections beside the libraries' ops. In a process of its own: main pins the BLAS threads
    and freezes the garbage collector for the rest of its process."""
    p = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--ops", "--only", "tiny_transformer_step",
         "--no-memory", "--rounds", "1", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert p.returncode == 0, p.stderr
    assert "the plain NumPy step, by section: tiny_transformer_step, " in p.stdout
    assert "| section | time a step |" in p.stdout
    assert all(f"| {sec} | " in p.stdout for sec in SECTIONS)
    with open(tmp_path / "results.json") as f:
        saved = json.load(f)["ops"]["tiny_transformer_step"]["numpy_sections"]
    assert [e["section"] for e in saved["sections"]] == SECTIONS and saved["step_s"] > 0
