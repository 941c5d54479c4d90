"""Supported MCP clients: the table, path resolution and the config dialects.

>>> from mcp_orch.domain.clients import get_client, config_path
>>> config_path(get_client("cursor"), root="/tmp/sandbox", target_os="linux")
PosixPath('/tmp/sandbox/.cursor/mcp.json')
"""

from __future__ import annotations

import os
import sys
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

from mcp_orch.core.errors import InvalidId, NotFound, UsageError
from mcp_orch.domain.clients.spec import (
    TRANSPORTS,
    ClientSpec,
    RemoteShape,
    StdioShape,
    bridge_env_forms,
    bridge_index,
    build_payload,
    env_refs,
    from_native,
    header_env_forms,
    header_env_name,
    refs_from_placeholders,
    server_map,
    substitute_refs,
    to_native,
    unwrap_remote,
    with_named_fields,
    wrap_remote,
)
from mcp_orch.domain.clients.table import CLIENTS

__all__ = [
    "CLIENTS",
    "TRANSPORTS",
    "ClientSpec",
    "RemoteShape",
    "StdioShape",
    "all_env_fields",
    "all_header_fields",
    "all_servers_keys",
    "all_url_fields",
    "bridge_env_forms",
    "bridge_index",
    "build_payload",
    "client_root",
    "config_path",
    "current_os",
    "env_refs",
    "from_native",
    "get_client",
    "header_env_forms",
    "header_env_name",
    "list_clients",
    "refs_from_placeholders",
    "server_map",
    "substitute_refs",
    "to_native",
    "unwrap_remote",
    "with_named_fields",
    "wrap_remote",
]

_BY_ID = {c.id: c for c in CLIENTS}


def list_clients() -> list[ClientSpec]:
    return list(CLIENTS)


def all_servers_keys() -> list[str]:
    """The top-level key of every client's servers (``servers_key[0]``), in table order."""
    return list(dict.fromkeys(c.servers_key[0] for c in list_clients()))


def all_url_fields() -> set[str]:
    """Every field name any client keeps a remote server's URL in."""
    return {name for c in list_clients() for name in c.url_fields()}


def all_env_fields() -> set[str]:
    """Every field name any client keeps a stdio server's environment in."""
    return {c.stdio.env for c in list_clients()}


def all_header_fields() -> set[str]:
    """Every field name any client keeps a remote server's headers in."""
    return {name for c in list_clients() for name in c.header_fields()}


