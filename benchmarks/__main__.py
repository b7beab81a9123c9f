"""chainrule vs PyTorch (CPU), measured in the same process, interleaved.

    python -m benchmarks --against torch            # full run: table + JSON (+ plot)
    python -m benchmarks --against torch --quick    # CI's short mode: small sizes, few rounds
    python -m benchmarks --phases                   # also each phase of a step, per library
    python -m benchmarks --ops --only tiny_transformer_step   # and op by op (see ops.py)
    python -m benchmarks --base HEAD~1              # the working tree against a revision (ab.py)

Each round times every library once per workload, alternating which goes first
(A B, B A, ...) so that machine drift hits both. Reported: median time per step, the
spread (interquartile range), and the ratio chainrule/torch of the medians (below 1:
chainrule is faster), beside the median of each round's own ratio, which machine drift
between rounds does not move.
matmul_backward is reported in GFLOP/s beside plain NumPy's, the limit for a NumPy library;
tiny_transformer_step beside the same step written in plain NumPy with its backward by hand
(workloads.numpy_transformer): what chainrule's engine and op layers cost above NumPy.
Threads: both libraries get the same count (``--threads``, default 1): NumPy's BLAS through
threadpoolctl, PyTorch through ``torch.set_num_threads``. One thread is the reference because
with more, each library's idle pool (OpenBLAS's and PyTorch's OpenMP workers) spins after its
last call and takes a core from the other library's next sample in this same process: on a
2-core machine PyTorch's small_mlp_step then measures 2-7x its time in a process of its own,
and chainrule's 1.5-2.5x (see the README), so the ratio would measure the pools' interference.

BLAS kernels: the header names NumPy's BLAS and the kernel set it runs. A machine may pin
an older set through OPENBLAS_CORETYPE (this project's does, for old OpenBLAS builds' sake,
at half the float32 GEMM speed of the set a current NumPy picks there); to measure a current
NumPy, unset it for the benchmark command alone (see the README).

Garbage collection: chainrule's graph is Python objects, so its steps trigger Python's
cyclic garbage collector, and a full collection walks every tracked object of the process:
PyTorch's ~145k from its import and ~117k more from the ~800 modules its first optimizer
step imports (sympy, torch._dynamo, ...). One took ~145 ms in scalar_chain, ~11x what it
takes in a process of chainrule's own. So PyTorch first runs a step of every workload, then
what the process holds is frozen out of the collector (gc.freeze: PyTorch's, and the
interpreter's and NumPy's ~20k, which a process of chainrule's own would walk too), and only
then is chainrule imported (--no-gc-freeze measures without). The table says how much of a
step the collector took, where that passed 1% of it.

Memory (in subprocesses, after warm-up): how far one training step raises the process's
resident high-water mark above where it started, beside the process's whole peak (PyTorch's
caching allocator keeps warm-up memory resident, so its per-step growth is near zero while
its process is larger); and resident memory over many small-MLP steps.
"""
import argparse
import contextlib
import gc
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

from .ab import ab_markdown, import_revision
from .ops import chainrule_ops, numpy_sections, ops_markdown, sections_markdown, torch_ops
from .workloads import WORKLOADS, numpy_matmul, numpy_transformer


def limit_blas(threads):
    """Pin NumPy's BLAS to ``threads`` for the rest of the process (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        sys.exit("python -m benchmarks needs threadpoolctl to set NumPy's BLAS threads: "
                 "pip install threadpoolctl (or install chainrule's [bench] extra)")
    return threadpool_limits(threads, user_api="blas")


def blas_kernel():
    """NumPy's BLAS and the kernel set it runs (OpenBLAS picks one by CPU unless
    OPENBLAS_CORETYPE pins it: some machines pin an older, slower set for old builds' sake)."""
    from threadpoolctl import threadpool_info

    for info in threadpool_info():
        if info.get("user_api") == "blas" and "numpy" in info.get("filepath", ""):
            kernel = info.get("architecture")
            text = f"{info['internal_api']} {info.get('version') or ''}".strip()
            if kernel:
                text += f" ({kernel} kernels"
                pinned = os.environ.get("OPENBLAS_CORETYPE")
                text += f", pinned by OPENBLAS_CORETYPE={pinned})" if pinned else ")"
            return text
    return "unknown"


