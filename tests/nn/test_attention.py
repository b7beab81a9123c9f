"""scaled_dot_product_attention and MultiheadAttention vs PyTorch, with boolean and float masks."""
import numpy as np
import pytest
import torch
from layer_oracle import compare, twin
from oracle import check, raises_like

import chainrule


def _arr(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def test_sdpa_plain_scale_and_causal(rng):
    q, k, v = _arr(rng, 2, 3, 4, 8), _arr(rng, 2, 3, 5, 8), _arr(rng, 2, 3, 5, 6)
    check(lambda t, q, k, v: t.nn.functional.scaled_dot_product_attention(q, k, v), q, k, v,
          rtol=1e-4, atol=1e-5)
    check(lambda t, q, k, v: t.nn.functional.scaled_dot_product_attention(q, k, v, scale=0.3),
          q, k, v, rtol=1e-4, atol=1e-5)
    check(lambda t, q, k, v: t.nn.functional.scaled_dot_product_attention(
        q, k[..., :4, :], v[..., :4, :], is_causal=True), q, k, v, rtol=1e-4, atol=1e-5)


def test_sdpa_masks(rng):
    q, k, v = _arr(rng, 2, 4, 8), _arr(rng, 2, 5, 8), _arr(rng, 2, 5, 8)
    keep = rng.random((4, 5)) > 0.3
    keep[:, 0] = True  # no fully masked row
    add = _arr(rng, 2, 4, 5)

    def bool_mask(t, q, k, v):
        return t.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=t.tensor(keep))

    def float_mask(t, q, k, v):
        return t.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=t.tensor(add))

    check(bool_mask, q, k, v, rtol=1e-4, atol=1e-5)
    check(float_mask, q, k, v, rtol=1e-4, atol=1e-5)


def test_sdpa_causal_with_mask_is_an_error(rng):
    q = _arr(rng, 1, 3, 4)
    m = np.ones((3, 3), bool)
    raises_like(RuntimeError,
                lambda: chainrule.nn.functional.scaled_dot_product_attention(
                    *[chainrule.tensor(q)] * 3, attn_mask=chainrule.tensor(m), is_causal=True),
                lambda: torch.nn.functional.scaled_dot_product_attention(
                    *[torch.tensor(q)] * 3, attn_mask=torch.tensor(m), is_causal=True))


def _self_attn(need_weights=True, average=True, **kw):
    def call(m, x):
        return m(x, x, x, need_weights=need_weights, average_attn_weights=average, **kw)
    return call


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("average", [True, False])
def test_mha_self_attention(rng, batch_first, average):
    c, t = twin("MultiheadAttention", 8, 2, batch_first=batch_first)
    assert repr(c) == repr(t)
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in t.named_parameters()]
    compare(c, t, _arr(rng, 3, 5, 8), call=_self_attn(average=average))


def test_mha_masks_and_no_weights(rng):
    c, t = twin("MultiheadAttention", 8, 4)
    L, N = 5, 3
    causal = np.triu(np.ones((L, L), bool), 1)  # True = not attended, as PyTorch's MHA
    kpm = np.zeros((N, L), bool)
    kpm[1, -2:] = True
    fmask = _arr(rng, L, L)

    def call(kind):
        def run(m, x):
            lib = chainrule if isinstance(m, chainrule.nn.Module) else torch
            if kind == "bool":
                return m(x, x, x, attn_mask=lib.tensor(causal), key_padding_mask=lib.tensor(kpm))
            if kind == "float":
                return m(x, x, x, attn_mask=lib.tensor(fmask), need_weights=False)
            return m(x, x, x, attn_mask=lib.tensor(causal), is_causal=True, need_weights=False)
        return run

    for kind in ("bool", "float", "causal"):
        compare(c, t, _arr(rng, L, N, 8), call=call(kind))


def test_mha_cross_attention_kdim_vdim_and_unbatched(rng):
    c, t = twin("MultiheadAttention", 8, 2, kdim=3, vdim=5, bias=False)
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in t.named_parameters()]
    compare(c, t, _arr(rng, 4, 2, 8), _arr(rng, 6, 2, 3), _arr(rng, 6, 2, 5),
            call=lambda m, q, k, v: m(q, k, v))
    c, t = twin("MultiheadAttention", 8, 2)
    compare(c, t, _arr(rng, 4, 8), _arr(rng, 6, 8), _arr(rng, 6, 8),
            call=lambda m, q, k, v: m(q, k, v))


def test_mha_dropout_train_vs_eval(rng):
    m = chainrule.nn.MultiheadAttention(8, 2, dropout=0.5)
    x = chainrule.tensor(_arr(rng, 4, 2, 8))
    m.eval()
    a = m(x, x, x)[0].detach().numpy()
    np.testing.assert_array_equal(a, m(x, x, x)[0].detach().numpy())
    m.train()
    assert not np.allclose(m(x, x, x)[0].detach().numpy(), a)


def test_mha_bad_heads_like_torch():
    raises_like(AssertionError, lambda: chainrule.nn.MultiheadAttention(8, 3),
                lambda: torch.nn.MultiheadAttention(8, 3))


def test_sdpa_is_one_fused_node_and_fully_masked_rows_are_zero(rng):
    q = chainrule.tensor(_arr(rng, 2, 3, 4, 8), requires_grad=True)
    y = chainrule.nn.functional.scaled_dot_product_attention(q, q, q)
    assert y.grad_fn.name() == "ScaledDotProductFlashAttentionForCpuBackward0"
    x = _arr(rng, 1, 2, 4)
    none = np.zeros((2, 2), bool)
    check(lambda t, x: t.nn.functional.scaled_dot_product_attention(
        x, x * 2, x + 1, attn_mask=t.tensor(none)), x, second=False)


def test_sdpa_float_mask_gradient_and_broadcast(rng):
    q, k, v = _arr(rng, 2, 3, 4, 8), _arr(rng, 2, 1, 5, 8), _arr(rng, 2, 1, 5, 8)
    m = _arr(rng, 4, 5)
    check(lambda t, q, k, v, m: t.nn.functional.scaled_dot_product_attention(q, k, v, m),
          q, k, v, m, rtol=1e-4, atol=1e-5)


def test_sdpa_dropout_statistics():
    chainrule.manual_seed(0)
    q = chainrule.zeros(1, 1, 1, 4)  # uniform attention over 2000 keys, values all 1
    v = chainrule.ones(1, 1, 2000, 1)
    out = chainrule.nn.functional.scaled_dot_product_attention(
        q, chainrule.zeros(1, 1, 2000, 4), v, dropout_p=0.3)
    assert abs(float(out.sum()) - 1.0) < 0.05  # inverted dropout keeps the expectation


def test_sdpa_errors_like_torch(rng):
    q, k = _arr(rng, 1, 2, 4), _arr(rng, 1, 3, 5)
    raises_like(RuntimeError,
                lambda: chainrule.nn.functional.scaled_dot_product_attention(
                    chainrule.tensor(q), chainrule.tensor(q).double(), chainrule.tensor(q)),
                lambda: torch.nn.functional.scaled_dot_product_attention(
                    torch.tensor(q), torch.tensor(q).double(), torch.tensor(q)))
    raises_like(RuntimeError,
                lambda: chainrule.nn.functional.scaled_dot_product_attention(
                    chainrule.tensor(q), chainrule.tensor(k), chainrule.tensor(k)),
                lambda: torch.nn.functional.scaled_dot_product_attention(
                    torch.tensor(q), torch.tensor(k), torch.tensor(k)))
