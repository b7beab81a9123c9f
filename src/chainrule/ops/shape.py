"""Shape ops: views and copies that move elements without changing them, plus joining
(cat, stack) and splitting (split, chunk, unbind).

Views (reshape when possible, squeeze, permute, transpose, expand, select, slice, diagonal,
unfold, split outputs) return NumPy views marked ``is_view``: they share storage and the
version counter with their base, as PyTorch's do. Everything else returns fresh memory.
"""
import math
import warnings

from .. import _dtype
from .._backend import xp
from .._tensor import Tensor, _wrap_dim
from ..autograd import anomaly_mode
from ..autograd.grad_mode import state
from ..autograd.graph import Node, _mark_view, apply, array_of, call1, grad_edge
from ._core import Op, broadcast_error, method
from .reductions import Sum

__all__ = [
    "adjoint",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_shapes",
    "broadcast_tensors",
    "broadcast_to",
    "cat",
    "chunk",
    "concat",
    "concatenate",
    "diag",
    "diag_embed",
    "diagonal",
    "flatten",
    "flip",
    "fliplr",
    "flipud",
    "hstack",
    "moveaxis",
    "movedim",
    "narrow",
    "permute",
    "ravel",
    "repeat_interleave",
    "reshape",
    "roll",
    "select",
    "split",
    "squeeze",
    "stack",
    "swapaxes",
    "swapdims",
    "t",
    "tensor_split",
    "tile",
    "transpose",
    "tril",
    "triu",
    "unbind",
    "unflatten",
    "unsqueeze",
    "vstack",
]


def _size_args(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def _infer_shape(shape, numel):
    n = 1
    hole = None  # the position of one -1 (view(-1, d), reshape(-1)): inferred here
    for i, s in enumerate(shape):
        if s.__class__ is not int or s < 0 and (s != -1 or hole is not None):
            return _infer_shape_slow(shape, numel)
        if s < 0:
            hole = i
        else:
            n *= s
    if hole is not None:
        if not n or numel % n:
            return _infer_shape_slow(shape, numel)  # (raises PyTorch's error)
        shape = list(shape)
        shape[hole] = numel // n
    elif n != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


def _infer_shape_slow(shape, numel):
    """Shapes with a -1 to infer, or entries that are not plain ints."""
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for i, s in enumerate(shape):
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {list(shape)}")
            known *= s
    if -1 in shape:
        if known == 0:
            if numel:
                raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
            raise RuntimeError(
                f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                "unspecified dimension size -1 can be any value and is ambiguous"
            )
        if numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _unregistered(cls, name):
    """Give an op class a second grad_fn name without claiming that name in the registry
    (PyTorch reuses e.g. UnsqueezeBackward0 for ``x[None]``)."""
    cls.node_name = name
    return cls


# ---- reshaping views --------------------------------------------------------------------
class _Reshaping(Op):
    """Same elements, new shape (a view whenever NumPy's strides allow it)."""

    formulas = {"self": "1 (reshaped)"}
    is_view = True
    array_backward = True  # (reshape reads the same on arrays and Tensors)

    def forward(ctx, a, shape):
        return a.reshape(shape)

    def backward(ctx, grad):
        return grad.reshape(ctx.metas[0][0])


class View(_Reshaping):
    node_name = "ViewBackward0"




class ReshapeAlias(_Reshaping):
    """reshape of a non-contiguous tensor whose strides still allow a view."""

    node_name = "ReshapeAliasBackward0"


class UnsafeView(_Reshaping):
    """reshape that had to copy (NumPy's reshape copies exactly when it cannot view)."""

    node_name = "UnsafeViewBackward0"
    is_view = False


class SqueezeAll(_Reshaping):
    node_name = "SqueezeBackward0"


class SqueezeDim(_Reshaping):
    node_name = "SqueezeBackward1"


class SqueezeDims(_Reshaping):
    node_name = "SqueezeBackward2"


class Unsqueeze(_Reshaping):
    node_name = "UnsqueezeBackward0"


def _viewable(a, shape):
    try:
        xp.reshape(a, shape, copy=False)
        return True
    except ValueError:
        return False


def reshape(input, *shape):
    a = input._data
    shape = _infer_shape(_size_args(shape), a.size)
    if a.flags.c_contiguous:
        return apply(View, (input,), (a,), (shape,))
    # Reshaped once: a view where the strides allow, else a copy (fresh memory); the op's
    # forward then reshapes that to its own shape, a view of it.
    r = a.reshape(shape)
    rb = r.base
    view = rb is not None and (rb is a or rb is a.base) or xp.may_share_memory(r, a)
    op = ReshapeAlias if view else UnsafeView
    return apply(op, (input,), (r,), (shape,))


def view(self, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
        return self.to(shape[0])  # view(dtype) reinterprets bits in PyTorch; we convert
    a = self._data
    shape = _infer_shape(_size_args(shape), a.size)
    if not a.flags.c_contiguous and not _viewable(a, shape):
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        )
    return apply(View, (self,), (a,), (shape,))


def view_as(self, other):
    return view(self, other._data.shape)


def reshape_as(self, other):
    return reshape(self, other._data.shape)


def flatten(input, start_dim=0, end_dim=-1):
    a = input._data
    if a.ndim == 0:
        return reshape(input, 1)
    s = _wrap_dim(start_dim, a.ndim)
    e = _wrap_dim(end_dim, a.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    n = 1
    for d in a.shape[s:e + 1]:
        n *= d
    return reshape(input, a.shape[:s] + (n,) + a.shape[e + 1:])


def unflatten(input, dim, sizes):
    a = input._data
    d = _wrap_dim(dim, a.ndim)
    sizes = tuple(sizes)
    try:
        inner = _infer_shape(sizes, a.shape[d])
    except RuntimeError:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({a.shape[d]}) in the input tensor"
        ) from None
    return reshape(input, a.shape[:d] + inner + a.shape[d + 1:])


def ravel(input):
    if input._data.flags.c_contiguous:
        return reshape(input, -1)
    return input.contiguous().view(-1)  # PyTorch: contiguous() then view


def squeeze(input, dim=None):
    shape = input._data.shape
    if dim is None:
        op, keep = SqueezeAll, tuple(s for s in shape if s != 1)
    else:
        if isinstance(dim, (tuple, list)):
            op = SqueezeDims
            dims = {_wrap_dim(d, len(shape)) for d in dim}
        else:
            op = SqueezeDim
            dims = {_wrap_dim(dim, len(shape))}
        keep = tuple(s for i, s in enumerate(shape) if s != 1 or i not in dims)
    return apply(op, (input,), (input._data,), (keep,))


def unsqueeze(input, dim):
    shape = input._data.shape
    d = _wrap_dim(dim, len(shape) + 1)
    return apply(Unsqueeze, (input,), (input._data,), (shape[:d] + (1,) + shape[d:],))


# ---- axis permutations ------------------------------------------------------------------
class Permute(Op):
    node_name = "PermuteBackward0"
    formulas = {"self": "1 (axes permuted back)"}
    is_view = True
    array_backward = True

    def forward(ctx, a, dims):
        return a.transpose(dims)

    def backward(ctx, grad):
        dims = ctx.args[0]
        inv = [0] * len(dims)
        for i, d in enumerate(dims):
            inv[d] = i
        return grad.permute(inv) if isinstance(grad, Tensor) else grad.transpose(inv)


class Transpose(Op):
    node_name = "TransposeBackward0"
    formulas = {"self": "1 (axes swapped back)"}
    is_view = True
    array_backward = True  # (swapaxes reads the same on arrays and Tensors)

    def forward(ctx, a, d0, d1):
        return a.swapaxes(d0, d1)

    def backward(ctx, grad):
        return grad.swapaxes(*ctx.args) if grad.ndim else grad  # (0-d: a NumPy scalar)


class TransposeT(Transpose):
    node_name = "TBackward0"


def permute(input, *dims):
    dims = _size_args(dims)
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            "length of the desired ordering of dimensions i.e. input.dim() = "
            f"{nd} is not equal to len(dims) = {len(dims)}"
        )
    dims = tuple([_wrap_dim(d, nd) for d in dims])
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return apply(Permute, (input,), (input._data,), (dims,))


