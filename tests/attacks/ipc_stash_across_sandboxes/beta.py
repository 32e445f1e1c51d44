"""Attack, second half: the next exercise's sandbox looks for alpha's stash (see alpha.py)."""
import ctypes
import os

IPC_CREAT = 0o1000
KEY = 0x67726164
SIZE = 4096
FILES = ("/dev/shm/grade-stash", "/tmp/grade-stash", "/var/tmp/grade-stash")
ABSTRACT = b"\0grade-stash"


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmget.restype = ctypes.c_int
    libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    return libc


def write(text):
    """Leave ``text`` (tagged with this process id) wherever it might survive this sandbox."""
    data = f"{os.getpid()}:{text}".encode()
    libc = _libc()
    shmid = libc.shmget(KEY, SIZE, IPC_CREAT | 0o666)
    if shmid >= 0:
        addr = libc.shmat(shmid, None, 0)
        if addr not in (None, ctypes.c_void_p(-1).value):
            ctypes.memmove(addr, data + b"\0", len(data) + 1)
    try:
        mq_open = libc.mq_open
        mq_open.restype = ctypes.c_int
        mqd = mq_open(b"/grade-stash", os.O_CREAT | os.O_RDWR, 0o666, None)
        if mqd >= 0:
            libc.mq_send(mqd, data, len(data), 0)
    except AttributeError:
        pass
    for path in FILES:
        try:
            with open(path, "wb") as fh:
                fh.write(data)
            os.chmod(path, 0o666)
        except OSError:
            pass
    try:
        import socket
        import threading

        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(ABSTRACT)
        server.listen(4)

        def serve():
            while True:
                conn, _ = server.accept()
                conn.sendall(data)
                conn.close()

        threading.Thread(target=serve, daemon=True).start()
    except OSError:
        pass


def read_foreign():
    """Stashes left by *another* process (an earlier or parallel sandbox)."""
    me = f"{os.getpid()}:".encode()
    found = []
    libc = _libc()
    shmid = libc.shmget(KEY, SIZE, 0)
    if shmid >= 0:
        addr = libc.shmat(shmid, None, 0o10000)  # SHM_RDONLY
        if addr not in (None, ctypes.c_void_p(-1).value):
            value = ctypes.string_at(addr)
            if value and not value.startswith(me):
                found.append(f"shm {value[:60]!r}")
    try:
        mq_open = libc.mq_open
        mq_open.restype = ctypes.c_int
        mqd = mq_open(b"/grade-stash", os.O_RDONLY | os.O_NONBLOCK, 0, None)
        if mqd >= 0:
            buf = ctypes.create_string_buffer(8192)
            n = libc.mq_receive(mqd, buf, 8192, None)
            if n > 0 and not buf.raw[:n].startswith(me):
                found.append(f"mqueue {buf.raw[:min(n, 60)]!r}")
    except AttributeError:
        pass
    for path in FILES:
        try:
            with open(path, "rb") as fh:
                value = fh.read(200)
            if value and not value.startswith(me):
                found.append(f"{path} {value[:60]!r}")
        except OSError:
            pass
    try:
        import socket

        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.settimeout(0.5)
        client.connect(ABSTRACT)
        value = client.recv(200)
        if value and not value.startswith(me):
            found.append(f"abstract socket {value[:60]!r}")
    except OSError:
        pass
    return found




class Counter:
    def __init__(self, start):
        found = read_foreign()
        if found:
            raise RuntimeError("LEAK " + "; ".join(found))
        self.value = start

    def add(self, k):
        self.value += k
        return self.value

    def __len__(self):
        return self.value
