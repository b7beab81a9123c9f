"""An MLP on scikit-learn's 8x8 digits, written exactly as PyTorch code.

    python examples/mlp_digits.py

Swap the first import for ``import torch`` and it runs unchanged on PyTorch.
"""
import chainrule as torch
from chainrule import nn
from chainrule.datasets import load_digits, train_test_split
from chainrule.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
x, y = load_digits()
x_train, y_train, x_test, y_test = train_test_split(x, y, test_fraction=0.2, seed=0)
loader = DataLoader(TensorDataset(x_train, y_train), batch_size=32, shuffle=True)

model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
loss_fn = nn.CrossEntropyLoss()
print(model)

for epoch in range(15):
    model.train()
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
    model.eval()
    with torch.no_grad():
        acc = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
    print(f"epoch {epoch + 1:2d}  loss {total / len(x_train):.4f}  test accuracy {acc:.4f}")
