"""Grad mode: whether ops record the graph. One global flag, read on every op."""
import functools


class _State:
    __slots__ = ("enabled", "inference")

    def __init__(self):
        self.enabled = True
        self.inference = False


state = _State()


def is_grad_enabled():
    return state.enabled


def is_inference_mode_enabled():
    return state.inference


class _Mode:
    """Base for the grad-mode context managers; each also works as a decorator."""

    def __call__(self, fn):
        if isinstance(fn, type):
            raise TypeError(f"{type(self).__name__} cannot decorate a class")

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args):
                return fn(*args, **kwargs)

        return wrapper

    _args = ()

    def __enter__(self):
        self._prev = (state.enabled, state.inference)
        self._set()

    def __exit__(self, *exc):
        state.enabled, state.inference = self._prev
        return False

    def clone(self):
        return self.__class__(*self._args)


class no_grad(_Mode):
    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        # Allows @no_grad without parentheses, as PyTorch does.
        return self(orig_func) if callable(orig_func) else self

    def __init__(self, orig_func=None):
        pass

    def _set(self):
        state.enabled = False


class enable_grad(_Mode):
    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        return self(orig_func) if callable(orig_func) else self

    def __init__(self, orig_func=None):
        pass

    def _set(self):
        state.enabled = True


class set_grad_enabled(_Mode):
    """Takes effect at once, so it also works as a plain function call."""

    def __init__(self, mode):
        self._args = (mode,)
        self._prev = (state.enabled, state.inference)
        state.enabled = bool(mode)

    def _set(self):
        state.enabled = bool(self._args[0])

    def __enter__(self):
        self._set()  # keep the _prev taken in __init__, before the eager switch

    def __call__(self, fn):
        state.enabled, state.inference = self._prev  # decorator use: undo the eager switch
        return super().__call__(fn)


class inference_mode(_Mode):
    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):
            self._args = (True,)
            return self(mode)
        return self

    def __init__(self, mode=True):
        if not callable(mode):
            self._args = (bool(mode),)

    def _set(self):
        if self._args[0]:
            state.enabled = False
            state.inference = True
