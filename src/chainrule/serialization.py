"""chainrule.save / chainrule.load: checkpoints in the safetensors format, never pickle.

What differs from PyTorch: the file is safetensors, not a zip of pickles, so only tensors
and plain data can be saved: (nested) dicts, lists and tuples whose leaves are tensors,
numbers, strings, booleans or None. Tensors are stored under their dotted path
(``state.0.exp_avg``); everything else goes, as JSON, into the file's ``__metadata__`` with
a description of the structure, so that ``load`` rebuilds the same nested object (int keys
and tuples included). A flat dict of tensors (a model's state_dict) is an ordinary
safetensors file: ``safetensors.torch.load_file`` reads it, and files written by
``safetensors.torch.save_file`` load here as flat dicts.

Files are validated before any bytes reach the safetensors parser (header size and JSON,
dtypes, shapes against byte lengths, offsets that tile the data exactly); a bad file raises
``ValueError`` naming the problem and loads nothing. Writes are atomic: a temporary file in
the target directory, fsync, then ``os.replace``.
"""
import json
import os
import tempfile
from collections import Counter

from . import _dtype
from ._backend import xp
from ._tensor import Tensor

__all__ = ["load", "save"]

MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header
_META_KEY = "chainrule"

_ST_DTYPES = {  # safetensors dtype -> NumPy dtype (the ones chainrule has)
    "F32": "float32", "F64": "float64", "F16": "float16", "I64": "int64", "I32": "int32",
    "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool",
}


# ---- save -------------------------------------------------------------------------------
def _encode(obj, path, tensors):
    """obj as JSON-able structure; tensors are replaced by {"T": flat_key} and collected."""
    if isinstance(obj, Tensor):
        key = ".".join(path) or "tensor"
        if key in tensors:
            raise ValueError(f"chainrule.save: two entries flatten to the same key {key!r}")
        if obj._data.dtype not in _dtype._FROM_NP:
            raise TypeError(f"chainrule.save: unsupported tensor dtype {obj._data.dtype}")
        a = obj._data
        tensors[key] = a if a.flags.c_contiguous else a.copy(order="C")  # keeps 0-d as 0-d
        return {"T": key}
    if isinstance(obj, dict):
        tag = "C" if isinstance(obj, Counter) else "D"  # MultiStepLR keeps a Counter
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int, float, bool)) and k is not None:
                raise TypeError(
                    f"chainrule.save: dict keys must be str, int, float, bool or None, not "
                    f"{type(k).__name__}"
                )
            items.append([k, _encode(v, path + [str(k)], tensors)])
        return {tag: items}
    if isinstance(obj, (list, tuple)):
        enc = [_encode(v, path + [str(i)], tensors) for i, v in enumerate(obj)]
        return {"L" if isinstance(obj, list) else "U": enc}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"V": obj}
    if isinstance(obj, xp.generic) and obj.dtype.kind in "biuf":  # a NumPy scalar
        return {"V": obj.item()}
    if isinstance(obj, _dtype.dtype):
        return {"dtype": obj.name}
    raise TypeError(
        f"chainrule.save cannot store an object of type {type(obj).__name__}: checkpoints hold "
        "tensors and plain data (dicts, lists, tuples, numbers, strings, None), never pickles"
    )


def save(obj, f, *args, **kwargs):
    """Write ``obj`` to the path (or binary file object) ``f`` as safetensors."""
    from safetensors.numpy import save as st_save

    tensors = {}
    structure = _encode(obj, [], tensors)
    meta = {"format": "pt", _META_KEY: json.dumps(structure)}
    data = st_save(tensors, metadata=meta)
    if hasattr(f, "write"):
        f.write(data)
        return
    _atomic_write(os.fspath(f), data)


def _atomic_write(path, data):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


# ---- load -------------------------------------------------------------------------------
def _bad(where, msg):
    return ValueError(f"chainrule.load: {where}: {msg}")