def numpy_simd():
    """The best SIMD target NumPy's own loops dispatch to here (X86_V3 is AVX2, X86_V4
    AVX-512). It moves elementwise-heavy ratios: with AVX2 only, NumPy's float32 exp costs
    ~3x PyTorch's and its exp2 has no vector loop at all."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # (a NumPy without these: say nothing rather than guess)
        return "unknown"
    found = [t for t in __cpu_dispatch__ if __cpu_features__.get(t)]
    return found[-1] if found else "baseline"


def cpu_name():
    """The processor's model name and family (Linux), else what platform reports."""
    try:
        with open("/proc/cpuinfo") as f:
            info = dict(line.split(":", 1) for line in f.read().split("\n\n")[0].splitlines()
                        if ":" in line)
        info = {k.strip(): v.strip() for k, v in info.items()}
        return f"{info['model name']} (family {info['cpu family']}, model {info['model']})"
    except (OSError, KeyError, ValueError):
        return platform.processor() or platform.machine()


def timed(step, iters):
    t0 = time.perf_counter()
    for _ in range(iters):
        step()
    return (time.perf_counter() - t0) / iters


def calibrate(step, target=0.05):
    """Iterations per sample so that one sample lasts about ``target`` seconds."""
    t = timed(step, 1)
    return max(1, min(1000, int(target / max(t, 1e-7))))


class GcClock:
    """Seconds the cyclic garbage collector has run since this was made (gc.callbacks)."""

    def __init__(self):
        self.total = 0.0
        self._t0 = 0.0

    def __call__(self, phase, info):
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._t0

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self)


def numpy_reference(name, quick, ref="torch"):
    """The plain-NumPy step timed beside workload ``name`` (no autograd), or None; None too
    unless ``ref`` is torch: --base compares two chainrule packages, which the floors are not."""
    make = {"matmul_backward": numpy_matmul, "tiny_transformer_step": numpy_transformer}.get(name)
    return make(quick) if make is not None and ref == "torch" else None


def run_workload(name, libs, rounds, quick, ref="torch"):
    """Each library's median time a step over ``rounds`` interleaved rounds; the ratios are
    chainrule's against ``ref`` (PyTorch, or for --base the revision's package, where the
    plain-NumPy references are not timed: they are not part of that comparison)."""
    fn, unit = WORKLOADS[name]
    steps = {}
    for lib in libs:
        steps[lib.__name__] = fn(lib, quick)
    numpy = numpy_reference(name, quick, ref)
    if numpy is not None:
        steps["numpy"] = numpy
    for s in steps.values():  # warm-up
        for _ in range(2):
            s()
    iters = {k: calibrate(s) for k, s in steps.items()}
    samples = {k: [] for k in steps}
    gc_s = dict.fromkeys(steps, 0.0)  # collector seconds inside each library's samples
    order = list(steps)
    with GcClock() as clock:
        for r in range(rounds):
            for k in (order if r % 2 == 0 else order[::-1]):
                before = clock.total
                samples[k].append(timed(steps[k], iters[k]))
                gc_s[k] += clock.total - before
    res = {"unit": unit}
    for k, xs in samples.items():
        q = np.percentile(xs, [25, 50, 75])
        entry = {"median_s": float(q[1]), "iqr_s": float(q[2] - q[0]), "samples": len(xs),
                 # a mean, not a median: a full collection comes once in many steps
                 "gc_s": gc_s[k] / (len(xs) * iters[k])}
        flops = getattr(steps[k], "flops", None)
        if flops:
            entry["gflops"] = flops / q[1] / 1e9
        res[k] = entry
    if ref in res and "chainrule" in res:
        res["ratio"] = res["chainrule"]["median_s"] / res[ref]["median_s"]
        # Each round's own ratio: both samples of a round are seconds apart, so drift of the
        # machine's speed (up to 2x within minutes on a shared VM) cancels in it, where the
        # ratio of medians still mixes fast and slow rounds.
        q = np.percentile(np.divide(samples["chainrule"], samples[ref]), [25, 50, 75])
        res["paired_ratio"], res["paired_iqr"] = float(q[1]), float(q[2] - q[0])
        res["paired_quartiles"] = (float(q[0]), float(q[2]))
    if "numpy" in res and "gflops" in res["numpy"]:
        res["of_numpy"] = res["chainrule"]["gflops"] / res["numpy"]["gflops"]
    elif "numpy" in res and "chainrule" in res:  # time ratios, per round as above
        res["over_numpy"] = float(np.median(np.divide(samples["chainrule"], samples["numpy"])))
        if "torch" in res:
            res["numpy_over_torch"] = float(np.median(np.divide(samples["numpy"], samples["torch"])))
    return res


