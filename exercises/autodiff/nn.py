"""Layers: Module, Parameter, Linear, ReLU, Flatten, MaxPool2D, Sequential, and the loss.

A Module is a function with parameters. Assigning a Parameter or another
Module to an attribute (`self.weight = Parameter(...)`, `self.fc = Linear(...)`)
registers it, so `parameters()` finds every parameter of a whole network and
`named_parameters()` names it by its path (`layers.0.weight`).

Random initialisation draws from one global generator, `rng()`; call
`manual_seed(seed)` to make it reproducible.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from .engine import Function, Tensor

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> None:
    """Restart the framework's random generator (used by every initialisation)."""
    global _generator
    _generator = np.random.default_rng(seed)


def rng() -> np.random.Generator:
    """The framework's global random generator."""
    return _generator


class Parameter(Tensor):
    """A Tensor a Module learns: requires_grad=True, data copied from the input."""

    def __init__(self, data) -> None:
        super().__init__(np.array(data.data if isinstance(data, Tensor) else data), requires_grad=True)


class Module:
    """Base class of layers and networks. Subclasses call `super().__init__()`
    first and define `forward`; `module(x)` calls `module.forward(x)`.

    Attributes are ordinary attributes (a typo such as `self.wieght` raises
    AttributeError); assigning a Parameter or a Module additionally records
    its name so that the parameters can be found.
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})   # name -> Parameter, in assignment order
        object.__setattr__(self, "_modules", {})      # name -> Module, in assignment order
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 f"assigning attributes (here: {name!r})")
        self._parameters.pop(name, None)              # re-assigning replaces the registration
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args):
        return self.forward(*args)

    def named_parameters(self, prefix: str = "") -> list[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs: own parameters first, then each
        sub-module's (as torch orders them); a shared parameter appears once."""
        pairs, seen = [], set()
        for name, p in self._named_parameters_with_duplicates(prefix):
            if id(p) not in seen:
                seen.add(id(p))
                pairs.append((name, p))
        return pairs

    def _named_parameters_with_duplicates(self, prefix: str) -> Iterator[tuple[str, Parameter]]:
        for name, p in self._parameters.items():
            yield prefix + name, p
        for name, m in self._modules.items():
            yield from m._named_parameters_with_duplicates(prefix + name + ".")

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def modules(self) -> list[Module]:
        """This module and all modules inside it, depth first."""
        return [self] + [m for child in self._modules.values() for m in child.modules()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode: bool = True) -> Module:
        """Set the `training` flag of this module and all sub-modules."""
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of all parameter arrays by dotted name (save with np.savez(path, **d))."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy arrays into the parameters; names and shapes must match exactly."""
        own = dict(self.named_parameters())
        missing, unexpected = sorted(own.keys() - state.keys()), sorted(state.keys() - own.keys())
        if missing or unexpected:
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        for name, p in own.items():
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ValueError(f"load_state_dict: {name!r} has shape {p.shape} in the model "
                                 f"but {value.shape} in the state dict")
            p.data = value.astype(p.data.dtype, copy=True)

    def __repr__(self) -> str:
        """E.g. `Linear(weight=(3, 4), bias=(3,))`; sub-modules one per line."""
        fields = [f"{name}={p.shape}" for name, p in self._parameters.items()]
        fields += [f"{name}={value!r}" for name, value in vars(self).items()
                   if type(value) in (int, float)]                 # settings like kernel_size
        children = [f"  ({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        if children:
            return f"{type(self).__name__}(\n" + "\n".join(children) + "\n)"
        return f"{type(self).__name__}({', '.join(fields)})"


class Linear(Module):
    """y = x @ weight.T + bias.  x: (B, in_features) -> y: (B, out_features).

    weight: (out_features, in_features), bias: (out_features,) or None; both
    uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)] with fan_in = in_features.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        fan_in = in_features
        bound = 1 / np.sqrt(fan_in)
        self.weight = Parameter(rng().uniform(-bound, bound, size=(out_features, in_features)))
        self.bias = Parameter(rng().uniform(-bound, bound, size=(out_features,))) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        y = x @ self.weight.T
        return y + self.bias if self.bias is not None else y


class ReLU(Module):
    """max(x, 0) elementwise; any shape."""

    def forward(self, x: Tensor) -> Tensor:
        return x.relu()


class Flatten(Module):
    """(B, d1, d2, ...) -> (B, d1 * d2 * ...)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], -1)


