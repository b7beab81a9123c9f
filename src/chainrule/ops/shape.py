"""Shape and indexing ops: views and copies that move elements without changing them."""
from .._backend import xp
from .._tensor import Tensor
from ..autograd.graph import apply
from ._core import Op, method

__all__ = ["reshape", "broadcast_to"]


def _size_args(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def _infer_shape(shape, numel, opname="view"):
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class Reshape(Op):
    node_name = "ViewBackward0"
    formulas = {"self": "1 (reshaped)"}
    is_view = True

    def forward(ctx, a, shape):
        return a.reshape(shape)

    def backward(ctx, grad):
        return grad.reshape(ctx.metas[0][0])


class ReshapeAlias(Reshape):
    node_name = "UnsafeViewBackward0"


def reshape(input, *shape):
    shape = _infer_shape(_size_args(shape), input._data.size)
    op = Reshape if input._data.flags.c_contiguous else ReshapeAlias
    return apply(op, (input,), (input._data,), (shape,))


def view(self, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
        return self.to(shape[0])  # view(dtype) reinterprets in PyTorch; we convert
    shape = _infer_shape(_size_args(shape), self._data.size)
    if not self._data.flags.c_contiguous and self._data.size > 1:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        )
    return apply(Reshape, (self,), (self._data,), (shape,))


class Expand(Op):
    node_name = "ExpandBackward0"
    formulas = {"self": "1 (summed over broadcast dims)"}
    is_view = True

    def forward(ctx, a, shape):
        return xp.broadcast_to(a, shape)

    def backward(ctx, grad):
        return grad.sum_to_size(ctx.metas[0][0])


def expand(self, *sizes):
    sizes = _size_args(sizes)
    a = self._data
    if len(sizes) < a.ndim:
        raise RuntimeError(
            f"expand(torch.FloatTensor{{{list(a.shape)}}}, size={list(sizes)}): the number of "
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
    if shape == a.shape:
        return apply(Expand, (self,), (a,), (shape,)) if self._requires_grad else self
    return apply(Expand, (self,), (a,), (shape,))


def broadcast_to(input, size):
    return expand(input, *size)


method("reshape")(reshape)
method("view")(view)
method("expand")(expand)
method("broadcast_to")(broadcast_to)
