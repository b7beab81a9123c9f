"""The terminal step table and the Markdown (LaTeX) view of an Explanation."""
from . import fmt
from .core import CONST, OP


def d(top, bottom):
    return f"∂{top}/∂{bottom}"


def forward_line(v):
    """'y_hat = mul(w, x) = 1'"""
    args = ", ".join(e.src.label for e in v.inputs)
    return f"{v.label} = {v.short}({args}) = {fmt.value(v.value)}"


def which(e):
    """' (self)' when the same value is several operands of one op (a*a), else ''."""
    return f" ({e.operand})" if sum(x.src is e.src for x in e.dst.inputs) > 1 else ""


def local_line(e):
    """'∂y_hat/∂w = x = 1', or the constant edge no one needs."""
    head = d(e.dst.label, e.src.label) + which(e)
    if not e.needs_grad:
        return f"{head}: not needed ({e.src.label} is a constant)"
    parts = [head]
    f = fmt.formula(e)
    if f:
        parts.append(f)
    val = fmt.local(e)
    if val is not None:
        if val != f:
            parts.append(val)
    elif e.dst.shape is not None and e.src.shape is not None:
        parts.append(f"Jacobian {fmt.shape(e.dst.shape)}×{fmt.shape(e.src.shape)}")
    return " = ".join(parts)


def step_line(ex, s):
    """One backward step as text."""
    L = ex.loss_name
    v = s.vertex
    if s.kind == "seed":
        return f"{d(L, L)} = {fmt.value(s.parts[0])}   (start: the output's own gradient)"
    if s.kind == "backward":
        e = s.edge
        up, src = e.upstream, e.src
        acc = accumulates(e)
        head = f"{d(L, src.label)} {acc} {d(L, v.label)} × {d(v.label, src.label)}"
        shown = e.raw if e.raw is not None else e.contribution
        if fmt.is_scalar(up) and isinstance(e.local, (int, float)):
            return f"{head} = {fmt.value(up)} × {fmt.num(e.local)} = {fmt.value(shown)}"
        return f"{head} = {fmt.value(up)} · ∂{v.label}/∂{src.label} = {fmt.value(shown)}"
    if s.kind == "broadcast":
        e = s.edge
        return (
            f"{d(L, v.label)}: sum {fmt.shape(e.raw.shape)} back to {v.label}'s shape "
            f"{fmt.shape(e.contribution.shape)} (it was broadcast) = {fmt.value(e.contribution)}"
        )
    if s.kind == "accumulate":
        terms = _terms(s.parts, fmt.value)
        return (
            f"{d(L, v.label)} = sum over its {len(s.parts)} uses = {terms} = {fmt.value(v.grad)}"
        )
    if s.kind == "leaf":
        return f"{v.label}.grad = {fmt.value(v.grad)}"
    return forward_line(v)


def _terms(edges, show, most=10):
    """'c1 + c2 + ...' for a sum over uses; a value used 5 000 times lists the first few."""
    parts = [show(e.contribution) for e in edges[:most]]
    if len(edges) > most:
        parts.append(f"… ({len(edges) - most} more)")
    return " + ".join(parts)


def accumulates(e):
    """'+=' when e.src gets gradient from several uses (summed), else '='."""
    return "+=" if e.src.uses > 1 else "="


def _section(title):
    return ["", title, "-" * len(title)]


def render_text(ex, max_steps=None):
    L = ex.loss_name
    lines = [f"Explanation of {L} ({len(ex.nodes)} ops, {len(ex.leaves)} leaves with gradients)"]
    lines += _section("Forward pass")
    for v in ex.vertices:
        if v.kind == OP:
            lines.append("  " + forward_line(v))
        else:
            lines.append(f"  {v.label} = {fmt.value(v.value)}   ({fmt.kind_word(v)})")
    lines += _section("Local gradients")
    for v in ex.nodes:
        for e in v.inputs:
            lines.append("  " + local_line(e))
    lines += _section("Backward pass (chain rule: upstream × local = contribution)")
    steps = [s for s in ex.steps if s.kind not in ("forward", "leaf")]
    for s in steps[:max_steps]:
        lines.append("  " + step_line(ex, s))
    if max_steps is not None and len(steps) > max_steps:
        lines.append(f"  ... {len(steps) - max_steps} more steps")
    lines += _section("Gradients (what .grad receives)")
    for v in ex.leaves:
        lines.append(f"  {v.label}.grad = {fmt.value(v.grad)}")
    consts = [v.label for v in ex.vertices if v.kind == CONST]
    if consts:
        lines.append(f"  no gradient for constants: {', '.join(consts)}")
    return "\n".join(lines) + "\n"