def validate(data, where="<bytes>"):
    """Check a safetensors byte string; return (header dict, metadata dict). Raises
    ValueError naming the first problem found."""
    size = len(data)
    if size < 8:
        raise _bad(where, f"file is {size} bytes, too short for a safetensors header")
    n = int.from_bytes(data[:8], "little")
    if n > MAX_HEADER:
        raise _bad(where, f"header length {n} exceeds the {MAX_HEADER}-byte limit")
    if 8 + n > size:
        raise _bad(where, f"header length {n} points past the end of the file ({size} bytes)")
    try:
        header = json.loads(bytes(data[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise _bad(where, f"header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise _bad(where, f"header must be a JSON object, got {type(header).__name__}")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
    ):
        raise _bad(where, "__metadata__ must map strings to strings")
    data_len = size - 8 - n
    spans = []
    for name, info in header.items():
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
            raise _bad(where, f"tensor {name!r}: entry needs dtype, shape and data_offsets")
        dt = info["dtype"]
        if dt not in _ST_DTYPES:
            raise _bad(where, f"tensor {name!r}: unknown or unsupported dtype {dt!r}")
        shape = info["shape"]
        if not isinstance(shape, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
        ):
            raise _bad(where, f"tensor {name!r}: shape {shape!r} is not a list of sizes")
        offs = info["data_offsets"]
        if (not isinstance(offs, list) or len(offs) != 2
                or not all(isinstance(o, int) and not isinstance(o, bool) for o in offs)):
            raise _bad(where, f"tensor {name!r}: data_offsets {offs!r} is not [begin, end]")
        begin, end = offs
        if not 0 <= begin <= end <= data_len:
            raise _bad(
                where,
                f"tensor {name!r}: data_offsets [{begin}, {end}] lie outside the data section "
                f"({data_len} bytes)",
            )
        numel = 1
        for s in shape:
            numel *= s
        nbytes = numel * xp.dtype(_ST_DTYPES[dt]).itemsize
        if nbytes != end - begin:
            raise _bad(
                where,
                f"tensor {name!r}: shape {shape} x {dt} is {nbytes} bytes but its data_offsets "
                f"span {end - begin}",
            )
        spans.append((begin, end, name))
    spans.sort()
    pos = 0
    for begin, end, name in spans:
        if begin < pos:
            raise _bad(where, f"tensor {name!r}: data_offsets [{begin}, {end}] overlap another "
                              "tensor's bytes")
        if begin > pos:
            raise _bad(where, f"bytes {pos}..{begin} of the data section belong to no tensor")
        pos = end
    if pos != data_len:
        raise _bad(where, f"bytes {pos}..{data_len} of the data section belong to no tensor")
    return header, meta


def _decode(node, tensors, where):
    try:
        (tag, val), = node.items()
    except (AttributeError, ValueError):
        raise _bad(where, "corrupt chainrule structure in __metadata__") from None
    if tag == "T":
        if val not in tensors:
            raise _bad(where, f"__metadata__ refers to a missing tensor {val!r}")
        return tensors[val]
    if tag in ("D", "C"):
        d = {k: _decode(v, tensors, where) for k, v in val}
        return Counter(d) if tag == "C" else d
    if tag == "L":
        return [_decode(v, tensors, where) for v in val]
    if tag == "U":
        return tuple(_decode(v, tensors, where) for v in val)
    if tag == "V":
        return val
    if tag == "dtype":
        return _dtype._by_name(val)
    raise _bad(where, f"corrupt chainrule structure in __metadata__ (tag {tag!r})")


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **kwargs):
    """Read a checkpoint written by ``save`` (the nested object) or any safetensors file
    (a flat dict of tensors). ``map_location``/``weights_only``/``mmap`` are accepted and
    ignored: there is one device, and nothing is ever unpickled."""
    if hasattr(f, "read"):
        data, where = f.read(), getattr(f, "name", "<file>")
    else:
        where = os.fspath(f)
        with open(where, "rb") as fh:
            data = fh.read()
    header, meta = validate(data, where)
    from safetensors.numpy import load as st_load

    arrays = st_load(bytes(data))
    tensors = {k: Tensor._make(xp.array(a)) for k, a in arrays.items()}
    if _META_KEY in meta:
        try:
            structure = json.loads(meta[_META_KEY])
        except ValueError as e:
            raise _bad(where, f"chainrule structure in __metadata__ is not JSON ({e})") from None
        return _decode(structure, tensors, where)
    # a plain safetensors file: tensors in file order
    order = sorted(header, key=lambda k: header[k]["data_offsets"])
    return {k: tensors[k] for k in order}