def run_phases(name, libs, rounds, quick):
    """Median time of each phase of a step (``step.phases``), per library, interleaved as the
    main timing is. Each phase is timed on its own (about 0.1 µs of timer each)."""
    fn, _ = WORKLOADS[name]
    steps = {lib.__name__: fn(lib, quick) for lib in libs}
    for s in steps.values():
        for _ in range(2):
            s()
    iters = {k: calibrate(s) for k, s in steps.items()}
    samples = {k: {ph: [] for ph, _ in s.phases} for k, s in steps.items()}
    order = list(steps)
    clock = time.perf_counter
    for r in range(rounds):
        for k in (order if r % 2 == 0 else order[::-1]):
            phases, out = steps[k].phases, samples[k]
            for _ in range(iters[k]):
                for ph, f in phases:
                    t0 = clock()
                    f()
                    out[ph].append(clock() - t0)
    return {k: {ph: float(np.median(xs)) for ph, xs in v.items()} for k, v in samples.items()}


def run_ops(name, libs, quick):
    """Each library's self time per op inside whole steps (benchmarks/ops.py), over about a
    second of steps each (a tenth in quick mode); and where the plain-NumPy step is timed
    and has sections (the transformer's), the median time of each, or None."""
    target = 0.1 if quick else 1.0
    tables = {}
    for lib in libs:
        step = WORKLOADS[name][0](lib, quick)
        for _ in range(2):  # warm-up
            step()
        run = chainrule_ops if lib.__name__ == "chainrule" else torch_ops
        tables[lib.__name__] = run(lib, step, calibrate(step, target))
    step = numpy_reference(name, quick)  # (as run_workload's)
    if not hasattr(step, "forward_backward"):
        return tables, None
    for _ in range(2):
        step()
    return tables, numpy_sections(step, calibrate(step, target))


def phases_markdown(phases):
    lines = ["| workload | phase | chainrule | torch | chainrule / torch |", "|---|---|---|---|---|"]
    for name, per in phases.items():
        c, t = per.get("chainrule", {}), per.get("torch", {})
        for ph in c:
            ratio = f"{c[ph] / t[ph]:.2f}" if t.get(ph) else "-"
            cell = fmt_time(t[ph]) if ph in t else "-"
            lines.append(f"| {name} | {ph} | {fmt_time(c[ph])} | {cell} | {ratio} |")
    return "\n".join(lines)


MEM_SNIPPET = r"""
import json, sys
sys.path.insert(0, {root!r})
import numpy as np
from threadpoolctl import threadpool_limits
_limits = threadpool_limits({threads}, user_api="blas")
lib = __import__({lib!r})
if {lib!r} == "torch":
    lib.set_num_threads({threads})
from benchmarks.workloads import WORKLOADS

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20

def high_water_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024

mode = {mode!r}
if mode == "peak":
    step = WORKLOADS[{name!r}][0](lib, {quick})
    for _ in range(3):
        step()  # warm-up: allocator pools, BLAS buffers, optimizer state
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the high-water mark: measure this step alone
    before = rss()
    step()
    hwm = high_water_mb()
    print(json.dumps({{"peak_mb": max(0.0, hwm - before), "process_mb": hwm}}))
else:
    step = WORKLOADS["small_mlp_step"][0](lib, {quick})
    for _ in range(200):
        step()
    start = rss()
    for _ in range({nsteps}):
        step()
    print(json.dumps({{"start_mb": start, "end_mb": rss(), "steps": {nsteps}}}))
"""


def memory(libs, quick, threads):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = {}
    jobs = [("peak", "cnn_step"), ("peak", "tiny_transformer_step"), ("flat", "small_mlp_step")]
    for mode, name in jobs:
        row = {}
        for lib in libs:
            code = MEM_SNIPPET.format(
                root=root, lib=lib.__name__, threads=threads, mode=mode, name=name,
                quick=quick, nsteps=500 if quick else 10_000,
            )
            p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=1800, check=False)
            if p.returncode != 0:
                row[lib.__name__] = {"error": p.stderr.strip().splitlines()[-1] if p.stderr else "failed"}
            else:
                row[lib.__name__] = json.loads(p.stdout.strip().splitlines()[-1])
        out[f"{mode}:{name}"] = row
    return out


def fmt_time(s):
    return f"{s * 1e3:.3f} ms" if s >= 1e-3 else f"{s * 1e6:.1f} µs"


