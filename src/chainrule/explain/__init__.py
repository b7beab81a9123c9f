"""chainrule.explain: the graph, every local gradient and every chain-rule step, with numbers.

``chainrule.explain(loss)`` or ``loss.explain()`` returns an ``Explanation``; print it, or
ask for ``.markdown()``, ``.svg()``, ``.dot()`` or ``.html(path)``. chainrule-only.
"""
import sys
import types

from .._tensor import Tensor
from .core import Explanation, Step, Vertex, explain, record

__all__ = ["Explanation", "Step", "Vertex", "explain", "record"]


def _tensor_explain(self, inputs=None, **kw):
    return explain(self, inputs, **kw)


_tensor_explain.__doc__ = explain.__doc__
Tensor.explain = _tensor_explain


class _ExplainModule(types.ModuleType):
    """``chainrule.explain`` is this package and also callable, so ``chainrule.explain(loss)``
    works while ``chainrule.explain.cli`` and ``chainrule.explain.record`` stay reachable."""

    def __call__(self, output, inputs=None, **kw):
        return explain(output, inputs, **kw)


sys.modules[__name__].__class__ = _ExplainModule