def transpose(input, dim0, dim1):
    nd = input._data.ndim
    return apply(Transpose, (input,), (input._data,), (_wrap_dim(dim0, nd), _wrap_dim(dim1, nd)))


swapaxes = swapdims = transpose


def t(input):
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    if nd < 2:
        return apply(TransposeT, (input,), (input._data,), (0, 0))
    return apply(TransposeT, (input,), (input._data,), (0, 1))


def _T(self):
    nd = self._data.ndim
    if nd > 2:
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to "
            "reverse the dimensions of a tensor.",
            UserWarning,
            stacklevel=2,
        )
    return apply(Permute, (self,), (self._data,), (tuple(range(nd - 1, -1, -1)),))


def _mT(self):
    nd = self._data.ndim
    if nd < 2:
        raise RuntimeError(
            f"tensor.mT is only supported on matrices or batches of matrices. Got {nd}-D tensor."
        )
    return transpose(self, -2, -1)


def _H(self):
    nd = self._data.ndim
    if nd != 2 and nd != 0:
        raise RuntimeError(
            f"tensor.H is only supported on matrices (2-D tensors). Got {nd}-D tensor."
            + (" For batches of matrices, consider using tensor.mH" if nd > 2 else "")
        )
    return transpose(self, 0, 1) if nd == 2 else self


def adjoint(input):
    """Conjugate transpose of the last two dims (chainrule is real-valued: a transpose)."""
    return _mT(input)


def movedim(input, source, destination):
    nd = input._data.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
            f"contain the same number of dims as destination ({list(dst)} dims)"
        )
    src = [_wrap_dim(d, nd) for d in src]
    dst = [_wrap_dim(d, nd) for d in dst]
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({list(source)})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({list(destination)})")
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return apply(Permute, (input,), (input._data,), (tuple(order),))


