"""The backward pass: the chain rule, applied node by node in reverse topological order.

1. Start from the roots with their upstream gradients.
2. Run nodes in decreasing creation order (a heap keyed by each node's sequence number, as
   PyTorch's engine does): a node is always created after the nodes that produced its
   inputs, so by the time it runs every edge into it has delivered its contribution
   (contributions are summed: ``a*a`` has two edges). No separate counting pass is needed.
3. Running a node calls its op's backward rule: upstream gradient x local gradient, one
   result per operand. Each result is summed back to its operand's shape (broadcasting)
   and cast to its dtype here, in one place, then passed down the edge.
   Without ``create_graph`` gradients travel as plain arrays ("raw" mode): an op whose
   rule is plain arithmetic (``array_backward``) gets arrays for ``grad``, ``ctx.saved`` and
   ``ctx.output`` and runs as NumPy with no Tensor in between; other rules get Tensors
   wrapped around the arrays. The same rule text serves both modes and ``create_graph``.
4. Leaves collect their gradient into ``.grad`` (accumulating across calls, as PyTorch does).
   Without ``retain_graph`` each node's saved values are released as soon as it has run.

An edge is a Node, a leaf Tensor, ``(node, output_nr)`` for one output of a multi-output
node (custom Functions), or None. A multi-output node's gradient buffer is a list.
"""
import sys
from heapq import heappop, heappush

from .._backend import ndarray
from .._backend import xp as _xp
from .._tensor import Tensor
from . import anomaly_mode
from .grad_mode import state
from .graph import _FREED_MSG, FREED, SCALAR_METAS, Node, _Pointwise

# Observers of the backward pass (the explainer): called as fn(node, grad_out, grads_in).
_observers = []


def _check_versions(node):
    vs = node.versions  # None: every saved tensor was at version 0
    for i, s in enumerate(node.saved):
        v = vs[i] if vs is not None else 0 if isinstance(s, Tensor) else None
        if v is not None and s._version_counter != v:  # (reading it makes no counter)
            _raise_modified(node, s, s._version, v)
    box = node.out_version
    if node.out is not None and box is not None and box[0] != node.out_expected:
        _raise_modified(node, Tensor._make(node.out), box, node.out_expected, output=True)


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


