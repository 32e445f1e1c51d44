"""The data-only wire format between the trusted grader and the sandbox.

Only data crosses the process boundary: None, bool, int, float, str, lists,
tuples, dicts, NumPy arrays of plain numeric dtypes (and NumPy scalars), and
references to objects that stay in the sandbox (handles). Nothing is ever
pickled, so decoding what a hostile sandbox sent cannot run its code.

A frame is ``[4-byte big-endian header length][JSON header][array buffers]``.
The JSON header holds the value tree with tagged nodes; array bytes follow in
order. The decoder checks every array's dtype, shape and byte count against
caps *before* allocating anything.
"""
from __future__ import annotations

import json
import math
import struct
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

#: dtype kinds that may cross: bool, signed/unsigned int, float, complex.
ALLOWED_KINDS = frozenset("biufc")


class ChannelError(ValueError):
    """A frame that is malformed or exceeds a cap; the message says which."""


class ChannelTimeout(ChannelError):
    """Decoding did not finish before the caller's deadline (decode time counts against a call)."""

#: Nodes decoded between two looks at the clock when a deadline is given.
_CLOCK_EVERY = 4096
#: Plain ints this small hash to themselves: distinct keys never share a hash (no collision flood).
_SAFE_KEY_INT = 2**61 - 1


@dataclass(frozen=True)
class Caps:
    """Limits applied when decoding a frame (what the other side may send)."""

    max_bytes: int = 256 * 2**20
    max_array_bytes: int = 256 * 2**20
    max_ndim: int = 32
    max_nodes: int = 1_000_000
    max_depth: int = 64
    max_str: int = 4 * 2**20
    #: Digits of the largest integer accepted (None: any size; Python's own limit still applies).
    max_int_digits: int | None = None
    #: Dict entries in the whole message (each key and value also count as nodes).
    max_dict_keys: int = 1_000_000
    #: Dict keys may be only str and small ints (``|k| < 2**61 - 1``). Other keys (tuples,
    #: floats, big ints) can be chosen with equal hashes, making decoding quadratic.
    str_int_keys_only: bool = False


@dataclass(frozen=True)
class Handle:
    """Reference to an object that lives in the sandbox (by table id)."""

    id: int
    type_name: str = "object"
    callable: bool = False


def encode(value: Any, to_handle: Callable[[Any], Handle] | None = None) -> bytes:
    """Encode ``value`` into one frame.

    ``to_handle`` is called for values that are not data (the sandbox passes
    its handle table's ``register``); without it such values raise TypeError.
    """
    buffers: list[bytes] = []

    def enc(v: Any, depth: int) -> Any:
        if depth > 64:
            raise TypeError("value is nested too deeply")
        t = type(v)
        if v is None or t is bool or t is str:
            return v
        if t is int:
            return v if abs(v) < 2**63 else {"__bigint__": str(v)}
        if t is float:
            return v if math.isfinite(v) else {"__float__": repr(v)}
        if t is list:
            return [enc(x, depth + 1) for x in v]
        if t is tuple:
            return {"__tuple__": [enc(x, depth + 1) for x in v]}
        if t is dict:
            return {"__dict__": [[enc(k, depth + 1), enc(x, depth + 1)] for k, x in v.items()]}
        if t is np.ndarray and v.dtype.kind in ALLOWED_KINDS and v.dtype.fields is None:
            return enc_array(v, scalar=False)
        if isinstance(v, np.generic) and type(v).__module__ == "numpy" and v.dtype.kind in ALLOWED_KINDS:
            return enc_array(np.asarray(v), scalar=True)
        if t is Handle:
            return {"__handle__": v.id, "type": v.type_name, "callable": v.callable}
        if to_handle is None:
            raise TypeError(f"{t.__name__} cannot be sent")
        return enc(to_handle(v), depth)

    def enc_array(a: np.ndarray, scalar: bool) -> dict:
        if not a.flags.c_contiguous:
            a = a.copy(order="C")  # (np.ascontiguousarray would turn 0-d into 1-d)
        buffers.append(a.tobytes())
        return {"__nd__": len(buffers) - 1, "dtype": a.dtype.str, "shape": list(a.shape), "scalar": scalar}

    tree = enc(value, 0)
    header = json.dumps({"v": tree, "bufs": [len(b) for b in buffers]}).encode()
    return b"".join([struct.pack(">I", len(header)), header, *buffers])


