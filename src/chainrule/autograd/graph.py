"""The recorded graph: one Node per op application, and ``apply``, which records it.

An op is a class (see ``chainrule.ops.Op``) holding its forward on arrays, its backward
written with chainrule's own ops, and the formula of each local derivative. Applying it
computes the forward on raw arrays and, only if some input needs a gradient, records a
``Node``: the op, one edge per operand (the producer's Node, the leaf Tensor itself, or
None for constants), each operand's (shape, dtype) so that the engine can sum broadcast
gradients back in one place, and the values the backward needs.
"""
import itertools

from .._backend import ndarray
from .._backend import xp as _xp
from .._tensor import Tensor
from . import anomaly_mode
from .grad_mode import state

_anomaly = anomaly_mode.state

_next_seq = itertools.count().__next__
_asarray = _xp.asarray
_new = object.__new__

FREED = ("<freed>",)  # sentinel: saved values released by a backward without retain_graph

# Set by chainrule.explain.record(): called as fn(node, inputs, result) for each recorded node.
_on_record = None


class RemovableHandle:
    """Returned by every register_*hook; ``remove()`` takes the hook out again."""

    _next_id = 0

    def __init__(self, hooks_dict, hook):
        RemovableHandle._next_id += 1
        self.id = RemovableHandle._next_id
        self._hooks = hooks_dict
        hooks_dict[self.id] = hook

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Node:
    """A backward function: ``grad_fn`` of the tensor an op produced."""

    __slots__ = (
        "__weakref__",
        "_metadata",
        "args",
        "edges",
        "extra",
        "hooks",
        "metas",
        "op",
        "out",
        "out_expected",
        "out_version",
        "output",
        "plain",
        "saved",
        "seq",
        "versions",
    )

    def __init__(self, op):
        self.op = op
        self.seq = _next_seq()  # creation order: the engine runs nodes newest first
        self.saved = ()
        self.versions = None
        self.extra = None  # anything else the forward stashed for backward (a mask, indices)
        self.out = None  # the output's array, when the backward rule uses the result
        self.out_version = None  # the output's version counter, expected at out_expected
        self.out_expected = 0
        self.output = None  # ctx.output: set by the engine while the rule runs (run_rule)
        # The engine may run this node inline (its quick path): an array rule with one
        # output, no hooks, no watched output. Whatever adds one of those clears it.
        self.plain = False
        self.hooks = None  # (_metadata is made when first asked for)

    # ---- what users see -------------------------------------------------------------
    def name(self):
        op = self.op
        return getattr(op, "full_name", None) or op.node_name

    def __repr__(self):
        return f"<{self.op.node_name} object at {hex(id(self))}>"

    @property
    def next_functions(self):
        return tuple((_edge_fn(e), e[1] if e.__class__ is tuple else 0) for e in self.edges)

    @property
    def metadata(self):
        md = getattr(self, "_metadata", None)
        if md is None:
            md = self._metadata = {}
        return md

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) after this node ran (PyTorch's Node.register_hook)."""
        return self._add_hook(fn, kind="post")

    def register_prehook(self, fn):
        """fn(grad_outputs) -> replacement or None, before this node runs."""
        return self._add_hook(lambda g: _unwrap1(fn((g,))), kind="pre")

    def watch_output(self, box):
        """Check at backward that the saved output is still at ``box``'s current version
        (the engine does so on its full path, so the node is no longer plain)."""
        self.out_version = box
        self.out_expected = box[0]
        self.plain = False

    def _add_hook(self, fn, retains=False, kind="pre"):
        if self.hooks is None:
            self.hooks = {"pre": {}, "post": {}, "retain": {}}
        self.plain = False
        return RemovableHandle(self.hooks["retain" if retains else kind], fn)

    # ---- what backward rules use ----------------------------------------------------
    @property
    def saved_tensors(self):
        if self.saved is FREED:
            raise RuntimeError(_FREED_MSG)
        return self.saved

def _unwrap1(r):
    if r is None:
        return None
    return r[0] if isinstance(r, (tuple, list)) else r


class AccumulateGrad:
    """Stand-in shown in ``next_functions`` for a leaf; the engine accumulates leaves directly.

    Cached on the leaf, so it holds the leaf weakly (no reference cycle keeps either alive).
    """

    __slots__ = ("__weakref__", "_ref")

    def __init__(self, variable):
        import weakref

        self._ref = weakref.ref(variable)

    @property
    def variable(self):
        return self._ref()

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"

    @property
    def next_functions(self):
        return ()



def grad_edge(t):
    """Where a gradient for tensor ``t`` goes: its producer Node, ``(node, output_nr)`` for
    one output of a multi-output node, or the leaf Tensor itself."""
    fn = t.grad_fn
    if fn is None:
        return t
    ex = t._extra
    if ex is not None and "output_nr" in ex:
        return (fn, ex["output_nr"])
    return fn


def _edge_fn(e):
    if e is None or isinstance(e, Node):
        return e
    if e.__class__ is tuple:
        return e[0]
    ex = e._extras()
    acc = ex.get("acc")
    if acc is None:
        acc = ex["acc"] = AccumulateGrad(e)
    return acc


_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling backward."
)


