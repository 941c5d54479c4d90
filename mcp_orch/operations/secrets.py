"""Secret actions: set, list and remove named secrets in the secret store (audited, names only).

>>> secrets.set_secret(ws, "GITHUB_TOKEN", value).to_dict()
{'name': 'GITHUB_TOKEN', 'backend': 'file', 'set': '2026-…Z', 'store': '…/mcp-orch-secrets'}
>>> [row["name"] for row in secrets.list_secrets().to_dict()["secrets"]]
['GITHUB_TOKEN']
>>> secrets.remove_secret(ws, "GITHUB_TOKEN").to_dict()["removed"]
'GITHUB_TOKEN'

The store belongs to the user, not to a workspace (its folder: ``$MCP_ORCH_SECRETS_DIR`` or the
user data folder); the workspace's audit log records each set and removal by name, never a
value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mcp_orch.facade.workspace import Workspace
from mcp_orch.operations import Result
from mcp_orch.services.secrets.store import SecretStore


@dataclass
class SecretSet(Result):
    name: str
    backend: str
    set: str
    store: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "backend": self.backend, "set": self.set, "store": self.store}


def set_secret(
    ws: Workspace, name: str, value: str, *, store: SecretStore | None = None
) -> SecretSet:
    """Store ``value`` as the secret ``name`` (replacing its old value), and audit it."""
    store = store or SecretStore()
    row = store.set(name, value)
    ws.audit.append("secret-set", details={"name": name, "backend": row["backend"]})
    return SecretSet(name, row["backend"], row["set"], str(store.folder))


@dataclass
class SecretList(Result):
    store: str
    backend: str
    secrets: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"store": self.store, "backend": self.backend, "secrets": self.secrets}


def list_secrets(*, store: SecretStore | None = None) -> SecretList:
    """The names in the store, each with its backend and when it was set (never a value);
    ``backend`` is where the next ``set`` goes (``auto``, ``keyring`` or ``file``)."""
    store = store or SecretStore()
    return SecretList(str(store.folder), store.backend, store.list())


@dataclass
class SecretRemoved(Result):
    removed: str
    backend: str

    def to_dict(self) -> dict[str, Any]:
        return {"removed": self.removed, "backend": self.backend}


def remove_secret(ws: Workspace, name: str, *, store: SecretStore | None = None) -> SecretRemoved:
    """Remove the secret ``name`` from the store (and its backend), and audit it."""
    store = store or SecretStore()
    row = store.remove(name)
    ws.audit.append("secret-rm", details={"name": name, "backend": row.get("backend")})
    return SecretRemoved(name, str(row.get("backend")))
