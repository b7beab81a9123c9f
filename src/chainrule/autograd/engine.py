"""The backward pass: the chain rule, applied node by node in reverse topological order.

1. Start from the roots with their upstream gradients.
2. Run nodes in decreasing creation order (a heap keyed by each node's sequence number, as
   PyTorch's engine does): a node is always created after the nodes that produced its
   inputs, so by the time it runs every edge into it has delivered its contribution
   (contributions are summed: ``a*a`` has two edges). No separate counting pass is needed.
3. Running a node calls its op's backward rule: upstream gradient x local gradient, one
   result per operand. Each result is summed back to its operand's shape (broadcasting)
   and cast to its dtype here, in one place, then passed down the edge.
4. Leaves collect their gradient into ``.grad`` (accumulating across calls, as PyTorch does).
   Without ``retain_graph`` each node's saved values are released as soon as it has run.

An edge is a Node, a leaf Tensor, ``(node, output_nr)`` for one output of a multi-output
node (custom Functions), or None. A multi-output node's gradient buffer is a list.
"""
from heapq import heappop, heappush

from .._tensor import Tensor
from . import anomaly_mode
from .grad_mode import state
from .graph import _FREED_MSG, FREED, Node

# Observers of the backward pass (the explainer): called as fn(node, grad_out, grads_in).
_observers = []


def _check_versions(node):
    for s, v in zip(node.saved, node.versions or ()):
        if v is not None and s._version[0] != v:
            _raise_modified(node, s, s._version, v)
    if node.out is not None:
        box, expected = node.out_version
        if box[0] != expected:
            _raise_modified(node, Tensor._make(node.out), box, expected, output=True)


def _raise_modified(node, t, box, expected, output=False):
    from .._printing import type_name

    name = node.op.node_name
    which = f"output 0 of {name}" if output else f"saved by {name}"
    by = f" by {box[1]}" if len(box) > 1 else ""
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{type_name(t)} {list(t._data.shape)}], which is {which}, is at version "
        f"{box[0]}; expected version {expected} instead. Hint: enable anomaly detection to find "
        "the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True).\n"
        f"chainrule: the tensor was saved for backward by {name} at version {expected} and "
        f"later modified in place{by} (now version {box[0]})."
        + anomaly_mode.where(node)
    )


def _node_of(e):
    if isinstance(e, Node):
        return e
    if e.__class__ is tuple:
        return e[0]
    return None


def _needed(roots, targets):
    """Nodes from which some target (a node or a leaf) can be reached; others are skipped."""
    target_nodes = {_node_of(t) or t for t in targets}
    memo = {}
    for root in roots:
        stack = [(_node_of(root) or root, False)]
        while stack:
            n, done = stack.pop()
            if n in memo:
                continue
            if not isinstance(n, Node):
                memo[n] = n in target_nodes
                continue
            kids = [_node_of(e) or e for e in n.edges if e is not None]
            if done:
                memo[n] = n in target_nodes or any(memo.get(k, False) for k in kids)
            else:
                stack.append((n, True))
                stack.extend((k, False) for k in kids if k not in memo)
    return {n for n, ok in memo.items() if ok}


def _add(buffers, key, g):
    old = buffers.get(key)
    buffers[key] = g if old is None else old + g


def _add_slot(buffers, node, nr, g):
    buf = buffers.get(node)
    if buf is None:
        buf = buffers[node] = [None] * node.n_outputs
    if g is not None:
        buf[nr] = g if buf[nr] is None else buf[nr] + g