moveaxis = movedim


# ---- broadcasting -----------------------------------------------------------------------
class Expand(Op):
    node_name = "ExpandBackward0"
    formulas = {"self": "1 (summed over broadcast dims)"}
    is_view = True
    array_backward = True

    def forward(ctx, a, shape):
        return xp.broadcast_to(a, shape)

    def backward(ctx, grad):
        if isinstance(grad, Tensor):
            return grad.sum_to_size(ctx.metas[0][0])
        return grad  # (on arrays the engine sums every gradient back to its operand's shape)


def expand(self, *sizes):
    sizes = _size_args(sizes)
    a = self._data
    if len(sizes) < a.ndim:
        raise RuntimeError(
            f"expand({self.type()}{{{list(a.shape)}}}, size={list(sizes)}): the number of "
            f"sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions "
            f"in the tensor ({a.ndim})"
        )
    lead = len(sizes) - a.ndim
    shape = []
    for i, s in enumerate(sizes):
        cur = a.shape[i - lead] if i >= lead else None
        if s == -1:
            if cur is None:
                raise RuntimeError(
                    f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension {i}"
                )
            s = cur
        elif cur is not None and cur != s and cur != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(a.shape)}"
            )
        shape.append(s)
    shape = tuple(shape)
    if shape == a.shape and not self._requires_grad:
        return self
    return apply(Expand, (self,), (a,), (shape,))


def expand_as(self, other):
    return expand(self, other._data.shape)


def broadcast_to(input, size):
    return expand(input, *size)


def broadcast_shapes(*shapes):
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    out = ()
    for s in shapes:
        try:
            out = xp.broadcast_shapes(out, s)
        except ValueError:
            raise broadcast_error(out, s) from None
    from .._tensor import Size

    return Size(out)


def broadcast_tensors(*tensors):
    tensors = _size_args(tensors)
    shape = broadcast_shapes(*(x._data.shape for x in tensors))
    return tuple(x if x._data.shape == shape else expand(x, shape) for x in tensors)


# ---- copies that rearrange elements -------------------------------------------------------
class Repeat(Op):
    node_name = "RepeatBackward0"
    formulas = {"self": "1 (summed over the repeats)"}
    array_backward = True

    def forward(ctx, a, reps):
        return xp.tile(a, reps)

    def backward(ctx, grad):
        reps = ctx.args[0]
        shape = ctx.metas[0][0]
        shape = (1,) * (len(reps) - len(shape)) + tuple(shape)
        split = []
        for r, s in zip(reps, shape):
            split += [r, s]
        # (r0*s0, r1*s1, ...) -> (r0, s0, r1, s1, ...), summed over the r axes
        return call1(Sum, grad.reshape(split), (tuple(range(0, 2 * len(reps), 2)), False, None))


def repeat(self, *sizes):
    reps = _size_args(sizes)
    if len(reps) < self._data.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"
        )
    return apply(Repeat, (self,), (self._data,), (tuple(int(r) for r in reps),))


