"""Tests of the course autodiff framework `exercises/autodiff` against torch (float64).

Every operation and layer is checked for its value and for the gradients of
all inputs under a random upstream gradient (never all ones).
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

EXERCISES = Path(__file__).resolve().parents[1] / "exercises"
if str(EXERCISES) not in sys.path:
    sys.path.append(str(EXERCISES))          # students import it as `autodiff`; append: shadow nothing
import autodiff as ad                        # noqa: E402
from autodiff import (SGD, Context, Flatten, Function, Linear, MaxPool2D, Module,  # noqa: E402
                      Parameter, ReLU, Sequential, Tensor, manual_seed, softmax_cross_entropy)

torch.set_default_dtype(torch.float64)
FAST = settings(max_examples=25, deadline=None)


def leaf(array: np.ndarray) -> tuple[Tensor, torch.Tensor]:
    """The same array as an autodiff leaf and a torch leaf, both requiring grad."""
    return Tensor(array.copy(), requires_grad=True), torch.tensor(array, requires_grad=True)


def check_against_torch(f_ours, f_torch, arrays, rng, what: str) -> None:
    """Compare f's value and the gradients of every input under a random upstream gradient."""
    ours, theirs = zip(*(leaf(a) for a in arrays))
    out, ref = f_ours(*ours), f_torch(*theirs)
    assert isinstance(out, Tensor), what
    assert out.shape == tuple(ref.shape), f"{what}: shape {out.shape} != {tuple(ref.shape)}"
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=what)
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    ref.backward(torch.tensor(upstream))
    for i, (o, t) in enumerate(zip(ours, theirs)):
        assert o.grad is not None and o.grad.shape == o.shape, f"{what}: grad {i} shape"
        np.testing.assert_allclose(o.grad, t.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=f"{what}: gradient of input {i}")


def away_from_zero(a: np.ndarray) -> np.ndarray:
    return np.sign(a + 1e-3) * (np.abs(a) + 0.5)


# ----------------------------------------------------------------- elementwise

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "mixed": lambda a, b: (a - b) * a / (b * b + 1) + 2 - a,
}


@pytest.mark.parametrize("name", BINARY)
@FAST
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4),
       seed=st.integers(0, 2**32 - 1))
def test_binary_ops_with_broadcasting(name, shapes, seed):
    rng = np.random.default_rng(seed)
    a_shape, b_shape = shapes.input_shapes
    a, b = rng.standard_normal(a_shape), away_from_zero(rng.standard_normal(b_shape))
    f = BINARY[name]
    check_against_torch(f, f, [a, b], rng, f"{name} {a_shape} {b_shape}")


SCALAR_MIXES = {
    "radd": lambda x: 2.5 + x,
    "rsub": lambda x: 2.5 - x,
    "rmul": lambda x: -1.5 * x,
    "rdiv": lambda x: 3.0 / x,
    "neg": lambda x: -x,
    "square": lambda x: x ** 2,
    "cube": lambda x: x ** 3,
    "inverse": lambda x: x ** -1,
}


@pytest.mark.parametrize("name", SCALAR_MIXES)
def test_ops_with_python_scalars(name):
    rng = np.random.default_rng(1)
    f = SCALAR_MIXES[name]
    check_against_torch(f, f, [away_from_zero(rng.standard_normal((3, 5)))], rng, name)


def test_numpy_array_on_either_side_becomes_a_constant():
    rng = np.random.default_rng(2)
    c = rng.standard_normal((4, 1))
    f_ours = lambda x: c * x + x * c - c / x + (c - x)              # noqa: E731
    tc = torch.tensor(c)
    f_torch = lambda x: tc * x + x * tc - tc / x + (tc - x)         # noqa: E731
    check_against_torch(f_ours, f_torch, [away_from_zero(rng.standard_normal((4, 3)))], rng,
                        "array constants")


