"""chainrule.nn.functional (PyTorch's torch.nn.functional)."""
from ._functional_core import *  # noqa: F401,F403  (activations, linear, losses, ...)
from ._functional_layers import *  # noqa: F401,F403  (conv, pooling, norms, dropout, attention, ...)
