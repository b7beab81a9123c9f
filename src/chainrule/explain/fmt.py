"""Numbers, shapes and formulas as short strings, shared by every view."""
import re

from .core import CONST, LEAF

SMALL = 12  # tensors with at most this many elements are printed in full


def num(x):
    """A number the way a person writes it: 1, -2, 0.3333, 1.5e-07."""
    if isinstance(x, bool):
        return str(x)
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    if f == 0:
        return "0"
    s = format(f, ".4g")
    return s


def shape(s):
    return "[" + ", ".join(str(d) for d in s) + "]" if s is not None else "[?]"


def value(a, small=SMALL):
    """A value: a number, a small tensor in full, or its shape."""
    if a is None:
        return "?"
    if not hasattr(a, "shape"):
        return num(a)
    if a.ndim == 0:
        return num(a.item())
    if a.size <= small:
        return _nested(a.tolist())
    return f"tensor{shape(a.shape)}"


def _nested(x):
    if isinstance(x, list):
        return "[" + ", ".join(_nested(i) for i in x) + "]"
    return num(x)


def is_scalar(a):
    return a is not None and (not hasattr(a, "shape") or a.size == 1)


def local(edge, small=36):
    """The local derivative's value: a number, a small Jacobian, or its size."""
    loc = edge.local
    if loc is None:
        return None
    if not hasattr(loc, "shape"):
        return num(loc)
    if loc.size <= small:
        return "J=" + _nested(loc.tolist())
    return f"J[{loc.shape[0]}×{loc.shape[1]}]"


def formula(edge):
    """The registered formula with operand names replaced by the names in this graph."""
    f = edge.formula
    if not f:
        return None
    dst = edge.dst
    subs = {e.operand: e.src.label for e in dst.inputs}
    node = dst.node
    args = getattr(node, "args", None) or ()
    operands = getattr(node.op, "operands", ()) if node is not None else ()
    # PowBackward0's exponent (and alpha) are arguments, not operands: show their value.
    if len(args) == 1 and isinstance(args[0], (int, float)):
        for word in ("exponent", "alpha"):
            if word not in operands:
                subs.setdefault(word, num(args[0]))
    if not args:
        subs.setdefault("alpha", "1")  # add/sub record no alpha argument when it is 1
    subs.setdefault("result", dst.label)
    return _simplify(_WORD.sub(lambda m: subs.get(m.group(0), m.group(0)), f))


# ASCII identifiers only, so that 'selfᵀ' still names the operand 'self'
_WORD = re.compile(r"(?<![A-Za-z0-9_%.])[A-Za-z_][A-Za-z0-9_]*")


_POW = re.compile(r"\^\((-?\d+(?:\.\d+)?) − 1\)")


def _simplify(f):
    """'2 · s^(2 − 1)' -> '2 · s': fold a known exponent."""
    if "−" not in f:
        return f
    def fold(m):
        e = float(m.group(1)) - 1
        return "" if e == 1 else "^" + num(e)

    return _POW.sub(fold, f)


def kind_word(v):
    if v.kind == LEAF:
        return "leaf, requires grad" if v.requires_grad else "leaf"
    if v.kind == CONST:
        return "constant"
    return v.short
