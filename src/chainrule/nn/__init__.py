"""chainrule.nn: modules, layers, losses, functional forms and initialisation."""
from . import (
    functional,
    init,
    utils,
)
from .modules import *
from .parameter import Buffer, Parameter
