"""The graph drawing (SVG, laid out by ``layout``) and the Graphviz text of an Explanation."""
import itertools
from xml.sax.saxutils import escape

from . import fmt
from .core import CONST, LEAF, OP, no_gc
from .layout import boxes_for, layout

CHAR_W = 6.6  # px per character of the 11px monospace font
LINE_H = 15
MAX_CHARS = 36
EDGE_LABEL_CHARS = 26

STYLE = """
.cr-box rect{fill:#fff;stroke:#5f6368;stroke-width:1.2}
.cr-box text{font:11px ui-monospace,Menlo,Consolas,monospace;fill:#202124}
.cr-box .cr-grad{fill:#b3261e}
.cr-leaf rect{fill:#e6f4ea;stroke:#1e8e3e;stroke-width:2.4}
.cr-const rect{fill:#f6f6f6;stroke:#c4c4c4;stroke-dasharray:3 2}
.cr-const text{fill:#9aa0a6}
.cr-root rect{stroke:#1a73e8;stroke-width:2.4}
.cr-group rect,.cr-run rect{fill:#eef3fd;stroke:#1a73e8;stroke-width:1.6;rx:8}
.cr-edge path{fill:none;stroke:#5f6368;stroke-width:1.2}
.cr-edge text{font:10px ui-monospace,Menlo,Consolas,monospace;fill:#3c4043}
.cr-dim path{stroke:#d93025;stroke-opacity:.35;stroke-dasharray:4 3}
.cr-dim text{fill:#d93025;fill-opacity:.5}
.cr-hl rect{stroke:#f29900!important;stroke-width:3.5!important}
.cr-hl-edge path{stroke:#f29900!important;stroke-width:3!important;stroke-opacity:1!important}
"""


ARROW = (
    '<defs><marker id="cr-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
    'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#5f6368"/>'
    "</marker></defs>"
)


def _clip(s, n=MAX_CHARS):
    return s if len(s) <= n else s[: n - 1] + "…"


def box_lines(ex, b):
    """The text lines of a box: name and op, value (or shape), gradient."""
    L = ex.loss_name
    if b.vertex is not None:
        v = b.vertex
        if v.kind == OP:
            head = f"{v.label} = {v.short}" if v.name or v is ex.root else v.short
        else:
            head = f"{v.label} ({'constant' if v.kind == CONST else 'leaf'})"
        val = fmt.value(v.value) if v.value is not None or v.shape is None else fmt.shape(v.shape)
        lines = [head, "= " + val]
        if v.grad is not None and v.kind != CONST:
            lines.append(f"∂{L}/∂{v.label} = " + fmt.value(v.grad))
        return [_clip(s) for s in lines]
    ops = sum(1 for v in b.members if v.kind == OP)
    params = [v.label for v in b.members if v.kind == LEAF]
    lines = [b.title, f"{ops} ops" + (f", params: {', '.join(params)}" if params else "")]
    outs = [v for v in b.members if v.kind == OP]
    if outs and outs[-1].shape is not None:
        lines.append("out " + fmt.shape(outs[-1].shape))
    return [_clip(s) for s in lines]


def _measure_fn(ex):
    def measure(b):
        b.lines = box_lines(ex, b)
        w = max(len(s) for s in b.lines) * CHAR_W + 16
        return max(w, 40), len(b.lines) * LINE_H + 10

    return measure


def edge_label(e):
    """'x = 1' on the edge w → y_hat: the local gradient, formula and value."""
    if e is None:
        return ""
    if not e.needs_grad:
        return "const"
    f = fmt.formula(e)
    val = fmt.local(e, small=4)
    if f and val and f != val:
        s = f"{f} = {val}"
    else:
        s = val or f or ""
    return _clip(s, EDGE_LABEL_CHARS)


def drawing(ex, collapse=None, max_boxes=150):
    """Boxes and edges with coordinates (shared by the SVG and the HTML page)."""
    boxes, edges = boxes_for(ex, collapse, max_boxes)
    # room between layers for the edge labels when they are drawn
    gap = 40 + EDGE_LABEL_CHARS * CHAR_W * 0.75 if len(boxes) <= 80 else 60
    bends, width, height = layout(boxes, edges, _measure_fn(ex), gap)
    return boxes, edges, bends, width, height


def render_svg(ex, collapse=None, max_boxes=150, edge_labels=None, ids=True, drawn=None):
    """The graph as one SVG document (no external resources).

    ``collapse``: group by module and fold repeated chains (default: when more than
    ``max_boxes`` values); ``edge_labels``: local gradients on edges (default: ≤ 80 boxes).
    """
    if drawn is None:
        with no_gc():
            drawn = drawing(ex, collapse, max_boxes)
    boxes, edges, bends, width, height = drawn
    with no_gc():
        return _render(ex, boxes, edges, bends, width, height, edge_labels, ids)


