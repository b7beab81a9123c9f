"""How an op is declared, and the helpers every op family shares.

An op is a subclass of ``Op``, written once with everything about it side by side::

    class Mul(Op):
        node_name = "MulBackward0"                       # what grad_fn prints
        operands = ("self", "other")
        formulas = {"self": "other", "other": "self"}    # ∂out/∂operand, for the explainer
        saves = (0, 1)                                   # operands the backward needs

        def forward(ctx, a, b):                          # arrays in, array out
            return a * b

        def backward(ctx, grad):                         # chainrule Tensors in and out
            a, b = ctx.saved
            return grad * b, grad * a

``forward`` runs on raw arrays (``ctx`` is None when nothing needs a gradient, so it must
only stash things when ``ctx`` is given). ``backward`` returns one gradient per operand
(None where there is none) and is written with chainrule's own ops, so the same rule
gives higher-order gradients under ``create_graph=True`` and runs as plain array code
otherwise. Gradients come back at the broadcast shape: the engine sums them to each
operand's shape, so no rule has to.
"""
import operator

from .. import _dtype
from .._backend import ndarray, xp
from .._tensor import Tensor, _wrap_dim
from ..autograd.anomaly_mode import state as _anomaly
from ..autograd.grad_mode import state as _grad
from ..autograd.graph import _record, apply, pointwise_recorder, record_pointwise

REGISTRY = {}


class Op:
    node_name = None
    operands = ("self",)
    formulas = {}
    saves = ()
    saves_output = False
    multi_output = False
    is_view = False  # the forward returns a view of operand 0 (shares storage and version)
    # The backward is plain arithmetic on grad, ctx.saved and ctx.output (and ``call``), so
    # without create_graph the engine may run it on bare arrays instead of Tensors.
    array_backward = False
    operand_indices = None
    # Per operand, the operands its gradient reads from ``ctx.saved`` (None: all it saves).
    # An operand no recorded gradient reads is not kept (saved as None), as PyTorch does:
    # ``x * c`` with a constant ``c`` keeps only ``c``, so x may change in place afterwards.
    grad_needs = None

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        # Plain functions in the class body act as static methods (ctx comes first).
        for name in ("forward", "backward"):
            f = cls.__dict__.get(name)
            if f is not None and not isinstance(f, staticmethod):
                setattr(cls, name, staticmethod(f))
        if cls.node_name:
            REGISTRY[cls.node_name] = cls
        # ``saves`` naming every operand in order is the common case: the inputs tuple itself
        # is then the saved tuple (``_record`` checks this by identity).
        # the saved operands picked out of the inputs in one C call (a tuple, always)
        saves = cls.saves
        cls.pick_saved = (operator.itemgetter(*saves) if len(saves) > 1
                          else (lambda inputs, i=saves[0]: (inputs[i],)) if saves else None)
        if cls.saves == tuple(range(len(cls.operands))):
            cls.saves = cls.operand_indices = tuple(cls.saves)
            if cls.grad_needs is not None:  # per operand: which saved operands to keep
                n = len(cls.operands)
                cls.keeps = tuple(tuple(i in need for i in range(n)) for need in cls.grad_needs)

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative not implemented")


# ---- cached constants ------------------------------------------------------------------
_CONSTANTS = {}


def constant_array(kind, n, dtype):
    """A shared read-only 1-D array of ``n`` elements: ``kind`` is "ones", "zeros", "arange"
    or "mean" (a BLAS row sum's ones vector, a zero operand, row indices, a BLAS row mean's
    vector of 1/n)."""
    key = (kind, n, dtype)
    a = _CONSTANTS.get(key)
    if a is None:
        if len(_CONSTANTS) > 256:  # sizes that keep changing must not grow this without bound
            _CONSTANTS.clear()
        if kind == "arange":
            a = xp.arange(n, dtype=dtype)
        elif kind == "mean":
            a = xp.full(n, 1.0 / max(n, 1), dtype)
        else:
            a = getattr(xp, kind)(n, dtype)
        a.flags.writeable = False
        _CONSTANTS[key] = a
    return a


# ---- registering functions as Tensor methods ------------------------------------------
def method(*names):
    """Attach the decorated function to Tensor under each name (first arg is self)."""

    def deco(fn):
        for n in names or (fn.__name__,):
            setattr(Tensor, n, fn)
        return fn

    return deco