def decode(frame: bytes, caps: Caps = Caps(), from_handle: Callable[[Handle], Any] | None = None,
           deadline: float | None = None) -> Any:
    """Decode one frame, enforcing ``caps``; raise ChannelError on anything odd.

    Work is linear in the frame's size: every node costs O(1) (with
    ``caps.str_int_keys_only`` no dict insertion can degrade to a hash-collision
    chain) and integers are length-checked before they are parsed. With
    ``deadline`` (a ``time.monotonic()`` value) the clock is checked while
    decoding and ChannelTimeout raised once it has passed.

    Arrays come back read-only views of the frame (no copy): that is what makes
    inputs read-only inside the sandbox. ``from_handle`` maps a Handle to the
    object the caller wants (a proxy in the grader, the real object in the
    sandbox); without it Handles are returned as they are.
    """
    if len(frame) > caps.max_bytes:
        raise ChannelError(f"message of {len(frame)} bytes exceeds the cap of {caps.max_bytes}")
    if len(frame) < 4:
        raise ChannelError("truncated message")
    (hlen,) = struct.unpack(">I", frame[:4])
    if hlen > len(frame) - 4 or hlen > caps.max_str + 2**20:
        raise ChannelError("bad header length")
    try:
        header = json.loads(frame[4:4 + hlen])
        bufs = header["bufs"]
        tree = header["v"]
    except RecursionError:
        raise ChannelError("value nested too deeply") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ChannelError(f"malformed header: {str(exc)[:200]}") from None
    if not isinstance(bufs, list) or not all(type(n) is int and n >= 0 for n in bufs):
        raise ChannelError("malformed buffer table")
    if 4 + hlen + sum(bufs) != len(frame):
        raise ChannelError("buffer lengths do not match the message size")
    offsets = [4 + hlen]
    for n in bufs:
        offsets.append(offsets[-1] + n)
    view = memoryview(frame)
    budget = [caps.max_nodes, caps.max_dict_keys]

    def dec(node: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0 or depth > caps.max_depth:
            raise ChannelError("value too large or nested too deeply")
        if deadline is not None and budget[0] % _CLOCK_EVERY == 0 and time.monotonic() > deadline:
            raise ChannelTimeout("decoding took longer than the time limit")
        t = type(node)
        if t is int:
            return check_int(node)
        if node is None or t in (bool, float):
            return node
        if t is str:
            if len(node) > caps.max_str:
                raise ChannelError("string exceeds the cap")
            return node
        if t is list:
            return [dec(x, depth + 1) for x in node]
        if t is not dict or len(node) == 0:
            raise ChannelError("malformed value")
        if "__tuple__" in node:
            return tuple(dec(x, depth + 1) for x in _list(node["__tuple__"]))
        if "__dict__" in node:
            out = {}
            pairs = _list(node["__dict__"])
            budget[1] -= len(pairs)
            if budget[1] < 0:
                raise ChannelError(f"more than {caps.max_dict_keys} dict entries")
            for pair in pairs:
                if type(pair) is not list or len(pair) != 2:
                    raise ChannelError("malformed dict")
                key = dec(pair[0], depth + 1)
                if caps.str_int_keys_only and not (type(key) is str or
                                                   (type(key) is int and -_SAFE_KEY_INT < key < _SAFE_KEY_INT)):
                    raise ChannelError(f"a dict key of type {type(key).__name__} (only str and int keys "
                                       "can be sent back)" if type(key) is not int else
                                       "a dict key that is a very large integer")
                try:
                    out[key] = dec(pair[1], depth + 1)
                except TypeError:
                    raise ChannelError("unhashable dict key") from None
            return out
        if "__nd__" in node:
            return dec_array(node)
        if "__float__" in node:
            text = node["__float__"]
            if text not in ("nan", "inf", "-inf"):
                raise ChannelError("malformed float")
            return float(text)
        if "__bigint__" in node:
            text = node["__bigint__"]
            if type(text) is not str or not 0 < len(text) <= (caps.max_int_digits or 4300) + 1:
                raise ChannelError(_too_many_digits(text, caps) if type(text) is str else "malformed integer")
            try:
                return check_int(int(text))
            except (ValueError, TypeError):
                raise ChannelError("malformed integer") from None
        if "__handle__" in node:
            h = Handle(int(node["__handle__"]), str(node.get("type", "object"))[:200], bool(node.get("callable")))
            return from_handle(h) if from_handle else h
        raise ChannelError("unknown tag")

    def dec_array(node: dict) -> Any:
        idx, dtype_str, shape = node.get("__nd__"), node.get("dtype"), node.get("shape")
        if type(idx) is not int or not 0 <= idx < len(bufs) or type(dtype_str) is not str:
            raise ChannelError("malformed array")
        if type(shape) is not list or len(shape) > caps.max_ndim or not all(type(n) is int and n >= 0 for n in shape):
            raise ChannelError("malformed array shape")
        try:
            dtype = np.dtype(dtype_str)
        except TypeError:
            raise ChannelError(f"unknown dtype {dtype_str!r}") from None
        if dtype.kind not in ALLOWED_KINDS or dtype.fields is not None or dtype.subdtype is not None:
            raise ChannelError(f"dtype {dtype_str!r} may not cross")
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        if nbytes > caps.max_array_bytes:
            raise ChannelError(f"array of {nbytes} bytes exceeds the cap of {caps.max_array_bytes}")
        if nbytes != bufs[idx]:
            raise ChannelError("array size does not match its shape")
        arr = np.frombuffer(view[offsets[idx]:offsets[idx + 1]], dtype=dtype).reshape(shape)
        return arr[()] if node.get("scalar") and arr.ndim == 0 else arr

    int_limit = 10 ** caps.max_int_digits if caps.max_int_digits is not None else None

    def check_int(value: int) -> int:
        if int_limit is not None and not -int_limit < value < int_limit:
            raise ChannelError(_too_many_digits(str(value), caps))
        return value

    return dec(tree, 0)


def _too_many_digits(text: str, caps: Caps) -> str:
    digits = len(text.lstrip("+-"))
    return f"an integer with {digits} digits (at most {caps.max_int_digits or 4300} digits can be sent back)"


def _list(node: Any) -> list:
    if type(node) is not list:
        raise ChannelError("malformed value")
    return node