def tile(input, *dims):
    dims = _size_args(dims)  # torch.tile(x, (2, 3)); x.tile(2, 3) and x.tile(2) also work
    nd = input._data.ndim
    if len(dims) < nd:
        dims = (1,) * (nd - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element repeated along ``dim`` (flattened when None). Int repeats record
    PyTorch's ViewBackward0 over a clone of an expand; tensor repeats an index_select."""
    if repeats is None:  # torch.repeat_interleave(counts): the indices it would select
        r = input._data
        return Tensor._make(xp.repeat(xp.arange(r.shape[0] if r.ndim else 1), r.reshape(-1)))
    if dim is None:
        input, dim = reshape(input, -1), 0
    a = input._data
    d = _wrap_dim(dim, a.ndim)
    n = a.shape[d] if a.ndim else 1
    if isinstance(repeats, Tensor) and repeats._data.size != 1:
        reps = repeats._data.reshape(-1)
        if reps.shape[0] != n:
            raise RuntimeError(
                f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                f"{reps.shape[0]} and input.size(0) = {n}"
            )
        if reps.size and reps.min() < 0:
            raise RuntimeError("repeats can not be negative")
        return input.index_select(d, Tensor._make(xp.repeat(xp.arange(n), reps)))
    k = int(repeats)
    if k < 0:
        raise RuntimeError("repeats can not be negative")
    shape = a.shape
    big = unsqueeze(input, d + 1).expand(shape[:d + 1] + (k,) + shape[d + 1:])
    return big.contiguous().view(shape[:d] + (n * k,) + shape[d + 1:])


def _atleast(nd):
    def fn(*tensors):
        ts = _size_args(tensors)
        out = []
        for x in ts:
            while x._data.ndim < nd:  # 1-d -> (1, n) -> (1, n, 1), as PyTorch pads
                x = unsqueeze(x, 0 if x._data.ndim < 2 else -1)
            out.append(x)
        return out[0] if len(tensors) == 1 and isinstance(tensors[0], Tensor) else tuple(out)

    fn.__name__ = f"atleast_{nd}d"
    return fn


atleast_1d, atleast_2d, atleast_3d = _atleast(1), _atleast(2), _atleast(3)


class Flip(Op):
    node_name = "FlipBackward0"
    formulas = {"self": "1 (flipped back)"}
    array_backward = True

    def forward(ctx, a, dims):
        return xp.flip(a, dims).copy()  # NumPy's flip is a view; PyTorch's is a copy

    def backward(ctx, grad):
        return call1(Flip, grad, ctx.args)


def flip(input, *dims):
    from ._core import dims_tuple

    dims = _size_args(dims)
    return apply(Flip, (input,), (input._data,), (dims_tuple(dims, input._data.ndim),))


def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


class Roll(Op):
    node_name = "RollBackward0"
    formulas = {"self": "1 (rolled back)"}
    array_backward = True

    def forward(ctx, a, shifts, dims):
        if dims is None:
            return xp.roll(a.reshape(-1), shifts).reshape(a.shape)
        return xp.roll(a, shifts, dims)

    def backward(ctx, grad):
        shifts, dims = ctx.args
        return call1(Roll, grad, (tuple(-s for s in shifts) if dims is not None else -shifts, dims))


def roll(input, shifts, dims=None):
    nd = input._data.ndim
    if dims is None:
        if not isinstance(shifts, int):
            shifts = tuple(shifts)
            if len(shifts) != 1:
                raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
            shifts = shifts[0]
        return apply(Roll, (input,), (input._data,), (int(shifts), None))
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    dims = tuple(_wrap_dim(d, nd) for d in dims)
    return apply(Roll, (input,), (input._data,), (shifts, dims))


class Tril(Op):
    node_name = "TrilBackward0"
    formulas = {"self": "1 on and below the k-th diagonal, else 0"}
    array_backward = True

    def forward(ctx, a, k):
        return xp.tril(a, k)

    def backward(ctx, grad):
        return call1(Tril, grad, ctx.args)


class Triu(Op):
    node_name = "TriuBackward0"
    formulas = {"self": "1 on and above the k-th diagonal, else 0"}
    array_backward = True

    def forward(ctx, a, k):
        return xp.triu(a, k)

    def backward(ctx, grad):
        return call1(Triu, grad, ctx.args)


def _triangle(op, name):
    def fn(input, diagonal=0):
        if input._data.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        return apply(op, (input,), (input._data,), (int(diagonal),))

    fn.__name__ = name
    return fn


tril = _triangle(Tril, "tril")
triu = _triangle(Triu, "triu")


# ---- diagonals and windows (strided views) ----------------------------------------------
def _diag_view(a, offset, d1, d2):
    """A writable view of a diagonal (NumPy's own ``diagonal`` view is read-only)."""
    n1, n2 = a.shape[d1], a.shape[d2]
    if offset >= 0:
        n, start = max(0, min(n1, n2 - offset)), (0, offset)
    else:
        n, start = max(0, min(n1 + offset, n2)), (-offset, 0)
    if n:
        idx = [slice(None)] * a.ndim
        idx[d1], idx[d2] = slice(start[0], None), slice(start[1], None)
        a = a[tuple(idx)]
    rest = [i for i in range(a.ndim) if i != d1 and i != d2]
    shape = tuple(a.shape[i] for i in rest) + (n,)
    strides = tuple(a.strides[i] for i in rest) + (a.strides[d1] + a.strides[d2],)
    return xp.lib.stride_tricks.as_strided(a, shape, strides, writeable=a.flags.writeable)


class Diagonal(Op):
    node_name = "DiagonalBackward0"
    formulas = {"self": "1 on the diagonal, else 0"}
    is_view = True
    array_backward = True

    def forward(ctx, a, offset, d1, d2):
        return _diag_view(a, offset, d1, d2)

    def backward(ctx, grad):
        return call1(DiagonalScatter, grad, (ctx.metas[0][0], *ctx.args))


class DiagonalCopy(Diagonal):
    node_name = "DiagonalBackward0_copy"  # what PyTorch's diag(2-D) records
    is_view = False

    def forward(ctx, a, offset, d1, d2):
        return _diag_view(a, offset, d1, d2).copy()


class DiagonalScatter(Op):
    """The gradient of a diagonal: zeros with ``src`` written along the diagonal."""

    node_name = "DiagonalBackwardBackward0"
    formulas = {"self": "1 (the diagonal taken back out)"}
    array_backward = True

    def forward(ctx, g, shape, offset, d1, d2):
        out = xp.zeros(shape, g.dtype)
        _diag_view(out, offset, d1, d2)[...] = g
        return out

    def backward(ctx, grad):
        return call1(Diagonal, grad, ctx.args[1:])


class DiagEmbed(Op):
    node_name = "DiagEmbedBackward0"
    formulas = {"self": "1 (the diagonal taken back out)"}
    array_backward = True

    def forward(ctx, a, offset, d1, d2):
        n = a.shape[-1] + abs(offset)
        shape = list(a.shape[:-1])
        lo, hi = sorted((d1, d2))
        shape.insert(lo, n)
        shape.insert(hi, n)
        out = xp.zeros(shape, a.dtype)
        _diag_view(out, offset, d1, d2)[...] = a
        return out

    def backward(ctx, grad):
        return call1(Diagonal, grad, ctx.args)


def diagonal(input, offset=0, dim1=0, dim2=1):
    nd = input._data.ndim
    d1, d2 = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(Diagonal, (input,), (input._data,), (int(offset), d1, d2))


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    nd = input._data.ndim + 1
    d1, d2 = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(DiagEmbed, (input,), (input._data,), (int(offset), d1, d2))


def diag(input, diagonal=0):
    nd = input._data.ndim
    if nd == 1:
        return apply(DiagEmbed, (input,), (input._data,), (int(diagonal), 0, 1))
    if nd == 2:
        return apply(DiagonalCopy, (input,), (input._data,), (int(diagonal), 0, 1))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")


class Unfold(Op):
    node_name = "UnfoldBackward0"
    formulas = {"self": "1 per window containing the element (summed)"}
    is_view = True
    array_backward = True

    def forward(ctx, a, dim, size, step):
        n = (a.shape[dim] - size) // step + 1 if a.ndim else 1
        if a.ndim == 0:
            return a.reshape(1)
        shape = a.shape[:dim] + (n,) + a.shape[dim + 1:] + (size,)
        st = a.strides
        strides = st[:dim] + (st[dim] * step,) + st[dim + 1:] + (st[dim],)
        # Windows overlap, so the view is read-only (PyTorch refuses such in-place writes too).
        return xp.lib.stride_tricks.as_strided(a, shape, strides, writeable=False)

    def backward(ctx, grad):
        return call1(UnfoldScatter, grad, (ctx.metas[0][0], *ctx.args))


class UnfoldScatter(Op):
    """The gradient of unfold: every window adds its slice back into place."""

    node_name = "UnfoldBackwardBackward0"
    formulas = {"self": "1 (re-unfolded)"}
    array_backward = True

    def forward(ctx, g, shape, dim, size, step):
        out = xp.zeros(shape, g.dtype)
        if not shape:
            return g.reshape(())
        n = g.shape[dim]
        for j in range(size):
            idx = (slice(None),) * dim + (slice(j, j + step * (n - 1) + 1, step),)
            out[idx] += g[..., j]
        return out

    def backward(ctx, grad):
        return call1(Unfold, grad, ctx.args[1:])


def unfold(self, dimension, size, step):
    nd = self._data.ndim
    d = _wrap_dim(dimension, nd)
    n = self._data.shape[d] if nd else 1
    if size > n:
        raise RuntimeError(
            f"maximum size for tensor at dimension {d} is {n} but size is {size}"
        )
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return apply(Unfold, (self,), (self._data,), (d, int(size), int(step)))


# ---- select / narrow (basic-index views with their own grad_fn names) -------------------
class BasicIndex(Op):
    """A view through a basic index (ints, slices, None): ``a[idx]``. Its grad_fn name is
    that of the last view PyTorch would chain (select, slice, unsqueeze or alias)."""

    formulas = {"self": "1 at the indexed positions, else 0"}
    is_view = True
    array_backward = True  # (put takes arrays)

    def forward(ctx, a, idx):
        return a[idx]  # idx ends with Ellipsis, so even a full int index gives a 0-d view

    def backward(ctx, grad):
        shape, idx = ctx.metas[0][0], ctx.args[0]
        if _takes_all(idx, shape, grad):  # x[:n] of n rows (a position table): grad itself
            return grad
        return put(grad, shape, idx, False, False)


def _takes_all(idx, shape, grad):
    """Whether a basic index (its slices, then Ellipsis) takes every element of ``shape`` in
    order, so that its gradient needs no zeros to write into."""
    if array_of(grad).shape != shape:
        return False
    for i, s in enumerate(idx):
        if s is Ellipsis:
            return i == len(idx) - 1
        if s.__class__ is not slice or s.indices(shape[i]) != (0, shape[i], 1):
            return False
    return True


def _basic_variant(name):
    return _unregistered(type(name, (BasicIndex,), {}), name)


BASIC_INDEX = {n: _basic_variant(n) for n in (
    "SelectBackward0", "SliceBackward0", "UnsqueezeBackward0", "AliasBackward0"
)}
Select, Slice = BASIC_INDEX["SelectBackward0"], BASIC_INDEX["SliceBackward0"]


def write(out, idx, advanced, v, accumulate):
    """``out[idx] = v`` (or ``+=`` with repeats accumulating) for a parsed index: a basic
    tuple, or for advanced indices ``(pre, post)`` meaning ``out[pre][post]``."""
    if advanced:
        pre, post = idx
        if accumulate:
            if out.dtype.kind == "f":
                out += accumulated(out.shape, out.dtype, idx, v)
            else:
                xp.add.at(atleast1(out if pre is None else out[pre]), post, v)
        else:
            atleast1(out if pre is None else out[pre])[post] = v
    elif accumulate:
        out[idx] += v
    else:
        out[idx] = v


def atleast1(a):
    """A 0-d array as a 1-element view: gather/scatter treat a scalar tensor as 1-d."""
    return a.reshape(1) if a.ndim == 0 else a


def accumulated(shape, dtype, idx, v):
    """zeros(shape) with ``v`` added at the advanced index ``idx``, repeats summing.

    One ``bincount`` over the flat positions the index names: several times faster than
    ``xp.add.at`` (the backward of every gather-like op runs through here)."""
    pre, post = idx
    size = 1
    for s in shape:
        size *= s
    pos = xp.arange(size).reshape(shape)
    if pre is not None:
        pos = pos[pre]
    pos = atleast1(pos)[post]
    w = xp.broadcast_to(v, pos.shape).ravel()
    return xp.bincount(pos.ravel(), weights=w, minlength=size).reshape(shape).astype(dtype, copy=False)


class IndexPutImpl(Op):
    """The gradient of an index: zeros of the operand's shape with ``g`` put (or, for
    advanced indices that may repeat, scatter-added) at ``idx``. Its own gradient is the
    index again."""

    node_name = "IndexPutImplBackward0"
    formulas = {"self": "1 at the indexed positions"}
    array_backward = True  # (index_with takes arrays)

    def forward(ctx, g, shape, idx, advanced, accumulate):
        if accumulate and advanced and g.dtype.kind == "f":
            return accumulated(shape, g.dtype, idx, g)
        out = xp.zeros(shape, g.dtype)
        write(out, idx, advanced, g, accumulate)
        return out

    def backward(ctx, grad):
        _, idx, advanced, _ = ctx.args
        return index_with(grad, idx, advanced)


def put(g, shape, idx, advanced=True, accumulate=True):
    """zeros(shape) with ``g`` written or added (``accumulate``) at a parsed index: the
    gradient of every indexing op, so on an array (a rule the engine runs on arrays) it is
    the array alone."""
    if isinstance(g, Tensor):
        return apply(IndexPutImpl, (g,), (g._data,), (shape, idx, advanced, accumulate))
    return IndexPutImpl.forward(None, g, shape, idx, advanced, accumulate)


def index_with(x, idx, advanced):
    """``x[idx]`` for an already-validated index (the backward of ``put``): recorded on a
    Tensor, the array's own index in a rule the engine runs on arrays."""
    if advanced:
        from .indexing import Index

        return call1(Index, x, (idx,))
    return call1(Slice, x, (idx,))


def select(input, dim, index):
    a = input._data
    if a.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, a.ndim)
    n = a.shape[d]
    if not -n <= index < n:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(a.shape)} at dimension {d}"
        )
    return apply(Select, (input,), (a,), ((slice(None),) * d + (int(index), Ellipsis),))


