"""Whole training runs: chainrule and PyTorch, same initial weights, same batches, same
optimizer; their loss curves must agree to 1e-3 relative at every step."""
import numpy as np
import pytest
import torch

import chainrule
from chainrule.datasets import load_digits


def _batches(n, batch_size, epochs, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        perm = rng.permutation(n)
        for i in range(0, n, batch_size):
            yield perm[i:i + batch_size]


def _twins(make):
    cm = make(chainrule)
    tm = make(torch)
    tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in cm.state_dict().items()})
    return cm, tm


def _train(model, lib, opt, x, y, batches):
    loss_fn = lib.nn.CrossEntropyLoss()
    xs, ys = lib.tensor(x), lib.tensor(y)
    losses = []
    for idx in batches:
        i = lib.tensor(idx)
        opt.zero_grad()
        loss = loss_fn(model(xs[i]), ys[i])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses)


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(64, 128), lib.nn.ReLU(), lib.nn.Linear(128, 10))


def _cnn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(8 * 4 * 4, 10))


@pytest.mark.parametrize("make,images,opt_name,kw,epochs", [
    (_mlp, False, "Adam", {"lr": 3e-3}, 3),
    (_mlp, False, "SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-4}, 2),
    (_cnn, True, "AdamW", {"lr": 1e-2}, 2),
], ids=["mlp-adam", "mlp-sgd", "cnn-adamw"])
def test_loss_curves_match(make, images, opt_name, kw, epochs):
    x, y = load_digits(images=images)
    x, y = x.numpy(), y.numpy()
    chainrule.manual_seed(0)
    cm, tm = _twins(make)
    batches = list(_batches(len(x), 64, epochs))
    c = _train(cm, chainrule, getattr(chainrule.optim, opt_name)(cm.parameters(), **kw), x, y,
               batches)
    t = _train(tm, torch, getattr(torch.optim, opt_name)(tm.parameters(), **kw), x, y, batches)
    np.testing.assert_allclose(c, t, rtol=1e-3)
    assert t[-1] < 0.5 * t[0]  # and both actually learned
