"""A server's manifest: what it offers (tools, prompts, resources) as plain, stable data.

    >>> manifest = build_manifest(info, "2025-11-25", tools, prompts, resources)
    >>> manifest_digest(manifest)
    'sha256:…'

Tools and prompts are sorted by name and resources by URI, so the digest (SHA-256 of the RFC
8785 canonical JSON) does not change when a server lists the same things in another order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from mcp_orch.core.ids import canonical, sha256_id


def _dump(model: Any) -> Any:
    """A pydantic model (or None, or plain data) as JSON data, without unset fields."""
    if model is None:
        return None
    if hasattr(model, "model_dump"):
        return model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return model


def build_manifest(
    server_info: Any,
    protocol_version: str | None,
    tools: Iterable[Any] = (),
    prompts: Iterable[Any] = (),
    resources: Iterable[Any] = (),
) -> dict[str, Any]:
    """The manifest of a server from the SDK's ``Implementation``, ``Tool``, ``Prompt`` and
    ``Resource`` objects (any object with those attributes)."""
    tool_rows = [
        {
            "name": t.name,
            "description": t.description,
            "input_schema": _dump(t.input_schema),
            "output_schema": _dump(t.output_schema),
            "annotations": _dump(t.annotations),
        }
        for t in tools
    ]
    prompt_rows = [
        {
            "name": p.name,
            "description": p.description,
            "arguments": [
                {"name": a.name, "description": a.description, "required": bool(a.required)}
                for a in p.arguments or []
            ],
        }
        for p in prompts
    ]
    resource_rows = [
        {
            "uri": str(r.uri),
            "name": r.name,
            "description": r.description,
            "mime_type": r.mime_type,
        }
        for r in resources
    ]
    return {
        "server": {
            "name": getattr(server_info, "name", None),
            "version": getattr(server_info, "version", None) or None,
        },
        "protocol_version": protocol_version,
        "tools": sorted(tool_rows, key=lambda t: t["name"]),
        "prompts": sorted(prompt_rows, key=lambda p: p["name"]),
        "resources": sorted(resource_rows, key=lambda r: r["uri"]),
    }


def manifest_digest(manifest: dict[str, Any]) -> str:
    """``sha256:<hex>`` of the manifest's canonical JSON (RFC 8785)."""
    try:
        data = canonical(manifest)
    except Exception:  # integers beyond 2**53 have no RFC 8785 form: sorted JSON instead
        data = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    return sha256_id(data)