def narrow(input, dim, start, length):
    a = input._data
    d = _wrap_dim(dim, a.ndim)
    n = a.shape[d]
    start = int(start)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if start < 0:
        start += n
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return apply(Slice, (input,), (a,), ((slice(None),) * d + (slice(start, start + length),),))


# ---- several outputs from one node: split, chunk, unbind ----------------------------------
class _MultiNode(Node):
    __slots__ = ("n_outputs",)


def apply_multi(op, input, outs, args=()):
    """Record one node for ``outs`` (views of ``input`` from ``op``), every output
    differentiable: output i reaches the node through the edge ``(node, i)``. As in
    PyTorch, the pieces cannot be modified in place while autograd records (no view chain
    is kept for them)."""
    results = tuple(Tensor._make(o) for o in outs)
    for r in results:
        _mark_view(r, input)
    if not (state.enabled and input._requires_grad):
        return results
    node = _MultiNode(op)
    node.args = args
    node.n_outputs = len(results)
    node.edges = [grad_edge(input)]
    node.metas = [(input._data.shape, input._data.dtype)]
    node.extra = [r._data.shape for r in results]
    if anomaly_mode.state.enabled:
        anomaly_mode.record(node)
    for i, r in enumerate(results):
        r._requires_grad = True
        r.grad_fn = node
        r._extras()["output_nr"] = i
    return results


