"""How a client starts a server: its entry resolved into a :class:`Launch` (or why it cannot)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcp_orch.domain.clients import (
    ClientSpec,
    env_refs,
    from_native,
    get_client,
    refs_from_placeholders,
    substitute_refs,
)
from mcp_orch.domain.secrets import redact
from mcp_orch.domain.transport import unfilled
from mcp_orch.services.secrets.store import is_launcher_entry

if TYPE_CHECKING:
    pass


@dataclass
class Launch:
    """One server, ready to start: everything resolved, or the ``problem`` that prevents it."""

    server: str
    transport: str  # stdio, streamable-http or sse
    command: str = ""
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    problem: tuple[str, str] | None = None  # (error, hint)
    secrets: list[str] = field(default_factory=list)  # resolved values to mask in output

    def display(self) -> str:
        if self.transport == "stdio":
            text = " ".join([self.command, *self.args])
        else:
            text = f"{self.url} ({self.transport})"
        return redact(text, self.secrets)


def launch_for(
    spec: ClientSpec | str,
    name: str,
    entry: dict[str, Any],
    environ: dict[str, str] | None = None,
) -> Launch:
    """How ``spec``'s client would start the server ``name`` of its config (``entry`` native)."""
    spec = get_client(spec)
    environ = dict(os.environ) if environ is None else environ
    if not isinstance(entry, dict):
        return Launch(name, "?", problem=("the entry is not an object", "fix the config"))
    neutral = refs_from_placeholders(spec, from_native(spec, entry))
    transport = str(neutral.get("transport") or "stdio")
    refs = list(dict.fromkeys(env_refs(neutral)))
    if transport == "stdio" and is_launcher_entry(neutral):
        refs = []  # the launcher resolves them (from the secret store) as the server starts
    missing = [r for r in refs if r not in environ]
    secrets = [environ[r] for r in refs if r in environ]
    resolved = substitute_refs(neutral, lambda var: environ.get(var, "")) if refs else neutral
    launch = Launch(name, transport, secrets=secrets)
    if transport == "stdio":
        launch.command = str(resolved.get("command") or "")
        launch.args = [str(a) for a in resolved.get("args") or []]
        launch.env = {str(k): str(v) for k, v in (resolved.get("env") or {}).items()}
        cwd = entry.get(spec.stdio.cwd)
        launch.cwd = os.path.expanduser(cwd) if isinstance(cwd, str) and cwd else None
        if not launch.command:
            launch.problem = ("the entry has no command", "add the command that starts the server")
    else:
        launch.url = str(resolved.get("url") or "")
        launch.headers = {str(k): str(v) for k, v in (resolved.get("headers") or {}).items()}
        if not launch.url:
            launch.problem = ("the entry has no url", "add the server's URL")
    if missing:
        first = missing[0]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        launch.problem = (
            f"${{env:{first}}} is referenced but {first} is not set{more}; not started",
            f"export {first}=... before probing (the client needs it too)",
        )
    holes = unfilled([launch.command, launch.args, launch.url, launch.headers, launch.env])
    if holes and launch.problem is None:
        launch.problem = (
            f"placeholder {{{holes[0]}}} is not filled; not started",
            f"give the parameter {holes[0]} a value when adding the server",
        )
    return launch


def is_disabled(spec: ClientSpec | str, entry: dict[str, Any]) -> bool:
    """True when ``entry`` switches the server off the way ``spec``'s client reads it: the
    ``off_switch`` of its table row, e.g. ``("disabled", True)`` or ``("enabled", False)``."""
    return get_client(spec).switched_off(entry)