def apply(op, inputs, arrays, args=()):
    """Run ``op`` on ``arrays`` (the operands' data, already promoted) and record it.

    ``inputs`` are the operands as given (Tensors or Python scalars), one edge each;
    ``args`` are non-differentiable parameters (dims, flags) passed after the arrays.
    """
    if state.enabled:
        for x in inputs:
            if x.__class__ is not Tensor and not isinstance(x, Tensor):
                continue
            if x._requires_grad:
                return _record(op, inputs, arrays, args)
    out = op.forward(None, *arrays, *args)
    if _anomaly.check_forward:
        anomaly_mode.check_forward(op, out[0] if op.multi_output else out)
    if op.multi_output:
        return tuple(Tensor._make(o) for o in out)
    result = Tensor._make(out)
    if op.is_view:
        _mark_view(result, inputs[0], op if len(arrays) == 1 else None, args)
    return result


def call(op, a, b, args=()):
    """``op(a, b)`` inside a backward rule: on plain arrays when the engine runs the rule on
    arrays, through ``apply`` (recorded under create_graph) when ``a`` is a Tensor. ``b``
    may be a Python number; ``args`` are the op's non-tensor args."""
    if a.__class__ is Tensor or isinstance(a, Tensor):
        return apply(op, (a, b), (a._data, b._data if isinstance(b, Tensor) else b), args)
    if args:
        return op.forward(None, a, b, *args)
    return op.forward(None, a, b)


def array_of(x):
    """A Tensor's array, or the value itself (an array or a number) in a rule the engine
    runs on arrays."""
    return x._data if isinstance(x, Tensor) else x


def like(ref, a):
    """The array ``a`` in ``ref``'s form: a constant Tensor beside a Tensor, else itself
    (a rule written once for Tensors and arrays)."""
    return Tensor._make(a) if isinstance(ref, Tensor) else a


def call1(op, a, args=()):
    """``op(a)`` inside a backward rule, as ``call`` for an op of one operand (an adjoint: a
    pooling's spread, an embedding's scatter)."""
    if a.__class__ is Tensor or isinstance(a, Tensor):
        return apply(op, (a,), (a._data,), args)
    return op.forward(None, a, *args)


def _mark_view(result, base, op=None, args=None):
    # A view shares its base's storage, so it shares its version counter too: an in-place
    # change through either one invalidates values saved from the other. It also remembers
    # how it was cut from its root (a chain of view ops), so that an in-place change through
    # it can rebase the root's history (CopySlices).
    # (A view op's hot path: the version box is set directly on the new result, whose node
    # saved no output to watch: no view op saves its output.)
    rd = result._data
    bd = base._data
    rb = rd.base
    if rb is None or not bd.size or not rd.size:
        return
    if rb is not bd and not _xp.may_share_memory(rd, bd):
        return
    box = base._vbox
    result._vbox = base._version if box is None else box
    if base._base is None:
        result._base = base
        if op is not None:
            if result._extra is None:
                result._extra = {"view_chain": ((op, args),)}
            else:
                result._extra["view_chain"] = ((op, args),)
        return
    result._base = base._base
    chain = base._extra.get("view_chain") if base._extra else None
    if op is not None and chain is not None:
        result._extras()["view_chain"] = (*chain, (op, args))