def run_backward(roots, grads, retain_graph, create_graph, capture=None):
    """Propagate ``grads`` from the ``roots`` (edges: Nodes, leaf Tensors or (node, nr)).

    With ``capture`` (a dict keyed by edge), the gradient arriving there is stored in the
    dict instead of being accumulated into ``.grad``.
    """
    prev = state.enabled
    state.enabled = create_graph
    try:
        buffers = {}
        leaf_grads = {}
        for r, g in zip(roots, grads):
            if isinstance(r, Node):
                _add(buffers, r, g)
            elif r.__class__ is tuple:
                _add_slot(buffers, r[0], r[1], g)
            else:
                _add(leaf_grads, r, g)
        needed = _needed(roots, capture) if capture is not None else None
        ready = []
        queued = set()
        for n in map(_node_of, roots):
            if n is not None and n not in queued:
                queued.add(n)
                heappush(ready, (-n.seq, n))
        observers = _observers
        anomaly = anomaly_mode.state.enabled
        summer = None if create_graph else _Summer()
        add = _sum_graph if create_graph else summer
        while ready:
            node = heappop(ready)[1]
            g = buffers.pop(node, None)
            if summer is not None and summer.owned:
                summer.owned.pop(id(g), None)  # consumed: never add into it again
            if g is None:
                run = False
            else:
                if node.hooks is not None:
                    g = _run_pre_hooks(node, g)
                if capture is not None:
                    _capture(capture, node, g)
                run = needed is None or node in needed
                if g.__class__ is list and not any(x is not None for x in g):
                    run = False
            if run:
                if node.saved is FREED:
                    raise RuntimeError(_FREED_MSG)
                vs = node.versions
                if vs is not None:
                    for t, v in zip(node.saved, vs):  # inlined: one or two saved tensors
                        if v is not None and t._version[0] != v:
                            _check_versions(node)
                if node.out is not None:
                    _check_versions(node)
                results = node.op.backward(node, g)
                if results.__class__ is not tuple:
                    results = (results,)
                if anomaly:
                    anomaly_mode.check_backward(node, results)
                if observers:
                    for fn in observers:
                        fn(node, g, results)
                if node.hooks is not None and node.hooks["post"]:
                    for h in list(node.hooks["post"].values()):
                        h(results, tuple(g) if g.__class__ is list else (g,))
                if not retain_graph:
                    if node.saved:
                        node.saved = FREED
                    node.out = None
            metas = node.metas
            i = -1
            for e in node.edges:
                i += 1
                if e is None:
                    continue
                gi = results[i] if run else None
                if gi is not None:
                    shape, dtype = metas[i]
                    d = gi._data
                    if d.shape != shape:
                        gi = gi.sum_to_size(shape)
                    if d.dtype != dtype:
                        gi = gi.to(_dtype_of(dtype))
                if e.__class__ is Node or isinstance(e, Node):
                    if gi is not None:
                        old = buffers.get(e)
                        buffers[e] = gi if old is None else add(old, gi)
                    n = e
                elif e.__class__ is tuple:
                    n = e[0]
                    _add_slot(buffers, n, e[1], gi)
                else:
                    if gi is not None:
                        old = leaf_grads.get(e)
                        leaf_grads[e] = gi if old is None else add(old, gi)
                    continue
                if n not in queued:
                    queued.add(n)
                    heappush(ready, (-n.seq, n))
        for leaf, g in leaf_grads.items():
            g = _run_leaf_hooks(leaf, g)
            if capture is not None:
                if leaf in capture:
                    capture[leaf] = g
                continue
            _accumulate(leaf, g, create_graph)
    finally:
        state.enabled = prev


def _sum_graph(a, b):
    return a + b  # recorded: the sum is itself part of the graph being built


class _Summer:
    """Sums gradient contributions without recording: the first sum makes a private array,
    later ones add into it in place (no Tensor op, no new allocation per contribution)."""

    __slots__ = ("owned",)

    def __init__(self):
        self.owned = {}  # id -> tensor: holding it keeps the id from being reused

    def __call__(self, a, b):
        if id(a) in self.owned:
            ad = a._data
            bd = b._data
            if ad.dtype == bd.dtype and ad.shape == bd.shape:
                ad += bd
                return a
        s = a + b
        self.owned[id(s)] = s
        return s


def _capture(capture, node, g):
    if node in capture:
        capture[node] = g
    elif g.__class__ is list:
        for nr, gi in enumerate(g):
            if (node, nr) in capture:
                capture[(node, nr)] = gi


def _dtype_of(np_dtype):
    from .._dtype import _FROM_NP

    return _FROM_NP[np_dtype]


def _run_pre_hooks(node, g):
    for h in list(node.hooks["pre"].values()):
        r = h(g)
        if r is not None:
            g = r
    for h in list(node.hooks["retain"].values()):
        h(g)
    return g


def _run_leaf_hooks(leaf, g):
    ex = leaf._extra
    if ex:
        for h in list(ex.get("hooks", {}).values()):
            r = h(g)
            if r is not None:
                g = r
    return g


def _accumulate(leaf, g, create_graph):
    """AccumulateGrad: the first gradient is stored (a private copy, so later in-place
    accumulation can never write into a tensor someone else holds); later ones are added."""
    old = leaf._grad
    if old is None:
        if create_graph:
            leaf._grad = g
        else:
            leaf._grad = Tensor._make(g._data.copy())
    elif create_graph or old._requires_grad:
        leaf._grad = old + g
    else:
        old._data += g._data
        old._version[0] += 1
    ex = leaf._extra
    if ex and ex.get("post_hooks"):
        for h in list(ex["post_hooks"].values()):
            h(leaf)
