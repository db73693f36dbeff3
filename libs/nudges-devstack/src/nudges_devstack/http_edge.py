"""Tests at the HTTP edge: an ASGI app on a real uvicorn server started as services start it,
and a raw HTTP/1.1 client that streams a large chunked body and notes how much of it it could
send before the server answered."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from nudges_kit.settings import NudgesSettings


@contextmanager
def served(app: Any, settings: NudgesSettings, timeout: float = 30.0) -> Iterator[str]:
    """Serve ``app`` with the options of :func:`nudges_kit.http.serve` (proxy headers off) on
    ``settings.http_host``/``http_port`` in a thread; yields the base URL."""
    from nudges_kit.http import server_options

    server = uvicorn.Server(uvicorn.Config(app, **{**server_options(settings), "lifespan": "on"}))
    thread = threading.Thread(target=server.run, name="served-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.02)
    try:
        yield f"http://{settings.http_host}:{settings.http_port}"
    finally:
        server.should_exit = True
        thread.join(15)


@dataclass(frozen=True)
class StreamedUpload:
    """What happened to a streamed upload."""

    #: The status the server answered (None: no answer was read).
    status: int | None
    #: Body bytes the client got onto the connection before the answer or the close.
    sent: int
    #: True when the whole body, and its last chunk, went out.
    finished: bool
    #: The response as read (status line, headers, body).
    response: bytes


def stream_chunked(
    port: int,
    path: str,
    total_bytes: int,
    *,
    headers: Mapping[str, str] | None = None,
    chunk_bytes: int = 64 * 1024,
    timeout: float = 60.0,
) -> StreamedUpload:
    """POST ``total_bytes`` to ``path`` on 127.0.0.1:``port`` as a chunked body, stopping as
    soon as the server answers or closes the connection."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Transfer-Encoding: chunked\r\n{extra}\r\n"
    )
    chunk = b"%x\r\n" % chunk_bytes + b"x" * chunk_bytes + b"\r\n"
    response = b""
    sent = 0
    finished = False
    try:
        sock.sendall(head.encode())
        while sent < total_bytes:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            sock.sendall(chunk)
            sent += chunk_bytes
        else:
            sock.sendall(b"0\r\n\r\n")
            finished = True
    except (BrokenPipeError, ConnectionResetError, TimeoutError):
        pass
    response = _read_response(sock, timeout)
    sock.close()
    status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else None
    return StreamedUpload(status, sent, finished, response)


def _read_response(sock: socket.socket, timeout: float) -> bytes:
    data = b""
    sock.settimeout(timeout)
    try:
        while True:
            part = sock.recv(65536)
            if not part:
                break
            data += part
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep and _complete(head, body):
                break
    except (ConnectionResetError, TimeoutError):
        pass
    return data


def _complete(head: bytes, body: bytes) -> bool:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


__all__ = ["StreamedUpload", "served", "stream_chunked"]