def _save(node, op, inputs):
    saves = op.saves
    if saves is op.operand_indices and inputs.__class__ is tuple and len(inputs) == len(saves):
        saved = inputs
    else:
        saved = op.pick_saved(inputs)
    needs = op.grad_needs
    if needs is not None:  # keep only what the gradients that will run read
        keep = {i for e, n in zip(node.edges, needs) if e is not None for i in n}
        if len(keep) < len(saves):
            saved = tuple([v if i in keep else None for i, v in zip(saves, saved)])
    node.saved = saved
    # versions stays None (meaning: every saved tensor was at version 0) unless one was
    # already modified in place; that saves an object per node on the hot path.
    for x in saved:
        if isinstance(x, Tensor) and x._vbox is not None and x._vbox[0]:
            vs = []  # (a loop: a comprehension is a function call in CPython 3.11)
            for x in saved:
                if isinstance(x, Tensor):
                    v = x._vbox
                    vs.append(0 if v is None else v[0])
                else:
                    vs.append(None)
            node.versions = vs
            break


# One shared (shape, dtype) tuple per distinct operand meta, and one shared tuple of them per
# distinct node signature: a node then allocates no tuple for them. Every object a graph
# keeps costs the cyclic GC time on each pass (PyTorch's C++ nodes cost it none).
_metas = {}
# The operand meta last looked up by record_pointwise: consecutive ops mostly see the same
# shape and dtype, and comparing with it is cheaper than hashing (shape, dtype) again.
_last_meta = [((), None)]


def _intern_meta(m):
    if len(_metas) > 4096:  # shapes that keep changing must not grow this without bound
        _metas.clear()
        _metas.update((m, m) for m in SCALAR_METAS.values())
        _last_meta[0] = ((), None)
    _metas[m] = m
    return m


# The meta of a 0-d operand of each floating dtype, by the type of its NumPy scalar: a rule's
# NumPy-scalar gradient whose type maps to its operand's meta needs no sum or cast.
SCALAR_METAS = {}
for _t in ("float16", "float32", "float64"):
    _d = _xp.dtype(_t)
    SCALAR_METAS[_d.type] = _intern_meta(((), _d))


def _meta_of(d):
    m = _last_meta[0]
    if d.shape != m[0] or d.dtype is not m[1]:
        m = (d.shape, d.dtype)
        m = _last_meta[0] = _metas.get(m) or _intern_meta(m)
    return m


def _record(op, inputs, arrays, args):
    # The hot path of every recorded op: plain loops (a comprehension is a function call in
    # CPython 3.11) and the result Tensor built in place.
    node = Node(op)
    node.args = args
    # (an op's further outputs, where it has several, are constants: one output to run for)
    node.plain = op.array_backward
    out = op.forward(node, *arrays, *args) if args else op.forward(node, *arrays)
    rest = None
    if op.multi_output:
        out, *rest = out
    if _anomaly.enabled:
        anomaly_mode.record(node)
        if _anomaly.check_forward:
            anomaly_mode.check_forward(op, out)
    edges = []
    metas = []
    for x in inputs:
        if (x.__class__ is Tensor or isinstance(x, Tensor)) and x._requires_grad:
            edges.append(x.grad_fn or x if x._extra is None else grad_edge(x))
            d = x._data
            m = (d.shape, d.dtype)
            meta = _metas.get(m)
            if meta is None:
                meta = _intern_meta(m)
            metas.append(meta)
        else:
            edges.append(None)
            metas.append(None)
    node.edges = edges
    node.metas = metas
    if op.saves:
        _save(node, op, inputs)
    if out.__class__ is not ndarray:
        out = _asarray(out)
    result = _new(Tensor)  # Tensor._make, inlined
    result._data = out
    result._grad = None
    result._vbox = None
    result._base = None
    result._extra = None
    if out.dtype.kind == "f":
        result._requires_grad = True
        result.grad_fn = node
        if op.saves_output:
            node.out = out
            # backward checks the result was not edited in place since: the counter it
            # watches is made when first needed (Tensor._watch)
    else:
        result._requires_grad = False
        result.grad_fn = None
    if op.is_view:
        _mark_view(result, inputs[0], op if len(arrays) == 1 else None, args)
    if _on_record is not None:
        _on_record(node, inputs, result)
    if rest is not None:
        return (result, *(Tensor._make(r) for r in rest))
    return result


_ONE = object()  # _Pointwise.e1 of a one-operand node


class _Pointwise(Node):
    """A node made by ``record_pointwise``: its one or two edges live in slots instead of a
    list, one object fewer per op for the cyclic garbage collector to walk."""

    __slots__ = ("e0", "e1")

    @property
    def edges(self):
        e1 = self.e1
        return (self.e0,) if e1 is _ONE else (self.e0, e1)