def _spread(xs):
    """min / median / max of a ratio over runs, or - where there is none."""
    return " / ".join(f"{v:.2f}" for v in (min(xs), float(np.median(xs)), max(xs))) if xs else "-"


def markdown(results, mem, meta):
    lines = [
        f"Measured {meta['date']} on {meta['machine']} ({meta['cpus']} CPUs"
        + (f", {meta['cpu']}" if meta.get("cpu") else "") + f"), NumPy {meta['numpy']} "
        f"(SIMD {meta.get('simd', 'unknown')}) with {meta.get('blas', 'its BLAS')}, "
        f"torch {meta.get('torch', '-')}, {meta['threads']} BLAS/torch thread(s), {meta['rounds']} rounds"
        + (f" (last of {meta['repeat']} runs)" if meta.get("repeat", 1) > 1 else "")
        + (" (quick mode)" if meta["quick"] else "")
        + ("; what the process held before chainrule's import frozen out of the garbage collector"
           if meta.get("gc_freeze") else "") + ".",
        "",
        "| workload | chainrule | torch | chainrule / torch | per round: median (IQR) |",
        "|---|---|---|---|---|",
    ]
    for name, r in results.items():
        if "error" in r:
            lines.append(f"| {name} | error: {r['error']} | | | |")
            continue
        c, t = r.get("chainrule"), r.get("torch")
        cell = lambda e: "-" if e is None else f"{fmt_time(e['median_s'])} ± {fmt_time(e['iqr_s'] / 2)}"
        ratio = f"{r['ratio']:.2f}" if "ratio" in r else "-"
        paired = f"{r['paired_ratio']:.2f} ({r['paired_iqr']:.2f})" if "paired_ratio" in r else "-"
        lines.append(f"| {name} | {cell(c)} | {cell(t)} | {ratio} | {paired} |")
        if "over_numpy" in r:
            torch_part = (f"; NumPy / torch {r['numpy_over_torch']:.2f} per round"
                          if "numpy_over_torch" in r else "")
            lines.append(
                f"| {name} in plain NumPy | {cell(r['numpy'])} | - | chainrule / NumPy "
                f"{r['over_numpy']:.2f} per round{torch_part} | |")
        elif "numpy" in r:
            lines.append(
                f"| {name} (GFLOP/s) | {r['chainrule']['gflops']:.1f} | "
                f"{r['torch']['gflops']:.1f} | NumPy: {r['numpy']['gflops']:.1f} "
                f"(chainrule at {r['of_numpy']:.2f} of it) | |"
                if "torch" in r else
                f"| {name} (GFLOP/s) | {r['chainrule']['gflops']:.1f} | - | NumPy: {r['numpy']['gflops']:.1f} | |"
            )
    collected = []  # the collector's share of a step, where it passed 1% for either library
    for name, r in results.items():
        libs = [k for k in ("chainrule", "torch") if k in r and "gc_s" in r[k]]
        if any(r[k]["gc_s"] > 0.01 * r[k]["median_s"] for k in libs):
            collected.append(f"{name}: " + ", ".join(
                f"{k} {fmt_time(r[k]['gc_s'])} a step ({r[k]['gc_s'] / r[k]['median_s']:.0%})"
                for k in libs))
    if collected:
        lines += ["", "Garbage collection inside the timed steps (mean), where it passed 1% of a "
                  "step: " + "; ".join(collected) + "."]
    spread = [(n, r) for n, r in results.items() if "ratio_runs" in r]
    if spread:
        lines += ["", f"Over {meta['repeat']} runs (min / median / max):", "",
                  "| workload | chainrule / torch | per round | chainrule / NumPy (GFLOP/s) |",
                  "|---|---|---|---|"]
        for name, r in spread:
            cells = (r["ratio_runs"], r.get("paired_ratio_runs"), r.get("of_numpy_runs"))
            lines.append(f"| {name} | {' | '.join(map(_spread, cells))} |")
        floors = [(n, r) for n, r in spread if "over_numpy_runs" in r]
        if floors:
            lines += ["", "The same steps in plain NumPy, per round (min / median / max):", "",
                      "| workload | chainrule / NumPy | NumPy / torch |", "|---|---|---|"]
            for name, r in floors:
                cells = (r["over_numpy_runs"], r.get("numpy_over_torch_runs"))
                lines.append(f"| {name} | {' | '.join(map(_spread, cells))} |")
    if mem:
        lines += ["", "| memory | chainrule | torch |", "|---|---|---|"]
        for key, row in mem.items():
            def cell(e):
                if e is None:
                    return "-"
                if "error" in e:
                    return "error: " + e["error"]
                if "peak_mb" in e:
                    return f"+{e['peak_mb']:.1f} MB during the step (process peak {e['process_mb']:.0f} MB)"
                return f"{e['start_mb']:.0f} → {e['end_mb']:.0f} MB over {e['steps']} steps"

            lines.append(f"| {key} | {cell(row.get('chainrule'))} | {cell(row.get('torch'))} |")
    return "\n".join(lines)


