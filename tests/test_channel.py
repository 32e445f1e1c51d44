"""The data-only channel: round trips, read-only arrays, caps checked before allocating."""
import json
import struct
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.wire import channel


def frame_with(header: dict, payload: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack(">I", len(raw)) + raw + payload


def test_round_trip_of_every_data_type():
    value = {"a": [1, 2.5, None, True, "x"], 3: (np.arange(6.0).reshape(2, 3), np.float32(1.5)),
             ("k", 1): {"nested": [np.array([1, 2], dtype=np.int64)]}, "big": 2**80,
             "nan": float("nan"), "inf": float("-inf"), "c": np.array([1 + 2j])}
    out = channel.decode(channel.encode(value))
    assert out["a"] == [1, 2.5, None, True, "x"]
    assert isinstance(out[3], tuple)
    np.testing.assert_array_equal(out[3][0], np.arange(6.0).reshape(2, 3))
    assert isinstance(out[3][1], np.float32) and out[3][1] == np.float32(1.5)
    assert out[("k", 1)]["nested"][0].dtype == np.int64
    assert out["big"] == 2**80
    assert np.isnan(out["nan"]) and out["inf"] == float("-inf")
    assert out["c"][0] == 1 + 2j


def test_decoded_arrays_are_read_only():
    arr = channel.decode(channel.encode(np.zeros((2, 2))))
    with pytest.raises(ValueError, match="read-only"):
        arr += 1


def test_non_data_needs_a_handle():
    with pytest.raises(TypeError, match="cannot be sent"):
        channel.encode(object())
    handle = channel.Handle(7, "Conv2D", True)
    assert channel.decode(channel.encode([object()], to_handle=lambda o: handle)) == [handle]


def test_ndarray_subclass_is_not_data():
    seen = []
    channel.encode(np.ma.masked_array([1.0, 2.0]), to_handle=lambda o: seen.append(o) or channel.Handle(1))
    assert len(seen) == 1


@pytest.mark.parametrize("dtype", ["O", "V8", "<M8[s]", "U4"])
def test_forbidden_dtypes_never_cross(dtype):
    header = {"v": {"__nd__": 0, "dtype": dtype, "shape": [1], "scalar": False}, "bufs": [8]}
    with pytest.raises(channel.ChannelError):
        channel.decode(frame_with(header, b"\0" * 8))


def test_structured_dtype_is_refused():
    header = {"v": {"__nd__": 0, "dtype": [["a", "<f8"]], "shape": [1], "scalar": False}, "bufs": [8]}
    with pytest.raises(channel.ChannelError):
        channel.decode(frame_with(header, b"\0" * 8))


def test_forged_huge_shape_is_refused_before_allocating():
    # 7 TiB claimed by the header, 8 bytes sent: must fail on the cap, not on memory.
    header = {"v": {"__nd__": 0, "dtype": "<f8", "shape": [2**20, 2**20, 1024], "scalar": False}, "bufs": [8]}
    with pytest.raises(channel.ChannelError, match="exceeds the cap"):
        channel.decode(frame_with(header, b"\0" * 8))


def test_shape_that_does_not_match_the_bytes_is_refused():
    header = {"v": {"__nd__": 0, "dtype": "<f8", "shape": [3], "scalar": False}, "bufs": [8]}
    with pytest.raises(channel.ChannelError, match="does not match"):
        channel.decode(frame_with(header, b"\0" * 8))


@pytest.mark.parametrize("tree", [{"__pickle__": "x"}, {}, {"__float__": "1e999"}, {"__tuple__": 3},
                                  {"__dict__": [[[1], 2]]}, {"__bigint__": "12x"}])
def test_malformed_or_unknown_tags_are_refused(tree):
    with pytest.raises(channel.ChannelError):
        channel.decode(frame_with({"v": tree, "bufs": []}))


def test_message_size_cap():
    data = channel.encode(np.zeros(1000))
    with pytest.raises(channel.ChannelError, match="exceeds the cap"):
        channel.decode(data, channel.Caps(max_bytes=100))


def test_depth_cap():
    deep = ["x"]
    for _ in range(80):
        deep = [deep]
    header = {"v": deep, "bufs": []}
    with pytest.raises(channel.ChannelError, match="nested"):
        channel.decode(frame_with(header))


def test_truncated_frames():
    data = channel.encode(np.arange(10.0))
    for cut in (0, 3, 10, len(data) - 1):
        with pytest.raises(channel.ChannelError):
            channel.decode(data[:cut])


leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
values = st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                                                    st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                      max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(values)
def test_round_trip_property(value):
    assert channel.decode(channel.encode(value)) == value


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["f8", "f4", "i8", "u1", "?", "c16"]),
       st.lists(st.integers(0, 4), min_size=0, max_size=4))
