"""Recording an explanation: run the backward pass once, watching every chain-rule step.

``explain(output)`` calls ``autograd.grad(output, leaves, retain_graph=True)`` with an
engine observer, so the user's ``.grad`` fields and graph are left as they were, and
builds an ``Explanation``: the graph's vertices (leaves, constants, op outputs) in
forward order, one ``Edge`` per operand (formula, local derivative, contribution) and the
backward ``Step`` list (upstream × local = contribution, broadcast sums, accumulation).

Forward values come, in this order, from ``record()`` (which captures every node as it is
made), the node's saved output, a consumer's saved copy of it, or re-running the op's
forward on known operands; where none applies only the shape (known from the gradient
that reaches the node) is shown.
"""
import gc
import sys
import weakref

from .._backend import xp
from .._tensor import Tensor
from ..autograd import engine, graph
from ..autograd.grad_mode import state
from ..autograd.graph import FREED, Node

# Vertex kinds
OP, LEAF, CONST = "op", "leaf", "const"

_records = weakref.WeakKeyDictionary()  # Node -> (output array, operand values) under record()
_record_depth = [0]
_module_stack = []  # qualified names of the nn.Modules whose forward is running (record(model))
_groups = weakref.WeakKeyDictionary()  # Node -> module name it was made in


class record:
    """Context manager: capture every op's forward value (and constant operands) exactly.

    Without it ``explain`` recovers most values after the fact; with ``model=`` given, the
    nodes are also grouped by the module whose forward made them (forward hooks).
    chainrule-only: PyTorch has no explainer.
    """

    def __init__(self, model=None):
        self.model = model
        self._handles = []

    def __enter__(self):
        _record_depth[0] += 1
        graph._on_record = _on_record
        if self.model is not None and hasattr(self.model, "named_modules"):
            calls = {}
            for name, mod in self.model.named_modules():
                if not name or not hasattr(mod, "register_forward_pre_hook"):
                    continue
                self._handles.append(mod.register_forward_pre_hook(_enter_module(name, calls)))
                self._handles.append(mod.register_forward_hook(_exit_module(name)))
        return self

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        self._handles = []
        _record_depth[0] -= 1
        if _record_depth[0] == 0:
            graph._on_record = None
            _module_stack.clear()


def _enter_module(name, calls):
    # a module called again (an RNN cell, a shared block) is a new group: 'cell#2', ...
    def pre(mod, args):
        calls[name] = k = calls.get(name, 0) + 1
        _module_stack.append(name if k == 1 else f"{name}#{k}")

    return pre


def _exit_module(name):
    def post(mod, args, out):
        if _module_stack and _module_stack[-1].partition("#")[0] == name:
            _module_stack.pop()

    return post


def _on_record(node, inputs, result):
    _records[node] = (result._data, inputs)
    if _module_stack:
        _groups[node] = _module_stack[-1]


# ---- the data model --------------------------------------------------------------------
class Vertex:
    """A value in the graph: a leaf tensor, a constant operand, or an op's output."""

    __slots__ = (
        "consumers",
        "dtype",
        "grad",
        "group",
        "idx",
        "inputs",
        "kind",
        "name",
        "node",
        "op_name",
        "requires_grad",
        "shape",
        "uses",
        "value",
    )

    def __init__(self, idx, kind):
        self.idx = idx
        self.kind = kind
        self.name = None
        self.op_name = None
        self.value = None  # ndarray / Python number, or None when not known
        self.shape = None
        self.dtype = None
        self.requires_grad = kind != CONST
        self.grad = None  # total ∂L/∂(this value), an ndarray (None: no gradient flows here)
        self.inputs = []  # Edges into this op
        self.consumers = []  # Edges out of this value
        self.group = None
        self.node = None
        self.uses = 0  # how many ops send a gradient back to this value (several: a sum)

    @property
    def label(self):
        if self.name:
            return self.name
        if self.kind == OP:
            return f"%{self.idx}"
        return f"c{self.idx}" if self.kind == CONST else f"t{self.idx}"

    @property
    def short(self):
        """The op's short name: MulBackward0 -> mul."""
        n = self.op_name or ""
        for suffix in ("Backward0", "Backward1", "Backward2", "Backward"):
            if n.endswith(suffix):
                n = n[: -len(suffix)]
                break
        return n.lower()

    def __repr__(self):
        return f"<Vertex {self.label} {self.kind} {self.op_name or ''}>"


