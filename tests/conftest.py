"""Shared test set-up: PyTorch is the oracle, pinned to one thread (2-core machine)."""
import numpy as np
import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
