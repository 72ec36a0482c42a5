"""A real TCP server on 127.0.0.1 that misbehaves the ways government sites do, one way per path.

Each behaviour writes raw bytes on the socket (so it can lie about Content-Length, stall, reset
or trickle), and every request is recorded with its arrival time. Loops are bounded: a trickle
stops after `TRICKLE_S`, and the server thread stops with the context manager.
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

TRICKLE_S = 8.0


def _response(status: int, headers: dict[str, str], body: bytes, *, length: int | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} X"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body) if length is None else length}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Behaviours:
    """What each path does; `page` is the body of a good report."""

    page: bytes
    hits: dict[str, int] = field(default_factory=dict)

    def handle(self, target: str, conn: socket.socket) -> None:
        path = target.split("?", 1)[0]  # "/ok?3": one more document that behaves like /ok
        n = self.hits[target] = self.hits.get(target, 0) + 1
        html = {"Content-Type": "text/html; charset=utf-8"}
        if path == "/ok":
            conn.sendall(_response(200, html, self.page))
        elif path == "/503-twice":
            busy = _response(503, {"Retry-After": "0"}, b"busy")
            conn.sendall(busy if n <= 2 else _response(200, html, self.page))
        elif path == "/429-short":
            slow = _response(429, {"Retry-After": "1"}, b"slow down")
            conn.sendall(slow if n == 1 else _response(200, html, self.page))
        elif path == "/429-long":
            conn.sendall(_response(429, {"Retry-After": "86400"}, b"come back tomorrow"))
        elif path == "/reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
        elif path == "/truncated":
            conn.sendall(_response(200, html, self.page[:500], length=len(self.page)))
        elif path == "/short-length":
            conn.sendall(_response(200, html, self.page, length=200))  # claims less than it sends
        elif path == "/trickle":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
            end = time.monotonic() + TRICKLE_S
            while time.monotonic() < end:
                conn.sendall(b"x")
                time.sleep(0.5)
        elif path == "/loop":
            conn.sendall(_response(302, {"Location": "/loop"}, b""))
        elif path == "/to-file":
            conn.sendall(_response(302, {"Location": "file:///etc/hostname"}, b""))
        elif path == "/to-ftp":
            conn.sendall(_response(302, {"Location": "ftp://127.0.0.1/report.pdf"}, b""))
        elif path == "/gzip-bomb":
            conn.sendall(_response(200, {**html, "Content-Encoding": "gzip"}, _BOMB))
        elif path == "/huge":
            conn.sendall(_response(200, html, b"", length=10**9))
        elif path == "/huge-chunked":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b"<p>" + b"x" * 65_536 + b"</p>"
            for _ in range(200):  # 13 MB, far over the test's cap
                try:
                    conn.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                except OSError:
                    return
            conn.sendall(b"0\r\n\r\n")
        elif path == "/wrong-charset":
            conn.sendall(_response(200, {"Content-Type": "text/html; charset=iso-8859-1"}, self.page_gbk))
        else:
            conn.sendall(_response(404, {}, b"not found"))

    page_gbk: bytes = b""


_BOMB = gzip.compress(b"\0" * (200 * 1024 * 1024), compresslevel=9)  # 200 KB that inflates to 200 MB

PATHS = ("/ok", "/503-twice", "/429-short", "/429-long", "/reset", "/truncated", "/short-length", "/trickle",
         "/loop", "/to-file", "/to-ftp", "/gzip-bomb", "/huge", "/huge-chunked", "/wrong-charset")


@contextmanager
def misbehaving(behaviours: Behaviours, address: str = "127.0.0.1") -> Iterator[str]:
    """Serve the behaviours on a free port of a loopback `address` (127.0.0.1, 127.0.0.2, …); yields the base URL."""
    server = socket.create_server((address, 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def one(conn: socket.socket) -> None:
        try:
            conn.settimeout(TRICKLE_S + 2)
            request = b""
            while b"\r\n\r\n" not in request and len(request) < 65_536:
                data = conn.recv(4096)
                if not data:
                    return
                request += data
            path = request.split(b" ", 2)[1].decode("latin-1")
            behaviours.handle(path, conn)
        except OSError:
            pass
        finally:
            conn.close()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://{address}:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        server.close()


Handler = Callable[[str, socket.socket], None]
