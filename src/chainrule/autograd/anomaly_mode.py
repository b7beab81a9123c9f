"""Anomaly detection: find the op where NaN/inf first appeared, and where the user called it.

Like PyTorch's ``detect_anomaly``: while enabled, every recorded node remembers the user's
stack at forward time, and the first backward rule that returns a non-finite value raises
an error naming the node. Unlike PyTorch, the error message itself carries the user's line
(PyTorch prints it in a separate warning), and ``check_forward=True`` also stops at the
first op whose *forward* output is non-finite — usually the real culprit.
"""
import functools
import traceback


class _State:
    __slots__ = ("check_forward", "check_nan", "enabled")

    def __init__(self):
        self.enabled = False
        self.check_nan = True
        self.check_forward = False


state = _State()


def is_anomaly_enabled():
    return state.enabled


def is_anomaly_check_nan_enabled():
    return state.check_nan


class detect_anomaly:
    """Context manager / decorator turning anomaly detection on."""

    def __init__(self, check_nan=True, check_forward=False):
        self.mode = (True, check_nan, check_forward)

    def __enter__(self):
        self.prev = (state.enabled, state.check_nan, state.check_forward)
        state.enabled, state.check_nan, state.check_forward = self.mode
        return self

    def __exit__(self, *exc):
        state.enabled, state.check_nan, state.check_forward = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*a, **k):
            with detect_anomaly(*self.mode[1:]):
                return fn(*a, **k)

        return wrapper


class set_detect_anomaly:
    """Turns anomaly detection on or off at once; also usable as a context manager."""

    def __init__(self, mode, check_nan=True, check_forward=False):
        self.prev = (state.enabled, state.check_nan, state.check_forward)
        state.enabled, state.check_nan, state.check_forward = bool(mode), check_nan, check_forward

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        state.enabled, state.check_nan, state.check_forward = self.prev
        return False


def _user_stack():
    """The forward call's stack without chainrule's own frames."""
    frames = traceback.extract_stack()[:-3]
    keep = [f for f in frames if "/chainrule/" not in f.filename.replace("\\", "/")]
    return traceback.format_list(keep[-8:])


def record(node):
    """Called for each recorded node while anomaly mode is on."""
    node.metadata["traceback_"] = _user_stack()


def where(node):
    md = getattr(node, "_metadata", None)
    tb = md.get("traceback_") if md else None
    if not tb:
        return ""
    return "\nThe forward call that created this node:\n" + "".join(tb).rstrip()


def _first_bad(arr):
    import numpy

    if arr.dtype.kind != "f":
        return None
    bad = ~numpy.isfinite(arr)
    if not bad.any():
        return None
    return "nan" if numpy.isnan(arr).any() else "inf"


def check_backward(node, results):
    if not state.check_nan:
        return
    for i, r in enumerate(results):
        if r is None:
            continue
        kind = _first_bad(getattr(r, "_data", r))  # a Tensor, or an array in raw mode
        if kind:
            raise RuntimeError(
                f"Function '{node.op.node_name}' returned {kind} values in its {i}th output."
                + where(node)
            )


def check_forward(op, out):
    kind = _first_bad(out)
    if kind:
        raise RuntimeError(
            f"chainrule anomaly: the forward of {op.node_name} produced {kind} values.\n"
            "The call:\n" + "".join(_user_stack()).rstrip()
        )
