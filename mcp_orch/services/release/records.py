"""Deployment records: which entries of which file each profile manages, and their digests.

deployments/<client>/<profile>.json  ->  {"targets": {path: deployment}, "last": path}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcp_orch.core.fs import atomic_write, read_json
from mcp_orch.services.release.context import ProfileParts


def records_path(profile: ProfileParts) -> Path:
    return profile.workspace.path / "deployments" / profile.client.id / f"{profile.id}.json"


def load_records(profile: ProfileParts) -> dict[str, Any]:
    path = records_path(profile)
    if path.exists():
        data: dict[str, Any] = read_json(path)
        return data
    return {"targets": {}, "last": None}


def save_records(profile: ProfileParts, records: dict[str, Any]) -> None:
    atomic_write(records_path(profile), json.dumps(records, indent=2) + "\n")
