"""Probe: reach the internet (TCP to a public address, raw and packet sockets)."""
import socket

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    found = []
    for addr in (("1.1.1.1", 443), ("8.8.8.8", 53), ("2606:4700:4700::1111", 443)):
        family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        try:
            s = socket.socket(family, socket.SOCK_STREAM)
            s.settimeout(0.5)
            s.connect(addr)
            found.append(f"connected to {addr}")
            s.close()
        except socket.timeout:
            found.append(f"{addr} routed (timed out, not unreachable)")
        except OSError:
            pass
    for args in ((socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP), (getattr(socket, "AF_PACKET", 17), socket.SOCK_RAW, 0)):
        try:
            socket.socket(*args).close()
            found.append(f"opened raw socket {args[0]}")
        except OSError:
            pass
    if found:
        raise RuntimeError("LEAK " + "; ".join(found))
    return float(np.sum(x))