def _filled(ctx, grads):
    """The output gradients, zeros where an output got none, and whether they are Tensors
    (else arrays or NumPy scalars: the engine runs these rules on arrays when it can)."""
    dtype = ctx.metas[0][1]
    tensors = any(isinstance(g, Tensor) for g in grads)
    zeros = Tensor._make if tensors else xp.asarray
    return [g if g is not None else zeros(xp.zeros(s, dtype)) for g, s in zip(grads, ctx.extra)], \
        tensors


class Split(Op):
    node_name = "SplitBackward0"
    formulas = {"self": "1 (the pieces' gradients concatenated)"}
    is_view = True
    multi_output = True
    array_backward = True

    def backward(ctx, grads):
        parts, tensors = _filled(ctx, grads)
        return cat(parts, ctx.args[0]) if tensors else xp.concatenate(parts, ctx.args[0])


class SplitWithSizes(Split):
    node_name = "SplitWithSizesBackward0"


class Unbind(Op):
    node_name = "UnbindBackward0"
    formulas = {"self": "1 (the slices' gradients stacked)"}
    is_view = True
    multi_output = True

    array_backward = True

    def backward(ctx, grads):
        parts, tensors = _filled(ctx, grads)
        return stack(parts, ctx.args[0]) if tensors else xp.stack(parts, ctx.args[0])


