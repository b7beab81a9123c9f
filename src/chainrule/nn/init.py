"""nn.init: PyTorch's weight initialisers."""
