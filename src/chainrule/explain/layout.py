"""A layered (Sugiyama-style) drawing of an Explanation, in pure Python, plus collapsing.

Boxes are placed in layers along the data flow (longest path from the inputs; an input
sits just before its first use), ordered within a layer by barycenter sweeps to reduce
crossings, then given coordinates by pulling each box towards its neighbours' mean with a
minimum gap. Edges spanning more than one layer get dummy bends only up to ``MAX_SPAN``
layers (a parameter used by 5 000 ops would otherwise need millions of bends); longer ones
are drawn as one curve. Everything is linear in the graph's size per sweep, so 10 000 ops
lay out in well under a second.

Big graphs are collapsed first (``collapse``): ops grouped by nn.Module become one box
each, and a chain that repeats one pattern of ops (``mul → add`` 5 000 times) becomes one
box ``(mul → add) ×5000``.
"""
from .core import CONST, LEAF, OP

MAX_SPAN = 8
SWEEPS = 4
GAP = 24  # pixels between boxes in a layer
LAYER_GAP = 70  # pixels between layers


class Box:
    """One drawn box: a vertex, a module group, or a repeated run of ops."""

    __slots__ = (
        "h",
        "id",
        "kind",
        "layer",
        "lines",
        "members",
        "order",
        "times",
        "title",
        "vertex",
        "w",
        "x",
        "y",
    )

    def __init__(self, id, kind, members, title, vertex=None):
        self.id, self.kind, self.members, self.title = id, kind, members, title
        self.vertex = vertex  # the single Vertex drawn, for kind op / leaf / const
        self.lines = []
        self.times = 1
        self.w = self.h = self.x = self.y = 0
        self.layer = self.order = 0


def boxes_for(ex, collapse=None, max_boxes=150):
    """(boxes, edges): one box per vertex, or a collapsed view when the graph is big.

    ``edges`` are (src box, dst box, Edge or None for a summary edge); ``collapse`` None
    means 'when there are more than ``max_boxes`` vertices'.
    """
    vs = ex.vertices
    if collapse is None:
        collapse = len(vs) > max_boxes
    box_of = {}
    boxes = []
    if collapse:
        groups = {}
        for v in vs:
            g = v.group
            if g is None and v.kind != OP:
                # an input joins the group of its consumers when they all share one
                gs = {e.dst.group for e in v.consumers}
                g = gs.pop() if len(gs) == 1 else None
            if g is not None:
                b = groups.get(g)
                if b is None:
                    kind = ex.group_types.get(g.partition("#")[0])
                    b = groups[g] = Box(len(boxes), "group", [], f"{g} ({kind})" if kind else g)
                    boxes.append(b)
                b.members.append(v)
                box_of[v.idx] = b
                continue
            b = Box(len(boxes), v.kind, [v], v.label, v)
            boxes.append(b)
            box_of[v.idx] = b
    else:
        for v in vs:
            b = Box(len(boxes), v.kind, [v], v.label, v)
            boxes.append(b)
            box_of[v.idx] = b
    edges = _box_edges(vs, box_of)
    if collapse and len(boxes) > max_boxes:
        boxes, edges = _collapse_runs(boxes, edges)
    return boxes, edges


def _box_edges(vs, box_of):
    edges, seen = [], set()
    for v in vs:
        for e in v.inputs:
            a, b = box_of[e.src.idx], box_of[v.idx]
            if a is b:
                continue
            key = (a.id, b.id)
            if a.kind == "group" or b.kind == "group" or a.kind == "run" or b.kind == "run":
                if key in seen:
                    continue
                seen.add(key)
            edges.append((a, b, e))
    return edges


def _signature(b):
    if b.kind == "group":
        ops = tuple(v.op_name for v in b.members if v.kind == OP)
        return ("group", ops) if ops else None  # a box of parameters only: not in chains
    if b.kind == OP:
        return ("op", b.vertex.op_name)
    return None


