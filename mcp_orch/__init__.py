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
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .audit import AuditLog, AuditView
    from .catalog import CatalogView, Registry, Server
    from .clients import ClientSpec, get_client, list_clients
    from .deploy import DriftReport
    from .diffs import Diff, diff
    from .draft import Draft
    from .errors import (
        AlreadyExists,
        ConflictError,
        IntegrityError,
        InvalidConfig,
        InvalidId,
        KeyringError,
        MCPOrchError,
        MissingSecret,
        NotFound,
        ParseError,
        SignatureError,
        UsageError,
    )
    from .models import Artifact, Deployment
    from .probes import ProbeReport, probe
    from .validation import Finding, ValidationReport, check_payload
    from .workspace import History, Profile, Workspace

_LAZY = {
    "AlreadyExists": "errors",
    "Artifact": "models",
    "AuditLog": "audit",
    "AuditView": "audit",
    "CatalogView": "catalog",
    "ClientSpec": "clients",
    "ConflictError": "errors",
    "Deployment": "models",
    "Diff": "diffs",
    "Draft": "draft",
    "DriftReport": "deploy",
    "Finding": "validation",
    "History": "workspace",
    "IntegrityError": "errors",
    "InvalidConfig": "errors",
    "InvalidId": "errors",
    "KeyringError": "errors",
    "MCPOrchError": "errors",
    "MissingSecret": "errors",
    "NotFound": "errors",
    "ParseError": "errors",
    "ProbeReport": "probes",
    "Profile": "workspace",
    "Registry": "catalog",
    "Server": "catalog",
    "SignatureError": "errors",
    "UsageError": "errors",
    "ValidationReport": "validation",
    "Workspace": "workspace",
    "check_payload": "validation",
    "diff": "diffs",
    "get_client": "clients",
    "list_clients": "clients",
    "probe": "probes",
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