def get_client(client_id: str | ClientSpec) -> ClientSpec:
    """The spec of a client id; ``NotFound`` names the closest known ids."""
    if isinstance(client_id, ClientSpec):
        return client_id
    spec = _BY_ID.get(client_id)
    if spec is None:
        import difflib

        close = difflib.get_close_matches(str(client_id), list(_BY_ID), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "list the clients to see their ids"
        raise NotFound(f"unknown client {client_id!r}", hint)
    return spec


def current_os() -> str:
    if sys.platform == "darwin":
        return "macos"
    if sys.platform.startswith("win"):
        return "windows"
    return "linux"


def client_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The folder that stands for the user's home: ``root``, ``$MCP_ORCH_CLIENT_ROOT``, or home."""
    if root is not None:
        return Path(root)
    env = os.environ.get("MCP_ORCH_CLIENT_ROOT")
    return Path(env) if env else Path.home()


def _expand(template: str, target_os: str, overridden: bool) -> list[str]:
    if target_os == "windows":
        tokens = {
            "{AD}": "AppData/Roaming",
            "{LAD}": "AppData/Local",
            "{VSU}": "AppData/Roaming/Code/User",
            "{AS}": "AppData/Roaming",
            "{XC}": ".config",
        }
    elif target_os == "macos":
        tokens = {
            "{AS}": "Library/Application Support",
            "{VSU}": "Library/Application Support/Code/User",
            "{XC}": ".config",
            "{AD}": ".config",
            "{LAD}": ".local/share",
        }
    else:
        xdg = os.environ.get("XDG_CONFIG_HOME") if not overridden else None
        tokens = {
            "{XC}": xdg or ".config",
            "{VSU}": f"{xdg or '.config'}/Code/User",
            "{AS}": xdg or ".config",
            "{AD}": xdg or ".config",
            "{LAD}": ".local/share",
        }
    text = template
    for token, value in tokens.items():
        text = text.replace(token, value)
    if text.startswith("~/"):
        text = text[2:]
    parts = [p for p in text.split("/") if p]
    if text.startswith("/") and parts:  # an absolute $XDG_CONFIG_HOME
        parts[0] = "/" + parts[0]
    return parts


def _home_env_path(
    spec: ClientSpec, template: str, target_os: str, overridden: bool, base_root: Path
) -> Path | None:
    """The user file under the folder a set variable names (``CODEX_HOME``, ``COPILOT_HOME``),
    for this OS. Under a sandboxed client root the variable counts only when it points inside
    that root, so a real ``CODEX_HOME`` never leaks into tests and demos."""
    if not spec.home_env or target_os != current_os():
        return None
    var, folder = spec.home_env
    value = os.environ.get(var)
    if not value or not template.startswith(folder + "/"):
        return None
    home = Path(value).expanduser().absolute()
    if overridden and not home.is_relative_to(base_root.absolute()):
        return None
    return home.joinpath(*template[len(folder) + 1 :].split("/"))


def config_path(
    spec: ClientSpec | str,
    *,
    root: str | os.PathLike[str] | None = None,
    target_os: str | None = None,
    scope: str = "user",
    project_dir: str | os.PathLike[str] | None = None,
) -> PurePath:
    """Where ``spec`` keeps its config for ``target_os`` (default: this OS).

    User paths resolve under the client root (see :func:`client_root`), so tests and demos never
    touch the real home. For another OS the result is a pure path in that OS's layout.
    """
    spec = get_client(spec) if isinstance(spec, str) else spec
    target_os = target_os or current_os()
    if target_os not in ("linux", "macos", "windows"):
        raise UsageError(f"unknown OS {target_os!r}", "use linux, macos or windows")
    if scope == "project":
        if not spec.project_path:
            raise UsageError(
                f"{spec.name} has no project-level config file",
                "use the user scope",
                inputs=("scope",),
            )
        base = Path(project_dir).expanduser().absolute() if project_dir is not None else Path.cwd()
        return base / spec.project_path
    if scope != "user":
        raise InvalidId(
            f"unknown scope {scope!r}", "the scope is user or project", inputs=("scope",)
        )
    overridden = root is not None or "MCP_ORCH_CLIENT_ROOT" in os.environ
    base_root = client_root(root)
    template = spec.paths.get(target_os) or spec.paths["linux"]
    moved = _home_env_path(spec, template, target_os, overridden, base_root)
    if moved is not None:
        return moved
    parts = _expand(template.replace("{SYS}/", "{SYS}"), target_os, overridden)
    system = bool(parts) and parts[0].startswith("{SYS}")
    if system:
        parts[0] = parts[0][len("{SYS}") :]
        parts = [p for p in parts if p]
    if target_os == current_os():
        if system and not overridden:
            anchor = Path("C:/") if target_os == "windows" else Path("/")
            return anchor.joinpath(*parts)
        if (
            not system
            and not overridden
            and target_os == "linux"
            and os.environ.get("XDG_CONFIG_HOME")
            and parts
            and Path(parts[0]).is_absolute()
        ):
            return Path(*parts)
        return base_root.joinpath(*parts)
    pure: type[PurePath] = PureWindowsPath if target_os == "windows" else PurePosixPath
    if target_os == "windows":
        home = pure("C:/") if system else pure("C:/Users/user")
    else:
        home = (
            pure("/") if system else pure("/Users/user" if target_os == "macos" else "/home/user")
        )
    return home.joinpath(*parts)