# ---- Markdown with LaTeX ---------------------------------------------------------------------
def tex_name(label):
    s = label.replace("_", r"\_").replace("%", r"\%")
    return rf"\mathrm{{{s}}}" if len(label) > 1 else s


def tex_d(top, bottom):
    return rf"\frac{{\partial {tex_name(top)}}}{{\partial {tex_name(bottom)}}}"


def _md_cell(s):
    return str(s).replace("|", r"\|")


def render_markdown(ex, max_steps=None):
    L = ex.loss_name
    out = [f"### Explanation of `{L}`", "", "**Forward pass**", "", "| value | op | = |", "|---|---|---|"]
    for v in ex.vertices:
        what = forward_line(v).split(" = ")[1] if v.kind == OP else fmt.kind_word(v)
        out.append(f"| ${tex_name(v.label)}$ | {_md_cell(what)} | {_md_cell(fmt.value(v.value))} |")
    out += ["", "**Local gradients**", "", "| local gradient | formula | value |", "|---|---|---|"]
    for v in ex.nodes:
        for e in v.inputs:
            val = fmt.local(e) if e.needs_grad else "not needed (constant)"
            out.append(
                f"| ${tex_d(v.label, e.src.label)}${which(e)} | {_md_cell(fmt.formula(e) or '')} | "
                f"{_md_cell(val or '')} |"
            )
    out += ["", "**Backward pass** (upstream × local = contribution)", ""]
    steps = [s for s in ex.steps if s.kind not in ("forward", "leaf")]
    for s in steps[:max_steps]:
        out.append(f"1. {_md_step(ex, s)}")
    if max_steps is not None and len(steps) > max_steps:
        out.append(f"\n… {len(steps) - max_steps} more steps")
    out += ["", "**Gradients**", ""]
    for v in ex.leaves:
        out.append(f"- ${tex_d(L, v.label)} = {_tex_val(v.grad)}$")
    return "\n".join(out) + "\n"


_TEX_OP = {"+=": r"\mathrel{+}=", "=": "="}


def _tex_val(a):
    return fmt.value(a).replace("[", r"\left[").replace("]", r"\right]")


def _md_step(ex, s):
    L = ex.loss_name
    v = s.vertex
    if s.kind == "seed":
        return f"${tex_d(L, L)} = {_tex_val(s.parts[0])}$"
    if s.kind == "backward":
        e = s.edge
        shown = e.raw if e.raw is not None else e.contribution
        mid = (
            rf"{_tex_val(e.upstream)} \times {fmt.num(e.local)}"
            if fmt.is_scalar(e.upstream) and isinstance(e.local, (int, float))
            else rf"{_tex_val(e.upstream)} \cdot {tex_d(v.label, e.src.label)}"
        )
        return (
            f"${tex_d(L, e.src.label)} {_TEX_OP[accumulates(e)]} {tex_d(L, v.label)} \\times "
            f"{tex_d(v.label, e.src.label)} = {mid} = {_tex_val(shown)}$"
        )
    if s.kind == "broadcast":
        return (
            f"sum back to the shape of ${tex_name(v.label)}$ {fmt.shape(s.edge.contribution.shape)} "
            f"(broadcast): ${_tex_val(s.edge.contribution)}$"
        )
    if s.kind == "accumulate":
        terms = _terms(s.parts, _tex_val)
        return f"${tex_d(L, v.label)} = {terms} = {_tex_val(v.grad)}$ (sum over its uses)"
    return step_line(ex, s)
