"""Frames on the grader's end of a sandbox socket, with deadlines and no helper thread.

The sandbox side uses `multiprocessing.connection.Connection` (4-byte
big-endian length, or -1 and an 8-byte length, then the payload); this
module speaks the same format on a non-blocking socket, waiting with poll()
(select() where there is no poll) until a deadline. A sandbox that stops reading a request, or sends
half a reply and stalls, therefore cannot block the grader past its
deadline: the caller gets `FrameTimeout` and kills the sandbox.

Per call this replaces a watchdog thread, whose start and cancel cost about
as much as the round trip itself (benchmarks/README.md keeps the numbers).
"""
from __future__ import annotations

import select
import socket
import struct
import time

_LARGE = 0x7FFFFFFF
_CHUNK = 1 << 20


class FrameTimeout(Exception):
    """The deadline passed before the frame was completely sent or received."""


class FrameTooLarge(Exception):
    """The peer announced a frame larger than the caller accepts."""


def prepare(sock: socket.socket) -> None:
    """Make ``sock`` non-blocking: every wait happens in poll() with a deadline."""
    sock.setblocking(False)


def _wait(sock: socket.socket, writing: bool, deadline: float) -> None:
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FrameTimeout()
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, (select.POLLOUT if writing else select.POLLIN) | select.POLLHUP | select.POLLERR)
            if poller.poll(max(1, int(remaining * 1000) + 1)):
                return
        else:  # Windows: select() works on sockets
            ready = select.select([], [sock], [sock], remaining) if writing else \
                select.select([sock], [], [sock], remaining)
            if any(ready):
                return


def _write_all(sock: socket.socket, data: bytes | memoryview, deadline: float) -> None:
    view = memoryview(data)
    while view:
        try:
            n = sock.send(view[:_CHUNK])
        except (BlockingIOError, InterruptedError):
            _wait(sock, True, deadline)
            continue
        view = view[n:]


def _read_exact(sock: socket.socket, size: int, deadline: float) -> bytearray:
    buf = bytearray(size)
    view = memoryview(buf)
    pos = 0
    while pos < size:
        try:
            n = sock.recv_into(view[pos:pos + _CHUNK])
        except (BlockingIOError, InterruptedError):
            _wait(sock, False, deadline)
            continue
        if n == 0:
            raise EOFError("the sandbox closed the connection")
        pos += n
    return buf


def send(sock: socket.socket, payload: bytes, deadline: float) -> None:
    """Send one frame; FrameTimeout if the peer does not take it before ``deadline``."""
    n = len(payload)
    header = struct.pack("!i", -1) + struct.pack("!Q", n) if n > _LARGE else struct.pack("!i", n)
    if n <= 16384:
        _write_all(sock, header + payload, deadline)
    else:
        _write_all(sock, header, deadline)
        _write_all(sock, payload, deadline)


def recv(sock: socket.socket, first_byte_by: float, complete_by: float, max_size: int) -> bytes:
    """Receive one frame: its start must arrive by ``first_byte_by``, all of it by ``complete_by``."""
    _wait(sock, False, first_byte_by)
    (size,) = struct.unpack("!i", _read_exact(sock, 4, complete_by))
    if size == -1:
        (size,) = struct.unpack("!Q", _read_exact(sock, 8, complete_by))
    if size < 0 or size > max_size:
        raise FrameTooLarge(size)
    return bytes(_read_exact(sock, size, complete_by))