class Edge:
    """Operand ``operand`` of op ``dst`` is the value ``src``."""

    __slots__ = (
        "contribution",
        "dst",
        "formula",
        "local",
        "needs_grad",
        "operand",
        "pos",
        "raw",
        "src",
        "upstream",
    )

    def __init__(self, src, dst, pos, operand, formula, needs_grad):
        self.src, self.dst, self.pos = src, dst, pos
        self.operand, self.formula, self.needs_grad = operand, formula, needs_grad
        self.local = None  # ∂dst/∂src: a number, or the Jacobian (out.numel, src.numel) when small
        self.upstream = None  # ∂L/∂dst when this edge's rule ran
        self.raw = None  # the rule's result before summing to src's shape (broadcasting)
        self.contribution = None  # what this edge adds to ∂L/∂src


class Step:
    """One line of the story. kind: forward | backward | broadcast | accumulate | leaf | seed."""

    __slots__ = ("edge", "kind", "parts", "vertex")

    def __init__(self, kind, vertex, edge=None, parts=()):
        self.kind, self.vertex, self.edge, self.parts = kind, vertex, edge, parts

    def __repr__(self):
        return f"<Step {self.kind} {self.vertex.label}>"


# ---- recording ---------------------------------------------------------------------------
def _caller_names(frame_depth):
    """Names of Tensors in the first frame outside chainrule: id(leaf) / id(node) -> name."""
    f = sys._getframe(frame_depth)
    while f is not None and f.f_globals.get("__name__", "").partition(".")[0] == "chainrule":
        f = f.f_back
    names = {}
    if f is None:
        return names
    for scope in (f.f_globals, f.f_locals):  # locals win
        for k, v in list(scope.items()):
            if k.startswith("_") or not isinstance(v, Tensor):
                continue
            names[id(v.grad_fn) if v.grad_fn is not None else id(v)] = k
    return names


def _edge_target(e):
    if e is None:
        return None
    if e.__class__ is tuple:
        return e[0]
    return e


def _topo(root_nodes):
    """Nodes reachable from the roots, producers before consumers (iterative DFS)."""
    order, seen = [], set()
    for r in root_nodes:
        if r is None or id(r) in seen:
            continue
        seen.add(id(r))
        stack = [(r, iter(r.edges))]
        while stack:
            n, it = stack[-1]
            for e in it:
                t = _edge_target(e)
                if isinstance(t, Node) and id(t) not in seen:
                    seen.add(id(t))
                    stack.append((t, iter(t.edges)))
                    break
            else:
                stack.pop()
                order.append(n)
    return order


def _to_array(x):
    if isinstance(x, Tensor):
        return x._data
    return x


class _Recorder:
    def __init__(self, ex, jacobian_limit):
        self.ex = ex
        self.jacobian_limit = jacobian_limit

    def __call__(self, node, g, results):
        ex = self.ex
        v = ex._by_node.get(id(node))
        if v is None:
            return
        upstream = [x._data if x is not None else None for x in g] if g.__class__ is list else g._data
        if g.__class__ is not list:
            if v.shape is None:
                v.shape, v.dtype = upstream.shape, upstream.dtype
            ex._emit_accumulate(v, upstream)
        for edge in v.inputs:
            r = results[edge.pos] if edge.pos < len(results) else None
            if not edge.needs_grad or r is None:
                continue
            raw = r._data
            edge.upstream = upstream
            src = edge.src
            target_shape = node.metas[edge.pos][0] if node.metas[edge.pos] else raw.shape
            contribution = raw
            if raw.shape != target_shape:
                edge.raw = raw
                contribution = r.sum_to_size(target_shape)._data
            edge.contribution = contribution
            if g.__class__ is not list:
                edge.local = self._local(node, edge, upstream, target_shape)
            ex.steps.append(Step("backward", v, edge))
            if edge.raw is not None:
                ex.steps.append(Step("broadcast", src, edge))
            ex._arrived.setdefault(src.idx, []).append(edge)

    def _local(self, node, edge, upstream, target_shape):
        """∂out/∂operand from the op's own backward rule, fed unit upstream gradients."""
        n_out = upstream.size
        n_in = 1
        for s in target_shape:
            n_in *= s
        if n_out * n_in > self.jacobian_limit or n_out == 0 or n_in == 0:
            return None
        rows = []
        try:
            for k in range(n_out):
                e = xp.zeros(upstream.shape, dtype=upstream.dtype)
                e.reshape(-1)[k] = 1
                r = engine.run_rule(node, Tensor._make(e))
                r = r if r.__class__ is tuple else (r,)
                r = r[edge.pos]
                if r is None:
                    return None
                if r._data.shape != target_shape:
                    r = r.sum_to_size(target_shape)
                rows.append(r._data.reshape(-1))
        except Exception:  # noqa: BLE001  a rule that fails on a basis vector: formula only
            return None
        if n_out == 1 and n_in == 1:
            return rows[0][0].item()
        return xp.stack(rows)