def _pieces(a, d, sizes):
    out, start, lead = [], 0, (slice(None),) * d
    for s in sizes:
        out.append(a[lead + (slice(start, start + s), Ellipsis)])
        start += s
    return out


def split(tensor, split_size_or_sections, dim=0):
    a = tensor._data
    d = _wrap_dim(dim, a.ndim)
    n = a.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
        if size == 0:
            if n:
                raise RuntimeError(
                    f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}"
                )
            sizes = [0]
        else:
            sizes = [size] * (n // size) + ([n % size] if n % size else [])
            if not sizes:
                sizes = [0]
        op = Split
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={sizes}"
            )
        op = SplitWithSizes
    return apply_multi(op, tensor, _pieces(a, d, sizes), (d,))


def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    a = input._data
    d = _wrap_dim(dim, a.ndim)
    n = a.shape[d]
    return split(input, max(1, math.ceil(n / chunks)) if n else 0, d)


def unbind(input, dim=0):
    a = input._data
    if a.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = _wrap_dim(dim, a.ndim)
    lead = (slice(None),) * d
    # Ellipsis keeps a 1-d input's pieces 0-d views rather than NumPy scalars
    return apply_multi(Unbind, input, [a[lead + (i, Ellipsis)] for i in range(a.shape[d])], (d,))


def tensor_split(input, indices_or_sections, dim=0):
    """Each piece is its own slice (PyTorch records SliceBackward0 for each)."""
    a = input._data
    d = _wrap_dim(dim, a.ndim)
    n = a.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        q, r = divmod(n, k)
        bounds, start = [], 0
        for i in range(k):
            start += q + (i < r)
            bounds.append(start)
        bounds = bounds[:-1]
    else:
        bounds = [int(i) for i in indices_or_sections]
    lead = (slice(None),) * d
    edges = [0] + bounds + [n]
    out = []
    for i in range(len(edges) - 1):
        lo = min(max(edges[i], 0), n)
        hi = max(min(edges[i + 1], n), lo)  # out-of-order indices give empty pieces
        out.append(apply(Slice, (input,), (a,), (lead + (slice(lo, hi),),)))
    return tuple(out)


# ---- joining ----------------------------------------------------------------------------
class Cat(Op):
    node_name = "CatBackward0"
    operands = ("tensors",)
    formulas = {"tensors": "1 (the matching slice of the gradient)"}
    array_backward = True

    def forward(ctx, *arrays):
        *arrays, dim, sizes = arrays
        if ctx is not None and sizes is None:
            ctx.extra = [a.shape[dim] for a in arrays]
        return xp.concatenate(arrays, axis=dim)

    def backward(ctx, grad):
        dim, sizes = ctx.args
        if sizes is None:
            sizes = ctx.extra
        kept = [s for s in sizes if s is not None]
        if isinstance(grad, Tensor):
            pieces, empty = iter(split(grad, kept, dim)), Tensor._make(xp.zeros((0,), grad._data.dtype))
        else:  # a rule run on arrays: views of the gradient
            bounds, at = [], 0
            for s in kept[:-1]:
                at += s
                bounds.append(at)
            pieces, empty = iter(xp.split(grad, bounds, axis=dim)), xp.zeros((0,), grad.dtype)
        return tuple(next(pieces) if s is not None else empty for s in sizes)


def _tensor_list(tensors, name):
    if isinstance(tensors, Tensor):
        raise TypeError(
            f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor"
        )
    tensors = list(tensors)
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(
                f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, but found "
                f"element of type {type(x).__name__} at pos {i}"
            )
    return tensors


def _legacy_empty(x):
    return x._data.ndim == 1 and x._data.shape[0] == 0


def _plain(tensors, same_shape):
    """One dtype, one rank (or shape), no legacy empties: the common case, checked cheaply."""
    a0 = tensors[0]._data
    if a0.ndim < 2 and not (a0.ndim == 1 and a0.shape[0]):
        return False
    for x in tensors:
        a = x._data
        if a.dtype != a0.dtype or (a.shape != a0.shape if same_shape else a.ndim != a0.ndim):
            return False
        if a.ndim == 1 and not a.shape[0]:
            return False
    return True


