"""Functional forms: activations, linear, losses (nn core)."""
__all__ = []