UNARY = {
    "exp": (lambda x: x.exp(), torch.exp),
    "log": (lambda x: (x * x + 0.1).log(), lambda x: torch.log(x * x + 0.1)),
    "relu": (lambda x: x.relu(), torch.relu),
    "sqrt": (lambda x: (x * x + 1) ** 0.5, lambda x: (x * x + 1) ** 0.5),
    "sum": (lambda x: x.sum(), torch.sum),
    "sum_axis0": (lambda x: x.sum(axis=0), lambda x: x.sum(dim=0)),
    "sum_axis_neg": (lambda x: x.sum(axis=-1, keepdims=True), lambda x: x.sum(dim=-1, keepdim=True)),
    "sum_axes": (lambda x: x.sum(axis=(0, 2)), lambda x: x.sum(dim=(0, 2))),
    "mean": (lambda x: x.mean(), torch.mean),
    "mean_axis": (lambda x: x.mean(axis=1), lambda x: x.mean(dim=1)),
    "mean_keepdims": (lambda x: x.mean(axis=(1, 2), keepdims=True),
                      lambda x: x.mean(dim=(1, 2), keepdim=True)),
    "reshape": (lambda x: x.reshape(6, -1) * np.arange(4.0), lambda x: x.reshape(6, -1) * torch.arange(4.0)),
    "reshape_tuple": (lambda x: x.reshape((4, 6)), lambda x: x.reshape(4, 6)),
    "transpose": (lambda x: x.transpose(2, 0, 1), lambda x: x.permute(2, 0, 1)),
    "transpose_tuple": (lambda x: x.transpose((1, 2, 0)), lambda x: x.permute(1, 2, 0)),
    "T": (lambda x: x.T, lambda x: x.permute(2, 1, 0)),
}


@pytest.mark.parametrize("name", UNARY)
def test_unary_ops(name):
    rng = np.random.default_rng(3)
    x = away_from_zero(rng.standard_normal((2, 3, 4)))       # not square; relu never at 0
    f_ours, f_torch = UNARY[name]
    check_against_torch(f_ours, f_torch, [x], rng, name)


# --------------------------------------------------------------------- graphs

def test_node_used_twice_accumulates():
    rng = np.random.default_rng(4)

    def f(a, b):
        c = a * b                 # c feeds three later operations
        d = c + c * a
        return (d * c - b).exp() * 0.1 + d / (c * c + 1)

    check_against_torch(f, f, [rng.standard_normal((3, 4)), rng.standard_normal((4,))], rng, "reuse")


def test_same_tensor_as_both_inputs():
    rng = np.random.default_rng(5)
    f = lambda x: x @ x.T + x * x                            # noqa: E731
    check_against_torch(f, f, [rng.standard_normal((3, 3))], rng, "x @ x.T + x * x")


@FAST
@given(n=st.integers(1, 4), k=st.integers(1, 4), m=st.integers(1, 4), p=st.integers(1, 4),
       seed=st.integers(0, 2**32 - 1))
def test_matmul_chain(n, k, m, p, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in [(n, k), (k, m), (m, p), (p,)]]
    f = lambda a, b, c, bias: (a @ b).relu() @ c + bias     # noqa: E731
    check_against_torch(f, f, arrays, rng, f"matmul chain n={n} k={k} m={m} p={p}")


def test_batched_matmul_broadcasts_the_matrix():
    rng = np.random.default_rng(6)
    f = lambda x, w: x @ w.T                                  # noqa: E731
    check_against_torch(f, f, [rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4))], rng,
                        "batched matmul")
    g = lambda x, w: w @ x                                    # noqa: E731  (array on the left)
    check_against_torch(g, g, [rng.standard_normal((2, 4, 3)), rng.standard_normal((5, 4))], rng,
                        "rmatmul")


def test_matmul_rejects_vectors():
    with pytest.raises(ValueError, match="2-D"):
        Tensor(np.ones(3)) @ Tensor(np.ones(3))


