"""The bundled MCP server over HTTP: :func:`http_app` (the streamable-HTTP app of a server) behind
:class:`BearerAuth`, ASGI middleware that checks ``Authorization: Bearer <token>`` against the
workspace's token store (401 with a JSON body otherwise) and makes the token's name the audit actor
of the request, and :func:`_actor_middleware`, the server middleware that carries that actor
(left in the scope's ``state`` under :data:`ACTOR_STATE_KEY`) into the task that runs the tool.
The request and session limits of :mod:`.http_limits` are applied here too.
"""

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver import MCPServer

from mcp_orch.core.errors import MCPOrchError
from mcp_orch.frontends.mcp_server.http_limits import HTTPLimits, RequestLimits
from mcp_orch.services.release.audit import current_actor
from mcp_orch.services.release.tokens import TokenStore

log = logging.getLogger("mcp_orch.server")

#: Where :class:`BearerAuth` leaves the token's name in the ASGI scope's ``state``.
ACTOR_STATE_KEY = "mcp_orch_actor"


async def _actor_middleware(ctx: Any, call_next: Callable[[Any], Awaitable[Any]]) -> Any:
    """Make the HTTP request's token name the audit actor while the request is handled.

    :class:`BearerAuth` also sets the context variable, but a stateful HTTP session handles its
    messages in its own task; the request object travels with each message, so it is read here.
    """
    request = getattr(ctx, "request", None)
    scope = getattr(request, "scope", None)
    actor = (scope.get("state") or {}).get(ACTOR_STATE_KEY) if isinstance(scope, dict) else None
    if not actor:
        return await call_next(ctx)
    token = current_actor.set(actor)
    try:
        return await call_next(ctx)
    finally:
        current_actor.reset(token)


_UNAUTHORIZED = json.dumps(
    {
        "error": "unauthorized",
        "message": "a valid bearer token is required",
        "hint": "create one with `mcp-orch token create NAME` and send "
        "'Authorization: Bearer <token>'",
    }
).encode()


class BearerAuth:
    """ASGI middleware: ``Authorization: Bearer <token>`` checked against the token store.

    No token or an unknown one gets 401. For a valid one, the token's name becomes the audit
    actor for the request (:data:`mcp_orch.services.release.audit.current_actor`, and ``scope["state"]`` for
    :func:`_actor_middleware`). The lifespan passes through untouched.
    """

    def __init__(self, app: Any, tokens: TokenStore) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        name = self._check(scope)
        if name is None:
            await self._deny(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state[ACTOR_STATE_KEY] = name
        token = current_actor.set(name)
        try:
            await self.app(scope, receive, send)
        finally:
            current_actor.reset(token)

    def _check(self, scope: Any) -> str | None:
        for key, value in scope.get("headers") or []:
            if key.lower() == b"authorization":
                scheme, _, credentials = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and credentials.strip():
                    try:
                        return self.tokens.verify(credentials.strip())
                    except MCPOrchError:
                        log.exception("the token store cannot be read")
                        return None
        return None

    async def _deny(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # a websocket: refuse the handshake
            await receive()
            await send({"type": "websocket.close", "code": 1008})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(_UNAUTHORIZED)).encode()),
                    (b"www-authenticate", b'Bearer realm="mcp-orch"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _UNAUTHORIZED})


def http_app(
    server: MCPServer,
    tokens: TokenStore,
    *,
    host: str = "127.0.0.1",
    limits: HTTPLimits | None = None,
) -> Any:
    """The streamable-HTTP ASGI app of ``server`` (path ``/mcp``) behind :class:`BearerAuth`.

    ``host`` is the bind address: on loopback the SDK's DNS-rebinding protection is on.
    ``limits`` (default :class:`HTTPLimits()`) sets the body limits, checked before the token
    (:class:`RequestLimits`), and the session manager's idle expiry and session cap
    (``server.session_manager`` once this has been called). Serve it with
    :func:`~.http_limits.uvicorn_config` for the connection limits.
    """
    limits = limits or HTTPLimits()
    app = server.streamable_http_app(
        host=host,
        max_request_body_size=limits.max_body,
        session_idle_timeout=limits.session_idle,
        max_sessions=limits.max_sessions,
    )
    return RequestLimits(BearerAuth(app, tokens), limits)