def inplace(name, fn):
    """A ``x.name_(...)`` method: compute ``fn(x, ...)`` and write it into x (see set_)."""

    def inplace_method(self, *args, **kwargs):
        return self._inplace(fn(self, *args, **kwargs), name)

    inplace_method.__name__ = name
    setattr(Tensor, name, inplace_method)
    return inplace_method


# ---- operands ---------------------------------------------------------------------------
def _scalar_ok(x):
    return isinstance(x, (int, float, bool, xp.generic))


def python_scalar(x):
    """A NumPy scalar as a Python scalar: NumPy 2 treats its own scalars as strongly typed
    (float32 array * np.float64 -> float64), PyTorch treats every number as weak."""
    return x.item() if isinstance(x, xp.generic) else x


def check_operand(x, opname):
    if isinstance(x, Tensor) or _scalar_ok(x):
        return x
    raise TypeError(
        f"{opname}(): argument 'other' (position 2) must be Tensor, not {type(x).__name__}"
    )


def broadcast_error(a_shape, b_shape):
    """PyTorch's message for shapes that do not broadcast, naming the offending dimension."""
    na, nb = len(a_shape), len(b_shape)
    n = max(na, nb)
    for i in range(1, n + 1):
        sa = a_shape[-i] if i <= na else 1
        sb = b_shape[-i] if i <= nb else 1
        if sa != sb and sa != 1 and sb != 1:
            return RuntimeError(
                f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at "
                f"non-singleton dimension {n - i}"
            )
    return RuntimeError(f"shapes {list(a_shape)} and {list(b_shape)} are not broadcastable")


def _shape(x):
    return x._data.shape if isinstance(x, Tensor) else ()


def binary(op, a, b, dtype=None):
    """Apply a two-operand elementwise op with PyTorch's promotion and broadcasting errors."""
    if dtype is None:
        fast = _FAST.get(op)
        if fast is None:
            fast = _FAST[op] = binary_operator(op, operator=False)
        return fast(a, b)
    return _promoting(op, a, b, dtype)


_FAST = {}


def binary_operator(op, operator=True):
    """``binary(op, a, b)`` as one function (a Tensor operator such as ``__mul__`` when
    ``operator``: NotImplemented for operands PyTorch does not take). The common case, one
    dtype or a float tensor with a Python float, runs in this frame alone."""
    record = pointwise_recorder(op)

    def fast(a, b):
        da = a._data
        if b.__class__ is Tensor or isinstance(b, Tensor):
            db = b._data
            if da.dtype is db.dtype:
                if not da.ndim and not db.ndim and da.dtype.kind == "f":
                    # 0-d: NumPy's scalar arithmetic is several times cheaper than a ufunc
                    # call on 0-d arrays, and rounds the same (integers would warn on overflow)
                    da = da[()]
                    db = db[()]
                try:
                    if (a._requires_grad or b._requires_grad) and _grad.enabled:
                        return record(a, b, da, db)
                    return _run(op, da, db)
                except ValueError as e:
                    raise _broadcast_error(e, a, b) from None
        elif b.__class__ is float and da.dtype.kind == "f":
            try:
                if a._requires_grad and _grad.enabled:
                    return record(a, b, da, b)
                return _run(op, da, b)
            except ValueError as e:
                raise _broadcast_error(e, a, b) from None
        elif operator and not _scalar_ok(b):
            return NotImplemented
        return _promoting(op, a, b, _dtype.result_type(a, b))

    fast.__name__ = f"binary_{op.__name__}"
    return fast


def _promoting(op, a, b, dtype):
    npd = dtype.np
    if isinstance(a, Tensor):
        xa = a._data if a._data.dtype == npd else a._data.astype(npd)
    else:
        # a Python scalar stays weak, so NumPy keeps the tensor's dtype; NumPy scalars are
        # strong in NumPy 2 (float32 + np.float64 -> float64), so pass their Python value
        xa = python_scalar(a)
    if isinstance(b, Tensor):
        xb = b._data if b._data.dtype == npd else b._data.astype(npd)
    else:
        xb = python_scalar(b)
    try:
        return apply(op, (a, b), (xa, xb))
    except ValueError as e:
        raise _broadcast_error(e, a, b) from None
    except OverflowError:
        # NumPy refuses a Python int outside an integer tensor's range; PyTorch wraps it.
        return apply(op, (a, b), (_wrap_int(xa, xb), _wrap_int(xb, xa)))


