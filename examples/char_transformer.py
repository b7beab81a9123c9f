"""A character-level transformer trained briefly on ten of Shakespeare's sonnets.

    python examples/char_transformer.py [steps]

The text (public domain) is in examples/data/sonnets.txt. After training, the model
writes a few lines of its own, starting from "Shall I".
"""
import os
import sys

import chainrule as torch
from chainrule import nn

torch.manual_seed(0)
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "data", "sonnets.txt"), encoding="utf-8") as f:
    text = f.read()
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text])
print(f"{len(text)} characters, vocabulary of {len(chars)}")

BLOCK, BATCH, D = 32, 24, 64
STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 200


class CharTransformer(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.tok = nn.Embedding(vocab, D)
        self.pos = nn.Embedding(BLOCK, D)
        layer = nn.TransformerEncoderLayer(D, nhead=4, dim_feedforward=4 * D, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, num_layers=2)
        self.norm = nn.LayerNorm(D)
        self.head = nn.Linear(D, vocab)

    def forward(self, idx):
        t = idx.shape[1]
        h = self.tok(idx) + self.pos(torch.arange(t))
        causal = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        h = self.blocks(h, mask=causal)
        return self.head(self.norm(h))


def batch():
    starts = torch.randint(0, len(data) - BLOCK - 1, (BATCH,))
    x = torch.stack([data[s:s + BLOCK] for s in starts.tolist()])
    y = torch.stack([data[s + 1:s + BLOCK + 1] for s in starts.tolist()])
    return x, y


model = CharTransformer(len(chars))
print(f"{sum(p.numel() for p in model.parameters())} parameters")
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=STEPS)
loss_fn = nn.CrossEntropyLoss()

for step in range(1, STEPS + 1):
    x, y = batch()
    logits = model(x)
    loss = loss_fn(logits.reshape(-1, len(chars)), y.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    if step % 25 == 0 or step == 1:
        print(f"step {step:4d}  loss {loss.item():.3f}")

model.eval()
idx = torch.tensor([[stoi[c] for c in "Shall I"]])
with torch.no_grad():
    for _ in range(200):
        logits = model(idx[:, -BLOCK:])[:, -1, :]
        probs = torch.softmax(logits / 0.8, dim=-1)
        nxt = torch.multinomial(probs, 1)
        idx = torch.cat([idx, nxt], dim=1)
print("---")
print("".join(chars[i] for i in idx[0].tolist()))
