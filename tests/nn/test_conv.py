"""Convolutions vs PyTorch: forward, first and second derivatives, errors, modules."""
import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import check, fd_check, raises_like

import chainrule


def _arr(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


GRID = [  # (stride, padding, dilation, groups)
    (s, p, d, g)
    for s, p, d, g in itertools.product((1, 2, (2, 1)), (0, 1, (2, 0), "same", "valid"), (1, 2),
                                         (1, 2))
    if not (p == "same" and s != 1)
]


@pytest.mark.parametrize("stride,padding,dilation,groups", GRID)
def test_conv2d_grid(rng, stride, padding, dilation, groups):
    x, w, b = _arr(rng, 2, 4, 7, 6), _arr(rng, 6, 4 // groups, 3, 2), _arr(rng, 6)
    check(lambda t, x, w, b: t.nn.functional.conv2d(x, w, b, stride, padding, dilation, groups),
          x, w, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_conv2d_input_gradient_with_a_non_finite_weight(rng, bad):
    # Stride 1 adds each tap's window as one flat run over zero-padded rows; a non-finite
    # weight would turn those zeros into NaN, so it takes the strided path: same inf/NaN
    # pattern as PyTorch, the finite values close.
    x, w, g = _arr(rng, 2, 3, 6, 5), _arr(rng, 4, 3, 3, 3), _arr(rng, 2, 4, 6, 5)
    w[1, 2, 1, 0] = bad  # tap column 0: its zero-column products land inside the input
    grads = []
    for L in (chainrule, torch):
        xt = L.tensor(x, requires_grad=True)
        L.nn.functional.conv2d(xt, L.tensor(w), padding=1).backward(L.tensor(g))
        grads.append(xt.grad.numpy())
    c, t = grads
    np.testing.assert_array_equal(np.isnan(c), np.isnan(t))
    np.testing.assert_array_equal(np.isposinf(c), np.isposinf(t))
    np.testing.assert_array_equal(np.isneginf(c), np.isneginf(t))
    fin = np.isfinite(t)
    np.testing.assert_allclose(c[fin], t[fin], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("stride,padding,dilation", [(1, 0, 1), (2, 1, 1), (3, 2, 2), (1, "same", 3)])
def test_conv1d(rng, stride, padding, dilation):
    x, w, b = _arr(rng, 3, 2, 11), _arr(rng, 4, 2, 4), _arr(rng, 4)
    check(lambda t, x, w, b: t.nn.functional.conv1d(x, w, b, stride, padding, dilation),
          x, w, b, rtol=1e-4, atol=1e-5)


def test_conv_no_bias_unbatched_and_noncontiguous(rng):
    x, w = _arr(rng, 3, 6, 5), _arr(rng, 2, 3, 2, 2)
    check(lambda t, x, w: t.nn.functional.conv2d(x, w, padding=1), x, w, rtol=1e-4, atol=1e-5)
    xt = _arr(rng, 2, 5, 6, 3)  # transposed to (2, 3, 6, 5): a non-contiguous input
    check(lambda t, x, w: t.nn.functional.conv2d(x.permute(0, 3, 2, 1), w, stride=2),
          xt, w, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("stride,padding,output_padding,dilation,groups",
                         [(1, 0, 0, 1, 1), (2, 1, 1, 1, 1), (3, 2, 2, 2, 2), (2, 0, 1, 1, 2),
                          (1, 0, 1, 2, 1), (2, 1, 2, 3, 1)])  # output_padding >= stride
def test_conv_transpose2d(rng, stride, padding, output_padding, dilation, groups):
    x, w, b = _arr(rng, 2, 4, 5, 4), _arr(rng, 4, 3, 3, 2), _arr(rng, 3 * groups)
    check(lambda t, x, w, b: t.nn.functional.conv_transpose2d(
        x, w, b, stride, padding, output_padding, groups, dilation), x, w, b, rtol=1e-4, atol=1e-5)


def test_conv_transpose1d(rng):
    x, w, b = _arr(rng, 2, 3, 6), _arr(rng, 3, 2, 3), _arr(rng, 2)
    check(lambda t, x, w, b: t.nn.functional.conv_transpose1d(x, w, b, 2, 1, 1), x, w, b,
          rtol=1e-4, atol=1e-5)


def test_conv_fd_float64(rng):
    fd_check(lambda t, x, w, b: t.nn.functional.conv2d(x, w, b, stride=2, padding=1, groups=2),
             rng.standard_normal((1, 2, 4, 3)), rng.standard_normal((2, 1, 2, 2)),
             rng.standard_normal(2))
    fd_check(lambda t, x, w: t.nn.functional.conv_transpose1d(x, w, stride=2, padding=1),
             rng.standard_normal((2, 2, 4)), rng.standard_normal((2, 3, 3)))


def test_conv_grad_fn_name(rng):
    x = chainrule.tensor(_arr(rng, 1, 2, 4, 4), requires_grad=True)
    w = chainrule.tensor(_arr(rng, 3, 2, 2, 2))
    assert chainrule.nn.functional.conv2d(x, w).grad_fn.name() == "ConvolutionBackward0"
    wt = chainrule.tensor(_arr(rng, 2, 3, 2, 2))
    assert chainrule.nn.functional.conv_transpose2d(x, wt).grad_fn.name() == "ConvolutionBackward0"


def both(fn, *arrays):
    """(chainrule call, torch call) of fn(F, *tensors) on the same arrays."""
    c = [chainrule.tensor(a) for a in arrays]
    t = [torch.tensor(a) for a in arrays]
    return (lambda: fn(chainrule.nn.functional, *c)), (lambda: fn(torch.nn.functional, *t))


X, W = (2, 3, 5, 5), (4, 3, 3, 3)


@pytest.mark.parametrize("xs,ws,call", [
    (X, W, lambda F, x, w: F.conv2d(x, w, stride=2, padding="same")),
    (X, W, lambda F, x, w: F.conv2d(x, w, padding="full")),
    (X, (4, 2, 3, 3), lambda F, x, w: F.conv2d(x, w)),
    (X, W, lambda F, x, w: F.conv2d(x, w, groups=2)),
    ((5, 5), W, lambda F, x, w: F.conv2d(x, w)),
    (X, W, lambda F, x, w: F.conv2d(x, w, stride=0)),
    (X, W, lambda F, x, w: F.conv2d(x, w, padding=-1)),
    ((2, 3, 2, 2), W, lambda F, x, w: F.conv2d(x, w)),
    (X, W, lambda F, x, w: F.conv2d(x.double(), w)),
    (X, W, lambda F, x, w: F.conv1d(x, w)),
    (X, (3, 4, 3, 3), lambda F, x, w: F.conv_transpose2d(x, w, stride=2, output_padding=2)),
])
def test_conv_errors_like_torch(rng, xs, ws, call):
    raises_like(RuntimeError, *both(call, _arr(rng, *xs), _arr(rng, *ws)))


def test_conv_bias_size_error(rng):
    x, w, b = _arr(rng, *X), _arr(rng, *W), _arr(rng, 3)
    raises_like(RuntimeError, *both(lambda F, x, w, b: F.conv2d(x, w, b), x, w, b))


# ---- modules ------------------------------------------------------------------------------
from layer_oracle import compare, twin


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("Conv2d", (4, 6, 3), {"padding": "same", "groups": 2, "bias": False}, (2, 4, 6, 5)),
    ("Conv2d", (3, 5, (3, 2)), {"stride": 2, "padding": 1, "dilation": (1, 2)}, (2, 3, 7, 7)),
    ("Conv1d", (3, 4, 3), {"stride": 2}, (2, 3, 9)),
    ("ConvTranspose2d", (4, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}, (2, 4, 4, 3)),
    ("ConvTranspose1d", (4, 2, 3), {"stride": 3, "groups": 2}, (2, 4, 5)),
])
def test_conv_modules_match_torch(rng, name, args, kwargs, shape):
    c, t = twin(name, *args, **kwargs)
    assert repr(c) == repr(t)
    compare(c, t, _arr(rng, *shape))


def test_conv_transpose_output_size(rng):
    c, t = twin("ConvTranspose2d", 2, 3, 3, stride=2)
    compare(c, t, _arr(rng, 1, 2, 4, 4), output_size=(10, 10))


def test_conv_default_init_bounds():
    m = chainrule.nn.Conv2d(4, 8, 3)
    bound = 1 / np.sqrt(4 * 9)  # kaiming_uniform_(a=√5) gives U(±1/√fan_in)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(b).max() <= bound
    assert tuple(m.weight.shape) == (8, 4, 3, 3)


def test_conv_module_errors_like_torch():
    for kwargs in ({"groups": 3}, {"padding": "same", "stride": 2}):
        raises_like(ValueError, lambda kw=kwargs: chainrule.nn.Conv2d(4, 6, 3, **kw),
                    lambda kw=kwargs: torch.nn.Conv2d(4, 6, 3, **kw))
    # These messages print a set, whose order varies with the hash seed: compare the start.
    raises_like(ValueError, lambda: chainrule.nn.Conv2d(4, 6, 3, padding="full"),
                lambda: torch.nn.Conv2d(4, 6, 3, padding="full"),
                match="Invalid padding string 'full', should be one of ")
    raises_like(ValueError, lambda: chainrule.nn.Conv2d(4, 6, 3, padding_mode="mirror"),
                lambda: torch.nn.Conv2d(4, 6, 3, padding_mode="mirror"),
                match="padding_mode must be one of {")


def test_conv_empty_batch(rng):
    z = np.zeros((0, 3, 5, 5), np.float32)
    check(lambda t, x, w: t.nn.functional.conv2d(x, w, padding=1), z, _arr(rng, 4, 3, 3, 3))
    check(lambda t, x, w: t.nn.functional.conv_transpose2d(x, w, stride=2), z,
          _arr(rng, 3, 2, 3, 3))
    check(lambda t, x, w: t.nn.functional.conv1d(x, w), z[:, :, 0], _arr(rng, 4, 3, 2))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(3, 8), w=st.integers(3, 8),
       k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 1), d=st.integers(1, 2),
       g=st.sampled_from([1, 2]))
def test_conv2d_shapes_hypothesis(n, c, h, w, k, s, p, d, g):
    if d * (k - 1) + 1 > min(h, w) + 2 * p:
        return  # kernel larger than the padded input: covered by the error tests
    rng = np.random.default_rng(0)
    x, wt = _arr(rng, n, c * g, h, w), _arr(rng, 2 * g, c, k, k)
    check(lambda t, x, wt: t.nn.functional.conv2d(x, wt, None, s, p, d, g), x, wt,
          rtol=1e-4, atol=1e-5, second=False)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv_padding_modes(rng, mode):
    c, t = twin("Conv2d", 3, 2, 3, padding=1, padding_mode=mode)
    assert repr(c) == repr(t)
    compare(c, t, _arr(rng, 2, 3, 5, 5))
    c, t = twin("Conv1d", 3, 2, 4, padding="same", padding_mode=mode)
    compare(c, t, _arr(rng, 2, 3, 6))
