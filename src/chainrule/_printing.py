"""repr/str of tensors, character for character as PyTorch 2.13 prints them.

The layout rules (PyTorch's ``torch/_tensor_str.py``), reimplemented over ndarrays:

* One formatter per tensor decides, from all the (summarised) values, between int mode
  (every finite float is integral: ``1.``), fixed (``precision`` decimals) and scientific
  (max/min of the nonzero finite magnitudes > 1000, max > 1e8, or — outside int mode —
  min < 1e-4). Every element is right-aligned to the widest one.
* Rows wrap at ``linewidth``; nested dimensions get brackets, ``,`` plus ``dim-1``
  newlines between slices and one more space of indent per level.
* Above ``threshold`` elements, each dimension longer than ``2*edgeitems`` shows only its
  first and last ``edgeitems`` entries around ``...``.
* Suffixes: ``size=`` (empty non-1-d tensors), ``dtype=`` (unless float default, int64 or
  bool; always for empty tensors not of the default float), then ``grad_fn=<...>`` or
  ``requires_grad=True``, moved to a new line when they would overrun ``linewidth``.
"""
import contextlib
import math

from . import _dtype
from ._backend import xp


class _PrintOptions:
    __slots__ = ("edgeitems", "linewidth", "precision", "sci_mode", "threshold")

    def __init__(self):
        self.precision = 4
        self.threshold = 1000
        self.edgeitems = 3
        self.linewidth = 80
        self.sci_mode = None


PRINT_OPTS = _PrintOptions()

_PROFILES = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """PyTorch's semantics: a profile sets all four numbers first, explicit arguments win,
    and ``sci_mode`` is always assigned (None means: let the formatter decide)."""
    if profile is not None:
        if profile not in _PROFILES:
            return  # PyTorch silently ignores unknown profiles
        (PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems,
         PRINT_OPTS.linewidth) = _PROFILES[profile]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    return {name: getattr(PRINT_OPTS, name) for name in _PrintOptions.__slots__}


@contextlib.contextmanager
def printoptions(**kwargs):
    """Temporarily change the print options (``torch._tensor_str.printoptions``)."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


def type_name(t):
    return "torch." + t.dtype._short + "Tensor"


# ---- the formatter --------------------------------------------------------------------
class _Formatter:
    """Chooses int / fixed / scientific mode and the common width from the values shown."""

    __slots__ = ("floating", "int_mode", "max_width", "precision", "sci_mode")

    def __init__(self, values):
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        self.precision = p = PRINT_OPTS.precision
        flat = values.reshape(-1)
        if not self.floating:
            if flat.size:
                self.max_width = max(len(_plain(v)) for v in flat.tolist())
        else:
            vals = flat.astype(xp.float64)
            vals = vals[xp.isfinite(vals) & (vals != 0)]
            if vals.size:
                mags = xp.abs(vals)
                lo, hi = float(mags.min()), float(mags.max())
                vlist = vals.tolist()
                self.int_mode = bool((vals == xp.ceil(vals)).all())
                sci = PRINT_OPTS.sci_mode
                if sci is None:  # (a forced mode applies only when some value is finite, nonzero)
                    sci = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
                self.sci_mode = sci
                if sci:
                    self.max_width = max(len(f"{v:.{p}e}") for v in vlist)
                elif self.int_mode:  # room for the trailing "."
                    self.max_width = max(len(f"{v:.0f}") + 1 for v in vlist)
                else:
                    self.max_width = max(len(f"{v:.{p}f}") for v in vlist)

    def format(self, v):
        if self.floating:
            if self.sci_mode:
                s = f"{v:{self.max_width}.{self.precision}e}"
            elif self.int_mode:
                s = f"{v:.0f}"
                if not (math.isinf(v) or math.isnan(v)):
                    s += "."
            else:
                s = f"{v:.{self.precision}f}"
        else:
            s = _plain(v)
        return s.rjust(self.max_width)


def _plain(v):
    return str(v)


# ---- layout -----------------------------------------------------------------------------
def _summarized(a, edge):
    """The values that will be shown (the formatter's width depends only on those)."""
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        # (with edge == 0, PyTorch's a[-0:] is the whole row; kept for identical widths)
        return xp.concatenate((a[:edge], a[-edge:])) if a.shape[0] > 2 * edge else a
    if not edge:
        return a[:0]
    if a.shape[0] > 2 * edge:
        a = xp.concatenate((a[:edge], a[-edge:]))
    return xp.stack([_summarized(x, edge) for x in a])


def _vector_str(a, indent, summarize, fmt):
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (fmt.max_width + 2)))
    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        data = ([fmt.format(v) for v in a[:edge].tolist()] + [" ..."]
                + [fmt.format(v) for v in a[-edge:].tolist()])
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(a, indent, summarize, fmt):
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    edge = PRINT_OPTS.edgeitems
    n = a.shape[0]
    if summarize and n > 2 * edge:
        rows = list(range(edge)) + [None] + list(range(n - edge, n))
    else:
        rows = range(n)
    slices = ["..." if i is None else _nested_str(a[i], indent + 1, summarize, fmt) for i in rows]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def array_str(a, indent=7):
    """The bracketed body of a non-empty array as PyTorch lays it out at ``indent``."""
    if a.size == 0:
        return "[]"
    summarize = a.size > PRINT_OPTS.threshold
    if a.dtype == xp.float16:
        a = a.astype(xp.float32)
    fmt = _Formatter(_summarized(a, PRINT_OPTS.edgeitems) if summarize else a)
    return _nested_str(a, indent, summarize, fmt)


def _add_suffixes(body, suffixes, indent):
    parts = [body]
    last_line_len = len(body) - body.rfind("\n") + 1  # PyTorch's own arithmetic, kept exactly
    for s in suffixes:
        if last_line_len + len(s) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + s)
            last_line_len = indent + len(s)
        else:
            parts.append(", " + s)
            last_line_len += len(s) + 2
    parts.append(")")
    return "".join(parts)


_ALWAYS_IMPLIED = (_dtype.int64, _dtype.bool_)


def tensor_repr(t, prefix="tensor(", tensor_contents=None):
    """``repr(t)``; ``prefix`` opens it (``nn.Parameter`` builds ``Parameter containing:\\n``
    + ``tensor_repr(p)``), ``tensor_contents`` replaces the bracketed body as in PyTorch."""
    a = t._data
    dt = t.dtype
    indent = len(prefix)
    suffixes = []
    default = _dtype.defaults.float
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if dt is not default:
            suffixes.append(f"dtype={dt}")
        body = "[]" if tensor_contents is None else tensor_contents
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(a.shape)}")
        if dt is not default and dt not in _ALWAYS_IMPLIED:
            suffixes.append(f"dtype={dt}")
        body = array_str(a, indent) if tensor_contents is None else tensor_contents
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name().rsplit('::', 1)[-1]}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