class MaxPool2DFunction(Function):
    """Maximum over k x k windows moved by `stride`.

    x: (B, C, H, W) -> (B, C, (H - k) // stride + 1, (W - k) // stride + 1);
    rows and columns that do not fill a window are dropped. The gradient of
    each output goes to the (first) position of its window's maximum.
    """

    @staticmethod
    def forward(ctx, x, kernel_size, stride):
        k, s = kernel_size, stride
        Ho, Wo = (x.shape[2] - k) // s + 1, (x.shape[3] - k) // s + 1
        out = None
        for u in range(k):          # the maximum of k * k strided slices: no window copies
            for v in range(k):
                part = x[:, :, u:u + s * (Ho - 1) + 1:s, v:v + s * (Wo - 1) + 1:s]
                out = part.copy() if out is None else np.maximum(out, part, out=out)
        ctx.save_for_backward(x)
        ctx.k, ctx.s = k, s
        return out

    @staticmethod
    def backward(ctx, grad):
        # Each output's gradient lands on its argmax; overlapping windows add up.
        (x,) = ctx.saved_values
        index = _window_argmax(x, ctx.k, ctx.s)
        flat = np.bincount(index.ravel(), weights=grad.ravel(), minlength=x.size)
        return flat.reshape(x.shape).astype(grad.dtype, copy=False)


def _window_argmax(x: np.ndarray, k: int, s: int) -> np.ndarray:
    """Position in the flattened x of each window's (first) maximum: (B, C, Ho, Wo)."""
    B, C, H, W = x.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]
    Ho, Wo = windows.shape[2:4]                               # windows: (B, C, Ho, Wo, k, k)
    argmax = windows.reshape(B, C, Ho, Wo, k * k).argmax(axis=-1)
    rows = np.arange(Ho)[:, None] * s + argmax // k
    cols = np.arange(Wo)[None, :] * s + argmax % k
    planes = np.arange(B * C).reshape(B, C, 1, 1)              # which (b, c) image plane
    return (planes * H + rows) * W + cols


class MaxPool2D(Module):
    """Max pooling on (B, C, H, W); stride defaults to kernel_size (no overlap)."""

    def __init__(self, kernel_size: int, stride: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride

    def forward(self, x: Tensor) -> Tensor:
        return MaxPool2DFunction.apply(x, kernel_size=self.kernel_size, stride=self.stride)


class Sequential(Module):
    """Applies the given modules one after another; they are named "0", "1", ..."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, m in enumerate(modules):
            setattr(self, str(i), m)

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __len__(self) -> int:
        return len(self._modules)

    def forward(self, x: Tensor) -> Tensor:
        for m in self._modules.values():
            x = m(x)
        return x


class SoftmaxCrossEntropyFunction(Function):
    """mean_n( -log softmax(logits[n])[labels[n]] ).  logits: (N, K) -> scalar."""

    @staticmethod
    def forward(ctx, logits, labels):
        shifted = logits - logits.max(axis=1, keepdims=True)    # exp cannot overflow
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        n = len(labels)
        ctx.save_for_backward(np.exp(log_probs), labels)
        return -log_probs[np.arange(n), labels].mean()

    @staticmethod
    def backward(ctx, grad):
        probs, labels = ctx.saved_values
        n = len(labels)
        d_logits = probs.copy()                                  # softmax - one_hot(label)
        d_logits[np.arange(n), labels] -= 1
        return grad * d_logits / n


def softmax_cross_entropy(logits: Tensor, labels: np.ndarray) -> Tensor:
    """Mean cross-entropy of softmax(logits) against integer class labels.

    logits: (N, K) Tensor; labels: (N,) ints in [0, K). Returns a scalar Tensor.
    """
    labels = np.asarray(labels)
    shape = logits.shape if isinstance(logits, Tensor) else np.shape(logits)
    if len(shape) != 2 or labels.shape != shape[:1] or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"softmax_cross_entropy: need logits (N, K) and integer labels (N,), "
                         f"got logits {shape} and labels {labels.shape} of dtype {labels.dtype}")
    return SoftmaxCrossEntropyFunction.apply(logits, labels=labels)