def _positive(text):
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    ap.add_argument("--against", choices=["torch", "none"], default="torch")
    ap.add_argument("--quick", action="store_true", help="small sizes and few rounds (CI)")
    ap.add_argument("--rounds", type=_positive, default=None)
    ap.add_argument("--threads", type=_positive, default=1,
                    help="BLAS threads for NumPy and threads for PyTorch (default 1: see above)")
    ap.add_argument("--repeat", type=_positive, default=1,
                    help="run the timings this many times and report each ratio's range")
    ap.add_argument("--only", nargs="*", help="workload names")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--phases", action="store_true",
                    help="also time each phase of a step (zero_grad, forward, loss, backward, step)")
    ap.add_argument("--ops", action="store_true",
                    help="also each library's time per op inside a step (benchmarks/ops.py), "
                         "and beside tiny_transformer_step's, its plain-NumPy step's sections")
    ap.add_argument("--base", metavar="REV",
                    help="instead: chainrule at this git revision against the working tree, in "
                         "one process, round by round (benchmarks/ab.py)")
    ap.add_argument("--no-gc-freeze", action="store_true",
                    help="leave PyTorch's objects to the garbage collector of chainrule's steps "
                         "(the module's docstring says why they are frozen by default)")
    ap.add_argument("--out", default="bench-results", help="folder for results.json / results.md / plot")
    args = ap.parse_args(argv)

    threads = args.threads
    limit_blas(threads)  # for the whole run (restored at exit)
    if args.base:
        return main_ab(args)
    meta = {
        "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.processor() or platform.machine()} "
        f"{platform.system()}", "cpus": os.cpu_count(), "numpy": np.__version__,
        "threads": threads, "quick": args.quick, "blas": blas_kernel(), "cpu": cpu_name(),
        "simd": numpy_simd(),
    }
    torch = None
    if args.against == "torch":
        try:
            import torch
        except ImportError:
            sys.exit("python -m benchmarks --against torch needs PyTorch: pip install torch==2.13.0 "
                     "(or chainrule's [bench] extra), or run --against none")

        torch.set_num_threads(threads)  # same thread count as NumPy's BLAS
        meta["torch"] = torch.__version__ + (" with MKL" if torch.backends.mkl.is_available() else "")
    names = args.only or list(WORKLOADS)
    # PyTorch's objects, its first steps' imports included, out of chainrule's collections
    meta["gc_freeze"] = not args.no_gc_freeze
    if meta["gc_freeze"]:
        if torch is not None:
            for name in names:
                with contextlib.suppress(Exception):  # (run_workload reports it, beside the others)
                    WORKLOADS[name][0](torch, True)()
        gc.collect()
        gc.freeze()
    import chainrule

    libs = [chainrule] if torch is None else [chainrule, torch]
    rounds = args.rounds or (3 if args.quick else 15)
    meta["rounds"] = rounds
    meta["repeat"] = args.repeat
    runs = []
    for k in range(args.repeat):
        results = {}
        for name in names:
            print(f"running {name} ({k + 1}/{args.repeat}) ...", file=sys.stderr, flush=True)
            try:
                results[name] = run_workload(name, libs, rounds, args.quick)
            except Exception as e:  # noqa: BLE001  (one broken workload must not hide the others)
                results[name] = {"error": f"{type(e).__name__}: {e}"}
        runs.append(results)
    for name, r in results.items():  # the table shows the last run, and every run's ratios
        for key in ("ratio", "of_numpy", "paired_ratio", "over_numpy", "numpy_over_torch"):
            if key in r and args.repeat > 1:
                r[key + "_runs"] = [run[name][key] for run in runs if key in run[name]]
    phases = {}
    if args.phases:
        for name in names:
            if "error" not in results[name]:
                print(f"phases of {name} ...", file=sys.stderr, flush=True)
                phases[name] = run_phases(name, libs, rounds, args.quick)
    op_tables, sections = {}, {}  # sections: the plain-NumPy step's, where it has them
    if args.ops:
        for name in names:
            if "error" not in results[name]:
                print(f"ops of {name} ...", file=sys.stderr, flush=True)
                op_tables[name], by_section = run_ops(name, libs, args.quick)
                if by_section is not None:
                    sections[name] = by_section
    mem = None if args.no_memory else memory(libs, args.quick, threads)
    table = markdown(results, mem, meta)
    if phases:
        table += "\n\nBy phase (medians of single phases):\n\n" + phases_markdown(phases)
    if op_tables:
        table += "\n\nBy op (self time inside whole steps; see benchmarks/ops.py):\n\n" + \
            "\n".join(ops_markdown(n, t, fmt_time) + (
                "\n" + sections_markdown(n, *sections[n], fmt_time) if n in sections else "")
                for n, t in op_tables.items())
    ops_json = {n: {lib: {"step_s": total, "ops": [
        {"op": op, "phase": ph, "self_s": sec, "calls": n_} for (op, ph), (sec, n_) in ops.items()]}
        for lib, (ops, total) in t.items()} for n, t in op_tables.items()}
    for n, (by_section, total) in sections.items():
        ops_json[n]["numpy_sections"] = {"step_s": total, "sections": [
            {"section": sec, "median_s": s} for sec, s in by_section.items()]}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"meta": meta, "results": results, "memory": mem, "phases": phases,
                   "ops": ops_json}, f, indent=2)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(table + "\n")
    try:
        plot(results, os.path.join(args.out, "ratios.png"))
    except ImportError:
        print("matplotlib not installed: no plot", file=sys.stderr)
    print(table)
    failed = [n for n, r in results.items() if "error" in r]
    return 1 if failed else 0


