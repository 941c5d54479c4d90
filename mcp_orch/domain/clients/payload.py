"""Server maps and payloads: where a client keeps its servers, and one shape for "a set of servers".

    >>> from mcp_orch.domain.clients import get_client
    >>> from mcp_orch.domain.clients import build_payload, server_map
    >>> from mcp_orch.domain.clients.payload import read_server_file
    >>> spec = get_client("cursor")
    >>> payload = build_payload(spec, {"time": {"command": "uvx", "args": ["mcp-server-time"]}})
    >>> server_map(spec, payload)                 # name -> native entry, from a payload or file
    {'time': {'command': 'uvx', 'args': ['mcp-server-time']}}
    >>> read_server_file(spec, "~/.cursor/mcp.json").servers

Every source of servers (a draft, an artifact, a client config file, a check target) is a
:class:`ServerSet`: the client that reads it, its servers by name (client-native entries) and a
label for messages. ``diff`` and ``probe`` take server sets, whatever they came from.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from mcp_orch.core.fs import read_text_file
from mcp_orch.core.text import plural
from mcp_orch.domain.clients.dialects import read_config
from mcp_orch.domain.clients.spec import ClientSpec, server_map


@runtime_checkable
class ServerSet(Protocol):
    """Anything that holds one client's servers: drafts, artifacts, files, check targets."""

    @property
    def client_id(self) -> str: ...

    @property
    def servers(self) -> dict[str, dict[str, Any]]: ...

    @property
    def label(self) -> str: ...


class ServerMap:
    """A plain server set: a client config file or a payload read into name -> entry."""

    __slots__ = ("client_id", "label", "servers")

    def __init__(
        self, client_id: str, servers: dict[str, dict[str, Any]] | None = None, label: str = ""
    ) -> None:
        self.client_id = client_id
        self.servers = dict(servers or {})
        self.label = label

    def __repr__(self) -> str:
        return f"<ServerMap {self.label or self.client_id}: {plural(len(self.servers), 'server')}>"


def payload_servers(spec: ClientSpec, payload: dict[str, Any], label: str = "payload") -> ServerMap:
    """A payload (or a whole parsed file) as a server set (names of repeated list items trimmed)."""
    return ServerMap(
        spec.id, {n.rstrip(" "): e for n, e in server_map(spec, payload).items()}, label
    )


def read_server_file(
    spec: ClientSpec, path: str | os.PathLike[str], *, missing_ok: bool = True
) -> ServerMap:
    """A client config file as a server set; a missing file reads as empty when ``missing_ok``."""
    file = Path(path).expanduser()
    text = read_text_file(file, missing_ok=missing_ok)
    return ServerMap(spec.id, server_map(spec, read_config(spec, text, str(file))), str(file))
