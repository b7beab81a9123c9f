"""Process-wide switches PyTorch scripts set at the top: threads, determinism, compile.

chainrule runs on NumPy, so: ``set_num_threads`` sizes NumPy's BLAS thread pool (through
threadpoolctl when it is installed; otherwise only the reported number changes); every
chainrule op is already deterministic, so ``use_deterministic_algorithms`` only records the
mode; ``compile`` returns the model or function unchanged (there is no compiler; results
are the same, only PyTorch's speed-up is absent).
"""
import os

_state = {"threads": None, "deterministic": False, "warn_only": False}


def get_num_threads():
    return _state["threads"] or os.cpu_count() or 1


def set_num_threads(n):
    if not isinstance(n, int) or n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is not None:
        threadpool_limits(limits=n, user_api="blas")
    _state["threads"] = n


def use_deterministic_algorithms(mode, *, warn_only=False):
    if not isinstance(mode, bool):
        raise TypeError(
            "_set_deterministic_algorithms(): argument 'mode' (position 1) must be bool, not "
            f"{type(mode).__name__}"
        )
    _state["deterministic"], _state["warn_only"] = mode, bool(warn_only)


def are_deterministic_algorithms_enabled():
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _state["warn_only"]


def compile(model=None, **options):
    """``torch.compile(model)`` or ``@torch.compile(...)``: the callable itself, unchanged."""
    if model is None:
        return lambda m: m
    return model