def _sum(old, g, add):
    # (NumPy scalars and Tensors sum plainly; only arrays are summed in place, by ``add``)
    return add(old, g) if old.__class__ is ndarray else old + g


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
    observers = _observers
    # The explainer re-runs rules on Tensors, so it sees the Tensor form throughout.
    raw = not create_graph and not observers
    try:
        buffers = {}
        leaf_grads = {}
        # A node is queued exactly while it has an entry in ``buffers`` or is ``nxt``: every
        # edge into a node comes from a newer node, so none arrives after it ran.
        ready = []  # a max-heap of queued nodes by seq, as (-seq, node) ...
        nxt = nxt_g = None  # ... but the newest one waits here, with its gradient: a chain
        # never touches the heap or the buffers
        if len(roots) == 1 and isinstance(roots[0], Node):  # loss.backward(): it runs first
            nxt = roots[0]
            nxt_g = _raw(grads[0]) if raw else grads[0]
        else:
            for r, g in zip(roots, grads):
                if raw:
                    g = _raw(g)
                if isinstance(r, Node):
                    _add(buffers, r, g)
                elif r.__class__ is tuple:
                    _add_slot(buffers, r[0], r[1], g)
                else:
                    _add(leaf_grads, r, g)
            for n in set(map(_node_of, roots)):
                if n is not None:
                    heappush(ready, (-n.seq, n))
        needed = _needed(roots, capture) if capture is not None else None
        anomaly = anomaly_mode.state.enabled
        # quick: nothing to do for a node but run its rule on arrays (no capture, anomaly
        # mode or observer); a node that needs more goes through _run_node
        quick = raw and capture is None and not anomaly
        ctx = _Pass(raw, retain_graph, capture, needed, anomaly, observers)
        summer = _Summer() if raw else None
        owned = summer.owned if raw else None
        add = summer if raw else _sum_graph
        while True:
            if nxt is not None:
                node = nxt
                g = nxt_g
                nxt = nxt_g = None
            elif ready:
                node = heappop(ready)[1]
                g = buffers.pop(node, None)
            else:
                break
            if g is None:
                results = _NONE  # nothing arrived: its inputs are queued all the same
            else:
                if owned:
                    owned.pop(id(g), None)  # consumed: never add into it again
                op = node.op
                if quick and node.plain:  # (see Node.plain)
                    saved = node.saved
                    if saved:
                        if saved is FREED:
                            raise RuntimeError(_FREED_MSG)
                        vs = node.versions  # None: every saved tensor was at version 0
                        if vs is not None:  # (a saved weight the optimizer had changed)
                            for x, want in zip(saved, vs):
                                if want is not None and (x._vbox or _V0)[0] != want:
                                    _check_versions(node)  # (raises, naming the tensor)
                        arrays = []  # as the rule reads them: 0-d floats as NumPy scalars
                        for x in saved:
                            if isinstance(x, Tensor):
                                v = x._vbox
                                if v is not None and v[0] and vs is None:
                                    _check_versions(node)
                                x = x._data
                                if not x.ndim and x.dtype.kind == "f":
                                    x = x[()]
                            arrays.append(x)
                        node.saved = arrays
                    out = node.out
                    if out is not None:  # ctx.output: the array (a float; 0-d: a NumPy scalar)
                        node.output = out if out.ndim else out[()]
                    elif op.saves_output:
                        raise RuntimeError(_FREED_MSG)
                    try:
                        results = op.backward(node, g)
                    finally:
                        node.saved = saved
                        node.output = None
                    if results.__class__ is not tuple:
                        results = (results,)
                    if not retain_graph:
                        if saved:  # (a node that saved nothing may run again: it keeps its extra)
                            node.saved = FREED
                            node.extra = None  # what the forward stashed (softmax, im2col, masks)
                        node.out = None
                else:
                    results = _run_node(node, g, ctx)
            # a one-operand pointwise node's e1 is a placeholder: the loop stops at its one
            # meta (indices, not zip: no zip and three iterators to make per node)
            edges = (node.e0, node.e1) if node.__class__ is _Pointwise else node.edges
            metas = node.metas
            for k in range(len(metas)):
                e = edges[k]
                if e is None:
                    continue
                gi = results[k]
                meta = metas[k]
                if gi is not None:  # summed back to the operand's shape, cast to its dtype
                    if gi.__class__ is ndarray:
                        if gi.shape != meta[0]:
                            gi = _sum_to(gi, meta[0])
                        dd = gi.dtype
                        if dd is not meta[1] and dd != meta[1]:
                            gi = gi.astype(meta[1])
                    elif not raw:
                        gi = _fit(gi, meta)
                    elif _scalar_metas.get(gi.__class__) is not meta:  # a NumPy scalar: 0-d
                        gi = _fit_scalar(gi, meta)
                if e.__class__ is _Pointwise or e.__class__ is Node or isinstance(e, Node):
                    if e is nxt:
                        if gi is not None:
                            nxt_g = gi if nxt_g is None else _sum(nxt_g, gi, add)
                    elif buffers and e in buffers:  # (a chain leaves the buffers empty)
                        if gi is not None:
                            old = buffers[e]
                            buffers[e] = gi if old is None else _sum(old, gi, add)
                    elif nxt is None and (not ready or ready[0][0] > -e.seq):
                        nxt = e
                        nxt_g = gi
                    else:
                        if nxt is not None and e.seq > nxt.seq:
                            nxt, e, nxt_g, gi = e, nxt, gi, nxt_g
                        buffers[e] = gi
                        heappush(ready, (-e.seq, e))
                elif e.__class__ is tuple:
                    n = e[0]
                    queued = n in buffers
                    _add_slot(buffers, n, e[1], gi)
                    if not queued:
                        if nxt is not None:  # the heap takes all: nxt must stay the newest
                            buffers[nxt] = nxt_g
                            heappush(ready, (-nxt.seq, nxt))
                            nxt = nxt_g = None
                        heappush(ready, (-n.seq, n))
                elif gi is not None:
                    old = leaf_grads.get(e)
                    # (_sum inlined: a weight shared by many ops gets a contribution from each)
                    leaf_grads[e] = (gi if old is None else add(old, gi)
                                     if old.__class__ is ndarray else old + gi)
        results = gi = old = g = out = nxt_g = None  # no stale reference may make a gradient look shared
        for leaf in list(leaf_grads):
            g = leaf_grads.pop(leaf)  # (popped: the dict holds no reference, see _unshared)
            if raw:
                if capture is None and not leaf._extra:
                    _accumulate_array(leaf, g, owned)
                    continue
                g = _wrap(g)
            g = _run_leaf_hooks(leaf, g)
            if capture is not None:
                if leaf in capture:
                    capture[leaf] = g
                continue
            _accumulate(leaf, g, create_graph)
    finally:
        state.enabled = prev


class _Nones:
    """The gradients of a node that did not run: None for every input (it still queues them)."""

    __slots__ = ()

    def __getitem__(self, k):
        return None


