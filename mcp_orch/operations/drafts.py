"""Draft actions: profiles, add and remove servers, show and validate a draft, import, sync."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp_orch.core.errors import NotFound
from mcp_orch.core.fs import read_text_file
from mcp_orch.domain.clients import get_client
from mcp_orch.domain.clients.detect import Detection
from mcp_orch.domain.clients.dialects import read_config
from mcp_orch.facade.draft import Draft
from mcp_orch.facade.profile import Profile
from mcp_orch.facade.registry import Registry
from mcp_orch.facade.sync import ImportResult, SyncResult
from mcp_orch.facade.workspace import Workspace
from mcp_orch.operations import Result
from mcp_orch.services.validation import ValidationReport, check_payload


@dataclass
class ProfilesResult(Result):
    profiles: list[Profile]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "client": p.client.id,
                "profile": p.id,
                "draft_servers": len(p.draft),
                "latest": p.ref_id("latest"),
                "deployed": p.ref_id("deployed"),
            }
            for p in self.profiles
        ]

    def to_dict(self) -> dict[str, Any]:
        return {"profiles": self.rows()}


def list_profiles(ws: Workspace) -> ProfilesResult:
    """Profiles in the workspace with their draft size, latest and deployed artifacts."""
    return ProfilesResult(ws.profiles())


@dataclass
class AddResult(Result):
    draft: Draft
    name: str

    @property
    def entry(self) -> dict[str, Any]:
        return self.draft.servers[self.name]

    def to_dict(self) -> dict[str, Any]:
        return {"added": self.name, "entry": self.entry, "draft": self.draft.names}


def add_server(
    ws: Workspace,
    client: str,
    profile: str,
    server_id: str,
    *,
    params: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    name: str | None = None,
    transport: str | None = None,
    replace: bool = False,
    target_os: str | None = None,
    registry: Registry | None = None,
) -> AddResult:
    """Add a catalog server to a profile's draft."""
    prof = ws.profile(client, profile, target_os=target_os)
    server = (registry or ws.registry()).find(server_id)
    draft = server.add_to(
        prof,
        params=params,
        env=env,
        name=name,
        headers=headers,
        transport=transport,
        replace=replace,
    )
    return AddResult(draft, name or server.id)


@dataclass
class RemoveResult(Result):
    draft: Draft
    name: str

    def to_dict(self) -> dict[str, Any]:
        return {"removed": self.name, "draft": self.draft.names}


def remove_server(ws: Workspace, client: str, profile: str, name: str) -> RemoveResult:
    """Remove a server from a profile's draft."""
    return RemoveResult(ws.profile(client, profile).draft.remove(name), name)


@dataclass
class DraftResult(Result):
    draft: Draft

    def to_dict(self) -> dict[str, Any]:
        return self.draft.to_dict()


def show_draft(ws: Workspace, client: str, profile: str) -> DraftResult:
    """A profile's draft and the payload it would publish."""
    return DraftResult(ws.profile(client, profile).draft)


@dataclass
class ReportResult(Result):
    report: ValidationReport

    @property
    def ok(self) -> bool:
        return self.report.ok

    def to_dict(self) -> dict[str, Any]:
        return self.report.to_dict()


def validate_draft(
    ws: Workspace,
    client: str,
    profile: str,
    *,
    file: str | os.PathLike[str] | None = None,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
) -> ReportResult:
    """Validate a draft (or a client config file) against the client's schema and the rules."""
    if file is not None:
        spec = get_client(client)
        try:
            text = read_text_file(Path(file))
        except FileNotFoundError:
            raise NotFound(f"no such file: {file}", "check the path") from None
        data = read_config(spec, text, str(file))
        return ReportResult(
            check_payload(spec, data, target=str(file), select=select, ignore=ignore)
        )
    draft = ws.profile(client, profile).draft
    return ReportResult(draft.check(select=select or None, ignore=ignore or None))


@dataclass
class DetectResult(Result):
    detection: Detection
    show_all: bool = False

    @property
    def rows(self) -> list[dict[str, Any]]:
        return list(self.detection) if self.show_all else self.detection.installed()

    def to_dict(self) -> dict[str, Any]:
        return {"clients": self.rows}


def detect(
    ws: Workspace, *, project_dir: str | os.PathLike[str] | None = None, show_all: bool = False
) -> DetectResult:
    """Which MCP clients are installed here, their config files and server counts."""
    return DetectResult(ws.detect(project_dir), show_all)


@dataclass
class ImportClientResult(Result):
    result: ImportResult

    def to_dict(self) -> dict[str, Any]:
        return self.result.to_dict()


def import_client(
    ws: Workspace,
    client: str,
    profile: str = "default",
    *,
    scope: str = "user",
    path: str | os.PathLike[str] | None = None,
    project_dir: str | os.PathLike[str] | None = None,
    keep_secrets: bool = False,
) -> ImportClientResult:
    """Read a client's existing servers into a draft (the client's file is not changed)."""
    prof = ws.profile(client, profile)
    return ImportClientResult(
        prof.import_from(scope=scope, path=path, project_dir=project_dir, keep_secrets=keep_secrets)
    )


@dataclass
class SyncOutcome(Result):
    result: SyncResult

    def to_dict(self) -> dict[str, Any]:
        return self.result.to_dict()


def sync(
    ws: Workspace,
    source: str,
    targets: list[str],
    *,
    deploy: bool = False,
    changelog: str = "",
) -> SyncOutcome:
    """One set of servers (``CLIENT`` or ``CLIENT/PROFILE``), rendered natively for several
    clients, validated, published (and deployed)."""
    client, _, profile = source.partition("/")
    prof = ws.profile(client, profile or "default")
    return SyncOutcome(prof.sync_to(targets, deploy=deploy, changelog=changelog))