def record_pointwise(op, x, y, xa, yb=None):
    """``_record`` for the hot case: an elementwise op (one output, not a view) of tensor
    ``x`` and, for two operands, ``y`` (a tensor or a number); ``xa``/``yb`` their arrays."""
    rec = _recorders.get(op)
    if rec is None:
        rec = pointwise_recorder(op)
    return rec(x, y, xa, yb)


_recorders = {}


def pointwise_recorder(op):
    """``record_pointwise`` for one op, with what it needs to know of the op read once: an
    operator's hot path keeps the returned function and calls it directly."""
    rec = _recorders.get(op)
    if rec is not None:
        return rec
    forward = op.forward
    saves = op.saves
    # the common saves: the operands themselves, in order (then the inputs are the saved tuple)
    as_given = bool(saves) and saves is op.operand_indices
    keeps = op.keeps if as_given and op.grad_needs is not None else None
    saves_output = op.saves_output
    plain = op.array_backward  # (one output: an elementwise op)
    last = [_ONE, _ONE, None]  # the operand metas of the latest node, and their shared tuple

    def record(x, y, xa, yb=None):
        if _anomaly.enabled or _on_record is not None:
            return _record(op, (x,) if yb is None else (x, y), (xa,) if yb is None else (xa, yb),
                           ())
        node = _new(_Pointwise)  # Node.__init__ inlined: a call frame is a tenth of this op's time
        node.op = op
        node.seq = _next_seq()
        node.args = node.saved = ()
        node.versions = node.extra = node.out = node.out_version = node.hooks = None
        node.out_expected = 0
        node.output = None
        node.plain = plain
        if x._requires_grad:
            e0 = x.grad_fn or x if x._extra is None else grad_edge(x)
            if xa.__class__ is not ndarray:  # a 0-d float, passed as its NumPy scalar
                m0 = SCALAR_METAS[xa.__class__]
            else:
                d = x._data  # (the operand's own: xa may be a promoted copy)
                m0 = _last_meta[0]
                if d.shape != m0[0] or d.dtype is not m0[1]:
                    m0 = _meta_of(d)
        else:
            e0 = m0 = None
        if yb is None:
            out = forward(node, xa)
            node.e0 = e0
            node.e1 = m1 = _ONE
        else:
            out = forward(node, xa, yb)
            if (y.__class__ is Tensor or isinstance(y, Tensor)) and y._requires_grad:
                e1 = y.grad_fn or y if y._extra is None else grad_edge(y)
                if yb.__class__ is not ndarray:
                    m1 = SCALAR_METAS[yb.__class__]
                else:  # (mostly x's shape and dtype: then x's meta, without a call)
                    d = y._data
                    m1 = m0 if m0 is not None and d.shape == m0[0] and d.dtype is m0[1] \
                        else _meta_of(d)
            else:
                e1 = m1 = None
            node.e0 = e0
            node.e1 = e1
        if m0 is last[0] and m1 is last[1]:
            node.metas = last[2]
        else:
            m = (m0,) if m1 is _ONE else (m0, m1)
            node.metas = last[2] = _metas.get(m) or _intern_meta(m)
            last[0] = m0
            last[1] = m1
        if as_given:
            if yb is None:
                node.saved = (x,)
            elif keeps is None or e0 is not None and e1 is not None:
                node.saved = (x, y)
            else:  # one gradient runs: keep what it reads
                k0, k1 = keeps[0] if e1 is None else keeps[1]
                node.saved = (x if k0 else None, y if k1 else None)
            if x._vbox is not None or yb is not None and isinstance(y, Tensor) and y._vbox is not None:
                _save(node, op, (x,) if yb is None else (x, y))  # versions other than 0?
        elif saves:
            _save(node, op, (x,) if yb is None else (x, y))
        if out.__class__ is ndarray:
            floating = out.dtype.kind == "f"
        else:  # a NumPy scalar (0-d operands)
            floating = out.__class__ in SCALAR_METAS  # (keyed by the float scalar types)
            out = _asarray(out)
        result = _new(Tensor)  # Tensor._make, inlined
        result._data = out
        result._grad = result._vbox = result._base = result._extra = None
        if floating:
            result._requires_grad = True
            result.grad_fn = node
            if saves_output:
                node.out = out
        else:
            result._requires_grad = False
            result.grad_fn = None
        return result

    _recorders[op] = record
    return record
