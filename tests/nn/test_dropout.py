"""Dropout: statistics, train/eval behaviour, gradients through the mask, p=0 exactly."""
import numpy as np
import pytest
import torch
from oracle import check, raises_like

import chainrule

F = chainrule.nn.functional


def test_dropout_statistics_and_scaling():
    chainrule.manual_seed(0)
    x = chainrule.ones(200, 500)
    y = F.dropout(x, 0.3).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.02  # unbiased in expectation


def test_dropout_gradient_is_the_mask():
    chainrule.manual_seed(1)
    x = chainrule.ones(50, 40, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    assert y.grad_fn.name() == "MulBackward0"


def test_dropout_eval_p0_and_p1(rng):
    x = chainrule.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    a = rng.standard_normal((3, 4)).astype(np.float32)
    check(lambda t, x: t.nn.functional.dropout(x * 2, 0.0), a)
    check(lambda t, x: t.nn.functional.dropout(x, 1.0), a)


def test_dropout2d_zeroes_whole_channels():
    chainrule.manual_seed(2)
    y = F.dropout2d(chainrule.ones(8, 16, 3, 3), 0.5).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert 0.3 < (per_channel[..., 0] == 0).mean() < 0.7
    check(lambda t, x: t.nn.functional.dropout2d(x, 0.5, training=False), np.ones((2, 3, 2, 2)))


def test_alpha_dropout_keeps_mean_and_variance():
    chainrule.manual_seed(3)
    x = chainrule.randn(400, 500)
    y = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1.0) < 0.02
    assert F.alpha_dropout(x, 0.2) is x  # training defaults to False, as in PyTorch


def test_dropout_inplace():
    chainrule.manual_seed(4)
    x = chainrule.ones(10, 10)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and set(np.unique(x.numpy())) <= {0.0, 2.0}


@pytest.mark.parametrize("fn", ["dropout", "dropout2d", "alpha_dropout"])
def test_dropout_bad_p_like_torch(fn):
    raises_like(ValueError, lambda: getattr(F, fn)(chainrule.ones(2, 2, 2), 1.5),
                lambda: getattr(torch.nn.functional, fn)(torch.ones(2, 2, 2), 1.5))


def test_dropout_modules_train_and_eval():
    from layer_oracle import compare, twin

    for name in ("Dropout", "Dropout1d", "Dropout2d", "AlphaDropout"):
        c, t = twin(name, 0.25)
        assert repr(c) == repr(t)
        x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
        c.eval()
        t.eval()
        compare(c, t, x)  # eval: identity, exactly
        c.train()
        t.train()
        c0, t0 = twin(name, 0.0)
        compare(c0, t0, x)  # p=0 in training: identity too
        assert (c(chainrule.tensor(x)).numpy() != x).any()  # training with p>0 drops
    raises_like(ValueError, lambda: chainrule.nn.Dropout(-0.1), lambda: torch.nn.Dropout(-0.1))


def test_dropout2d_3d_input_is_n_c_l_with_torchs_warning():
    chainrule.manual_seed(5)
    with pytest.warns(UserWarning, match="interpreted as shape \\(N, C, L\\)"):
        y = F.dropout2d(chainrule.ones(4, 50, 10), 0.5).numpy()
    assert ((y == 0).all(-1) | (y == 2).all(-1)).all()  # one decision per (n, c)
    assert 0.3 < (y[..., 0] == 0).mean() < 0.7
