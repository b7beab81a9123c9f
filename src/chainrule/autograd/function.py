"""Custom autograd functions: ``class MyFn(autograd.Function)`` with static forward/backward.

As in PyTorch, the node recorded for ``MyFn.apply(...)`` *is* the ``ctx`` the user's
forward and backward see; it prints as ``<MyFnBackward object ...>`` and appears in the
graph (and the explainer) under that name. Built-in ops use the leaner ``Op`` path; this
is the general path, with PyTorch's checks on what the user's backward returns.
"""
import functools
import inspect

from .._tensor import Tensor
from . import anomaly_mode
from .grad_mode import state
from .graph import Node, grad_edge

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx(Node):
    """The ctx of a custom Function: a Node that also takes arbitrary attributes."""

    def __init__(self, op):
        super().__init__(op)
        self.needs_input_grad = ()
        self.materialize_grads = True
        self.n_outputs = 1
        self._non_differentiable = ()
        self._dirty = ()
        self.to_save = None

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    "save_for_backward can only save variables, but argument "
                    f"{tensors.index(t)} is of type {type(t).__name__}"
                )
        self.to_save = tensors

    def save_for_forward(self, *tensors):
        self.saved_for_forward = tensors

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)


class _FunctionOp:
    """Adapts a Function subclass to the engine's op interface (one per subclass)."""

    multi_output = False
    saves = ()
    saves_output = False
    is_view = False
    array_backward = False

    def __init__(self, fn_cls):
        self.fn_cls = fn_cls
        self.node_name = fn_cls.__name__ + "Backward"
        try:
            params = list(inspect.signature(fn_cls.forward).parameters)
        except (TypeError, ValueError):
            params = []
        self.operands = tuple(params[1:] if not fn_cls._new_style else params)
        self.formulas = {}  # a custom function's local derivative is its backward

    def backward(self, ctx, grads):
        if grads.__class__ is not list:
            grads = [grads]
        if ctx.materialize_grads:
            grads = [
                g if g is not None else Tensor._make(_zeros(shape, dtype))
                for g, (shape, dtype) in zip(grads, ctx._out_metas)
            ]
        result = self.fn_cls.backward(ctx, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n = len(ctx.edges)
        if len(result) != n:
            if len(result) > n and all(r is None for r in result[n:]):
                result = result[:n]
            else:
                raise RuntimeError(
                    f"function {self.node_name} returned an incorrect number of gradients "
                    f"(expected {n}, got {len(result)})"
                )
        out = []
        for i, (g, e) in enumerate(zip(result, ctx.edges)):
            if g is None or e is None:
                out.append(None)
                continue
            if not isinstance(g, Tensor):
                raise TypeError(
                    f"function {self.node_name} returned a gradient different than None at "
                    f"position {i + 1}, but the corresponding forward input was not a Variable"
                )
            shape = ctx.metas[i][0]
            if g._data.shape != shape and not _expandable(shape, g._data.shape):
                raise RuntimeError(
                    f"Function {self.node_name} returned an invalid gradient at index {i} - got "
                    f"{list(g._data.shape)} but expected shape compatible with {list(shape)}"
                )
            out.append(g)
        return tuple(out)


def _zeros(shape, dtype):
    from .._backend import xp

    return xp.zeros(shape, dtype=dtype)


def _expandable(shape, gshape):
    if len(gshape) < len(shape):
        return False
    tail = gshape[len(gshape) - len(shape):]
    return all(s == g or s == 1 for s, g in zip(shape, tail))


class Function:
    """Base class of custom differentiable functions (PyTorch's torch.autograd.Function)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # The setup_context form: forward(*args) takes no ctx; setup_context fills it.
        cls._new_style = cls.setup_context is not Function.setup_context
        cls._op = _FunctionOp(cls)

    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    def __init__(self, *args, **kwargs):
        import warnings

        warnings.warn(
            f"{type(self)} should not be instantiated. Methods on autograd functions are all "
            "static, so you should invoke them on the class itself. Instantiating an autograd "
            "function will raise an error in a future version of PyTorch.",
            DeprecationWarning,
            stacklevel=2,
        )

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method."
        )

    @classmethod
    def apply(cls, *args, **kwargs):
        if kwargs:
            raise TypeError(f"{cls.__name__}.apply() takes no keyword arguments")
        op = cls._op
        ctx = FunctionCtx(op)
        needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        ctx.needs_input_grad = needs
        record = state.enabled and any(needs)
        prev = state.enabled
        state.enabled = False
        try:
            if cls._new_style:
                outputs = cls.forward(*args)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args)
        finally:
            state.enabled = prev
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        outs = tuple(_own(o, args, ctx) for o in outs)
        if not record:
            return outs[0] if single else outs
        ctx.edges = [grad_edge(a) if n else None for a, n in zip(args, needs)]
        ctx.metas = [(a._data.shape, a._data.dtype) if n else None for a, n in zip(args, needs)]
        if ctx.to_save:
            ctx.saved = tuple(ctx.to_save)
            ctx.versions = tuple(t._version[0] if t is not None else None for t in ctx.saved)
        ctx.to_save = None
        ctx.n_outputs = len(outs)
        ctx._out_metas = [
            (o._data.shape, o._data.dtype) if isinstance(o, Tensor) else ((), None) for o in outs
        ]
        if anomaly_mode.state.enabled:
            anomaly_mode.record(ctx)
        nondiff = {id(t) for t in ctx._non_differentiable}
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor) or id(o) in nondiff or o._data.dtype.kind != "f":
                continue
            o._requires_grad = True
            o.grad_fn = ctx
            if len(outs) > 1:
                o._extras()["output_nr"] = i
        return outs[0] if single else outs


def _own(o, args, ctx):
    """An output that is one of the inputs is returned as a new tensor sharing its data,
    unless it was marked dirty (modified in place), in which case it is the input itself."""
    if not isinstance(o, Tensor):
        return o
    if any(o is d for d in ctx._dirty):
        if o._requires_grad and o.grad_fn is None and state.enabled:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )
        v = o._version
        v[0] += 1
        return o
    if any(o is a for a in args):
        t = Tensor._make(o._data)
        t._version = o._version
        return t
    if o.grad_fn is not None or o._requires_grad:
        # Computed from inputs under no_grad it cannot carry history; detach defensively.
        o = o.detach()
    return o


class _DelayedError:
    node_name = "DelayedError"
    operands = ("self",)
    formulas = {}
    multi_output = False
    saves = ()
    saves_output = False
    is_view = False
    array_backward = False

    @staticmethod
    def forward(ctx, a):
        return a

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(
            "trying to differentiate twice a function that was marked with @once_differentiable"
        )


def once_differentiable(fn):
    """The backward runs without recording; differentiating its result again raises."""

    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        from .graph import apply

        create = state.enabled
        state.enabled = False
        try:
            out = fn(ctx, *grads)
        finally:
            state.enabled = create
        if not create or not any(isinstance(g, Tensor) and g._requires_grad for g in grads):
            return out
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        wrapped = []
        for o in outs:
            if isinstance(o, Tensor):
                src = grads[0]
                o = apply(_DelayedError, (src,), (o._data,)) if src._requires_grad else o
            wrapped.append(o)
        return wrapped[0] if single else tuple(wrapped)

    return wrapper
