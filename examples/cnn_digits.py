"""A small CNN on the 8x8 digits (Conv2d, MaxPool2d), written exactly as PyTorch code.

    python examples/cnn_digits.py
"""
import chainrule as torch
from chainrule import nn
from chainrule.datasets import load_digits, train_test_split
from chainrule.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
x, y = load_digits(images=True)  # (N, 1, 8, 8)
x_train, y_train, x_test, y_test = train_test_split(x, y, test_fraction=0.2, seed=0)
loader = DataLoader(TensorDataset(x_train, y_train), batch_size=32, shuffle=True)

model = nn.Sequential(
    nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 4 x 4
    nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 2 x 2
    nn.Flatten(), nn.Linear(32 * 2 * 2, 10),
)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
loss_fn = nn.CrossEntropyLoss()
print(model)

for epoch in range(10):
    model.train()
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
    scheduler.step()
    model.eval()
    with torch.no_grad():
        acc = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
    print(f"epoch {epoch + 1:2d}  lr {scheduler.get_last_lr()[0]:.5f}  "
          f"loss {total / len(x_train):.4f}  test accuracy {acc:.4f}")
