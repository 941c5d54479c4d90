"""The limits of ``mcp-orch serve --http``: what one client, or many, can hold on to.

:class:`HTTPLimits` holds them all, with their defaults; three pieces enforce them:

* the connection (:class:`HeaderTimeoutProtocol`, uvicorn's h11 protocol plus a timer): a
  connection whose request headers are not complete ``header_timeout`` seconds after it opened
  (or after the first byte of its next request) is closed, whatever it sent meanwhile; headers
  are capped at ``max_header_bytes`` (h11 answers 400 beyond) and the server as a whole at
  ``max_connections`` concurrent connections or requests (uvicorn answers 503 beyond);
* the request (:class:`RequestLimits`, ASGI middleware in front of the bearer-token check): a
  body that stalls ``body_timeout`` seconds between two chunks gets 408, one larger than
  ``max_body`` bytes (declared or sent) gets 413, both with a JSON-RPC error body and
  ``Connection: close``; a 503 gets a ``Retry-After`` header;
* the sessions (the SDK's ``StreamableHTTPSessionManager``, given ``session_idle`` and
  ``max_sessions``): a session with no request in flight for ``session_idle`` seconds is
  terminated and forgotten (its id then gets 404, as the MCP spec says for unknown sessions); a
  request that would open a session beyond ``max_sessions`` gets 503 with a JSON-RPC error body
  and ``Retry-After``. Live sessions are never evicted to make room: a client that holds a
  session keeps it until it goes idle, whoever else arrives.

:func:`uvicorn_config` builds the ``uvicorn.Config`` that applies the connection limits; the
request and session limits are in the app :func:`~.auth.http_app` builds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import anyio
import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HTTPLimits", "HeaderTimeoutProtocol", "RequestLimits", "uvicorn_config"]

log = logging.getLogger("mcp_orch.server")

#: JSON-RPC's "invalid request" error code, the code of the 408 and 413 bodies.
INVALID_REQUEST = -32600


@dataclass(frozen=True)
class HTTPLimits:
    """The limits of one HTTP server; every field has a default fit for ``serve --http``.

    Times are in seconds, sizes in bytes. ``mcp-orch serve --http`` sets ``header_timeout``,
    ``session_idle`` and ``max_sessions`` from its options.
    """

    #: Seconds a connection has to send complete request headers, from when it opened (or from
    #: the first byte of its next request on a kept-alive connection); then it is closed.
    header_timeout: float = 10.0
    #: Bytes of request line and headers at most (h11 answers 400 beyond).
    max_header_bytes: int = 16 * 1024
    #: Seconds a request body may stall between two chunks; then 408 and the connection closes.
    body_timeout: float = 30.0
    #: Bytes of request body at most (an MCP JSON-RPC message needs far less); beyond it, 413.
    max_body: int = 4 * 1024 * 1024
    #: Seconds without a request in flight after which a session is terminated and freed.
    session_idle: float = 600.0
    #: Live sessions at most; an initialize beyond it gets 503 with ``Retry-After``.
    max_sessions: int = 100
    #: Concurrent connections or requests at most; uvicorn answers 503 beyond it.
    max_connections: int = 512

    def __post_init__(self) -> None:
        for name in ("header_timeout", "body_timeout", "session_idle"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
        for name in ("max_header_bytes", "max_body", "max_sessions", "max_connections"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)!r}")

    @property
    def retry_after(self) -> int:
        """The ``Retry-After`` of a 503: a session may free up within this many seconds."""
        return max(1, math.ceil(min(self.session_idle, 30.0)))


# ---- the connection ------------------------------------------------------------------------


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol that closes a connection whose request headers take too long.

    uvicorn only times out a kept-alive connection that sends nothing; one that sends a request
    line and then a header byte every few seconds is kept forever. Here a timer starts when the
    connection is made (and again when the first data of a next request arrives) and closes the
    transport unless h11 has parsed complete headers by then. :func:`protocol_class` makes a
    subclass with the server's ``header_timeout``.
    """

    header_timeout: float = HTTPLimits.header_timeout

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # headers complete (or the request failed)
            self._cancel_header_timer()
        elif self._header_timer is None:  # the first bytes of a next request
            self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        if not self.transport.is_closing():
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_timed_out)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_timed_out(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            log.info(
                "closing a connection from %s: no complete request headers after %gs",
                _peer(self.client),
                self.header_timeout,
            )
            self.transport.close()


def _peer(client: Any) -> str:
    return f"{client[0]}:{client[1]}" if client else "?"


def protocol_class(limits: HTTPLimits) -> type[HeaderTimeoutProtocol]:
    """:class:`HeaderTimeoutProtocol` with ``limits.header_timeout`` (uvicorn takes a class)."""
    return type(
        "HeaderTimeoutProtocol",
        (HeaderTimeoutProtocol,),
        {"header_timeout": limits.header_timeout, "__module__": __name__},
    )


def uvicorn_config(app: Any, limits: HTTPLimits, **options: Any) -> uvicorn.Config:
    """A ``uvicorn.Config`` serving ``app`` with the connection limits of ``limits``.

    ``options`` are the other ``uvicorn.Config`` arguments (log level, lifespan, ...).
    """
    return uvicorn.Config(
        app,
        http=protocol_class(limits),
        h11_max_incomplete_event_size=limits.max_header_bytes,
        limit_concurrency=limits.max_connections,
        **options,
    )


# ---- the request ---------------------------------------------------------------------------


def _error(status: int, message: str) -> tuple[dict[str, Any], dict[str, Any]]:
    body = json.dumps(
        {"jsonrpc": "2.0", "id": None, "error": {"code": INVALID_REQUEST, "message": message}}
    ).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class RequestLimits:
    """ASGI middleware: the body limits of every HTTP request, and ``Retry-After`` on a 503.

    The whole body is read (at most ``max_body`` bytes, each chunk within ``body_timeout``
    seconds of the one before) before the app sees the request, then handed on as one message;
    what the app receives after it (a disconnect) comes from the server as usual. The lifespan
    and websockets pass through untouched.
    """

    def __init__(self, app: Any, limits: HTTPLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limits = self.limits
        for key, value in scope.get("headers") or []:
            if key.lower() == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    break
                if declared > limits.max_body:
                    await self._refuse(send, 413, scope)
                    return
                break
        body = bytearray()
        pending: deque[dict[str, Any]] = deque()
        while True:
            try:
                with anyio.fail_after(limits.body_timeout):
                    message = await receive()
            except TimeoutError:
                await self._refuse(send, 408, scope)
                return
            if message["type"] != "http.request":  # the client went away mid-body
                return
            body += message.get("body", b"")
            if len(body) > limits.max_body:
                await self._refuse(send, 413, scope)
                return
            if not message.get("more_body", False):
                break
        pending.append({"type": "http.request", "body": bytes(body), "more_body": False})

        async def replay() -> Any:
            if pending:
                return pending.popleft()
            return await receive()

        retry_after = str(limits.retry_after).encode()

        async def send_with_retry_after(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] == 503:
                headers = list(message.get("headers") or [])
                if not any(key.lower() == b"retry-after" for key, _ in headers):
                    message = {**message, "headers": [*headers, (b"retry-after", retry_after)]}
            await send(message)

        await self.app(scope, replay, send_with_retry_after)

    async def _refuse(self, send: Any, status: int, scope: Any) -> None:
        if status == 408:
            message = f"the request body stalled for {self.limits.body_timeout:g}s"
        else:
            message = f"the request body is larger than {self.limits.max_body} bytes"
        client = scope.get("client")
        log.info("%s (%s): %d", message, _peer(client), status)
        start, body = _error(status, message)
        await send(start)
        await send(body)