def _broadcast_error(e, a, b):
    """PyTorch's error for a NumPy broadcasting failure; other ValueErrors pass through."""
    if "broadcast" in str(e):
        return broadcast_error(_shape(a), _shape(b))
    return e


def _run(op, xa, xb):
    """Nothing to record: just the forward (the path of backward rules without create_graph)."""
    out = op.forward(None, xa, xb)
    if _anomaly.check_forward:
        from ..autograd import anomaly_mode

        anomaly_mode.check_forward(op, out)
    return Tensor._make(out)


def _wrap_int(x, other):
    if x.__class__ is int and hasattr(other, "dtype"):
        return xp.asarray(x).astype(other.dtype)[()]
    return x


def unary(op, x, *args, floating=False):
    """Apply a one-operand op; ``floating`` ops promote integer input as PyTorch does."""
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{op.node_name[:-len('Backward0')].lower()}(): argument 'input' (position 1) must "
            f"be Tensor, not {type(x).__name__}"
        )
    a = x._data
    if floating and a.dtype.kind != "f":
        a = a.astype(_dtype.defaults.float.np)
    if x._requires_grad and _grad.enabled:
        if args or op.is_view or op.multi_output:
            return _record(op, (x,), (a,), args)
        return record_pointwise(op, x, None, a)
    return apply(op, (x,), (a,), args)


def wrap_dim(dim, ndim):
    return _wrap_dim(dim, ndim)


def dims_tuple(dim, ndim):
    """Normalise an int / tuple / None ``dim`` argument into a sorted tuple of axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        axes = tuple(sorted(_wrap_dim(d, ndim) for d in dim))
        if len(set(axes)) != len(axes):
            raise RuntimeError("dim appears multiple times in the list of dims")
        return axes
    return (_wrap_dim(dim, ndim),)


def to_tensor(x, dtype=None):
    """Wrap a non-Tensor value (list, scalar, ndarray) as a constant Tensor."""
    if isinstance(x, Tensor):
        return x
    if dtype is None:
        if _scalar_ok(x):
            dtype = _dtype.scalar_dtype(x)
            return Tensor._make(xp.asarray(x, dtype=dtype.np))
        arr = xp.asarray(x)
        if arr.dtype.kind == "f" and not isinstance(x, ndarray):
            arr = arr.astype(_dtype.defaults.float.np)
        return Tensor._make(arr)
    return Tensor._make(xp.asarray(x, dtype=_dtype.to_dtype(dtype).np))


# ---- in-place ---------------------------------------------------------------------------
def _inplace(self, result, opname):
    """Make ``self`` hold ``result``: write the data into self's storage (so views see it),
    bump the version counter, and, when autograd recorded ``result``, give self its history.
    """
    if self._requires_grad and self.grad_fn is None and _grad.enabled:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    rd = result._data
    if rd.shape != self._data.shape:
        raise RuntimeError(
            f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
            f"{list(rd.shape)}"
        )
    if rd.dtype != self._data.dtype and not _can_cast(rd.dtype, self._data.dtype):
        raise RuntimeError(
            f"result type {_dtype._FROM_NP[rd.dtype]._short} can't be cast to the desired output "
            f"type {_dtype._FROM_NP[self._data.dtype]._short}"
        )
    base = self._base
    if result._requires_grad and base is not None:
        if base._requires_grad and base.grad_fn is None:
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation."
            )
        chain = self._extra.get("view_chain") if self._extra else None
        if chain is None:
            raise RuntimeError(
                f"{opname}(): this view was not made by a single-output view op (e.g. it came "
                "from split/unbind/chunk or detach), so it cannot be modified in place while "
                "autograd records; apply the op out of place (y = f(x)) instead"
            )
        self._data[...] = rd
        _bump(self, opname)
        _copy_slices(self, base, chain, result)
        return self
    self._data[...] = rd
    _bump(self, opname)
    if result._requires_grad:
        node = result.grad_fn
        self.grad_fn = node
        self._requires_grad = True
        if node.out is not None:  # the saved result now lives in self: watch self's counter
            node.watch_output(self._version)
    return self


class CopySlices(Op):
    """The base of a view after an in-place change through the view: outside the view's
    region the gradient flows to the base's old history, inside it to the new values."""

    node_name = "CopySlices"
    full_name = "torch::autograd::CopySlices"  # what PyTorch's name() says for this node
    operands = ("self", "src")
    formulas = {"self": "1 outside the modified view, 0 inside", "src": "1 inside the view"}

    def backward(ctx, grad):
        chain = ctx.args[0]
        mask = xp.zeros(grad._data.shape, dtype=bool)
        _replay_arrays(mask, chain)[...] = True
        g_base = grad.masked_fill(Tensor._make(mask), 0) if ctx.edges[0] is not None else None
        return g_base, _replay(grad, chain)


