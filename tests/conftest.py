"""Shared test set-up: PyTorch is the oracle, pinned to one thread (2-core machine)."""
import os
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, os.path.dirname(__file__))  # tests import the oracle helpers as `oracle`
torch.set_num_threads(1)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
