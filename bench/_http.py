"""A minimal keep-alive HTTP/1.1 client for the load generators of bench/web.py.

httpx costs about 1.3 ms of CPU per request; on this 2-core machine the 8 client
threads then take a third of the CPU the server is measured on. This client sends one
request and reads one response (Content-Length bodies only: what uvicorn sends for
JSON) on a persistent socket, at about 0.1 ms per request, so the figures measure the
server. It is a load generator, not a general client: no chunked bodies, no redirects.
"""
from __future__ import annotations

import json
import socket
from typing import Any


class KeepAlive:
    def __init__(self, host: str, port: int, timeout: float = 120) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.host = host
        self.buffer = b""

    def post(self, path: str, headers: dict[str, str] | None = None, body: Any = None) -> tuple[int, bytes]:
        """POST `body` (as JSON when given) to `path`; (status, response body)."""
        data = b"" if body is None else json.dumps(body).encode()
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(data)}"]
        if body is not None:
            lines.append("Content-Type: application/json")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + data)
        return self._response()

    def _response(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._read()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            self.buffer = rest
            self._read()
            rest = self.buffer
        self.buffer = rest[length:]
        return status, rest[:length]

    def _read(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "KeepAlive":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
