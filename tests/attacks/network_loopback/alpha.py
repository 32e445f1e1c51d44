"""Probe: reach services on the grading machine's loopback (TCP and UDP)."""
import socket

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    found = []
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        for port in (22, 80, 5432, 6379, 8000, 8080, 9):
            try:
                s = socket.socket(family, socket.SOCK_STREAM)
            except OSError:
                continue
            s.settimeout(0.2)
            try:
                s.connect((host, port))
                found.append(f"connected to {host}:{port}")
            except ConnectionRefusedError:
                found.append(f"{host} reachable (port {port} refused)")
            except OSError:
                pass
            finally:
                s.close()
        try:
            u = socket.socket(family, socket.SOCK_DGRAM)
            u.sendto(b"x", (host, 9))
            found.append(f"udp sent to {host}")
            u.close()
        except OSError:
            pass
    if found:
        raise RuntimeError("LEAK " + "; ".join(found[:4]))
    return float(np.sum(x))