_NONE = _Nones()
_V0 = (0,)  # the version of a tensor that has no counter yet
_scalar_metas = SCALAR_METAS


class _Pass:
    """What one backward pass was asked for, as _run_node needs it."""

    __slots__ = ("anomaly", "capture", "needed", "observers", "raw", "retain_graph")

    def __init__(self, raw, retain_graph, capture, needed, anomaly, observers):
        self.raw = raw
        self.retain_graph = retain_graph
        self.capture = capture
        self.needed = needed
        self.anomaly = anomaly
        self.observers = observers


def _run_node(node, g, ctx):
    """One node in full: pre-hooks, capture and pruning, version checks, its rule (on arrays or
    on Tensors), anomaly checks, observers and post-hooks. Returns one gradient per edge."""
    raw = ctx.raw
    if node.hooks is not None or ctx.capture is not None or g.__class__ is list:
        g, run = _before(node, g, raw, ctx.capture, ctx.needed)
        if not run:
            return _NONE
    op = node.op
    saved = node.saved
    if saved is FREED:
        raise RuntimeError(_FREED_MSG)
    _check_versions(node)
    if raw and op.array_backward:  # (the loop's quick path runs these same steps inline)
        out = node.out
        if out is not None:
            node.output = out if out.ndim else out[()]
        elif op.saves_output:
            raise RuntimeError(_FREED_MSG)
        if saved:
            node.saved = [_raw(x) for x in saved]
        try:
            results = op.backward(node, g)
        finally:
            node.saved = saved
            node.output = None
    else:
        results = run_rule(node, g, raw)
    if results.__class__ is not tuple:
        results = (results,)
    if ctx.anomaly or ctx.observers or node.hooks is not None:
        results = _after(node, g, results, raw, ctx.anomaly, ctx.observers)
    if not ctx.retain_graph:
        if saved:  # (a node that saved nothing may run again: it keeps its extra)
            node.saved = FREED
            node.extra = None  # what the forward stashed (softmax, im2col, masks)
        node.out = None
    return results


def _fit_scalar(g, meta):
    """A NumPy scalar gradient (a 0-d result) cast to its operand's dtype; a rule must not
    hand one to an operand with more dimensions (it would have to be expanded, not summed)."""
    shape, dtype = meta
    if shape:
        raise RuntimeError(f"a 0-d gradient arrived for an operand of shape {list(shape)}")
    return g if g.dtype == dtype else g.astype(dtype)


def _fit(g, meta):
    """A Tensor gradient summed back to its operand's shape and cast to its dtype."""
    shape, dtype = meta
    d = g._data
    if d.shape != shape:
        g = g.sum_to_size(shape)
    if d.dtype != dtype:
        g = g.to(_dtype_of(dtype))
    return g


def run_rule(node, g, raw=False):
    """A node's backward rule run on Tensors: differentiable under create_graph, and
    unwrapped to arrays again for a raw backward (a rule that is not plain array code)."""
    op = node.op
    out = node.out
    if out is not None:  # ctx.output: the result, as a Tensor whose grad_fn is this node
        t = Tensor._make(out)
        if state.enabled:
            t._requires_grad = True
            t.grad_fn = node
        node.output = t
    elif op.saves_output:
        raise RuntimeError(_FREED_MSG)
    try:
        results = op.backward(node, _wrap(g) if raw else g)
    finally:
        node.output = None  # (it refers back to the node: no cycle may outlive the rule)
    if raw:
        if results.__class__ is not tuple:
            results = (results,)
        results = tuple([r._data if r is not None else None for r in results])
    return results


def _before(node, g, raw, capture, needed):
    """Pre-hooks, gradient capture and pruning for one node: (gradient, whether to run)."""
    if node.hooks is not None:
        g = _run_pre_hooks(node, g, raw)
    if capture is not None:
        _capture(capture, node, _wrap(g) if raw else g)
    run = needed is None or node in needed
    if g.__class__ is list and not any(x is not None for x in g):
        run = False
    return g, run


def _after(node, g, results, raw, anomaly, observers):
    """Post-hooks (which may replace the node's results, as PyTorch's), then the anomaly
    checks and observers on what will flow on. Returns the results."""
    if node.hooks is not None and node.hooks["post"]:
        results = _run_post_hooks(node, results, g, raw)
    if anomaly:
        anomaly_mode.check_backward(node, results)
    for fn in observers:
        fn(node, g, results)
    return results


