"""Validation: client JSON Schemas plus named rules, producing a :class:`ValidationReport`.

>>> from mcp_orch.validation import check_payload
>>> report = check_payload("cursor", {"mcpServers": {"x": {"command": "npx", "args": []}}})
>>> report.ok
True
"""

from __future__ import annotations

from typing import Any

from ..clients import ClientSpec, from_native, get_client
from .report import Finding, Severity, ValidationReport
from .rules import RULES, Context, Rule, Subject, run_rules

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
    "server_map",
]


def server_map(spec: ClientSpec, payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """name -> native entry, read from a payload (or a whole config file) of ``spec``."""
    node: Any = payload
    for key in spec.servers_key:
        if not isinstance(node, dict):
            return {}
        node = node.get(key)
        if node is None:
            return {}
    if spec.layout == "map":
        return dict(node) if isinstance(node, dict) else {}
    out: dict[str, dict[str, Any]] = {}
    if isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, dict):
                name = str(item.get(spec.name_field or "name") or f"#{i}")
                entry = {k: v for k, v in item.items() if k != spec.name_field}
                key = name
                while key in out:  # a repeated name in a list stays visible to MCP005
                    key += " "
                out[key] = entry
    return out


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
        neutral = from_native(spec, entry) if isinstance(entry, dict) else {}
        subjects.append(Subject(name.rstrip(), entry if isinstance(entry, dict) else {}, neutral))
    return check_subjects(spec, subjects, payload, target=target, select=select, ignore=ignore)
