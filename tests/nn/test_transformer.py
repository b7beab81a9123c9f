"""TransformerEncoderLayer / TransformerEncoder vs PyTorch with the same weights."""
import numpy as np
import pytest
import torch
from layer_oracle import compare, twin

import chainrule


def _arr(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("kw", [
    {},
    {"activation": "gelu", "norm_first": True, "batch_first": True},
    {"layer_norm_eps": 1e-3, "bias": False},
])
def test_encoder_layer_matches_torch_eval_and_p0(rng, kw):
    x = _arr(rng, 2, 5, 8) if kw.get("batch_first") else _arr(rng, 5, 2, 8)
    c, t = twin("TransformerEncoderLayer", 8, 2, 16, **kw)
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in t.named_parameters()]
    c.eval()
    t.eval()
    compare(c, t, x, rtol=1e-4, atol=1e-4)
    c, t = twin("TransformerEncoderLayer", 8, 2, 16, dropout=0.0, **kw)  # training, p = 0
    compare(c, t, x, rtol=1e-4, atol=1e-4)


def test_encoder_layer_masks(rng):
    c, t = twin("TransformerEncoderLayer", 8, 2, 16, dropout=0.0)
    L, N = 5, 2
    causal = np.triu(np.ones((L, L), bool), 1)
    kpm = np.zeros((N, L), bool)
    kpm[0, -1] = True

    def call(m, x):
        lib = chainrule if isinstance(m, chainrule.nn.Module) else torch
        return m(x, src_mask=lib.tensor(causal), src_key_padding_mask=lib.tensor(kpm))

    compare(c, t, _arr(rng, L, N, 8), call=call, rtol=1e-4, atol=1e-4)


def test_encoder_stack(rng):
    torch.manual_seed(0)
    t_layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    t = torch.nn.TransformerEncoder(t_layer, 2, norm=torch.nn.LayerNorm(8),
                                    enable_nested_tensor=False)
    c_layer = chainrule.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    c = chainrule.nn.TransformerEncoder(c_layer, 2, norm=chainrule.nn.LayerNorm(8))
    c.load_state_dict({k: chainrule.tensor(v.detach().numpy().copy())
                       for k, v in t.state_dict().items()})
    compare(c, t, _arr(rng, 4, 2, 8), rtol=1e-4, atol=1e-4)
    # the layers are independent copies
    assert c.layers[0].linear1.weight is not c.layers[1].linear1.weight


def test_encoder_layer_dropout_in_training(rng):
    m = chainrule.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = chainrule.tensor(_arr(rng, 4, 2, 8))
    m.eval()
    a = m(x).detach().numpy()
    m.train()
    assert not np.allclose(m(x).detach().numpy(), a)