def _raw(t):
    """A saved value or root gradient for a rule run on arrays: a 0-d float array becomes a
    NumPy scalar (scalar arithmetic is several times cheaper than 0-d ufunc calls)."""
    if not isinstance(t, Tensor):
        return t
    d = t._data
    return d if d.ndim or d.dtype.kind != "f" else d[()]


def _wrap(g):
    """Raw gradients (an array, a NumPy scalar, or a list of them) as Tensors."""
    if g.__class__ is list:
        return [None if x is None else Tensor._make(x) for x in g]
    return Tensor._make(g)


def _sum_to(d, shape):
    """An array summed back to ``shape`` (the broadcasting undone) by ``sum_to_size``, whose
    kernel sums leading axes through BLAS (grad mode is off here: nothing is recorded)."""
    return Tensor._make(d).sum_to_size(shape)._data


def _sum_graph(a, b):
    return a + b  # recorded: the sum is itself part of the graph being built


class _Summer:
    """Sums raw gradient contributions: the first sum makes a private array, later ones add
    into it in place (no new allocation per contribution). Only arrays made here are written
    to: a rule may hand the same array to several edges (``Add`` passes ``grad`` on twice)."""

    __slots__ = ("owned",)

    def __init__(self):
        self.owned = {}  # id -> array: holding it keeps the id from being reused

    def __call__(self, a, b):
        if id(a) in self.owned and a.dtype == b.dtype and a.shape == b.shape:
            a += b
            return a
        s = a + b
        if s.__class__ is ndarray:
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


def _run_pre_hooks(node, g, raw):
    if raw:
        return _unwrap(_run_pre_hooks(node, _wrap(g), False))
    for h in list(node.hooks["pre"].values()):
        r = h(g)
        if r is not None:
            g = r
    for h in list(node.hooks["retain"].values()):
        h(g)
    return g


def _run_post_hooks(node, results, g, raw):
    """fn(grad_inputs, grad_outputs) for each post-hook; one returning a tuple replaces
    grad_inputs (same length; a None may not become a gradient), as in PyTorch."""
    if raw:
        results = tuple(None if r is None else Tensor._make(r) for r in results)
        g = _wrap(g)
    outputs = tuple(g) if g.__class__ is list else (g,)
    for h in list(node.hooks["post"].values()):
        r = h(results, outputs)
        if r is None:
            continue
        if not isinstance(r, tuple):
            raise TypeError(f"expected tuple, but hook returned '{type(r).__name__}'")
        if len(r) != len(results):
            raise RuntimeError(
                f"hook '{_name_of(h)}' has returned an incorrect number of values (got {len(r)}, "
                f"but expected {len(results)})"
            )
        for old, new in zip(results, r):
            if new is None:
                continue
            if not isinstance(new, Tensor):
                raise TypeError(f"expected Variable, but hook returned '{_qualname(new)}'")
            if old is None:
                raise RuntimeError("can't replace a None gradient with a non-None value")
            if new._data.shape != old._data.shape:
                raise RuntimeError(f"hook '{_name_of(h)}' has changed the size of value")
        results = r
    if raw:
        return tuple(None if r is None else r._data for r in results)
    return results


def _name_of(fn):
    return getattr(fn, "__name__", type(fn).__name__)


def _qualname(x):
    t = type(x)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _unwrap(g):
    if g.__class__ is list:
        return [None if x is None else x._data for x in g]
    return g._data


def _run_leaf_hooks(leaf, g):
    ex = leaf._extra
    if ex:
        for h in list(ex.get("hooks", {}).values()):
            r = h(g)
            if r is not None:
                g = r
    return g


# CPython's reference count tells a gradient array nobody else holds (a rule's fresh
# result): .grad may take it as it is, as PyTorch's AccumulateGrad steals an unshared buffer.
# The references it then has: run_backward's variable, the arguments of _accumulate_array
# and _unshared, and getrefcount's own.
_refcount = sys.getrefcount if sys.implementation.name == "cpython" else None
_UNSHARED_REFS = 4


def _unshared(d):
    return (_refcount is not None and d.base is None and d.flags.writeable
            and _refcount(d) <= _UNSHARED_REFS)


def _accumulate_array(leaf, d, owned):
    """AccumulateGrad on a raw gradient (no hooks on the leaf): stored as a private array
    (an array the engine summed into is private already), or added in place."""
    old = leaf._grad
    if old is None:
        if d.__class__ is not ndarray:
            d = _xp.asarray(d)  # a NumPy scalar: asarray makes a fresh array
        elif id(d) not in owned and not _unshared(d):
            d = d.copy()
        leaf._grad = Tensor._make(d)
    elif old._requires_grad:
        leaf._grad = old + Tensor._make(d)
    else:
        old._data += d
        old._version[0] += 1


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