def test_leaf_gradients_accumulate_until_zero_grad_inner_ones_do_not():
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    h = x * x
    y = (h * 2).sum()
    y.backward()
    y.backward()                               # like torch: leaves add up over backward calls
    np.testing.assert_allclose(x.grad, 2 * 4 * x.data)
    np.testing.assert_allclose(h.grad, [2.0, 2.0, 2.0])    # inner node: this pass only
    x.zero_grad()
    np.testing.assert_array_equal(x.grad, np.zeros(3))
    y.backward()
    np.testing.assert_allclose(x.grad, 4 * x.data)


def test_constants_get_no_gradient():
    x, c = Tensor(np.ones((2, 2)), requires_grad=True), Tensor(np.full((2, 2), 3.0))
    (x * c).sum().backward()
    assert c.grad is None and not c.requires_grad
    np.testing.assert_allclose(x.grad, c.data)
    assert not (c * 2).requires_grad


def test_long_chain_does_not_hit_the_recursion_limit():
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


def test_graph_state_is_one_node_per_computed_tensor():
    a, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.full(3, 2.0))
    y = a * b
    assert isinstance(y._node, ad.engine.Node)
    assert y._node.function is ad.engine.MulFunction and y._node.inputs == (a, b)
    assert y._node.ctx.saved_values[1] is b.data
    assert a._node is None and b._node is None                 # leaves
    assert (b * 2)._node is None                               # a constant: nothing recorded
    with pytest.raises(dataclasses.FrozenInstanceError):
        y._node.inputs = ()
    assert not {"_function", "_ctx", "_inputs"} & set(vars(y))


# Graphs that together use every Function of the framework, and the Functions each must reach.
CTX_CASES = {
    "ops": (lambda x: ((x * 2 + x) ** 2 @ x.T).sum(axis=0).reshape(1, -1).T.relu().exp().log(),
            {"AddFunction", "MulFunction", "PowFunction", "MatMulFunction", "SumFunction",
             "ReshapeFunction", "TransposeFunction", "ReLUFunction", "ExpFunction", "LogFunction"}),
    "maxpool": (lambda x: MaxPool2D(2, 1)(x.reshape(1, 1, 3, 4)), {"MaxPool2DFunction"}),
    "softmax_cross_entropy": (lambda x: softmax_cross_entropy(x, np.array([0, 3, 1])),
                              {"SoftmaxCrossEntropyFunction"}),
}


@pytest.mark.parametrize("name", CTX_CASES)
def test_functions_save_arrays_with_save_for_backward(name):
    """The Context docstring's rule, kept by every example students read:
    arrays go through save_for_backward, only settings are ctx attributes."""
    f, expected = CTX_CASES[name]
    x = Tensor(np.random.default_rng(6).standard_normal((3, 4)), requires_grad=True)
    stack, seen = [f(x)], set()
    while stack:
        node = stack.pop()._node
        if node is None:
            continue
        seen.add(node.function.__name__)
        arrays = [k for k, v in vars(node.ctx).items() if k != "saved_values" and isinstance(v, np.ndarray)]
        assert not arrays, f"{node.function.__name__} keeps arrays as ctx attributes: {arrays}"
        stack.extend(node.inputs)
    assert expected <= seen, expected - seen


def test_function_classes_are_named_apart_from_modules():
    """Function subclasses end in "Function", so `ReLU` (a Module) and the
    Function it uses can never be confused by a letter's case."""
    functions = [c for m in (ad.engine, ad.nn) for c in vars(m).values()
                 if isinstance(c, type) and issubclass(c, Function) and c is not Function]
    modules = {c.__name__.lower() for c in vars(ad.nn).values()
               if isinstance(c, type) and issubclass(c, Module)}
    assert len(functions) >= 12
    for f in functions:
        assert f.__name__.endswith("Function"), f.__name__
        assert f.__name__.lower() not in modules, f.__name__
    assert ad.engine.ReLUFunction.__name__.removesuffix("Function") == ReLU.__name__


