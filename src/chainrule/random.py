"""torch.random: the default generator's seeding functions (same as chainrule.manual_seed...)."""
import contextlib

from .ops.creation import (  # noqa: F401
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, **kwargs):
    """Restore the default generator's state on exit (there are no device generators)."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