def cat(tensors, dim=0, *, out=None):
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    if _plain(tensors, False):
        nd = tensors[0]._data.ndim
        d = dim if 0 <= dim < nd else _wrap_dim(dim, nd)
        try:
            return apply(Cat, tensors, [x._data for x in tensors], (d, None))
        except ValueError:
            pass  # a size mismatch: the checks below raise PyTorch's message
    for i, x in enumerate(tensors):
        if x._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    npd = (_dtype.result_type(*tensors) if len(tensors) > 1 else tensors[0].dtype).np
    # PyTorch still skips 1-D empty tensors whatever the other shapes (a legacy rule).
    real = [x for x in tensors if not _legacy_empty(x)]
    if not real:
        real, d, sizes = tensors, 0, [0] * len(tensors)
    else:
        ref = real[0]._data.shape
        d = _wrap_dim(dim, len(ref))
        sizes = []
        for i, x in enumerate(tensors):
            s = x._data.shape
            if _legacy_empty(x):
                sizes.append(None)
                continue
            if len(s) != len(ref):
                raise RuntimeError(
                    f"Tensors must have same number of dimensions: got {len(ref)} and {len(s)}"
                )
            for k in range(len(ref)):
                if k != d and s[k] != ref[k]:
                    raise RuntimeError(
                        f"Sizes of tensors must match except in dimension {d}. Expected size "
                        f"{ref[k]} but got size {s[k]} for tensor number {i} in the list."
                    )
            sizes.append(s[d])
    arrays = [x._data if x._data.dtype == npd else x._data.astype(npd) for x in real]
    return apply(Cat, tensors, arrays, (d, sizes))


concat = concatenate = cat


class Stack(Op):
    node_name = "StackBackward0"
    operands = ("tensors",)
    formulas = {"tensors": "1 (the matching slice of the gradient)"}
    array_backward = True

    def forward(ctx, *arrays):
        *arrays, dim = arrays
        # filling one buffer is several times cheaper than xp.stack's per-array reshapes
        a0 = arrays[0]
        out = xp.empty(a0.shape[:dim] + (len(arrays),) + a0.shape[dim:], a0.dtype)
        lead = (slice(None),) * dim
        for i, a in enumerate(arrays):
            out[lead + (i,)] = a
        return out

    def backward(ctx, grad):
        if isinstance(grad, Tensor):
            return grad.unbind(ctx.args[0])
        return tuple(xp.moveaxis(grad, ctx.args[0], 0))  # (views; 0-d pieces: NumPy scalars)


def stack(tensors, dim=0, *, out=None):
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    ref = tensors[0]._data.shape
    if _plain(tensors, True):
        nd = len(ref) + 1
        d = dim if 0 <= dim < nd else _wrap_dim(dim, nd)
        return apply(Stack, tensors, [x._data for x in tensors], (d,))
    for i, x in enumerate(tensors):
        if x._data.shape != ref:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(ref)} at entry 0 and "
                f"{list(x._data.shape)} at entry {i}"
            )
    d = _wrap_dim(dim, len(ref) + 1)
    npd = (_dtype.result_type(*tensors) if len(tensors) > 1 else tensors[0].dtype).np
    arrays = [x._data if x._data.dtype == npd else x._data.astype(npd) for x in tensors]
    return apply(Stack, tensors, arrays, (d,))


def hstack(tensors, *, out=None):
    tensors = _tensor_list(tensors, "hstack")
    if tensors and all(x._data.ndim == 1 for x in tensors):
        return cat(tensors, 0)
    return cat([x if x._data.ndim else reshape(x, 1) for x in tensors], 1)


def vstack(tensors, *, out=None):
    tensors = _tensor_list(tensors, "vstack")
    return cat([x if x._data.ndim >= 2 else reshape(x, 1, -1) for x in tensors], 0)


# ---- Tensor methods ---------------------------------------------------------------------
for _name, _fn in [
    ("reshape", reshape), ("view", view), ("view_as", view_as), ("reshape_as", reshape_as),
    ("flatten", flatten), ("unflatten", unflatten), ("ravel", ravel), ("squeeze", squeeze),
    ("unsqueeze", unsqueeze), ("permute", permute), ("transpose", transpose),
    ("swapaxes", transpose), ("swapdims", transpose), ("t", t), ("adjoint", adjoint),
    ("movedim", movedim), ("moveaxis", movedim), ("expand", expand), ("expand_as", expand_as),
    ("broadcast_to", broadcast_to), ("repeat", repeat), ("tile", tile), ("flip", flip),
    ("fliplr", fliplr), ("flipud", flipud), ("roll", roll), ("tril", tril), ("triu", triu),
    ("diagonal", diagonal), ("diag", diag), ("diag_embed", diag_embed), ("unfold", unfold),
    ("repeat_interleave", repeat_interleave),
    ("select", select), ("narrow", narrow), ("split", split), ("chunk", chunk),
    ("unbind", unbind), ("tensor_split", tensor_split),
]:
    method(_name)(_fn)

Tensor.T = property(_T)
Tensor.mT = property(_mT)
Tensor.mH = property(_mT)  # real-valued: the conjugate is the tensor itself
Tensor.H = property(_H)