def _render(ex, boxes, edges, bends, width, height, edge_labels, ids):
    if edge_labels is None:
        edge_labels = len(boxes) <= 80
    full = len(boxes) <= 2000  # local-gradient formulas in the tooltips (hover) up to here
    out = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" class="cr-graph">'
        ),
        ARROW,
        f"<style>{STYLE}</style>",
    ]
    append = out.append
    parallel = {}  # a*a: the second edge between the same boxes is drawn beside the first
    for k, (a, b, e) in enumerate(edges):
        n = parallel[(a.id, b.id)] = parallel.get((a.id, b.id), -1) + 1
        off = min(n, 2) * 10
        x0, y0 = a.x + a.w, a.y + a.h / 2 + off
        x1, y1 = b.x, b.y + b.h / 2 + off
        pts = [(x0, y0), *bends[k], (x1, y1)]
        d = [f"M{x0:.1f},{y0:.1f}"]
        for (px, py), (qx, qy) in itertools.pairwise(pts):
            mx = (px + qx) / 2
            d.append(f"C{mx:.1f},{py:.1f} {mx:.1f},{qy:.1f} {qx:.1f},{qy:.1f}")
        dim = e is not None and not e.needs_grad
        cls = "cr-edge cr-dim" if dim else "cr-edge"
        eid = f' id="cr-e{k}" data-src="{e.src.idx}" data-dst="{e.dst.idx}"' if ids and e else ""
        append(f'<g class="{cls}"{eid}><path d="{" ".join(d)}" marker-end="url(#cr-arrow)"/>')
        if edge_labels and e is not None:
            (px, py), (qx, qy) = pts[-2], pts[-1]
            # into or out of a collapsed box: the shape of what flows, not one op's derivative
            lab = escape(edge_label(e) if a.vertex and b.vertex else fmt.shape(e.src.shape))
            if lab:
                append(f'<text x="{(px + qx) / 2:.1f}" y="{(py + qy) / 2 - 4:.1f}" '
                       f'text-anchor="middle">{lab}</text>')
        append("</g>")
    for b in boxes:
        cls = ["cr-box"]
        v = b.vertex
        if v is not None:
            if v.kind == LEAF and v.requires_grad:
                cls.append("cr-leaf")
            elif v.kind == CONST:
                cls.append("cr-const")
            if v is ex.root:
                cls.append("cr-root")
        else:
            cls.append("cr-" + b.kind)
        members = " ".join(str(m.idx) for m in b.members)
        attrs = f' id="cr-b{b.id}" data-members="{members}"' if ids else ""
        append(f'<g class="{" ".join(cls)}"{attrs}>')
        append(f"<title>{escape(_tooltip(ex, b, full))}</title>")
        append(f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" rx="4"/>')
        for i, line in enumerate(b.lines):
            c = ' class="cr-grad"' if line.startswith("∂") else ""
            append(f'<text x="{b.x + 8:.1f}" y="{b.y + 17 + i * LINE_H:.1f}"{c}>{escape(line)}</text>')
        append("</g>")
    append("</svg>")
    return "\n".join(out)


def _tooltip(ex, b, formulas=True):
    if b.vertex is None:
        return f"{b.title}: " + ", ".join(v.label for v in b.members[:50])
    v = b.vertex
    parts = [v.op_name or fmt.kind_word(v)]
    for e in v.inputs if formulas else ():
        f = fmt.formula(e)
        if f:
            parts.append(f"∂{v.label}/∂{e.src.label} = {f}")
    return "; ".join(parts)


# ---- Graphviz ---------------------------------------------------------------------------
def render_dot(ex):
    """Graphviz source of the full graph (``dot -Tsvg``), modules as clusters."""
    out = ["digraph explanation {", "  rankdir=LR;", '  node [shape=box, fontname="monospace"];']
    clusters = {}
    for v in ex.vertices:
        b = _single(v)
        lines = box_lines(ex, b)
        attrs = [f"label={_dq(chr(10).join(lines))}"]
        if v.kind == LEAF and v.requires_grad:
            attrs.append('style=filled, fillcolor="#e6f4ea", color="#1e8e3e", penwidth=2')
        elif v.kind == CONST:
            attrs.append('color="#c4c4c4", fontcolor="#9aa0a6", style=dashed')
        line = f"  v{v.idx} [{', '.join(attrs)}];"
        if v.group:
            clusters.setdefault(v.group, []).append(line)
        else:
            out.append(line)
    for i, (g, lines) in enumerate(clusters.items()):
        out.append(f"  subgraph cluster_{i} {{ label={_dq(g)}; style=rounded;")
        out += ["  " + s for s in lines]
        out.append("  }")
    for v in ex.nodes:
        for e in v.inputs:
            attrs = [f"label={_dq(edge_label(e))}"]
            if not e.needs_grad:
                attrs.append('color="#d93025", fontcolor="#d93025", style=dashed')
            out.append(f"  v{e.src.idx} -> v{v.idx} [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def _dq(s):
    """A DOT string literal."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _single(v):
    from .layout import Box

    return Box(0, v.kind, [v], v.label, v)