class Explanation:
    """The forward and backward pass of one output, recorded with its numbers.

    Views: ``str()``/``text()``, ``markdown()``, ``svg()``, ``dot()``, ``html(path)``;
    Jupyter shows ``_repr_markdown_``/``_repr_html_``/``_repr_svg_``.
    """

    def __init__(self):
        self.vertices = []
        self.steps = []
        self.root = None
        self.leaves = []  # the inputs (leaves by default) that get a gradient, forward order
        self._by_node = {}
        self._arrived = {}
        self.group_types = {}  # module name -> class name ("Linear"), when a model is given

    # ---- building ----------------------------------------------------------------------
    def _new(self, kind):
        v = Vertex(len(self.vertices), kind)
        self.vertices.append(v)
        return v

    def _emit_accumulate(self, v, total):
        edges = self._arrived.get(v.idx, ())
        if len(edges) > 1:
            self.steps.append(Step("accumulate", v, None, tuple(edges)))
        v.grad = total

    @property
    def nodes(self):
        """The op vertices, in forward order."""
        return [v for v in self.vertices if v.kind == OP]

    def vertex(self, name):
        """The vertex whose label is ``name``."""
        for v in self.vertices:
            if v.label == name:
                return v
        raise KeyError(name)

    @property
    def grads(self):
        """{leaf label: final gradient array}: what ``.grad`` would receive."""
        return {v.label: v.grad for v in self.leaves}

    @property
    def loss_name(self):
        return self.root.label

    # ---- views (each in its own module) -----------------------------------------------------
    def text(self, **kw):
        from .text import render_text

        return render_text(self, **kw)

    def __str__(self):
        return self.text()

    def __repr__(self):
        return (
            f"<Explanation of {self.root.label}: {len(self.nodes)} ops, "
            f"{len(self.leaves)} leaves, {len(self.steps)} steps>"
        )

    def markdown(self, **kw):
        from .text import render_markdown

        return render_markdown(self, **kw)

    def _repr_markdown_(self):
        return self.markdown(max_steps=200)

    def svg(self, **kw):
        from .svg import render_svg

        return render_svg(self, **kw)

    def _repr_svg_(self):
        return self.svg()

    def dot(self, **kw):
        from .svg import render_dot

        return render_dot(self, **kw)

    def html(self, path=None, **kw):
        """The step-through page as a string; written to ``path`` when given."""
        from .html import render_html

        page = render_html(self, **kw)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(page)
        return page

    def _repr_html_(self):
        from .html import render_html

        return render_html(self, embedded=True)


class no_gc:
    """Explaining and drawing allocate many small objects and create no cycles: with the
    cyclic collector on, it rescans the whole (large) graph again and again, which costs
    up to half the time on a 10 000-node graph."""

    def __enter__(self):
        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.was:
            gc.enable()


def explain(output, inputs=None, *, names=None, model=None, grad_output=None, jacobian_limit=64):
    """Explain how ``output``'s gradient reaches ``inputs`` (default: every leaf that
    requires grad), with the numbers. Runs one backward pass (``retain_graph=True``) through
    ``autograd.grad``, so no ``.grad`` and no part of the graph is changed.

    ``names`` maps Tensors (or their ids) to display names; otherwise names come from
    ``model.named_parameters()`` and the caller's variables, else ``t0, t1, ...``.
    ``jacobian_limit``: local derivatives of tensor ops are shown as full Jacobians when
    they have at most this many entries.
    """
    with no_gc():
        return _explain(output, inputs, names, model, grad_output, jacobian_limit)