def main_ab(args):
    """``--base REV``: the working tree's chainrule against REV's, workload by workload."""
    import chainrule

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        base, sha = import_revision(args.base, repo)
    except subprocess.CalledProcessError as e:
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else e.stderr or ""
        sys.exit(f"--base {args.base}: git cannot export that revision: "
                 f"{err.strip().splitlines()[-1] if err.strip() else e}")
    except OSError as e:  # (no git or tar on this machine)
        sys.exit(f"--base {args.base}: {e}")
    rounds = args.rounds or (3 if args.quick else 40)
    results = {}
    for name in args.only or list(WORKLOADS):
        print(f"running {name} against {sha} ...", file=sys.stderr, flush=True)
        try:
            results[name] = run_workload(name, [base, chainrule], rounds, args.quick,
                                         ref=base.__name__)
        except Exception as e:  # noqa: BLE001  (as the main run: one broken workload is reported)
            results[name] = {"error": f"{type(e).__name__}: {e}"}
    table = ab_markdown(results, base.__name__, sha, fmt_time)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "ab.json"), "w") as f:
        json.dump({"base": sha, "results": results}, f, indent=2)
    with open(os.path.join(args.out, "ab.md"), "w") as f:
        f.write(table + "\n")
    print(table)
    return 0


# The targets for the time ratio chainrule/torch (matmul_backward's is against
# NumPy's own GFLOP/s instead: >= 0.95 of it), drawn on the plot.
TARGETS = {"scalar_chain": 0.5, "small_mlp_step": 0.7, "cnn_step": 1.0,
           "tiny_transformer_step": 0.8}


def plot(results, path):
    """One bar per workload (its ratio: the median over --repeat runs, whose range is the
    line through it), and the target as a tick: green where the ratio meets it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n, r in results.items() if "ratio" in r]
    ratios = [float(np.median(results[n].get("ratio_runs") or [results[n]["ratio"]]))
              for n in names]
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.barh(names, ratios, color=["tab:green" if r <= TARGETS.get(n, 1.0) else "tab:red"
                                  for n, r in zip(names, ratios)])
    for i, n in enumerate(names):
        runs = results[n].get("ratio_runs") or []
        if len(runs) > 1:
            ax.plot([min(runs), max(runs)], [i, i], color="k", lw=1)
        if n in TARGETS:
            ax.plot([TARGETS[n]] * 2, [i - 0.42, i + 0.42], color="k", lw=2.5)
    ax.axvline(1.0, color="k", lw=1, ls=":")
    ax.set_xlabel("time ratio chainrule / torch (lower is better; bar: median over runs, "
                  "line: their range; tick: target)", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