def test_backward_argument_checks():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        (x * 2).backward()                    # not a scalar: grad is required
    with pytest.raises(ValueError, match="shape"):
        (x * 2).backward(np.ones((3, 2)))
    with pytest.raises(RuntimeError, match="requires"):
        Tensor(np.ones(2)).sum().backward()
    s = (x * 2).sum(keepdims=True)            # shape (1, 1): one element, grad defaults to 1
    s.backward()
    np.testing.assert_allclose(x.grad, 2 * np.ones((2, 3)))


def test_dtypes():
    assert Tensor([1, 2]).data.dtype == np.float64
    assert Tensor(np.ones(2, dtype=np.float16)).data.dtype == np.float64
    x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    w = Parameter(np.ones((4, 3), dtype=np.float32))
    y = ((x @ w.T) * 2.0 + 1 - x.sum() / 3).relu().mean()
    assert y.data.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_import_needs_numpy_only():
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import autodiff; "
            "bad = {'torch', 'scipy', 'tensorflow', 'jax'} & set(sys.modules); assert not bad, bad")
    subprocess.run([sys.executable, "-c", code, str(EXERCISES)], check=True, timeout=60)


def test_exports():
    for name in ["Tensor", "Function", "Context", "Module", "Parameter", "Linear", "ReLU", "Flatten",
                 "MaxPool2D", "Sequential", "softmax_cross_entropy", "SGD", "manual_seed", "rng"]:
        assert hasattr(ad, name), name
    assert isinstance(ad.rng(), np.random.Generator)


# ------------------------------------------------------------------- Function

def h_conv2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Reference cross-correlation. image (B, C, H, W), kernel (O, C, kh, kw)."""
    kh, kw = kernel.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(image, (kh, kw), axis=(2, 3))
    return np.einsum("bchwuv,ocuv->bohw", windows, kernel)


def h_conv2d_grad(image, kernel, grad_output):
    kh, kw = kernel.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(image, (kh, kw), axis=(2, 3))
    grad_kernel = np.einsum("bchwuv,bohw->ocuv", windows, grad_output)
    padded = np.pad(grad_output, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    out_windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(2, 3))
    grad_image = np.einsum("bohwuv,ocuv->bchw", out_windows, kernel[:, :, ::-1, ::-1])
    return grad_image, grad_kernel


class Conv2dFunction(Function):
    """Exactly the pattern students write in ex41 part c."""

    @staticmethod
    def forward(ctx, image, kernel):
        ctx.save_for_backward(image, kernel)
        return h_conv2d(image, kernel)

    @staticmethod
    def backward(ctx, grad_output):
        image, kernel = ctx.saved_values
        return h_conv2d_grad(image, kernel, grad_output)


def test_student_style_conv2d_function():
    rng = np.random.default_rng(7)
    image, kernel = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 5))
    check_against_torch(lambda i, k: Conv2dFunction.apply(i, k).relu().sum(axis=1),
                        lambda i, k: torch.nn.functional.conv2d(i, k).relu().sum(dim=1),
                        [image, kernel], rng, "Conv2dFunction")


def test_function_apply_accepts_arrays_as_constants():
    rng = np.random.default_rng(8)
    kernel = Tensor(rng.standard_normal((2, 1, 3, 3)), requires_grad=True)
    out = Conv2dFunction.apply(rng.standard_normal((1, 1, 5, 5)), kernel)
    out.backward(rng.standard_normal(out.shape))
    assert kernel.grad.shape == kernel.shape


class Scale(Function):
    """x * w with w a per-column weight; backward returns the broadcast-shaped gradient for w."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x * w

    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_values
        return grad_output * w, grad_output * x        # second one is (N, K), w is (K,)


def test_function_gradient_in_broadcast_shape_is_summed_back():
    rng = np.random.default_rng(9)
    check_against_torch(lambda x, w: Scale.apply(x, w), lambda x, w: x * w,
                        [rng.standard_normal((5, 3)), rng.standard_normal(3)], rng, "Scale")


