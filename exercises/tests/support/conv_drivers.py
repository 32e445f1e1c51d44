"""Sandbox side of exercise ex41 parts a-e: the drivers `student.run` sends into the sandbox.

Each `drive_*` function is sent as its own source code and runs next to the
student's code, in a namespace with nothing but the builtins: it imports what
it needs (the student's ex41_conv, the course's autodiff, NumPy) inside its
body, builds Tensors, calls the student's code and hands back plain data
(arrays, floats, dicts of them, error texts). It judges nothing; the trusted
oracle (conv_oracle.py, torch and central differences) does. Nothing here may
import torch or grader code: the sandbox has neither (the grader refuses a
driver that reads a name it does not define, grader/trusted/remote.py).
"""

def drive_h_conv2d_grad(image, kernel, grad_output):
    """In the sandbox: h_conv2d_grad twice, as it is ("own") and with the student's
    h_conv2d replaced by a trusted stand-in ("standin"), so a gradient built on a
    wrong part a is still judged on what part b adds. Raises only if both raise."""
    import numpy as np

    import ex41_conv

    def standin_h_conv2d(image, kernel):
        image, kernel = np.asarray(image), np.asarray(kernel)
        windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape[2:], axis=(2, 3))
        return np.einsum("bcijuv,ocuv->boij", windows, kernel)

    def standin_h_conv2d_grad(image, kernel, grad_output):
        kh, kw = kernel.shape[2:]
        windows = np.lib.stride_tricks.sliding_window_view(image, (kh, kw), axis=(2, 3))
        grad_kernel = np.einsum("bcijuv,boij->ocuv", windows, grad_output)
        padded = np.pad(grad_output, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
        return standin_h_conv2d(padded, kernel[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)), grad_kernel

    def right(got):  # only to skip the second run; the grader judges with torch
        return isinstance(got, (tuple, list)) and len(got) == 2 and all(
            isinstance(g, np.ndarray) and g.shape == w.shape and g.dtype.kind == "f" and np.allclose(g, w)
            for g, w in zip(got, standin_h_conv2d_grad(image, kernel, grad_output)))

    result, failure = {}, None
    try:
        result["own"] = ex41_conv.h_conv2d_grad(image, kernel, grad_output)
        if right(result["own"]):
            return result
    except Exception as exc:  # noqa: BLE001 - re-raised below if the stand-in run fails too
        failure = exc
    saved = ex41_conv.h_conv2d
    try:
        ex41_conv.h_conv2d = standin_h_conv2d
        result["standin"] = ex41_conv.h_conv2d_grad(image, kernel, grad_output)
    except Exception:
        if failure is not None:
            raise failure from None
    finally:
        ex41_conv.h_conv2d = saved
    return result


def drive_conv2d(image, kernel, grad_output, grad_seed):
    """In the sandbox: conv2d forward and backward, twice.

    "standin": the student's h_conv2d and h_conv2d_grad are replaced by
    trusted NumPy stand-ins for the call, so what reaches y, image.grad and
    kernel.grad shows the wiring alone. "own": the student's functions as
    they are, with an upstream gradient of the shape of the student's own
    output, plus what h_conv2d/h_conv2d_grad return on the same inputs.
    """
    import numpy as np

    import ex41_conv
    from autodiff import Tensor

    def standin_h_conv2d(image, kernel):
        image, kernel = np.asarray(image), np.asarray(kernel)
        windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape[2:], axis=(2, 3))
        return np.einsum("bcijuv,ocuv->boij", windows, kernel)

    def standin_h_conv2d_grad(image, kernel, grad_output):
        image, kernel, g = np.asarray(image), np.asarray(kernel), np.asarray(grad_output)
        kh, kw = kernel.shape[2:]
        windows = np.lib.stride_tricks.sliding_window_view(image, (kh, kw), axis=(2, 3))
        grad_kernel = np.einsum("bcijuv,boij->ocuv", windows, g)
        padded = np.pad(g, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
        return standin_h_conv2d(padded, kernel[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)), grad_kernel

    def error(exc):
        return {"type": type(exc).__name__, "message": str(exc)[:300]}

    def upstream(shape):
        if tuple(shape) == tuple(grad_output.shape):
            return grad_output
        return np.random.default_rng(grad_seed).standard_normal(shape)

    def through_framework():
        x, k = Tensor(image, requires_grad=True), Tensor(kernel, requires_grad=True)
        y = ex41_conv.conv2d(x, k)
        if not isinstance(y, Tensor):
            return {"type": type(y).__name__}
        run = {"type": "Tensor", "y": y.data, "requires_grad": bool(y.requires_grad), "error": None,
               "raw_shapes": None, "g": None}
        if y.requires_grad:
            g = upstream(y.data.shape).astype(y.data.dtype)
            run["g"] = g
            try:
                (y * Tensor(g)).sum().backward()
            except Exception as exc:  # noqa: BLE001 - reported by the grader
                run["error"] = error(exc)
                node = getattr(y, "_node", None)          # how autodiff recorded y's step
                try:
                    raw = node.function.backward(node.ctx, g) if node is not None else None
                except Exception:  # noqa: BLE001
                    raw = None
                if isinstance(raw, (tuple, list)):
                    run["raw_shapes"] = [None if r is None else tuple(np.shape(r)) for r in raw]
        run["image_grad"], run["kernel_grad"] = x.grad, k.grad
        return run

    def close(a, b):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype.kind == "f" and bool(np.allclose(a, b)))

    saved = (ex41_conv.h_conv2d, ex41_conv.h_conv2d_grad)
    try:
        ex41_conv.h_conv2d, ex41_conv.h_conv2d_grad = standin_h_conv2d, standin_h_conv2d_grad
        result = {"standin": through_framework()}     # an exception here is conv2d's own
    finally:
        ex41_conv.h_conv2d, ex41_conv.h_conv2d_grad = saved
    run = result["standin"]
    if run.get("g") is not None and run["error"] is None and close(run["y"], standin_h_conv2d(image, kernel)):
        want = standin_h_conv2d_grad(image, kernel, run["g"])
        if close(run["image_grad"], want[0]) and close(run["kernel_grad"], want[1]):
            result["own"] = {}                        # right with the stand-ins: no second run needed
            return result
    try:
        own = through_framework()
    except Exception as exc:  # noqa: BLE001 - parts a/b or c; decided by the grader
        own = {"type": "error", "error": error(exc)}
    if own.get("g") is not None:
        try:
            own_y = ex41_conv.h_conv2d(image, kernel)
            own_grads = ex41_conv.h_conv2d_grad(image, kernel, own["g"])
            own["own_y"] = own_y
            own["own_grads"] = tuple(own_grads) if isinstance(own_grads, (tuple, list)) else None
        except Exception:  # noqa: BLE001 - graded in parts a and b
            pass
    result["own"] = own
    return result


