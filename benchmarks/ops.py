"""``--ops``: where one workload's step spends its time, op by op, in each library.

chainrule: every op's ``forward`` and ``backward`` rule is timed in place (the class's own
functions wrapped for the run, then restored), as self time: an op called inside another's
rule (an adjoint op in a backward) counts for itself, not twice. What no rule covers (module
calls, recording, the engine's loop, the optimizer) is the rest of the step.
PyTorch: its own profiler (``torch.autograd.profiler.profile``), self CPU time per aten op
and autograd node; it adds a few µs of its own per op, which the step time shows.

Both run inside whole training steps, not op by op alone: inside a step the caches are
cold after each large array pass, and small calls cost several times what they cost alone.
The op names differ between the libraries (chainrule's op classes, PyTorch's aten ops), so
the tables are side by side, not joined.
Beside tiny_transformer_step's ops, the same step in plain NumPy (workloads.numpy_transformer)
is timed section by section (embedding, layer norm 1, ..., adamw), named so that each can be
matched against the ops that do its work.
"""
import time
from importlib import import_module
from statistics import median


def _op_classes(chainrule):
    """Every op class of this chainrule package (the working tree's, or a revision's)."""
    seen, todo = [], [import_module(chainrule.__name__ + ".ops._core").Op]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return seen


def chainrule_ops(chainrule, step, steps):
    """({(op, 'forward'|'backward'): (seconds, calls)} per step, seconds per step) over
    ``steps`` calls of the warmed-up ``step``."""
    clock = time.perf_counter
    acc = {}
    stack = [0.0]  # time spent in nested timed calls, per open frame

    def timed(fn, key):
        def run(*args, **kwargs):
            stack.append(0.0)
            t0 = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                dt = clock() - t0
                inner = stack.pop()
                stack[-1] += dt
                s, n = acc.get(key, (0.0, 0))
                acc[key] = (s + dt - inner, n + 1)

        return run

    saved = []
    for cls in _op_classes(chainrule):
        for phase in ("forward", "backward"):
            fn = cls.__dict__.get(phase)
            if fn is not None:
                saved.append((cls, phase, fn))
                setattr(cls, phase, timed(fn, (cls.__name__, phase)))
    try:
        t0 = clock()
        for _ in range(steps):
            step()
        total = (clock() - t0) / steps
    finally:
        for cls, phase, fn in saved:
            setattr(cls, phase, fn)
    return {k: (s / steps, n / steps) for k, (s, n) in acc.items()}, total


def torch_ops(torch, step, steps):
    """({(op, ''): (seconds, calls)} per step, seconds per step) from PyTorch's profiler."""
    with torch.autograd.profiler.profile() as prof:
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        total = (time.perf_counter() - t0) / steps
    ops = {}
    for e in prof.key_averages():
        ops[(e.key, "")] = (e.self_cpu_time_total * 1e-6 / steps, e.count / steps)
    return ops, total


def numpy_sections(step, steps):
    """({section: median seconds a step}, the whole step's median seconds) over ``steps``
    calls of the warmed-up plain-NumPy step (``step.forward_backward(mark)`` marks where each
    section ends; ``step.adamw()`` is the last). A mark's own bookkeeping (well under a µs) is
    in the whole step, not in a section."""
    clock = time.perf_counter
    times = {}  # in the step's order
    last = [0.0]

    def mark(name):
        now = clock()
        times.setdefault(name, []).append(now - last[0])
        last[0] = clock()

    whole = []
    for _ in range(steps):
        t0 = last[0] = clock()
        step.forward_backward(mark)
        step.adamw()
        mark("adamw")
        whole.append(clock() - t0)
    return {k: median(v) for k, v in times.items()}, median(whole)


def sections_markdown(name, sections, total, fmt_time):
    """The plain-NumPy step's sections in order, their sum and the whole step."""
    covered = sum(sections.values())
    head = (f"the plain NumPy step, by section: {name}, {fmt_time(total)} a step (medians "
            "inside whole steps)")
    out = [head, "", "| section | time a step |", "|---|---|"]
    out += [f"| {sec} | {fmt_time(s)} |" for sec, s in sections.items()]
    out += [f"| (sum) | {fmt_time(covered)} ({covered / total:.0%}) |",
            f"| (whole step) | {fmt_time(total)} |", ""]
    return "\n".join(out)


def ops_markdown(name, tables, fmt_time, top=15):
    """One table per library: its ``top`` ops by self time per step, and the rest."""
    out = []
    for lib, (ops, total) in tables.items():
        ranked = sorted(ops.items(), key=lambda kv: -kv[1][0])
        covered = sum(s for s, _ in ops.values())
        out += [f"{lib}, {name}: {fmt_time(total)} a step, {fmt_time(covered)} of it in "
                f"{'op rules' if lib == 'chainrule' else 'profiled ops'} "
                f"({covered / total:.0%})" if total else f"{lib}, {name}", "",
                "| op | self time a step | calls a step |", "|---|---|---|"]
        for (op, phase), (s, n) in ranked[:top]:
            label = f"{op}.{phase}" if phase else op
            out.append(f"| {label} | {fmt_time(s)} | {n:g} |")
        rest = ranked[top:]
        if rest:
            out.append(f"| ({len(rest)} more) | {fmt_time(sum(s for _, (s, _) in rest))} | |")
        out.append("")
    return "\n".join(out)