class TooFewGradients(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class WrongShapeGradient(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a @ b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output           # (2, 4) for inputs (2, 3) and (3, 4)


class NoneGradient(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


def test_backward_returning_wrong_number_of_gradients_is_named():
    a, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"TooFewGradients\.backward returned 1 gradient.*2 input"):
        TooFewGradients.apply(a, b).sum().backward()


def test_backward_returning_wrong_shape_is_named():
    a, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((3, 4)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"WrongShapeGradient\.backward.*\(2, 4\).*input 0.*\(2, 3\)"):
        WrongShapeGradient.apply(a, b).sum().backward()


def test_none_gradient_means_no_gradient():
    a, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    NoneGradient.apply(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, np.ones(3))
    np.testing.assert_array_equal(b.grad, np.zeros(3))


def test_context_saved_values():
    ctx = Context()
    assert ctx.saved_values == ()
    ctx.save_for_backward(1, 2)
    assert ctx.saved_values == (1, 2)


# --------------------------------------------------------------------- layers

@FAST
@given(b=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(2, 9), w=st.integers(2, 9),
       k=st.integers(1, 3), stride=st.sampled_from([None, 1, 2, 3]), seed=st.integers(0, 2**32 - 1))
def test_maxpool2d(b, c, h, w, k, stride, seed):
    if k > min(h, w):
        k = min(h, w)
    rng = np.random.default_rng(seed)
    pool = MaxPool2D(k, stride)
    check_against_torch(pool, lambda x: torch.nn.functional.max_pool2d(x, k, stride),
                        [rng.standard_normal((b, c, h, w))], rng,
                        f"MaxPool2D({k}, {stride}) on {(b, c, h, w)}")


def test_maxpool2d_ties_go_to_the_first_maximum_like_torch():
    rng = np.random.default_rng(10)
    x = rng.integers(-1, 2, size=(2, 3, 7, 5)).astype(float)     # many equal values, odd sizes
    for k, stride in [(2, None), (3, 2), (2, 1)]:
        check_against_torch(lambda t: MaxPool2D(k, stride)(t.relu()),
                            lambda t: torch.nn.functional.max_pool2d(t.relu(), k, stride),
                            [x], rng, f"ties k={k} stride={stride}")


def test_flatten_and_relu_modules():
    rng = np.random.default_rng(11)
    check_against_torch(lambda x: Flatten()(ReLU()(x)), lambda x: torch.flatten(torch.relu(x), 1),
                        [away_from_zero(rng.standard_normal((2, 3, 4, 5)))], rng, "Flatten(ReLU)")
    assert Flatten()(Tensor(np.ones((1, 2, 3)))).shape == (1, 6)


@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_softmax_cross_entropy(scale):
    rng = np.random.default_rng(12)
    logits = scale * rng.standard_normal((6, 4))
    labels = rng.integers(0, 4, size=6)
    check_against_torch(lambda z: softmax_cross_entropy(z, labels),
                        lambda z: torch.nn.functional.cross_entropy(z, torch.tensor(labels)),
                        [logits], rng, f"softmax_cross_entropy scale={scale}")
    z = Tensor(logits, requires_grad=True)
    loss = softmax_cross_entropy(z, labels)
    assert loss.shape == () and np.isfinite(loss.item())
    loss.backward()
    assert np.all(np.isfinite(z.grad))


def test_softmax_cross_entropy_rejects_bad_labels():
    z = Tensor(np.zeros((3, 4)), requires_grad=True)
    for labels in [np.array([0, 1]), np.array([[0], [1], [2]]), np.array([0.0, 1.0, 2.0])]:
        with pytest.raises(ValueError, match="labels"):
            softmax_cross_entropy(z, labels)


def mlp_pair(seed: int):
    """An autodiff MLP and a torch MLP holding the same weights."""
    manual_seed(seed)
    ours = Sequential(Linear(5, 7), ReLU(), Linear(7, 4, bias=False), ReLU(), Linear(4, 3))
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 4, bias=False),
                                 torch.nn.ReLU(), torch.nn.Linear(4, 3))
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def test_sequential_mlp_against_torch():
    rng = np.random.default_rng(13)
    ours, theirs = mlp_pair(0)
    x, labels = rng.standard_normal((8, 5)), rng.integers(0, 3, size=8)
    loss = softmax_cross_entropy(ours(Tensor(x)), labels)
    ref = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(labels))
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-12)
    loss.backward()
    ref.backward()
    named = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(named)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, named[name].grad.numpy(), rtol=1e-9, atol=1e-14, err_msg=name)


