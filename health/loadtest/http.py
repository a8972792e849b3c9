"""A small HTTP/1.1 client on asyncio streams: keep-alive, a cookie jar, nothing else.

One process drives hundreds of concurrent sellers, so the client must cost little next to the
server it measures; it speaks only to 127.0.0.1, the gunicorn the load test started itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from urllib.parse import urlencode

HOST = "127.0.0.1"
# How long one request may take before it counts as a timeout.
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    wire_bytes: int

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


class ServerClosed(ConnectionError):
    """The server closed the connection before it sent a whole response."""


@dataclass
class HttpClient:
    """One simulated browser: one keep-alive connection and its cookies."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, *, headers: dict[str, str] | None = None) -> Response:
        return await self.request("GET", path, headers=headers)

    async def post(
        self, path: str, form: dict[str, str], *, headers: dict[str, str] | None = None
    ) -> Response:
        body = urlencode(form).encode()
        form_headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return await self.request("POST", path, headers=form_headers, body=body)

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> Response:
        message = self._message(method, path, headers or {}, body)
        async with asyncio.timeout(self.timeout):
            reused = self._writer is not None
            try:
                response = await self._exchange(message)
            except (ServerClosed, ConnectionResetError, BrokenPipeError):
                await self.close()
                if not reused:
                    raise
                # A kept-alive connection the server closed while idle never carried this
                # request; sending it once more on a fresh connection is what browsers do.
                response = await self._exchange(message)
        self._remember_cookies(response)
        if response.header("connection").lower() == "close":
            await self.close()
        return response

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    def _message(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def _exchange(self, message: bytes) -> Response:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(HOST, self.port)
        self._writer.write(message)
        await self._writer.drain()
        return await self._read_response(self._reader)

    async def _read_response(self, reader: asyncio.StreamReader) -> Response:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            raise ServerClosed("closed before the response") from error
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in filter(None, header_lines):
            name, _, value = line.partition(":")
            name = name.strip().lower()
            # Set-Cookie may repeat; keep them apart with a newline.
            headers[name] = (
                f"{headers[name]}\n{value.strip()}" if name in headers else value.strip()
            )
        body = await self._read_body(reader, status, headers)
        return Response(status=status, headers=headers, body=body, wire_bytes=len(head) + len(body))

    async def _read_body(
        self, reader: asyncio.StreamReader, status: int, headers: dict[str, str]
    ) -> bytes:
        try:
            if status in (204, 304) or 100 <= status < 200:
                return b""
            if headers.get("transfer-encoding", "").lower() == "chunked":
                return await _read_chunked(reader)
            if "content-length" in headers:
                return await reader.readexactly(int(headers["content-length"]))
            headers["connection"] = "close"
            return await reader.read()
        except asyncio.IncompleteReadError as error:
            raise ServerClosed("closed in the middle of the body") from error

    def _remember_cookies(self, response: Response) -> None:
        for cookie in filter(None, response.header("set-cookie").split("\n")):
            pair, _, attributes = cookie.partition(";")
            name, _, value = pair.strip().partition("=")
            expired = "max-age=0" in attributes.lower().replace(" ", "")
            if expired or not value.strip('"'):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
