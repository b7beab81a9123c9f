"""nn.Parameter."""
from .._tensor import Tensor


class Parameter(Tensor):
    pass
