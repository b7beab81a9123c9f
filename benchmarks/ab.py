"""``--base REV``: chainrule at a git revision against the working tree, in one process.

A change worth a few percent is below this machine's run-to-run spread of the ratio to
PyTorch (its speed drifts up to 2x over minutes), so it is measured against the code before
it instead: ``git archive REV`` unpacks that revision's package beside the working tree's
under another name (``chainrule_at_<rev>``; its imports are relative, so it is self-contained),
both import in this process, and the benchmark's own interleaved rounds time both
(``run_workload`` with the revision as the reference). The per-round ratio (working tree /
revision) cancels the drift between rounds; its median and quartiles are the result.
"""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import import_module


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


def ab_markdown(results, base, sha, fmt_time):
    """``results``: run_workload's, with ``base`` (the revision's package name) as reference."""
    lines = [f"Working tree against {sha}, in one process (per round: working tree / {sha}):", "",
             f"| workload | {sha} | working tree | per round: median (IQR) |", "|---|---|---|---|"]
    for name, r in results.items():
        if "error" in r:
            lines.append(f"| {name} | error: {r['error']} | | |")
            continue
        lo, hi = r["paired_quartiles"]
        lines.append(f"| {name} | {fmt_time(r[base]['median_s'])} | "
                     f"{fmt_time(r['chainrule']['median_s'])} | "
                     f"{r['paired_ratio']:.3f} ({lo:.3f}–{hi:.3f}) |")
    return "\n".join(lines)
