"""Actions around mcp-orch's own MCP server: bearer tokens, where it may listen, install-self."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp_orch.core.errors import UsageError
from mcp_orch.domain.clients import to_native
from mcp_orch.facade.workspace import Workspace
from mcp_orch.operations import Result
from mcp_orch.services.release.tokens import TokenStore

if TYPE_CHECKING:
    from mcp_orch.facade.artifact import Artifact
    from mcp_orch.services.release.artifact import Deployment


@dataclass
class TokenCreated(Result):
    name: str
    token: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "token": self.token}


def create_token(ws: Workspace, name: str) -> TokenCreated:
    """A new bearer token for ``serve --http``; only its hash is stored."""
    return TokenCreated(name, ws.tokens.create(name))


@dataclass
class TokensResult(Result):
    tokens: list[dict[str, str]]

    def to_dict(self) -> dict[str, Any]:
        return {"tokens": self.tokens}


def list_tokens(ws: Workspace) -> TokensResult:
    """The tokens' names and creation times (never the tokens)."""
    return TokensResult(ws.tokens.list())


@dataclass
class TokenRevoked(Result):
    name: str

    def to_dict(self) -> dict[str, Any]:
        return {"revoked": self.name}


def revoke_token(ws: Workspace, name: str) -> TokenRevoked:
    """Revoke a token: a running server refuses it from the next request on."""
    ws.tokens.revoke(name)
    return TokenRevoked(name)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) is only reachable from this machine."""
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(bare, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    addresses = {str(info[4][0]).split("%", 1)[0] for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def http_tokens(ws: Workspace, host: str) -> TokenStore:
    """The token store an HTTP server on ``host`` checks, after the bind policy: an address
    other machines can reach is refused while no token exists (every request would get 401,
    and a later token would open it to the network unnoticed)."""
    tokens = ws.tokens
    if not is_loopback(host) and len(tokens) == 0:
        raise UsageError(
            f"refusing to serve on {host}, which is reachable from other machines, "
            "while no token is configured",
            "create a bearer token first, or bind to 127.0.0.1",
            inputs=("host",),
        )
    return tokens


def self_command() -> tuple[str, list[str]]:
    """How a client should launch this mcp-orch: the ``mcp-orch`` script installed beside the
    running Python (absolute path), else this Python with ``-m mcp_orch``."""
    folder = Path(sys.executable).absolute().parent
    for name in ("mcp-orch", "mcp-orch.exe"):
        script = folder / name
        if script.is_file() and os.access(script, os.X_OK):
            return str(script), ["serve"]
    return str(Path(sys.executable).absolute()), ["-m", "mcp_orch", "serve"]


@dataclass
class InstallSelfResult(Result):
    name: str
    entry: dict[str, Any]
    artifact: Artifact
    deployment: Deployment
    command: list[str]
    client_name: str
    profile_ref: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "entry": self.entry,
            "artifact": self.artifact.to_dict(),
            "deployment": self.deployment.to_dict(),
        }


def install_self(
    ws: Workspace,
    client: str,
    profile: str = "default",
    *,
    name: str = "mcp-orch",
    adopt: bool = False,
) -> InstallSelfResult:
    """Add mcp-orch's own MCP server to a client: draft -> validate -> publish -> deploy. The
    entry runs ``mcp-orch serve`` over stdio with ``MCP_ORCH_HOME`` set to this workspace (and
    ``MCP_ORCH_CLIENT_ROOT`` when the workspace has a client root)."""
    prof = ws.profile(client, profile)
    command, args = self_command()
    env = {"MCP_ORCH_HOME": str(ws.path)}
    if ws.client_root:
        env["MCP_ORCH_CLIENT_ROOT"] = str(Path(ws.client_root).expanduser().absolute())
    neutral: dict[str, Any] = {"transport": "stdio", "command": command, "args": args, "env": env}
    entry = to_native(prof.client, neutral, prof.target_os)
    draft = prof.draft.add_entry(name, entry, replace=True, origin="install-self")
    art = draft.validate().publish(changelog=f"install mcp-orch's own MCP server as {name!r}")
    dep = art.deploy(adopt=adopt)
    return InstallSelfResult(name, entry, art, dep, [command, *args], prof.client.name, prof.ref)
