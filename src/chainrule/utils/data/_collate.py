"""default_collate / default_convert: samples into batches, PyTorch's type rules."""
import collections.abc

from ..._backend import ndarray, xp
from ..._tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_ERR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
    "found {}"
)


def _np_ok(arr):
    # string/object arrays have no tensor dtype
    return arr.dtype.kind not in "USO"


def _stack(arrays):
    return Tensor._make(xp.stack(arrays))


def default_collate(batch):
    """Stack a list of samples into a batch.

    Tensors are stacked along a new first dimension (outside autograd: the batch does not
    record a graph back to the samples); NumPy arrays and scalars become tensors of their
    dtype; Python floats become float64, ints int64, bools bool; strings stay as given;
    mappings, named tuples and sequences are collated field by field (tuples come back as
    lists, as in PyTorch).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([t._data for t in batch])
    if isinstance(elem, ndarray):
        if not _np_ok(elem):
            raise TypeError(_ERR.format(elem.dtype))
        return _stack(list(batch))
    if isinstance(elem, xp.generic) and not isinstance(elem, (xp.str_, xp.bytes_)):
        return Tensor._make(xp.array(list(batch)))
    if isinstance(elem, bool):
        return Tensor._make(xp.array(batch, dtype=xp.bool_))
    if isinstance(elem, int):
        return Tensor._make(xp.array(batch, dtype=xp.int64))
    if isinstance(elem, float):
        return Tensor._make(xp.array(batch, dtype=xp.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        out = {k: default_collate([d[k] for d in batch]) for k in elem}
        try:
            return type(elem)(out)
        except TypeError:
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        n = len(elem)
        if any(len(e) != n for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(s) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return fields
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data):
    """What an unbatched DataLoader (``batch_size=None``) applies: arrays to tensors."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, ndarray):
        return Tensor._make(data) if _np_ok(data) else data
    if isinstance(data, xp.generic) and not isinstance(data, (xp.str_, xp.bytes_)):
        return Tensor._make(xp.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data

