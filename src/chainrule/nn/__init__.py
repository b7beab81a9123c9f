"""chainrule.nn: modules, layers, losses, functional forms and initialisation."""
from . import functional, init  # noqa: F401
from .modules import *  # noqa: F401,F403
from .parameter import Buffer, Parameter  # noqa: F401
from . import utils  # noqa: F401