def _replay_arrays(a, chain):
    for op, args in chain:
        a = op.forward(None, a, *args)
    return a


def _replay(t, chain):
    for op, args in chain:
        t = apply(op, (t,), (t._data,), args)
    return t


def _copy_slices(view, base, chain, result):
    """Rebase ``base`` onto a CopySlices node and ``view`` onto a fresh view of it."""
    from ..autograd.graph import Node, grad_edge

    node = Node(CopySlices)
    node.args = (chain,)
    node.edges = [grad_edge(base) if base._requires_grad else None, grad_edge(result)]
    node.metas = [
        (base._data.shape, base._data.dtype), (result._data.shape, result._data.dtype),
    ]
    base.grad_fn = node
    base._requires_grad = True
    prev = _grad.enabled
    _grad.enabled = True
    try:
        fresh = _replay(base, chain)
    finally:
        _grad.enabled = prev
    view.grad_fn = fresh.grad_fn
    view._requires_grad = True


def _bump(t, opname):
    """Count an in-place change; the counter also remembers which op made it (for errors)."""
    v = t._version
    v[0] += 1
    if len(v) == 1:
        v.append(opname)
    else:
        v[1] = opname


def _can_cast(src, dst):
    # PyTorch's canCast: no float -> integral, no non-bool -> bool.
    if dst.kind in "iu" and src.kind == "f":
        return False
    return not (dst.kind == "b" and src.kind != "b")


Tensor._inplace = _inplace


# ---- out= -------------------------------------------------------------------------------
def write_out(result, out, name):
    """PyTorch's ``out=`` contract: the result is written into ``out`` (resized if its shape
    differs, cast to its dtype where that is safe) and ``out`` is returned."""
    if isinstance(out, (tuple, list)):
        if not isinstance(result, tuple) or len(out) != len(result):
            raise TypeError(f"{name}(): argument 'out' must be a tuple of {len(result)} Tensors")
        written = [write_out(r, o, name) for r, o in zip(result, out)]
        return result.__class__(*written) if hasattr(result, "_name") else tuple(written)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if result._requires_grad and _grad.enabled:
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad."
        )
    rd = result._data
    od = out._data
    if rd.dtype != od.dtype and not _can_cast(rd.dtype, od.dtype):
        raise RuntimeError(
            f"result type {_dtype._FROM_NP[rd.dtype]._short} can't be cast to the desired output "
            f"type {_dtype._FROM_NP[od.dtype]._short}"
        )
    if od.shape != rd.shape:
        if od.size:
            import warnings

            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(od.shape)}, which does not match the required output shape "
                f"{list(rd.shape)}. This behavior is deprecated, and in a future PyTorch release "
                "outputs will not be resized unless they have zero elements. You can explicitly "
                "reuse an out tensor t by resizing it, inplace, to zero elements with t.resize_(0).",
                UserWarning,
                stacklevel=3,
            )
        out._data = rd.astype(od.dtype, copy=True)
    else:
        xp.copyto(od, rd, casting="unsafe")
    _bump(out, name)
    return out


def with_out(fn):
    """``fn`` accepting ``out=`` (the wrapped functions declare it but compute out of place)."""
    import functools

    @functools.wraps(fn)
    def op_with_out(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        return write_out(fn(*args, **kwargs), out, fn.__name__)

    return op_with_out


def takes_out(fn):
    code = getattr(fn, "__code__", None)
    return code is not None and "out" in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
