"""softmax ops."""
__all__ = []
