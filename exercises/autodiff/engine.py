"""Tensor, Function and backpropagation: the whole autodiff engine.

A Tensor holds an array (`.data`) and, after `backward()`, the gradient of
the final scalar with respect to that array (`.grad`, same shape). Every
operation is a Function, named after the operation with the suffix
`Function` (MulFunction, ReLUFunction; the layer nn.ReLU is a Module that
uses ReLUFunction), with two halves written next to each other:

    forward(ctx, *arrays)      computes the result from the input arrays and
                               saves in ctx what the derivative will need;
    backward(ctx, grad_output) gets dL/d(result) and returns dL/d(input),
                               one gradient per input (chain rule:
                               upstream gradient times local derivative).

`Function.apply` runs forward and records in the result Tensor a Node:
which Function made it, that call's ctx, and from which input Tensors.
`Tensor.backward` then visits that graph from the result back to the leaves
and adds (`+=`) each gradient into `.grad`: a tensor used twice receives the
sum of both contributions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class Context:
    """What a Function's forward leaves for its backward.

    Arrays go through `ctx.save_for_backward(a, b)`; backward reads them back
    with `a, b = ctx.saved_values`. Settings that are not arrays (an axis, a
    kernel size) are stored as attributes (`ctx.axis = axis`).
    """

    def __init__(self) -> None:
        self.saved_values: tuple = ()

    def save_for_backward(self, *values) -> None:
        self.saved_values = values


class Function:
    """Base class of every differentiable operation.

    Subclasses define two static methods on plain NumPy arrays:
    `forward(ctx, *arrays, **settings) -> np.ndarray` and
    `backward(ctx, grad_output) -> gradient or tuple of gradients` (one per
    array input, each an ndarray of that input's shape, or None for "no
    gradient"). Keyword settings (an axis, an exponent) are passed to forward
    unchanged and get no gradient. Use the Function with `MyFunction.apply(...)`.

    Name a subclass after its operation with the suffix `Function`
    (ReLUFunction, MaxPool2DFunction), so that it is never mistaken for the
    Module of the same operation (ReLU, MaxPool2D).
    """

    @staticmethod
    def forward(ctx: Context, *arrays: np.ndarray, **settings) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **settings) -> Tensor:
        """Run forward on the inputs' arrays and record the step for backward.

        Inputs that are not Tensors (arrays, numbers) become constants.
        """
        tensors = tuple(x if isinstance(x, Tensor) else Tensor(x) for x in inputs)
        ctx = Context()
        data = cls.forward(ctx, *(t.data for t in tensors), **settings)
        if not any(t.requires_grad for t in tensors):
            return Tensor(data)             # a constant: no graph to remember
        return Tensor._computed(data, Node(cls, ctx, tensors))


@dataclass(frozen=True)
class Node:
    """How a tensor was computed: the step backward has to undo.

    function: the Function class whose forward made the tensor;
    ctx: what that forward saved for its backward;
    inputs: the Tensors forward was applied to, in order.
    """

    function: type[Function]
    ctx: Context
    inputs: tuple[Tensor, ...]


class Tensor:
    """An n-dimensional array that can take part in backpropagation.

    data: np.ndarray (float64, or float32 if given float32).
    grad: np.ndarray of data's shape, or None until a backward pass reaches it.
    requires_grad: whether backward computes a gradient for this tensor.
    A tensor computed by a Function from inputs requiring grad remembers how
    in `_node` (a Node); for a leaf (made by `Tensor(...)`) `_node` is None.
    """

    __array_ufunc__ = None      # `ndarray + Tensor` calls Tensor.__radd__ instead of looping

    def __init__(self, data, requires_grad: bool = False) -> None:
        data = np.asarray(data.data if isinstance(data, Tensor) else data)
        self.data = data if data.dtype == np.float32 else data.astype(np.float64, copy=False)
        self.grad: np.ndarray | None = None
        self.requires_grad = requires_grad
        self._node: Node | None = None      # how this tensor was computed; None for a leaf

    @staticmethod
    def _computed(data: np.ndarray, node: Node) -> Tensor:
        """The result of `node.function` (used by Function.apply); it requires grad."""
        out = Tensor(data, requires_grad=True)
        out._node = node
        return out

    # ---------------------------------------------------------------- basics
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        return self.data.item()

    def zero_grad(self) -> None:
        """Reset the accumulated gradient to zeros (before the next backward)."""
        self.grad = np.zeros_like(self.data)

    def __repr__(self) -> str:
        return f"Tensor({self.data!r}, requires_grad={self.requires_grad})"

    def _lift(self, other) -> Tensor:
        """Wrap a number or array as a constant Tensor (a number takes self's dtype)."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float)):
            return Tensor(np.asarray(other, dtype=self.data.dtype))
        return Tensor(other)

    # ------------------------------------------------------------ operations
    def __add__(self, other) -> Tensor:
        return AddFunction.apply(self, self._lift(other))

    def __mul__(self, other) -> Tensor:
        return MulFunction.apply(self, self._lift(other))

    def __pow__(self, exponent: float) -> Tensor:
        return PowFunction.apply(self, exponent=exponent)

    def __matmul__(self, other) -> Tensor:
        return MatMulFunction.apply(self, self._lift(other))

    def __rmatmul__(self, other) -> Tensor:
        return MatMulFunction.apply(self._lift(other), self)

    __radd__ = __add__
    __rmul__ = __mul__

    # Derived operations: built from the primitives above, no backward of their own.
    def __neg__(self) -> Tensor:
        return self * -1

    def __sub__(self, other) -> Tensor:
        return self + -self._lift(other)

    def __rsub__(self, other) -> Tensor:
        return self._lift(other) + -self

    def __truediv__(self, other) -> Tensor:
        return self * self._lift(other) ** -1

    def __rtruediv__(self, other) -> Tensor:
        return self._lift(other) * self ** -1

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return SumFunction.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        total = self.sum(axis=axis, keepdims=keepdims)
        return total * (total.data.size / self.data.size)   # divide by the number of summed elements

    def reshape(self, *shape) -> Tensor:
        """`t.reshape(2, 3)` or `t.reshape((2, 3))`; one size may be -1."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ReshapeFunction.apply(self, shape=shape)

    def transpose(self, *axes) -> Tensor:
        """Permute axes like np.transpose; no axes reverses them (t.T)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return TransposeFunction.apply(self, axes=axes or tuple(reversed(range(self.ndim))))

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def relu(self) -> Tensor:
        return ReLUFunction.apply(self)

    def exp(self) -> Tensor:
        return ExpFunction.apply(self)

    def log(self) -> Tensor:
        return LogFunction.apply(self)

    # --------------------------------------------------------- backpropagation
    def backward(self, grad=None) -> None:
        """Add d(self)/d(t), times `grad`, to `t.grad` for every t self depends on.

        grad: dL/d(self), shape of self. Only for a one-element tensor may it
        be left out (it is then 1). Leaves accumulate gradients over several
        backward calls (call zero_grad in between); the gradient of an inner
        node is recomputed by each call.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad "
                               "(no input of the computation had requires_grad=True)")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward() without a gradient works only for a one-element "
                                   f"tensor; this one has shape {self.shape}: pass grad=")
            grad = np.ones_like(self.data)
        grad = np.asarray(grad, dtype=self.data.dtype)
        if grad.shape != self.shape:
            raise ValueError(f"backward(grad): grad has shape {grad.shape}, the tensor {self.shape}")

        order = _topological_order(self)          # every tensor after all of its inputs
        for t in order:
            if t._node is not None or t.grad is None:
                t.grad = np.zeros_like(t.data)
        self.grad += grad
        for t in reversed(order):                 # from the result back to the leaves
            node = t._node
            if node is None:                      # a leaf: nothing further back
                continue
            grads = node.function.backward(node.ctx, t.grad)
            grads = _checked_gradients(node.function, grads, node.inputs)
            for inp, g in zip(node.inputs, grads):
                if inp.requires_grad and g is not None:
                    inp.grad += g                 # += : a tensor used twice gets both parts


def _topological_order(root: Tensor) -> list[Tensor]:
    """All tensors requiring grad that root depends on, each after its inputs.

    Depth-first search with an explicit stack (so long chains do not hit
    Python's recursion limit): a tensor is appended once all its inputs are.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        t, inputs_done = stack.pop()
        if inputs_done:
            order.append(t)
        elif id(t) not in visited:
            visited.add(id(t))
            stack.append((t, True))
            inputs = t._node.inputs if t._node is not None else ()
            stack.extend((inp, False) for inp in inputs if inp.requires_grad)
    return order


def _checked_gradients(function: type[Function], grads, inputs: tuple[Tensor, ...]) -> tuple:
    """The one place that checks what a backward returned.

    There must be one gradient (ndarray or None) per input. A gradient must
    have its input's shape; a gradient in the shape of a broadcast result
    (e.g. (B, n) for an input (n,)) is summed back to the input's shape.
    """
    name = function.__name__
    if not isinstance(grads, (tuple, list)):
        grads = (grads,)
    if len(grads) != len(inputs):
        raise RuntimeError(f"{name}.backward returned {len(grads)} gradient(s), but {name}.forward "
                           f"took {len(inputs)} input(s): return one gradient per input, in order")
    checked = []
    for i, (g, inp) in enumerate(zip(grads, inputs)):
        if g is not None:
            g = np.asarray(g)
            if g.shape != inp.shape:
                if not _broadcasts_to(inp.shape, g.shape):
                    raise RuntimeError(f"{name}.backward returned a gradient of shape {g.shape} "
                                       f"for input {i} of shape {inp.shape}: shapes must match")
                g = _unbroadcast(g, inp.shape)
        checked.append(g)
    return tuple(checked)


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether NumPy broadcasting stretches `shape` to `target`."""
    return len(shape) <= len(target) and all(
        s in (1, t) for s, t in zip(reversed(shape), reversed(target)))


def _unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum grad back to `shape`: broadcasting copied the input along these axes,
    so each copy's gradient flows back to the same element."""
    leading = tuple(range(grad.ndim - len(shape)))                 # axes broadcasting added
    stretched = tuple(len(leading) + i for i, s in enumerate(shape)
                      if s == 1 and grad.shape[len(leading) + i] != 1)  # size-1 axes it stretched
    return grad.sum(axis=leading + stretched, keepdims=True).reshape(shape)


# ---------------------------------------------------------------------------
# Primitive operations. Each: forward formula, then its local derivative.
# Gradients may come out in the broadcast shape; _checked_gradients sums them back.
# Arrays backward needs go through ctx.save_for_backward; settings (an axis,
# a shape) are plain ctx attributes.

class AddFunction(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad                      # d(a+b)/da = 1, d(a+b)/db = 1


class MulFunction(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_values
        return grad * b, grad * a              # d(ab)/da = b, d(ab)/db = a


class PowFunction(Function):
    """a ** p for a constant number p."""

    @staticmethod
    def forward(ctx, a, exponent):
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        return a ** exponent

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_values
        p = ctx.exponent
        return grad * p * a ** (p - 1)         # d(a^p)/da = p a^(p-1)


class MatMulFunction(Function):
    """a: (..., n, k) @ b: (..., k, m) -> (..., n, m); both at least 2-D."""

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim < 2 or b.ndim < 2:
            raise ValueError(f"matmul needs 2-D (or batched) operands, got shapes {a.shape} and {b.shape}")
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_values                # out[i,j] = sum_k a[i,k] b[k,j]
        return grad @ b.swapaxes(-1, -2), a.swapaxes(-1, -2) @ grad


class SumFunction(Function):
    @staticmethod
    def forward(ctx, a, axis, keepdims):
        ctx.shape, ctx.axis, ctx.keepdims = a.shape, axis, keepdims
        return a.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        if ctx.axis is not None and not ctx.keepdims:
            grad = np.expand_dims(grad, ctx.axis)        # put the summed axes back as size 1
        return np.broadcast_to(grad, ctx.shape)          # d(sum)/d(a_i) = 1 for every i


class ReshapeFunction(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)         # same numbers, old shape


class TransposeFunction(Function):
    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return a.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(np.argsort(ctx.axes))   # the inverse permutation


class ReLUFunction(Function):
    """max(a, 0) elementwise (the layer nn.ReLU uses it through Tensor.relu)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.maximum(a, 0)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_values
        return grad * (a > 0)                  # slope 1 where a > 0, else 0


class ExpFunction(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_values
        return grad * out                      # d(e^a)/da = e^a


class LogFunction(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_values
        return grad / a                        # d(ln a)/da = 1/a
