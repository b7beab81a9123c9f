"""The Tensor: an ndarray plus what autograd needs to know about it.

This module is the bottom of the import graph. Ops attach their methods and operators to
``Tensor`` from above (``chainrule.ops``), so nothing here imports an op.
"""
import builtins
import warnings

from . import _dtype
from ._backend import ndarray, xp


class Size(tuple):
    """torch.Size: a tuple that prints as ``torch.Size([2, 3])``."""

    __slots__ = ()

    def __repr__(self):
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        if not isinstance(other, tuple):
            raise TypeError(f"can only concatenate tuple (not {type(other).__name__}) to torch.Size")
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):  # (1,) + size is a Size too
        return Size(tuple.__add__(other, self))

    def __mul__(self, n):
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__


class Tensor:
    # _extra holds what few tensors need (hooks, retain_grad, a leaf's AccumulateGrad),
    # so that making a tensor on the hot path sets only seven slots.
    __slots__ = ("__weakref__", "_base", "_data", "_extra", "_grad", "_requires_grad", "_vbox", "grad_fn")

    __array_priority__ = 1000  # ndarray op Tensor defers to Tensor's reflected operators

    def __new__(cls, *args, **kwargs):
        # torch.Tensor(data) copies data as float32; torch.Tensor(2, 3) is uninitialised.
        if args and isinstance(args[0], (list, tuple, ndarray)) or (args and isinstance(args[0], Tensor)):
            data = args[0]._data if isinstance(args[0], Tensor) else args[0]
            arr = xp.array(data, dtype=_dtype.defaults.float.np)
        else:
            shape = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
            arr = xp.zeros(tuple(shape), dtype=_dtype.defaults.float.np)
        return cls._make(arr)

    def __init__(self, *args, **kwargs):
        pass

    @classmethod
    def _make(cls, data, requires_grad=False):
        """The hot-path constructor: wrap an ndarray, no checks."""
        if type(data) is not ndarray:
            data = xp.asarray(data)
        t = object.__new__(cls)
        t._data = data
        t._requires_grad = requires_grad
        t._grad = None
        t.grad_fn = None
        t._vbox = None
        t._base = None
        t._extra = None
        return t

    # ---- metadata -------------------------------------------------------------------
    @property
    def dtype(self):
        return _dtype._FROM_NP[self._data.dtype]

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    def dim(self):
        return self._data.ndim

    @property
    def ndim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    @property
    def device(self):
        return device("cpu")

    @property
    def is_cuda(self):
        return False

    @property
    def layout(self):
        return "torch.strided"

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def is_complex(self):
        return False

    def stride(self, dim=None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim, "stride")]

    def is_contiguous(self, memory_format=None):
        return self._data.flags.c_contiguous

    def data_ptr(self):
        return self._data.__array_interface__["data"][0]

    # ---- autograd state -------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables."
                + (
                    " If you want to use a computed variable in a subgraph that doesn't require "
                    "differentiation use var_no_grad = var.detach()."
                    if not flag
                    else ""
                )
            )
        if flag and self._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self._data.dtype.kind != "f":  # (PyTorch words this one differently)
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def data(self):
        """The same storage, cut from the graph (PyTorch's ``.data``)."""
        t = Tensor._make(self._data)
        t._version = self._version
        return t

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else xp.asarray(value)

    @property
    def _version(self):
        """The version counter: a list ``[count]`` (plus the name of the last in-place op),
        shared by every tensor on the same storage. Made on first use (``_vbox`` is None until
        then), so that the many tensors nobody modifies or views never allocate one."""
        v = self._vbox
        if v is None:
            v = self._vbox = [0]
            self._watch(v)
        return v

    @_version.setter
    def _version(self, box):
        self._vbox = box
        self._watch(box)

    def _watch(self, box):
        # A node that saved this tensor as its output (tanh, exp, ...) checks at backward that
        # it was not modified since; the counter it watches is made here, on first need.
        fn = self.grad_fn
        if fn is not None and fn.out is self._data and fn.out_version is None:
            fn.watch_output(box)

    @property
    def _version_counter(self):
        v = self._vbox
        return v[0] if v is not None else 0

    @property
    def retains_grad(self):
        return bool(self._extra and self._extra.get("retains_grad"))

    def _extras(self):
        if self._extra is None:
            self._extra = {}
        return self._extra

    @property
    def grad(self):
        g = self._grad
        if g is None and self.grad_fn is not None and not self.retains_grad:
            _warn_non_leaf_grad()
        return g

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError("assigned grad has data of a different size")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError("assigned grad has data of a different type")
        self._grad = value

    def retain_grad(self):
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self.retains_grad:
            return
        import weakref

        ref = weakref.ref(self)

        def retain(grad):
            t = ref()
            if t is not None:
                g = grad.detach() if not grad._requires_grad else grad
                t._grad = g.clone() if t._grad is None else t._grad + g

        nr = self._extra.get("output_nr") if self._extra else None
        self.grad_fn._add_hook(retain if nr is None else _slot_hook(retain, nr), retains=True)
        self._extras()["retains_grad"] = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a replacement."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .autograd.graph import RemovableHandle

        if self.grad_fn is not None:
            nr = self._extra.get("output_nr") if self._extra else None
            if nr is not None:  # one output of a multi-output node: the buffer is a list
                return self.grad_fn._add_hook(_slot_hook(hook, nr))
            return self.grad_fn._add_hook(hook)
        hooks = self._extras().setdefault("hooks", {})
        return RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient"
            )
        from .autograd.graph import RemovableHandle

        hooks = self._extras().setdefault("post_hooks", {})
        return RemovableHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        (_autograd or _import_autograd()).backward(self, gradient, retain_graph, create_graph,
                                                   inputs=inputs)

    def detach(self):
        t = Tensor._make(self._data)
        t._version = self._version  # shares storage, so shares the version counter
        t._base = self
        return t

    def detach_(self):
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
                "called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution."
            )
        self.grad_fn = None
        self._requires_grad = False
        return self

    # ---- conversion -----------------------------------------------------------------
    def numpy(self, force=False):
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        if self._requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        a = self._data
        return a if dtype is None else a.astype(dtype, copy=False)

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self._data.size != 1:
            if self._data.size == 0:
                raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return builtins.bool(self._data.reshape(()))

    def __float__(self):
        return builtins.float(self._scalar_for("float"))

    def __int__(self):
        return builtins.int(self._scalar_for("int"))

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self._data.reshape(()))

    def __complex__(self):
        return complex(self._scalar_for("complex"))

    def _scalar_for(self, what):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self._data.reshape(()).item()

    __hash__ = object.__hash__

    def __repr__(self, *, tensor_contents=None):
        from ._printing import tensor_repr

        return tensor_repr(self, tensor_contents=tensor_contents)

    def __str__(self):
        return self.__repr__()

    def __format__(self, spec):
        if self._data.ndim == 0 and type(self) is Tensor:  # as PyTorch: f"{t}" is f"{t.item()}"
            return self.item().__format__(spec)
        return object.__format__(self.__repr__(), spec) if spec else self.__repr__()

    def __reduce_ex__(self, proto):
        raise TypeError(
            "chainrule tensors are not pickled: save them with chainrule.save (safetensors)"
        )

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                "because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001"
            )
        t = type(self)._make(self._data.copy(), self._requires_grad) if type(self) is Tensor else None
        if t is None:  # subclasses (Parameter) rebuild themselves
            t = self.__class__(Tensor._make(self._data.copy()), self._requires_grad)
        if self._grad is not None:
            t._grad = Tensor._make(self._grad._data.copy())
        memo[id(self)] = t
        return t

    # ---- device stand-ins: chainrule runs on the CPU ------------------------------------
    def cpu(self):
        return self

    def cuda(self, *a, **k):
        raise RuntimeError("Torch not compiled with CUDA enabled")


