"""torch.cuda as seen on a machine without CUDA: scripts that ask stay on the CPU.

``is_available()`` is False and seeding is a no-op, exactly as PyTorch's CPU build behaves;
anything that would need a GPU is simply absent.
"""


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Silently ignored without CUDA, as in PyTorch."""


def manual_seed_all(seed):
    """Silently ignored without CUDA, as in PyTorch."""