# ----------------------------------------------------------- Linear initialisation

@pytest.mark.parametrize("in_features,out_features", [(300, 400), (784, 64)])
def test_linear_init_is_uniform_in_one_over_sqrt_fan_in(in_features, out_features):
    manual_seed(14)
    layer = Linear(in_features, out_features)
    bound = 1 / np.sqrt(in_features)
    w = layer.weight.data
    assert layer.weight.shape == (out_features, in_features) and layer.bias.shape == (out_features,)
    assert isinstance(layer.weight, Parameter) and layer.weight.requires_grad
    # Uniform(-b, b): all within +-b, the extremes close to +-b, mean 0, variance b^2 / 3.
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.mean()) < 5 * bound / np.sqrt(3 * w.size)           # 5 standard errors
    assert abs(w.var() / (bound ** 2 / 3) - 1) < 0.03
    assert np.abs(layer.bias.data).max() <= bound
    assert abs(layer.bias.data.var() / (bound ** 2 / 3) - 1) < 0.5   # few samples: coarse
    # A wrong bound (fan_out instead of fan_in, Glorot, 1/fan_in) is far off these tolerances.
    for wrong in [1 / np.sqrt(out_features), np.sqrt(6 / (in_features + out_features)), 1 / in_features]:
        assert abs(wrong ** 2 / 3 / (bound ** 2 / 3) - 1) > 0.1


def test_linear_bias_statistics():
    manual_seed(15)
    bias = Linear(50, 3000).bias.data
    bound = 1 / np.sqrt(50)
    assert np.abs(bias).max() <= bound and np.abs(bias).max() > 0.99 * bound
    assert abs(bias.var() / (bound ** 2 / 3) - 1) < 0.1


def test_manual_seed_makes_init_reproducible():
    manual_seed(3)
    a = Linear(4, 2)
    manual_seed(3)
    b = Linear(4, 2)
    c = Linear(4, 2)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert not np.array_equal(b.weight.data, c.weight.data)
    assert Linear(4, 2, bias=False).bias is None


# --------------------------------------------------------------------- Module

class Block(Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = Parameter(np.ones(3))
        self.layers = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
        self.head = Linear(2, 2, bias=False)
        self.tied = self.head.weight              # the same parameter under a second name
        self.note = "not a parameter"

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.layers(x * self.scale))


