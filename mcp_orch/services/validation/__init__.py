"""Validation: client JSON Schemas plus named rules, producing a :class:`ValidationReport`.

>>> from mcp_orch.services.validation import check_payload
>>> report = check_payload("cursor", {"mcpServers": {"x": {"command": "npx", "args": []}}})
>>> report.ok
True
"""

from __future__ import annotations

from typing import Any

from mcp_orch.core import __version__
from mcp_orch.domain.clients import ClientSpec, from_native, get_client, server_map
from mcp_orch.services.validation.report import Finding, Severity, ValidationReport
from mcp_orch.services.validation.rules import RULES, Context, Rule, Subject, run_rules

__all__ = [
    "RULES",
    "Context",
    "Finding",
    "Rule",
    "Severity",
    "Subject",
    "ValidationReport",
    "check_payload",
    "check_subjects",
    "rules_version",
]


def rules_version() -> str:
    """What a validation result depends on besides its input: the package version and every
    rule (code, severity, level). A cached result (``Draft.validate``) is reused only while
    this is unchanged."""
    return __version__ + ";" + ",".join(f"{r.code}:{r.severity}:{r.level}" for r in RULES)


def check_subjects(
    client: ClientSpec | str,
    subjects: list[Subject],
    payload: dict[str, Any],
    *,
    target: str = "",
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    check_path: bool = True,
) -> ValidationReport:
    spec = get_client(client)
    ctx = Context(spec, subjects, payload, check_path=check_path)
    return ValidationReport(run_rules(ctx, select, ignore), client=spec.id, target=target)


def check_payload(
    client: ClientSpec | str,
    payload: dict[str, Any],
    *,
    target: str = "",
    select: list[str] | None = None,
    ignore: list[str] | None = None,
) -> ValidationReport:
    """Check a client-native config (payload or whole file) that has no catalog links."""
    spec = get_client(client)
    subjects = []
    for name, entry in server_map(spec, payload).items():
        runs = isinstance(entry, dict) and not spec.is_builtin(entry)  # builtins: no command
        neutral = from_native(spec, entry) if runs else {}
        native = entry if isinstance(entry, dict) else {}
        subjects.append(Subject(name.rstrip(" "), native, neutral))  # " ": a repeated list name
    return check_subjects(spec, subjects, payload, target=target, select=select, ignore=ignore)
