"""mcp-orch: MCP server configuration as signed releases.

    >>> import mcp_orch as mo
    >>> ws = mo.Workspace("./demo")
    >>> profile = ws.profile("claude-desktop")
    >>> artifact = (
    ...     mo.Registry(workspace=ws).find("github")
    ...     .add_to(profile, env={"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GITHUB_TOKEN}"})
    ...     .validate()
    ...     .publish(changelog="add github")
    ... )
    >>> artifact.deploy()

Names are imported lazily so that ``import mcp_orch`` and light CLI commands stay fast.
"""

from __future__ import annotations

import importlib

from mcp_orch.core import __version__

# not from typing: the launcher (``mcp-orch exec``) imports this package and must start fast
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from mcp_orch.core.errors import (
        AlreadyExists,
        ConflictError,
        FileChanged,
        FileError,
        HistoryRewritten,
        IntegrityError,
        InternalError,
        InvalidConfig,
        InvalidId,
        InvalidPolicy,
        KeyringError,
        MCPOrchError,
        MissingDependency,
        MissingSecret,
        NotFound,
        ParseError,
        PolicyViolation,
        RemoteAuthError,
        RemoteConflict,
        RemoteError,
        SecretStoreError,
        ServerStatusWarning,
        SignatureError,
        StoreCorrupt,
        UsageError,
    )
    from mcp_orch.domain.catalog import CatalogView, Server
    from mcp_orch.domain.clients import ClientSpec, get_client, list_clients
    from mcp_orch.facade.artifact import Artifact
    from mcp_orch.facade.draft import Draft
    from mcp_orch.facade.profile import History, Profile
    from mcp_orch.facade.registry import Registry
    from mcp_orch.facade.serversets import diff, probe
    from mcp_orch.facade.workspace import Workspace
    from mcp_orch.services.policy import Policy
    from mcp_orch.services.policy.evaluate import PolicyReport
    from mcp_orch.services.probe import ProbeReport
    from mcp_orch.services.release.artifact import Deployment
    from mcp_orch.services.release.audit import AuditLog, AuditView
    from mcp_orch.services.release.diff import Diff
    from mcp_orch.services.release.drift import DriftReport
    from mcp_orch.services.validation import Finding, ValidationReport, check_payload

_LAZY = {
    "AlreadyExists": "core.errors",
    "Artifact": "facade.artifact",
    "AuditLog": "services.release.audit",
    "AuditView": "services.release.audit",
    "CatalogView": "domain.catalog",
    "ClientSpec": "domain.clients",
    "ConflictError": "core.errors",
    "FileChanged": "core.errors",
    "FileError": "core.errors",
    "HistoryRewritten": "core.errors",
    "InternalError": "core.errors",
    "StoreCorrupt": "core.errors",
    "Deployment": "services.release.artifact",
    "Diff": "services.release.diff",
    "Draft": "facade.draft",
    "DriftReport": "services.release.drift",
    "Finding": "services.validation",
    "History": "facade.profile",
    "IntegrityError": "core.errors",
    "InvalidConfig": "core.errors",
    "InvalidId": "core.errors",
    "InvalidPolicy": "core.errors",
    "KeyringError": "core.errors",
    "MCPOrchError": "core.errors",
    "MissingDependency": "core.errors",
    "MissingSecret": "core.errors",
    "NotFound": "core.errors",
    "ParseError": "core.errors",
    "Policy": "services.policy",
    "PolicyReport": "services.policy.evaluate",
    "PolicyViolation": "core.errors",
    "ProbeReport": "services.probe",
    "RemoteAuthError": "core.errors",
    "RemoteConflict": "core.errors",
    "RemoteError": "core.errors",
    "SecretStoreError": "core.errors",
    "Profile": "facade.profile",
    "Registry": "facade.registry",
    "Server": "domain.catalog",
    "ServerStatusWarning": "core.errors",
    "SignatureError": "core.errors",
    "UsageError": "core.errors",
    "ValidationReport": "services.validation",
    "Workspace": "facade.workspace",
    "check_payload": "services.validation",
    "diff": "facade.serversets",
    "get_client": "domain.clients",
    "list_clients": "domain.clients",
    "probe": "facade.serversets",
}

__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mcp_orch' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
