"""optim.Optimizer: parameter groups, per-parameter state, state_dict, zero_grad.

Updates run on the parameters' arrays in place (through ``xp``), outside autograd, and
bump each parameter's version counter as an in-place op would. ``foreach``, ``fused`` and
``capturable`` are accepted and recorded (so state_dicts match PyTorch's layout);
``foreach=False`` keeps Adam on its per-parameter loop, otherwise a group whose parameters all
have gradients runs as a few passes over flat buffers (``FlatState``), with bit-identical
results. ``differentiable=True`` is not supported.
"""
import functools
import sys
from collections import OrderedDict, defaultdict

from .._backend import amax, amin, xp
from .._tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _typename(obj):
    """torch.typename: ``torch.FloatTensor`` for tensors, the qualified class name otherwise."""
    if isinstance(obj, Tensor):
        return f"torch.{obj.dtype._short}Tensor"
    cls = type(obj)
    module = cls.__module__
    return cls.__qualname__ if module in ("", "builtins") else f"{module}.{cls.__qualname__}"


def _scalar(x):
    """A hyperparameter as a Python float (PyTorch allows 1-element tensors for lr/betas)."""
    return x.item() if isinstance(x, Tensor) else x


def check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def check_nonneg(value, what):
    """PyTorch's ``Invalid <what> value: ...`` checks."""
    if not 0.0 <= value:
        raise ValueError(f"Invalid {what} value: {value}")


def lerp_(a, b, w):
    """a.lerp_(b, w) with PyTorch's two-sided formula (exact at both ends)."""
    if w < 0.5:
        a += w * (b - a)
    else:
        a[...] = b - (b - a) * (1 - w)


