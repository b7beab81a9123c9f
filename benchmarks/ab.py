"""``--base REV``: chainrule at a git revision against the working tree, in one process.

A change worth a few percent is below this machine's run-to-run spread of the ratio to
PyTorch (its speed drifts up to 2x over minutes), so it is measured against the code before
it instead: ``git archive REV`` unpacks that revision's package beside the working tree's
under another name (``chainrule_at_<rev>``; its imports are relative, so it is self-contained),
both import in this process, and every round times both, alternating which goes first.
The per-round ratio (working tree / revision) cancels the drift between rounds; its median
and interquartile range over the rounds are the result.
"""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import import_module

import numpy as np

from .workloads import WORKLOADS


def import_revision(rev, repo):
    """chainrule's package as of ``rev``, imported as ``chainrule_at_<sha>``: (module, sha)."""
    sha = subprocess.run(["git", "-C", repo, "rev-parse", "--short", rev], capture_output=True,
                         text=True, check=True).stdout.strip()
    name = f"chainrule_at_{sha}"
    if name in sys.modules:
        return sys.modules[name], sha
    tmp = tempfile.mkdtemp(prefix="chainrule-ab-")
    atexit.register(shutil.rmtree, tmp, True)
    archive = subprocess.run(["git", "-C", repo, "archive", sha, "src/chainrule"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
    shutil.move(os.path.join(tmp, "src", "chainrule"), os.path.join(tmp, name))
    sys.path.insert(0, tmp)
    try:
        return import_module(name), sha
    finally:
        sys.path.remove(tmp)  # (the module keeps its own path; nothing else comes from here)


def run_ab(name, base, work, rounds, quick, steps=5):
    """Median seconds a step of each, and the per-round ratio work/base: median and IQR."""
    fn = WORKLOADS[name][0]
    runs = {"base": fn(base, quick), "work": fn(work, quick)}
    for s in runs.values():
        for _ in range(3):
            s()
    times = {k: [] for k in runs}
    clock = time.perf_counter
    for r in range(rounds):
        for k in (("base", "work") if r % 2 == 0 else ("work", "base")):
            t0 = clock()
            for _ in range(steps):
                runs[k]()
            times[k].append((clock() - t0) / steps)
    ratios = np.divide(times["work"], times["base"])
    q = np.percentile(ratios, [25, 50, 75])
    return {"base_s": float(np.median(times["base"])), "work_s": float(np.median(times["work"])),
            "ratio": float(q[1]), "ratio_iqr": (float(q[0]), float(q[2])), "rounds": rounds}


def ab_markdown(results, sha, fmt_time):
    lines = [f"Working tree against {sha}, in one process (per round: working tree / {sha}):", "",
             f"| workload | {sha} | working tree | per round: median (IQR) |", "|---|---|---|---|"]
    for name, r in results.items():
        lo, hi = r["ratio_iqr"]
        lines.append(f"| {name} | {fmt_time(r['base_s'])} | {fmt_time(r['work_s'])} | "
                     f"{r['ratio']:.3f} ({lo:.3f}–{hi:.3f}) |")
    return "\n".join(lines)