def _slot_hook(hook, nr):
    def slot_hook(grads):
        if grads[nr] is None:
            return None
        r = hook(grads[nr])
        if r is None:
            return None
        grads = list(grads)
        grads[nr] = r
        return grads

    return slot_hook


def _wrap_dim(dim, ndim, op="dim"):
    """PyTorch's maybe_wrap_dim: negative dims count from the end; out of range is IndexError."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim + n if dim < 0 else dim


class device:
    """Only the CPU exists; the object is here so that ``.to(device)`` code runs."""

    __slots__ = ("index", "type")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if ":" in type:
            type, index = type.split(":")
            index = builtins.int(index)
        self.type = type
        self.index = index

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


_autograd = None  # chainrule.autograd, once imported (it imports this module)


def _import_autograd():
    """The autograd module for Tensor.backward, imported on first use. Its ``backward`` is
    looked up at each call (explain's CLI swaps it while a script runs); an import statement
    in the method instead cost ~2 µs a training step (importlib's from-list handling)."""
    global _autograd
    from . import autograd

    _autograd = autograd
    return autograd


def _warn_non_leaf_grad():
    warnings.warn(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
        "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
        "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
        "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
        "instead. See github.com/pytorch/pytorch/pull/30531 for more information.",
        UserWarning,
        stacklevel=3,
    )