def _explain(output, inputs, names, model, grad_output, jacobian_limit):
    from .. import autograd

    if not isinstance(output, Tensor):
        raise TypeError(f"explain(): argument 'output' must be Tensor, not {type(output).__name__}")
    if output.grad_fn is None:
        if output._requires_grad:
            raise RuntimeError("explain(): the output is a leaf tensor; there is no graph to explain")
        # the message autograd.grad gives for the same mistake
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    label = {}
    if names:
        for k, v in names.items():
            label[id(k.grad_fn if k.grad_fn is not None else k) if isinstance(k, Tensor) else k] = v
    callers = _caller_names(3)
    params = {}
    if model is not None:
        for pname, p in model.named_parameters():
            params[id(p)] = pname
    ex = Explanation()
    root_node = output.grad_fn
    order = _topo([root_node])
    leaf_vertex = {}
    for node in order:
        v = ex._new(OP)
        v.node = node
        v.op_name = node.op.node_name
        ex._by_node[id(node)] = v
    # Operand edges, leaves and constants; vertices appear in forward order.
    ordered = []
    for node in order:
        v = ex._by_node[id(node)]
        op = node.op
        operands = getattr(op, "operands", ())
        formulas = getattr(op, "formulas", {}) or {}
        saved_at = _saved_positions(node)
        rec = _records.get(node)
        for pos, e in enumerate(node.edges):
            oname = operands[pos] if pos < len(operands) else f"input{pos}"
            t = _edge_target(e)
            if t is None:
                src = ex._new(CONST)
                src.requires_grad = False
                val = rec[1][pos] if rec is not None and pos < len(rec[1]) else saved_at.get(pos)
                if val is not None:
                    src.value = _to_array(val)
                    src.shape = getattr(src.value, "shape", ())
                    if isinstance(val, Tensor):
                        src.name = label.get(id(val)) or callers.get(id(val))
                ordered.append(src)
            elif isinstance(t, Node):
                src = ex._by_node[id(t)]
            else:  # a leaf Tensor
                src = leaf_vertex.get(id(t))
                if src is None:
                    src = leaf_vertex[id(t)] = ex._new(LEAF)
                    src.value, src.shape, src.dtype = t._data, t._data.shape, t._data.dtype
                    src.name = label.get(id(t)) or params.get(id(t)) or callers.get(id(t))
                    src.node = t
                    ordered.append(src)
            edge = Edge(src, v, pos, oname, formulas.get(oname), e is not None)
            v.inputs.append(edge)
            src.consumers.append(edge)
            src.uses += e is not None
        ordered.append(v)
        v.name = label.get(id(node)) or callers.get(id(node))
    # Renumber in forward order (leaves/constants just before their first use).
    ex.vertices = ordered
    for i, v in enumerate(ordered):
        v.idx = i
    # unnamed leaves and constants are numbered in forward order: t0, t1, ... / c0, c1, ...
    counts = {LEAF: 0, CONST: 0}
    for v in ordered:
        if v.kind != OP and not v.name:
            v.name = f"{'t' if v.kind == LEAF else 'c'}{counts[v.kind]}"
            counts[v.kind] += 1
    root = ex.root = ex._by_node[id(root_node)]
    _forward_values(ex, order, output)
    _groups_for(ex, model, params)
    if model is not None and hasattr(model, "named_modules"):
        ex.group_types = {n: type(m).__name__ for n, m in model.named_modules() if n}
    for v in ordered:
        if v.kind == OP:
            ex.steps.append(Step("forward", v))
    # The backward pass, watched.
    if inputs is None:
        inputs = [v.node for v in ordered if v.kind == LEAF]
    elif isinstance(inputs, Tensor):
        inputs = [inputs]
    inputs = list(inputs)
    if not inputs:
        raise RuntimeError("explain(): the output does not depend on any tensor that requires grad")
    seed = grad_output._data if isinstance(grad_output, Tensor) else None
    if seed is None:
        if output._data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        seed = xp.ones(output._data.shape, dtype=output._data.dtype)
    ex.steps.append(Step("seed", root, None, (seed,)))
    recorder = _Recorder(ex, jacobian_limit)
    engine._observers.append(recorder)
    hidden = _hide_retain_hooks(order)
    try:
        # create_graph=False: the engine runs rules (and our Jacobian probes) unrecorded.
        got = autograd.grad(
            output, inputs, grad_outputs=grad_output, retain_graph=True, allow_unused=True
        )
    except RuntimeError as e:
        if str(e) == graph._FREED_MSG:
            raise RuntimeError(
                f"{e}\nchainrule: explain() runs the backward pass again; call it before "
                "backward(), or call backward(retain_graph=True)."
            ) from None
        raise
    finally:
        engine._observers.remove(recorder)
        for node, h in hidden:
            node.hooks["retain"] = h
    for t, g in zip(inputs, got):
        v = leaf_vertex.get(id(t))
        if v is None:
            v = ex._by_node.get(id(t.grad_fn))
        if v is None:
            continue
        arrived = ex._arrived.get(v.idx, ())
        if v.kind == LEAF and len(arrived) > 1:
            ex.steps.append(Step("accumulate", v, None, tuple(arrived)))
        if g is not None:  # (an intermediate value given in inputs= is listed here too)
            v.grad = g._data
            ex.leaves.append(v)
            ex.steps.append(Step("leaf", v))
    ex.leaves.sort(key=lambda v: v.idx)
    return ex


