"""chainrule.utils: data loading and activation checkpointing."""
from . import checkpoint  # noqa: F401
from . import data  # noqa: F401
