"""Experiment template for Aufgabe 41 e: train the CNN of ex41_mnist.py on MNIST.

The network is `ex41_mnist.build_model()`, built from *your* `Conv2D`
(ex41_conv.py) and the framework's ReLU, MaxPool2D, Flatten and Linear. This
script trains it with minibatch SGD on softmax cross-entropy, holds out part
of the training split to report validation accuracy after every epoch, and
saves the weights (`model.state_dict()`) to `ex41_mnist_weights.npz` next to
ex41_mnist.py, where your `predict` loads them.

    python ex41_mnist_experiment.py                     # defaults: sample data, seed 0
    python ex41_mnist_experiment.py --epochs 8 --seed 1 --data /path/to/mnist

Run it from the `exercises` folder (or with it on PYTHONPATH). The same seed
gives the same weights on the same machine. With the course's sample (8,000
training digits) and the defaults, training takes a few minutes and should
reach about 97 % validation accuracy once your Conv2D is right; chance level
is 10 %, so an accuracy near 10 % points at a bug in the convolution or its
gradients (parts a-d), not at the training.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from autodiff import SGD, Module, Tensor, manual_seed, softmax_cross_entropy
from ex41_mnist import WEIGHTS_PATH, build_model
from mnist_idx import load_mnist


def default_data_dir() -> Path:
    """The course's MNIST sample: data/mnist-sample in the course folder."""
    here = Path(__file__).resolve().parent
    for folder in (here, *here.parents):
        candidate = folder / "data" / "mnist-sample"
        if candidate.is_dir():
            return candidate
    return here.parent / "data" / "mnist-sample"


def to_network_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) in 0..255 -> float32 (N, 1, 28, 28) in [0, 1], what predict receives."""
    return (images.astype(np.float32) / 255.0)[:, None, :, :]


def logits_in_batches(model: Module, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """The network's outputs for many images, a batch at a time (bounded memory)."""
    return np.concatenate([model(Tensor(x[i:i + batch_size])).data
                           for i in range(0, len(x), batch_size)])


def accuracy(model: Module, x: np.ndarray, labels: np.ndarray) -> float:
    """Share of images whose argmax logit is the true label."""
    return float((logits_in_batches(model, x).argmax(axis=1) == labels).mean())


