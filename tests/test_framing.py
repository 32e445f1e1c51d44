"""The grader's end of a sandbox socket: same frames as multiprocessing, deadlines instead of threads."""
from __future__ import annotations

import os
import socket
import struct
import threading
import time
from multiprocessing.connection import Connection

import pytest

from grader.wire import framing


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    framing.prepare(ours)
    peer = Connection(theirs.detach())
    yield ours, peer
    peer.close()
    ours.close()


@pytest.mark.parametrize("size", [0, 5, 16384, 16385, 3 * 2**20])
def test_frames_round_trip_with_multiprocessing_connection(pair, size):
    fd, peer = pair
    payload = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    result = {}
    reader = threading.Thread(target=lambda: result.setdefault("got", peer.recv_bytes()))
    reader.start()
    framing.send(fd, payload, time.monotonic() + 5)
    reader.join(5)
    assert result["got"] == payload
    writer = threading.Thread(target=peer.send_bytes, args=(payload,))
    writer.start()
    now = time.monotonic()
    assert framing.recv(fd, now + 5, now + 5, 2**30) == payload
    writer.join(5)


def test_silent_peer_times_out(pair):
    fd, _ = pair
    now = time.monotonic()
    with pytest.raises(framing.FrameTimeout):
        framing.recv(fd, now + 0.05, now + 0.1, 2**20)


def test_half_a_frame_then_silence_times_out_at_the_second_deadline(pair):
    fd, peer = pair
    os.write(peer.fileno(), struct.pack("!i", 1000) + b"only part")
    now = time.monotonic()
    with pytest.raises(framing.FrameTimeout):
        framing.recv(fd, now + 0.05, now + 0.2, 2**20)
    assert time.monotonic() - now >= 0.2


def test_peer_that_stops_reading_cannot_block_a_send(pair):
    fd, _ = pair
    with pytest.raises(framing.FrameTimeout):
        framing.send(fd, b"x" * (64 * 2**20), time.monotonic() + 0.2)


def test_announced_size_over_the_cap_is_refused_before_reading(pair):
    fd, peer = pair
    os.write(peer.fileno(), struct.pack("!i", 2**20 + 1))
    now = time.monotonic()
    with pytest.raises(framing.FrameTooLarge):
        framing.recv(fd, now + 1, now + 1, 2**20)


def test_closed_peer_is_end_of_file(pair):
    fd, peer = pair
    peer.close()
    now = time.monotonic()
    with pytest.raises((EOFError, OSError)):
        framing.recv(fd, now + 1, now + 1, 2**20)