def test_array_round_trip_property(dtype, shape):
    arr = (np.arange(int(np.prod(shape)) if shape else 1) % 3).astype(dtype).reshape(shape)
    out = channel.decode(channel.encode(arr))
    assert out.dtype == arr.dtype and out.shape == arr.shape
    np.testing.assert_array_equal(out, arr)


# -- bounded work on the trusted side (decoding is linear in the reply's size) ----------------
REPLY = channel.Caps(max_dict_keys=100_000, max_int_digits=18, str_int_keys_only=True)


def dict_frame(pairs: list) -> bytes:
    return frame_with({"v": {"__dict__": pairs}, "bufs": []})


@pytest.mark.parametrize("caps", [REPLY, channel.Caps(str_int_keys_only=True)])
def test_equal_hash_int_keys_are_refused_fast(caps):
    """60,000 int keys k * (2**61 - 1) share one hash: inserting them all took 50 s of grader CPU."""
    frame = dict_frame([[k * (2**61 - 1), 1] for k in range(1, 60_001)])
    start = time.process_time()
    with pytest.raises(channel.ChannelError):
        channel.decode(frame, caps)
    assert time.process_time() - start < 1.0


def test_reply_dict_keys_are_str_or_small_int():
    for key in [("k", 1), 1.5, 2**61, {"__bigint__": str(2**70)}]:
        with pytest.raises(channel.ChannelError, match="dict key|digits"):
            channel.decode(dict_frame([[key if not isinstance(key, tuple) else {"__tuple__": list(key)}, 1]]), REPLY)
    assert channel.decode(dict_frame([["a", 1], [-5, 2]]), REPLY) == {"a": 1, -5: 2}
    # Requests (trusted to sandbox) keep every hashable key.
    assert channel.decode(channel.encode({("k", 1): 1, 2.5: 2})) == {("k", 1): 1, 2.5: 2}


def test_many_str_keys_decode_in_linear_time():
    frame = dict_frame([[f"k{i}", i] for i in range(100_000)])
    start = time.process_time()
    assert len(channel.decode(frame, REPLY)) == 100_000
    assert time.process_time() - start < 1.0
    with pytest.raises(channel.ChannelError, match="dict entries"):
        channel.decode(dict_frame([[f"k{i}", i] for i in range(100_001)]), REPLY)


def test_big_integers_are_capped_in_digits():
    huge = channel.encode(10**400)
    assert channel.decode(huge) == 10**400
    with pytest.raises(channel.ChannelError, match="401 digits"):
        channel.decode(huge, REPLY)
    with pytest.raises(channel.ChannelError, match="digits"):  # raw JSON ints are checked too
        channel.decode(frame_with({"v": 10**30, "bufs": []}), REPLY)
    assert channel.decode(channel.encode(-(10**18 - 1)), REPLY) == -(10**18 - 1)
    with pytest.raises(channel.ChannelError):
        channel.decode(frame_with({"v": {"__bigint__": "9" * 5000}, "bufs": []}))  # never parsed


def test_deeply_nested_json_is_a_channel_error():
    raw = b"[" * 100_000 + b"]" * 100_000
    frame = struct.pack(">I", len(raw)) + raw
    with pytest.raises(channel.ChannelError):
        channel.decode(frame)


def test_decode_time_counts_against_the_deadline():
    frame = channel.encode([[i] for i in range(50_000)])
    with pytest.raises(channel.ChannelTimeout):
        channel.decode(frame, deadline=time.monotonic() - 1)
    assert len(channel.decode(frame, deadline=time.monotonic() + 60)) == 50_000