def train(model: Module, x: np.ndarray, labels: np.ndarray, x_val: np.ndarray, labels_val: np.ndarray,
          *, epochs: int, batch_size: int, lr: float, momentum: float,
          rng: np.random.Generator, log_every: int = 20) -> None:
    """Minibatch SGD on softmax cross-entropy; prints progress and validation accuracy.

    The learning rate is divided by 10 for the last epoch when there is more
    than one: the last pass then settles into a minimum instead of jumping
    around it.
    """
    optimizer = SGD(model.parameters(), lr=lr, momentum=momentum)
    batches = (len(x) + batch_size - 1) // batch_size
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        optimizer.lr = lr / 10 if epochs > 1 and epoch == epochs else lr
        model.train()
        order = rng.permutation(len(x))
        seen_loss, seen_correct, seen = 0.0, 0, 0
        for b in range(batches):
            idx = order[b * batch_size:(b + 1) * batch_size]
            logits = model(Tensor(x[idx]))
            loss = softmax_cross_entropy(logits, labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            seen_loss += loss.item() * len(idx)
            seen_correct += int((logits.data.argmax(axis=1) == labels[idx]).sum())
            seen += len(idx)
            if not np.isfinite(loss.item()):
                sys.exit(f"loss became {loss.item()} in epoch {epoch}, batch {b + 1}: "
                         "lower --lr, or check your gradients (part b)")
            if (b + 1) % log_every == 0 or b + 1 == batches:
                print(f"epoch {epoch}/{epochs}  batch {b + 1:4d}/{batches}  "
                      f"loss {seen_loss / seen:.4f}  train acc {seen_correct / seen:6.2%}  "
                      f"[{time.perf_counter() - start:6.1f} s]", flush=True)
        model.eval()
        if len(x_val):
            print(f"epoch {epoch}/{epochs}  validation accuracy {accuracy(model, x_val, labels_val):.2%}",
                  flush=True)


def save_weights(model: Module, path: Path) -> None:
    """Save the state dict (parameter name -> float32 array) as .npz."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{name: value.astype(np.float32) for name, value in model.state_dict().items()})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--epochs", type=int, default=4, help="passes over the training images")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the initial weights, the validation split and the batch order")
    parser.add_argument("--data", type=Path, default=default_data_dir(),
                        help="folder with the MNIST IDX files (train-images-idx3-ubyte[.gz], ...)")
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH, help="where to save the weights")
    parser.add_argument("--lr", type=float, default=0.02, help="SGD learning rate")
    parser.add_argument("--momentum", type=float, default=0.9, help="SGD momentum")
    parser.add_argument("--batch-size", type=int, default=32, help="images per SGD step")
    parser.add_argument("--val", type=int, default=1000,
                        help="training images held out for validation (not trained on)")
    parser.add_argument("--limit", type=int, default=None,
                        help="train on only this many images (quick trial runs)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> float:
    """Train, report, save; returns the final validation accuracy."""
    args = parse_args(argv)
    images, labels = load_mnist(args.data, "train")
    labels = labels.astype(np.int64)
    rng = np.random.default_rng(args.seed)
    if not 0 <= args.val < len(images):
        sys.exit(f"--val must be between 0 and {len(images) - 1}")
    order = rng.permutation(len(images))              # a seeded split: the same seed, the same split
    val_idx, train_idx = order[:args.val], order[args.val:]
    if args.limit is not None:
        train_idx = train_idx[:args.limit]
    x, y = to_network_input(images[train_idx]), labels[train_idx]
    x_val, y_val = to_network_input(images[val_idx]), labels[val_idx]
    print(f"data: {args.data}  training images {len(x)}, validation images {len(x_val)}")

    manual_seed(args.seed)                            # the initial weights
    model = build_model()
    n_params = sum(p.data.size for p in model.parameters())
    print(f"model: {n_params} parameters\n{model}")

    start = time.perf_counter()
    train(model, x, y, x_val, y_val, epochs=args.epochs, batch_size=args.batch_size,
          lr=args.lr, momentum=args.momentum, rng=rng)
    print(f"training took {time.perf_counter() - start:.1f} s")

    val_acc = accuracy(model, x_val, y_val) if len(x_val) else float("nan")
    print(f"final validation accuracy: {val_acc:.2%}")
    try:
        test_images, test_labels = load_mnist(args.data, "test")
    except FileNotFoundError:
        print("no test split in --data: skipped the test accuracy")
    else:
        print(f"test accuracy ({len(test_images)} images): "
              f"{accuracy(model, to_network_input(test_images), test_labels.astype(np.int64)):.2%}")

    save_weights(model, args.out)
    print(f"saved weights to {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")
    if args.out.resolve() == WEIGHTS_PATH.resolve():
        check_predict(x_val[:200], y_val[:200])
    return val_acc


def check_predict(x: np.ndarray, labels: np.ndarray) -> None:
    """Run your predict on some validation images: it should agree with the accuracy above."""
    import ex41_mnist

    try:
        got = ex41_mnist.predict(x)
    except NotImplementedError:
        print("predict is not implemented yet: write it in ex41_mnist.py (part e)")
        return
    got = np.asarray(got)
    if got.shape != labels.shape or not np.issubdtype(got.dtype, np.integer):
        print(f"predict returned {got.dtype} {got.shape}; expected integer labels of shape {labels.shape}")
        return
    print(f"your predict on {len(x)} validation images: {(got == labels).mean():.2%} correct")


if __name__ == "__main__":
    main()
