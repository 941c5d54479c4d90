"""What release services need from a workspace and a profile (structural types, no import up).

The facade's :class:`~mcp_orch.facade.workspace.Workspace` and
:class:`~mcp_orch.facade.profile.Profile` provide these; so can anything else (a test double,
a remote mirror) that has the same parts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from mcp_orch.domain.clients import ClientSpec
from mcp_orch.services.release.audit import AuditLog
from mcp_orch.services.release.signing import Keyring
from mcp_orch.services.release.store import Store


class WorkspaceParts(Protocol):
    """A workspace folder with its store, audit log and keys."""

    @property
    def path(self) -> Path: ...

    @property
    def client_root(self) -> Path | None: ...

    @property
    def store(self) -> Store[Any]: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def keys(self) -> Keyring: ...


class ProfileParts(Protocol):
    """One client profile of a workspace."""

    @property
    def workspace(self) -> WorkspaceParts: ...

    @property
    def client(self) -> ClientSpec: ...

    @property
    def id(self) -> str: ...

    @property
    def ref(self) -> str: ...