def drive_conv2d_module(seed, init, small, inputs, grad_seed):
    """In the sandbox: build Conv2D modules, then forward/backward on each input,
    once with trusted stand-ins for conv2d, Conv2dFunction, h_conv2d and
    h_conv2d_grad ("standin"), once with the student's own
    conv2d ("own"), plus the student's own conv2d on the same weights ("ref")."""
    import numpy as np

    import autodiff
    import ex41_conv
    from autodiff import Function, Tensor

    def standin_h_conv2d(image, kernel):
        image, kernel = np.asarray(image), np.asarray(kernel)
        windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape[2:], axis=(2, 3))
        return np.einsum("bcijuv,ocuv->boij", windows, kernel)

    def standin_h_conv2d_grad(image, kernel, grad_output):
        image, kernel, g = np.asarray(image), np.asarray(kernel), np.asarray(grad_output)
        kh, kw = kernel.shape[2:]
        windows = np.lib.stride_tricks.sliding_window_view(image, (kh, kw), axis=(2, 3))
        grad_kernel = np.einsum("bcijuv,boij->ocuv", windows, g)
        padded = np.pad(g, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
        return standin_h_conv2d(padded, kernel[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)), grad_kernel

    class StandInConv(Function):
        @staticmethod
        def forward(ctx, image, kernel):
            ctx.save_for_backward(image, kernel)
            return standin_h_conv2d(image, kernel)

        @staticmethod
        def backward(ctx, grad_output):
            image, kernel = ctx.saved_values
            return standin_h_conv2d_grad(image, kernel, grad_output)

    def standin_conv2d(image, kernel):
        return StandInConv.apply(image, kernel)

    def parameters(module):
        return [(str(name), p.data if isinstance(p, Tensor) else None) for name, p in module.named_parameters()]

    def error(exc):
        return {"type": type(exc).__name__, "message": str(exc)[:300]}

    def upstream(shape, dtype):
        return np.random.default_rng(grad_seed).standard_normal(shape).astype(dtype)

    autodiff.manual_seed(seed)
    big = ex41_conv.Conv2D(*init)
    no_bias = ex41_conv.Conv2D(*small, bias=False)
    result = {"init": parameters(big), "no_bias": parameters(no_bias),
              "no_bias_attr": "None" if getattr(no_bias, "bias", "missing") is None else
              ("missing" if not hasattr(no_bias, "bias") else type(no_bias.bias).__name__)}
    module = ex41_conv.Conv2D(*small)
    result["params"] = parameters(module)
    weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
    if not isinstance(weight, Tensor) or not isinstance(bias, Tensor):
        return result
    result["weight"], result["bias"] = weight.data.copy(), bias.data.copy()

    def run_module(x):
        weight.grad = bias.grad = None
        xt = Tensor(x, requires_grad=True)
        try:
            y = module(xt)
        except Exception as exc:  # noqa: BLE001 - reported (or explained) by the grader
            return {"type": "error", "error": error(exc)}
        if not isinstance(y, Tensor):
            return {"type": type(y).__name__}
        run = {"type": "Tensor", "y": y.data, "error": None, "g": None}
        if y.requires_grad:
            run["g"] = upstream(y.data.shape, y.data.dtype)
            try:
                (y * Tensor(run["g"])).sum().backward()
            except Exception as exc:  # noqa: BLE001
                run["error"] = error(exc)
        run["x_grad"], run["weight_grad"], run["bias_grad"] = xt.grad, weight.grad, bias.grad
        return run

    def reference(x):
        xr, wr = Tensor(x, requires_grad=True), Tensor(weight.data.copy(), requires_grad=True)
        try:
            y = ex41_conv.conv2d(xr, wr)
            if not isinstance(y, Tensor):
                return {}
            ref = {"y": y.data}
            if y.requires_grad:
                (y * Tensor(upstream(y.data.shape, y.data.dtype))).sum().backward()
            ref["x_grad"], ref["weight_grad"] = xr.grad, wr.grad
            return ref
        except Exception:  # noqa: BLE001 - the student's conv2d is graded in part c
            return {}

    def close(a, b):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype.kind == "f" and bool(np.allclose(a, b)))

    def right(run, x):  # only to skip the second run; the grader judges with torch
        if run.get("type") != "Tensor" or run.get("g") is None or run["error"] is not None:
            return False
        w, g = result["weight"], run["g"]
        if not close(run["y"], standin_h_conv2d(x, w) + result["bias"].reshape(1, -1, 1, 1)):
            return False
        grad_x, grad_w = standin_h_conv2d_grad(x, w, g)
        return (close(run["x_grad"], grad_x) and close(run["weight_grad"], grad_w)
                and close(run["bias_grad"], g.sum(axis=(0, 2, 3))))

    names = ("conv2d", "Conv2dFunction", "h_conv2d", "h_conv2d_grad")
    saved = [getattr(ex41_conv, name, None) for name in names]
    try:
        for name, standin in zip(names, (standin_conv2d, StandInConv, standin_h_conv2d, standin_h_conv2d_grad)):
            setattr(ex41_conv, name, standin)
        result["standin"] = [run_module(x) for x in inputs]
    finally:
        for name, value in zip(names, saved):
            setattr(ex41_conv, name, value)
    done = [right(run, x) for run, x in zip(result["standin"], inputs)]
    result["own"] = [{} if ok else run_module(x) for ok, x in zip(done, inputs)]
    result["ref"] = [{} if ok else reference(x) for ok, x in zip(done, inputs)]
    return result


def drive_parts_probe(image, kernel, grad_output):
    """In the sandbox: what h_conv2d and h_conv2d_grad return on one small case (None if they raise)."""
    import ex41_conv

    result = {"a": None, "b": None}
    try:
        result["a"] = ex41_conv.h_conv2d(image, kernel)
    except Exception:  # noqa: BLE001 - only a diagnosis for part e
        pass
    try:
        grads = ex41_conv.h_conv2d_grad(image, kernel, grad_output)
        result["b"] = tuple(grads) if isinstance(grads, (tuple, list)) and len(grads) == 2 else None
    except Exception:  # noqa: BLE001
        pass
    return result