class TorchBlock(torch.nn.Module):
    """Block written for torch, to compare the parameter names and their order."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(3))
        self.layers = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
        self.head = torch.nn.Linear(2, 2, bias=False)
        self.tied = self.head.weight
        self.note = "not a parameter"


def test_module_registers_parameters_with_dotted_names():
    block = Block()
    names = [n for n, _ in block.named_parameters()]
    # Own parameters first, then sub-modules'; the tied weight listed once (torch's order).
    assert names == ["scale", "tied", "layers.0.weight", "layers.0.bias", "layers.2.weight",
                     "layers.2.bias"]
    assert names == [n for n, _ in TorchBlock().named_parameters()]
    assert [id(p) for p in block.parameters()] == [id(p) for _, p in block.named_parameters()]
    assert [type(m).__name__ for m in block.modules()] == ["Block", "Sequential", "Linear", "ReLU",
                                                           "Linear", "Linear"]
    assert len(block.layers) == 3 and isinstance(block.layers[2], Linear)


def test_reassigning_an_attribute_replaces_its_registration():
    layer = Linear(3, 2)
    layer.bias = None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    layer.bias = Parameter(np.zeros(2))
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]


def test_typo_raises_attribute_error():
    block = Block()
    with pytest.raises(AttributeError, match="wieght"):
        block.head.wieght                                     # noqa: B018
    with pytest.raises(AttributeError):
        block.layer                                           # noqa: B018
    assert not hasattr(block, "nothing")


def test_forgetting_super_init_is_explained():
    class Forgetful(Module):
        def __init__(self) -> None:
            self.weight = Parameter(np.ones(2))

    with pytest.raises(AttributeError, match="super"):
        Forgetful()


def test_zero_grad_train_eval_and_call():
    block = Block()
    out = block(Tensor(np.ones((5, 3))))
    assert out.shape == (5, 2)
    out.sum().backward()
    assert all(p.grad is not None and p.grad.any() for p in block.parameters())
    block.zero_grad()
    assert all(not p.grad.any() for p in block.parameters())
    assert block.eval() is block and not any(m.training for m in block.modules())
    assert block.train() is block and all(m.training for m in block.modules())


def test_repr_shows_structure_and_shapes():
    text = repr(Sequential(Linear(4, 3), ReLU(), MaxPool2D(2), Linear(3, 2, bias=False)))
    assert "(0): Linear(weight=(3, 4), bias=(3,))" in text
    assert "(2): MaxPool2D(kernel_size=2, stride=2)" in text and "(3): Linear(weight=(2, 3))" in text


def test_state_dict_round_trip(tmp_path):
    manual_seed(1)
    a = Block()
    manual_seed(2)
    b = Block()
    state = a.state_dict()
    assert list(state) == [n for n, _ in a.named_parameters()]
    state["scale"][:] = 7.0                                    # a copy: the model is unchanged
    assert np.all(a.scale.data == 1.0)
    np.savez(tmp_path / "w.npz", **a.state_dict())
    b.load_state_dict(dict(np.load(tmp_path / "w.npz")))
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)))
    np.testing.assert_array_equal(a(x).data, b(x).data)
    state = a.state_dict()
    b.load_state_dict({k: v.astype(np.float32) for k, v in state.items()})
    assert b.scale.data.dtype == np.float64                    # the model keeps its dtype
    state = {k: v.copy() for k, v in state.items()}
    b.load_state_dict(state)
    state["scale"][:] = 7.0                                    # loading copied the arrays
    assert np.all(b.scale.data == 1.0)


def test_load_state_dict_errors_name_the_problem():
    block = Block()
    state = block.state_dict()
    with pytest.raises(KeyError, match="layers.2.bias"):
        block.load_state_dict({k: v for k, v in state.items() if k != "layers.2.bias"})
    with pytest.raises(KeyError, match="extra"):
        block.load_state_dict({**state, "extra": np.ones(1)})
    with pytest.raises(ValueError, match=r"layers\.0\.weight.*\(4, 3\).*\(3, 4\)"):
        block.load_state_dict({**state, "layers.0.weight": np.ones((3, 4))})


# ------------------------------------------------------------------------ SGD

@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_matches_torch(momentum):
    rng = np.random.default_rng(16)
    ours, theirs = mlp_pair(1)
    opt, ref_opt = SGD(ours.parameters(), lr=0.1, momentum=momentum), \
        torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=momentum)
    for _ in range(5):
        x, labels = rng.standard_normal((8, 5)), rng.integers(0, 3, size=8)
        opt.zero_grad()
        ref_opt.zero_grad()
        softmax_cross_entropy(ours(Tensor(x)), labels).backward()
        torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(labels)).backward()
        opt.step()
        ref_opt.step()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-13, err_msg=name)


def test_sgd_skips_parameters_without_gradient():
    p, q = Parameter(np.ones(2)), Parameter(np.ones(2))
    (p * 3).sum().backward()
    SGD([p, q], lr=0.5).step()
    np.testing.assert_allclose(p.data, [-0.5, -0.5])
    np.testing.assert_array_equal(q.data, [1.0, 1.0])