def _collapse_runs(boxes, edges):
    """Replace chains that repeat a pattern (period ≤ 8, ≥ 3 repeats) by one box each."""
    succ = {b.id: [] for b in boxes}
    pred = {b.id: [] for b in boxes}
    for a, b, _ in edges:
        if _signature(a) and _signature(b):
            succ[a.id].append(b)
            pred[b.id].append(a)
    # maximal chains of op/group boxes with single links
    in_chain = set()
    chains = []
    for b in boxes:
        if not _signature(b) or b.id in in_chain:
            continue
        p = pred[b.id]
        if len(p) == 1 and len(succ[p[0].id]) == 1:
            continue  # not a chain head
        chain = [b]
        in_chain.add(b.id)
        cur = b
        while len(succ[cur.id]) == 1:
            nxt = succ[cur.id][0]
            if len(pred[nxt.id]) != 1 or nxt.id in in_chain:
                break
            chain.append(nxt)
            in_chain.add(nxt.id)
            cur = nxt
        if len(chain) >= 3:
            chains.append(chain)
    run_of = {}  # old box id -> the run box replacing it
    runs = []
    for chain in chains:
        sigs = [_signature(b) for b in chain]
        i = 0
        while i < len(chain):
            k, p = _best_period(sigs, i)
            if k < 3:
                i += 1
                continue
            members = chain[i: i + k * p]
            pattern = " → ".join(_box_name(b) for b in chain[i: i + p])
            run = Box(None, "run", [v for b in members for v in b.members], f"({pattern}) ×{k}")
            run.times = k
            runs.append(run)
            for b in members:
                run_of[b.id] = run
            i += k * p
    if not runs:
        return boxes, edges
    # an input used only inside one run folds into it
    users = {}
    for a, b, _ in edges:
        users.setdefault(a.id, set()).add(id(run_of.get(b.id, b)))
    by_key = {id(r): r for r in runs}
    folded = set()
    for b in boxes:
        if (b.kind in (LEAF, CONST) or _signature(b) is None) and b.id not in run_of:
            us = users.get(b.id, ())
            if len(us) == 1:
                r = by_key.get(next(iter(us)))
                if r is not None:
                    r.members.extend(b.members)
                    run_of[b.id] = r
                    folded.add(b.id)
    new_edges, seen = [], set()
    for a, b, e in edges:
        a2, b2 = run_of.get(a.id, a), run_of.get(b.id, b)
        if a2 is b2:
            continue
        key = (id(a2), id(b2))
        if key not in seen:
            seen.add(key)
            new_edges.append((a2, b2, e))
    # keep forward order: a run stands where its first op was
    out, placed = [], set()
    for b in boxes:
        r = run_of.get(b.id)
        if r is None:
            out.append(b)
        elif b.id not in folded and id(r) not in placed:
            placed.add(id(r))
            out.append(r)
    for i, b in enumerate(out):
        b.id = i
    return out, new_edges


def _best_period(sigs, i):
    """(repeats, period) of the longest periodic stretch starting at i (period ≤ 8)."""
    best = (1, 1)
    n = len(sigs)
    for p in range(1, 9):
        k = 1
        while i + (k + 1) * p <= n and sigs[i + k * p: i + (k + 1) * p] == sigs[i: i + p]:
            k += 1
        if k >= 3 and k * p > best[0] * best[1]:
            best = (k, p)
    return best


def _box_name(b):
    if b.kind == "group":
        return b.title
    return b.vertex.short