def _hide_retain_hooks(order):
    """retain_grad() hooks would write .grad of intermediate tensors: switch them off."""
    hidden = []
    for node in order:
        hooks = getattr(node, "hooks", None)
        if hooks and hooks.get("retain"):
            hidden.append((node, hooks["retain"]))
            hooks["retain"] = {}
    return hidden


def _saved_positions(node):
    """{operand position: value} for the operands this node saved (constants included)."""
    saves = getattr(node.op, "saves", ())
    saved = node.saved
    if not saves or saved is FREED or not saved:
        return {}
    return {p: s for p, s in zip(saves, saved)}


def _forward_values(ex, order, output):
    """Fill each op vertex's value: recorded, saved output, saved by a consumer, recomputed."""
    known = {}
    for node in order:
        rec = _records.get(node)
        if rec is not None:
            known[id(node)] = rec[0]
        elif node.out is not None:
            known[id(node)] = node.out
    for node in order:  # a consumer that saved the tensor holds its value
        saved = node.saved
        if saved is FREED or not saved:
            continue
        for s in saved:
            if (
                isinstance(s, Tensor) and s.grad_fn is not None and id(s.grad_fn) not in known
                and not (s._extra and "output_nr" in s._extra)  # one output of several
            ):
                known[id(s.grad_fn)] = s._data
    known[id(output.grad_fn)] = output._data
    prev = state.enabled
    state.enabled = False
    try:
        for node in order:
            v = ex._by_node[id(node)]
            val = known.get(id(node))
            if val is None and not getattr(node.op, "multi_output", False):
                val = _recompute(node, v, known)
                if val is not None:
                    known[id(node)] = val
            if val is not None:
                v.value, v.shape, v.dtype = val, val.shape, val.dtype
    finally:
        state.enabled = prev


def _recompute(node, v, known):
    arrays = []
    for edge in v.inputs:
        src = edge.src
        if src.kind == OP:
            a = known.get(id(src.node))
        else:
            a = src.value
        if a is None:
            return None
        arrays.append(a)
    try:
        out = node.op.forward(None, *arrays, *(node.args or ()))
    except Exception:  # noqa: BLE001  a forward that needs more than its operands: unknown
        return None
    return out if hasattr(out, "shape") else None


def _groups_for(ex, model, params):
    """Group ops by nn.Module: recorded forward hooks, else the module whose parameters an
    op consumes; an op between two ops of one group joins it (Linear's transpose + addmm)."""
    for v in ex.vertices:
        if v.kind == LEAF and v.name and id(v.node) in params:
            v.group = v.name.rpartition(".")[0] or v.name
    for v in ex.vertices:
        if v.kind != OP:
            continue
        g = _groups.get(v.node)
        if g is None and params:
            for e in v.inputs:
                if e.src.kind == LEAF and e.src.group:
                    g = e.src.group
                    break
        v.group = g
    # a module called several times (cell, cell#2, ...): its parameters feed every call, so
    # they get a box of their own instead of sitting in the first call's
    repeated = {g.partition("#")[0] for g in _groups.values() if "#" in g} if _groups else ()
    for v in ex.vertices:
        if v.kind == LEAF and v.group in repeated:
            v.group = f"{v.group} parameters"
    if params:
        for v in ex.vertices:
            if v.kind == OP and v.group is None:
                before = {e.src.group for e in v.inputs if e.src.kind == OP}
                after = {e.dst.group for e in v.consumers}
                if len(before) == 1 and before == after and None not in before:
                    v.group = before.pop()
