"""Functional forms of layers: conv, pooling, normalisation, dropout, embedding, attention."""
__all__ = []
