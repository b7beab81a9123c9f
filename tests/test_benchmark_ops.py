"""The benchmark's per-op breakdown (benchmarks/ops.py): what it counts, and that it leaves
chainrule's ops as they were."""
import os
import sys

import torch

import chainrule
from chainrule.ops._core import Op

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.__main__ import fmt_time, run_workload
from benchmarks.ops import _op_classes, chainrule_ops, ops_markdown, torch_ops
from benchmarks.workloads import WORKLOADS


def _warm(lib, name, steps=3):
    step = WORKLOADS[name][0](lib, True)
    step()
    return step, steps


def _rules():
    return {(c, p): c.__dict__[p] for c in _op_classes(chainrule) for p in ("forward", "backward")
            if p in c.__dict__}


def test_chainrule_ops_counts_each_rule_once_and_restores_them():
    before = _rules()
    ops, total = chainrule_ops(chainrule, *_warm(chainrule, "small_mlp_step"))
    assert _rules() == before  # every op's own functions back in place
    # two Linear layers: two Addmm nodes forward and backward a step; one fused loss
    assert ops[("Addmm", "forward")][1] == 2 and ops[("Addmm", "backward")][1] == 2
    assert ops[("CrossEntropy", "forward")][1] == 1
    # self time: nothing counted twice, so the rules' sum stays within the step
    assert all(s > 0 for s, _ in ops.values())
    assert 0 < sum(s for s, _ in ops.values()) < total
    assert all(issubclass(c, Op) for c in _op_classes(chainrule))


def test_nested_rules_count_as_their_own():
    """Embedding's backward runs EmbeddingDense's forward: that time is EmbeddingDense's
    alone, not Embedding.backward's too."""
    ops, _ = chainrule_ops(chainrule, *_warm(chainrule, "tiny_transformer_step"))
    inner = ops[("EmbeddingDense", "forward")][0]
    outer = ops[("Embedding", "backward")][0]
    assert inner > 0 and outer < inner  # the wrapper adds the dispatch only


def test_torch_ops_and_tables():
    ops, total = torch_ops(torch, *_warm(torch, "small_mlp_step"))
    assert ops[("aten::addmm", "")][1] == 2  # PyTorch's own op names, calls a step
    text = ops_markdown("small_mlp_step", {"torch": (ops, total)}, fmt_time, top=3)
    assert "| aten::" in text and "more)" in text and "a step" in text


def test_base_revision_runs_beside_the_working_tree():
    """--base: a git revision's package imports under its own name, with its own op classes,
    and both run the same workload round by round."""
    from benchmarks.ab import ab_markdown, import_revision

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    base, sha = import_revision("HEAD", repo)
    assert base.__name__ == f"chainrule_at_{sha}" and base is not chainrule
    assert base.ops._core.Op is not Op  # its own classes, not the working tree's
    assert import_revision("HEAD", repo)[0] is base  # imported once
    r = run_workload("small_mlp_step", [base, chainrule], rounds=3, quick=True, ref=base.__name__)
    base_s, work_s = r[base.__name__]["median_s"], r["chainrule"]["median_s"]
    lo, hi = r["paired_quartiles"]
    assert base_s > 0 and work_s > 0 and lo <= r["paired_ratio"] <= hi
    assert f"| small_mlp_step | {fmt_time(base_s)} | {fmt_time(work_s)} |" in ab_markdown(
        {"small_mlp_step": r}, base.__name__, sha, fmt_time)
