"""chainrule.nn.functional (PyTorch's torch.nn.functional)."""
from ._functional_core import *
from ._functional_extra import *
from ._functional_layers import *