class Optimizer:
    def __init__(self, params, defaults):
        if defaults.get("differentiable"):
            raise NotImplementedError(
                f"{type(self).__name__}(differentiable=True) is not supported by chainrule"
            )
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        _patch_step(type(self))
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                "dicts, but got " + _typename(params)
            )
        self.state = defaultdict(dict)
        self.param_groups = []
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    # ---- groups ---------------------------------------------------------------------
    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        # named parameters: (name, tensor) pairs, as model.named_parameters() yields
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = params
        if names:
            if len(names) != len(params):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are "
                    "missing"
                )
            param_group["param_names"] = names
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is " + _typename(p)
                )
            if not (p.grad_fn is None or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            param_group.setdefault(name, default)
        if len(params) != len(set(map(id, params))):
            import warnings

            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this "
                "will cause an error; see github.com/pytorch/pytorch/issues/40967 for more "
                "information",
                stacklevel=3,
            )
        seen = set()
        for g in self.param_groups:
            seen.update(map(id, g["params"]))
            if ("param_names" in param_group) != ("param_names" in g):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer"
                )
        if not seen.isdisjoint(map(id, params)):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- gradients --------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    g.grad_fn = None
                    g._requires_grad = False
                    g._data[...] = 0
                    g._version[0] += 1

    def _run_closure(self, closure):
        if closure is None:
            return None
        from ..autograd.grad_mode import enable_grad

        with enable_grad():
            return closure()

    def _params_with_grad(self, group):
        """(param, grad array) for the group's parameters that have a gradient."""
        out = []
        for p in group["params"]:
            g = p._grad
            if g is not None:
                out.append((p, g._data))
        return out

    def step(self, closure=None):
        raise NotImplementedError

    # ---- hooks ------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` before each step; it may return new
        ``(args, kwargs)``."""
        from ..autograd.graph import RemovableHandle

        return RemovableHandle(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` after each step."""
        from ..autograd.graph import RemovableHandle

        return RemovableHandle(self._optimizer_step_post_hooks, hook)

    # ---- state_dict -------------------------------------------------------------------
    def state_dict(self):
        """PyTorch's layout: parameters replaced by their index across all groups."""
        index = {}
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            for p in g["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in g["params"]]
            groups.append(packed)
        state = {index[id(p)] if isinstance(p, Tensor) else p: v for p, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Unlike PyTorch, state tensors are copied (the loaded optimizer never aliases the
        source's buffers)."""
        import copy

        groups = self.param_groups
        saved = copy.deepcopy([{k: v for k, v in g.items()} for g in state_dict["param_groups"]])
        if len(groups) != len(saved):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of "
                "optimizer's group"
            )
        id_map = {}
        for g, s in zip(groups, saved):
            id_map.update(zip(s["params"], g["params"]))

        def cast(param, key, value):
            if isinstance(value, Tensor):
                a = value._data
                # step counters keep their dtype; other state follows a float parameter's dtype
                if key != "step" and param._data.dtype.kind == "f":
                    return Tensor._make(a.astype(param._data.dtype, copy=True))
                return Tensor._make(a.copy())
            if isinstance(value, dict):
                return {k: cast(param, k, v) for k, v in value.items()}
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                p = id_map[k]
                state[p] = cast(p, None, v)
            else:
                state[k] = v
        new_groups = []
        for g, s in zip(groups, saved):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
            new_groups.append(s)
        self.state = state
        self.param_groups = new_groups
        self._after_load()

    def _after_load(self):
        """Subclass hook (PyTorch's __setstate__ defaults)."""

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        # (a copy or unpickled optimizer starts with no step hooks, as PyTorch's)
        self.__dict__.update(state)
        self.__dict__.setdefault("_optimizer_step_pre_hooks", OrderedDict())
        self.__dict__.setdefault("_optimizer_step_post_hooks", OrderedDict())

    def __repr__(self):
        s = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"


class FlatState:
    """A group's per-parameter state held as views of one flat buffer per key, so that an
    update is a few passes over whole buffers instead of a dozen small NumPy calls per
    parameter (18 parameters: ~250 calls, the bulk of Adam's time on small models).

    ``state[p][key]`` stays an ordinary Tensor (what state_dict saves, what a user reads);
    its array is a view of ``bufs[key]``, so the per-parameter loop, which runs when some
    parameter lacks a gradient, writes through to the same memory. The step counters are
    0-d views of one float32 array.

    The parameters' own arrays move onto one flat buffer too (``xs``, ``xviews``) when
    nothing but the parameter holds them (no view, no ``.numpy()`` a user kept: those must
    go on seeing the updates): the update then runs on the parameters in place, with no
    gather and no per-parameter write-back. ``params_flat()`` says whether that still holds.
    """

    __slots__ = ("bufs", "dtype", "group", "kept", "params", "size", "steps", "tensors",
                 "views", "xs", "xviews")

    def params_flat(self):
        """Whether every parameter's array is still its view of ``xs`` (not replaced by a
        user's ``p.data = ...`` or a ``.to()``)."""
        if self.xs is None:
            return False
        for p, v in zip(self.params, self.xviews):
            if p._data is not v:
                return False
        return True

    def scratch(self, name):
        """(a scratch buffer the size of the group, its per-parameter views): kept between
        steps for a group of up to _SCRATCH_MAX elements (no allocation a step), made anew for
        a larger one (no resident copy of a big model)."""
        s = self.kept.get(name)
        if s is None:
            buf = xp.empty(self.size, self.dtype)
            s = (buf, _flat_views(buf, self.params))
            if self.size <= _SCRATCH_MAX:
                self.kept[name] = s
        return s

    def valid(self, group, state, keys):
        """Whether the cache still describes ``group``: the same parameters, and every state
        tensor the one made here, still on its view (anything else: a user or a load
        replaced it)."""
        params = group["params"]
        if self.group is not group or len(params) != len(self.params):
            return False
        tensors, views = self.tensors, self.views
        for i, p in enumerate(params):
            if p is not self.params[i]:
                return False
            st = state.get(p)
            if st is None:
                return False
            for k in ("step", *keys):
                t = tensors[k][i]
                if st.get(k) is not t or t._data is not views[k][i]:
                    return False
        return True


def _flat_views(buf, params):
    views = []
    i = 0
    for p in params:
        n = p._data.size
        views.append(buf[i:i + n].reshape(p._data.shape))
        i += n
    return views


def flat_state(opt, group, keys):
    """The group's state as a FlatState (made on first use, or rebuilt after a load), or None
    when the flat update does not apply: ``foreach=False``, fewer than two parameters, a
    missing gradient, mixed or non-float dtypes, a duplicate parameter, partial or
    foreign-shaped state, or step counts that differ."""
    if group.get("foreach") is False:
        return None
    params = group["params"]
    if len(params) < 2:
        return None
    dt = params[0]._data.dtype
    for p in params:
        g = p._grad
        if g is None or p._data.dtype is not dt or g._data.dtype is not dt:
            return None
    flats = opt.__dict__.setdefault("_flats", {})
    fs = flats.get(id(group))
    if fs is None or not fs.valid(group, opt.state, keys):
        fs = _build_flat(opt, group, keys, dt)
        if fs is None:
            flats.pop(id(group), None)
            return None
        flats[id(group)] = fs
    steps = fs.steps
    if amin(steps, None) != amax(steps, None):
        return None
    return fs


def _build_flat(opt, group, keys, dt):
    if dt.kind != "f":
        return None
    params = list(group["params"])
    if len(set(map(id, params))) != len(params):
        return None
    state = opt.state
    sts = [state.get(p) for p in params]
    fresh = not any(sts)
    if not fresh:  # existing state (a load, the loop's steps): adopted when complete
        for p, st in zip(params, sts):
            if not st or "step" not in st or st["step"]._data.shape != ():
                return None
            for k in keys:
                t = st.get(k)
                if not isinstance(t, Tensor) or t._data.shape != p._data.shape:
                    return None
    n = sum(p._data.size for p in params)
    fs = FlatState()
    fs.group, fs.params, fs.dtype = group, params, dt
    fs.steps = xp.zeros(len(params), xp.float32)
    fs.bufs = {k: xp.zeros(n, dt) for k in keys}
    fs.views = {"step": [fs.steps[i:i + 1].reshape(()) for i in range(len(params))]}
    fs.views.update((k, _flat_views(buf, params)) for k, buf in fs.bufs.items())
    fs.tensors = {}
    for k, views in fs.views.items():
        tensors = fs.tensors[k] = []
        for p, view in zip(params, views):
            st = state[p]
            t = st.get(k)
            if t is None:
                st[k] = t = Tensor._make(view)
            else:  # the same Tensor object, now on the flat buffer (its values copied over)
                view[...] = t._data
                t._data = view
            tensors.append(t)
    fs.size, fs.kept = n, {}
    fs.xs = fs.xviews = None
    if all(_sole(p._data) for p in params):
        fs.xs = xp.empty(n, dt)
        fs.xviews = _flat_views(fs.xs, params)
        for p, view in zip(params, fs.xviews):
            view[...] = p._data
            p._data = view
    return fs


_refcount = sys.getrefcount if sys.implementation.name == "cpython" else None


def _sole(a):
    """Whether only its parameter holds array ``a`` (its slot, this call's argument and
    getrefcount's): no view of it and no user reference would miss a move to a flat buffer."""
    return (a.base is None and a.flags.c_contiguous and a.flags.writeable
            and _refcount is not None and _refcount(a) <= 3)


_SCRATCH_MAX = 1 << 22  # elements (16 MB of float32 a buffer)


def sqrt(a):
    """sqrt into a fresh array (``xp.sqrt`` of a 0-d array would give an immutable scalar)."""
    return xp.sqrt(a, out=xp.empty_like(a))


def _patch_step(cls):
    """Wrap ``cls.step`` with the step hooks the first time an instance is made, as PyTorch's
    ``_patch_step_function`` does (hooks see ``args`` with the optimizer first)."""
    step = cls.step
    if getattr(step, "hooked", False):
        return

    @functools.wraps(step)
    def step_with_hooks(*args, **kwargs):
        self = args[0]
        for hook in tuple(self._optimizer_step_pre_hooks.values()):
            res = hook(self, args, kwargs)
            if res is not None:
                if not (isinstance(res, tuple) and len(res) == 2):
                    raise RuntimeError(
                        f"{step} must return None or a tuple of (new_args, new_kwargs), but got "
                        f"{res}."
                    )
                args, kwargs = res
        out = step(*args, **kwargs)
        for hook in tuple(self._optimizer_step_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    step_with_hooks.hooked = True
    cls.step = step_with_hooks


def zeros_state(p, fill=0):
    """A state buffer shaped like ``p`` (a Tensor, outside autograd)."""
    a = xp.zeros_like(p._data) if fill == 0 else xp.full_like(p._data, fill)
    return Tensor._make(a)


def step_counter():
    """PyTorch keeps step counts as float32 0-d tensors."""
    return Tensor._make(xp.zeros((), dtype=xp.float32))
