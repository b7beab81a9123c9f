"""``chainrule demo``: train an MLP on the 8x8 digits, checkpoint it, reload it, plot the loss.

Everything here is ordinary PyTorch-style code on chainrule; it needs the ``demo`` extra
(scikit-learn for the data; tqdm and matplotlib are optional and skipped with a message).
"""
import os
import sys
import time

import chainrule as torch
from chainrule import nn
from chainrule.utils.data import DataLoader, TensorDataset

CHECKPOINT = "digits_mlp.safetensors"
PLOT = "loss_curve.png"


def make_model(hidden=128):
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


def _progress(total, quiet):
    """A tqdm bar when tqdm is installed; otherwise a stand-in that prints per epoch."""
    if quiet:
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        print("(tqdm not installed: plain progress lines instead of a bar)")
        return _NoBar(verbose=True)
    return tqdm(total=total, desc="training", unit="step", dynamic_ncols=True)


class _NoBar:
    def __init__(self, verbose=False):
        self.verbose = verbose

    def update(self, n=1):
        pass

    def set_postfix(self, **kw):
        pass

    def write(self, s):
        if self.verbose:
            print(s)

    def close(self):
        pass


def run(epochs=15, out=".", seed=0, batch_size=32, lr=3e-3, hidden=128, quiet=False):
    """Train, evaluate, checkpoint, reload and plot. Returns a dict of what happened.

    ``seed`` sets the initial weights and the batch order; the train/test split is fixed.
    """
    from chainrule.datasets import load_digits, train_test_split

    t0 = time.perf_counter()
    torch.manual_seed(seed)
    x, y = load_digits()
    # A fixed split (seed 0), so runs with different --seed values score the same test set.
    x_train, y_train, x_test, y_test = train_test_split(x, y, test_fraction=0.2, seed=0)
    # Standardise each pixel with the training set's statistics (0.1 keeps the always-blank
    # border pixels from blowing up).
    mean, std = x_train.mean(dim=0), x_train.std(dim=0) + 0.1
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    model = make_model(hidden)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * len(loader))
    loss_fn = nn.CrossEntropyLoss()
    say = print
    if not quiet:
        say(f"digits: {len(x_train)} train / {len(x_test)} test images, model {model}")

    losses = []
    bar = _progress(epochs * len(loader), quiet)
    for epoch in range(epochs):
        model.train()
        seen = correct = 0
        for xb, yb in loader:
            opt.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            seen += len(yb)
            correct += (logits.argmax(dim=1) == yb).sum().item()
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{losses[-1]:.4f}", acc=f"{correct / seen:.3f}")
        model.eval()
        bar.write(f"epoch {epoch + 1:3d}/{epochs}: train loss {losses[-1]:.4f}, train acc "
                  f"{correct / seen:.4f}, test acc {accuracy(model, x_test, y_test):.4f}")
    bar.close()
    test_acc = accuracy(model, x_test, y_test)
    train_time = time.perf_counter() - t0
    say(f"test accuracy: {test_acc:.4f} ({train_time:.1f} s)")

    os.makedirs(out, exist_ok=True)
    ckpt_path = os.path.join(out, CHECKPOINT)
    torch.save(model.state_dict(), ckpt_path)
    fresh = make_model(hidden)
    fresh.load_state_dict(torch.load(ckpt_path))
    fresh.eval()
    reloaded_acc = accuracy(fresh, x_test, y_test)
    same = reloaded_acc == test_acc
    say(f"checkpoint: {ckpt_path}; reloaded into a fresh model: test accuracy "
        f"{reloaded_acc:.4f} ({'same' if same else 'DIFFERENT'})")

    plot_path = _plot(losses, len(loader), os.path.join(out, PLOT), say)
    return {"test_accuracy": test_acc, "reloaded_accuracy": reloaded_acc, "losses": losses,
            "checkpoint": ckpt_path, "plot": plot_path, "seconds": train_time}


def _plot(losses, steps_per_epoch, path, say):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        say("matplotlib is not installed: skipping the loss-curve plot "
            "(pip install chainrule[demo])")
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    steps = range(1, len(losses) + 1)
    ax.plot(steps, losses, lw=0.6, alpha=0.5, label="batch loss")
    k = steps_per_epoch
    means = [sum(losses[i:i + k]) / len(losses[i:i + k]) for i in range(0, len(losses), k)]
    ax.plot([min(i + k, len(losses)) for i in range(0, len(losses), k)], means, "o-",
            label="epoch mean")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy loss")
    ax.set_yscale("log")
    ax.set_title("chainrule: MLP on the 8x8 digits")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    say(f"loss curve: {path}")
    return path


def main(argv=None):
    import argparse

    p = argparse.ArgumentParser(
        prog="chainrule demo",
        description="Train an MLP on scikit-learn's 8x8 digits with chainrule, save a "
                    "safetensors checkpoint, reload it and plot the loss curve.",
    )
    p.add_argument("--epochs", type=int, default=15, help="training epochs (default 15)")
    p.add_argument("--out", default="chainrule-demo", help="output folder (default ./chainrule-demo)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--quiet", action="store_true", help="no progress bar, only the results")
    args = p.parse_args(argv)
    if args.epochs < 1:
        p.error("--epochs must be at least 1")
    try:
        res = run(args.epochs, args.out, args.seed, args.batch_size, args.lr, quiet=args.quiet)
    except ImportError as e:
        print(f"chainrule demo: {e}", file=sys.stderr)
        return 1
    return 0 if res["reloaded_accuracy"] == res["test_accuracy"] else 1