# ---- layering, ordering, coordinates -----------------------------------------------------
def layout(boxes, edges, measure, layer_gap=LAYER_GAP):
    """Assign ``layer``, ``order``, ``x``, ``y``, ``w``, ``h`` to every box.

    ``measure(box)`` returns its (width, height). Returns (bends, width, height) where
    ``bends[i]`` lists the dummy points of edge i (layer-spanning edges), in pixels, with
    layers running left to right.
    """
    n = len(boxes)
    idx = {id(b): i for i, b in enumerate(boxes)}
    succ = [[] for _ in range(n)]
    pred = [[] for _ in range(n)]
    for a, b, _ in edges:
        ia, ib = idx[id(a)], idx[id(b)]
        succ[ia].append(ib)
        pred[ib].append(ia)
    layer = [0] * n
    # boxes are in topological order (forward order): longest path in one pass
    for i in range(n):
        for j in pred[i]:
            layer[i] = max(layer[i], layer[j] + 1)
    # inputs (no predecessors) sit just before their first consumer
    for i in range(n):
        if not pred[i] and succ[i]:
            layer[i] = max(0, min(layer[j] for j in succ[i]) - 1)
    # dummy nodes for edges spanning a few layers
    nl = max(layer) + 1 if n else 1
    slots = [[] for _ in range(nl)]  # node ids per layer (>= n are dummies)
    for i in range(n):
        slots[layer[i]].append(i)
    up = [list(p) for p in pred]  # neighbours in the previous layer, dummies included
    down = [list(s) for s in succ]
    chains = []
    dummy_layer = []
    for k, (a, b, _) in enumerate(edges):
        ia, ib = idx[id(a)], idx[id(b)]
        span = layer[ib] - layer[ia]
        chain = []
        if 1 < span <= MAX_SPAN:
            prev = ia
            down[ia].remove(ib)
            up[ib].remove(ia)
            for L in range(layer[ia] + 1, layer[ib]):
                d = n + len(dummy_layer)
                dummy_layer.append(L)
                up.append([prev])
                down.append([])
                down[prev].append(d)
                slots[L].append(d)
                chain.append(d)
                prev = d
            down[prev].append(ib)
            up[ib].append(prev)
        chains.append(chain)
    total = n + len(dummy_layer)
    pos = [0.0] * total
    for L in slots:
        for o, i in enumerate(L):
            pos[i] = o
    # barycenter sweeps (fewer on huge graphs: their drawing is for zooming, not for print)
    sweeps = SWEEPS if total < 3000 else 2
    for sweep in range(sweeps):
        rng = range(1, nl) if sweep % 2 == 0 else range(nl - 2, -1, -1)
        nb = up if sweep % 2 == 0 else down
        for L in rng:
            row = slots[L]
            if len(row) < 2:
                continue
            keyed = []
            for i in row:
                ns = nb[i]
                keyed.append((sum(pos[j] for j in ns) / len(ns) if ns else pos[i], pos[i], i))
            keyed.sort()
            row[:] = [t[2] for t in keyed]
            for o, i in enumerate(row):
                pos[i] = o
    # sizes; layers are columns (left to right), order is vertical
    wh = [measure(b) for b in boxes]
    colw = [0] * nl
    for i in range(n):
        b = boxes[i]
        b.w, b.h = wh[i]
        b.layer = layer[i]
        colw[layer[i]] = max(colw[layer[i]], b.w)
    colx = []
    x = 20
    for L in range(nl):
        colx.append(x)
        x += colw[L] + layer_gap
    width = x - layer_gap + 20
    size = [wh[i][1] if i < n else 8 for i in range(total)]
    ycen = [0.0] * total
    for L in range(nl):  # initial stacking
        y = 20
        for i in slots[L]:
            ycen[i] = y + size[i] / 2
            y += size[i] + GAP
    for it in range(sweeps):  # pull towards neighbours' centres, keep order and gaps
        seq = range(1, nl) if it % 2 == 0 else range(nl - 2, -1, -1)
        nb = up if it % 2 == 0 else down
        for L in seq:
            row = slots[L]
            if len(row) == 1:  # most layers of a deep graph: no neighbours to dodge
                i = row[0]
                ns = nb[i]
                if len(ns) == 1:
                    ycen[i] = ycen[ns[0]]
                elif ns:
                    ycen[i] = sum(ycen[j] for j in ns) / len(ns)
                continue
            want = []
            for i in row:
                ns = nb[i]
                want.append(sum(ycen[j] for j in ns) / len(ns) if ns else ycen[i])
            _place(row, want, size, ycen)
    top = min((ycen[i] - size[i] / 2 for i in range(total)), default=20)
    shift = 20 - top
    height = 0
    for i in range(n):
        b = boxes[i]
        b.order = slots[b.layer].index(i) if len(slots[b.layer]) < 64 else 0
        b.x = colx[b.layer] + (colw[b.layer] - b.w) / 2
        b.y = ycen[i] + shift - b.h / 2
        height = max(height, b.y + b.h + 20)
    bends = []
    for chain in chains:
        pts = []
        for d in chain:
            L = dummy_layer[d - n]
            pts.append((colx[L] + colw[L] / 2, ycen[d] + shift))
        bends.append(pts)
    return bends, width, height


def _place(row, want, size, ycen):
    """Put the row's boxes as close to ``want`` as their order and gaps allow."""
    m = len(row)
    if not m:
        return
    y = [0.0] * m
    lo = -1e18
    for k in range(m):  # left-to-right: at least gap after the previous box
        i = row[k]
        y[k] = max(want[k], lo + size[i] / 2)
        lo = y[k] + size[i] / 2 + GAP
    # shift the whole row so that its mean offset from ``want`` is zero (keeps it centred)
    off = sum(want[k] - y[k] for k in range(m)) / m
    for k in range(m):
        ycen[row[k]] = y[k] + off
