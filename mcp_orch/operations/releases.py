"""Release actions: publish, deploy, get, diff, drift, rollback, restore, history, audit, verify."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from mcp_orch.core.errors import NotFound
from mcp_orch.domain.clients import build_payload, list_clients, server_map
from mcp_orch.domain.clients.payload import payload_servers
from mcp_orch.domain.secrets import mask_secrets
from mcp_orch.facade.artifact import Artifact
from mcp_orch.facade.pinning import lock_for, tool_pins
from mcp_orch.facade.profile import History, Profile
from mcp_orch.facade.serversets import diff
from mcp_orch.facade.workspace import Workspace
from mcp_orch.operations import Result
from mcp_orch.operations.audit import AuditResult as AuditResult  # re-exported
from mcp_orch.operations.audit import VerifyResult as VerifyResult  # re-exported
from mcp_orch.operations.audit import audit_log as audit_log  # re-exported
from mcp_orch.operations.audit import verify as verify  # re-exported
from mcp_orch.operations.drafts import Payload, read_payload
from mcp_orch.services.policy.gates import publish_under_policy
from mcp_orch.services.release.artifact import Deployment
from mcp_orch.services.release.backups import backup_profiles, check_keep
from mcp_orch.services.release.diff import Diff
from mcp_orch.services.release.drift import DriftReport
from mcp_orch.services.validation import check_payload


@dataclass
class ArtifactResult(Result):
    artifact: Artifact

    @property
    def payload(self) -> dict[str, Any]:
        """The payload as shown: every secret the scanner flags masked (the artifact, signed,
        keeps the real values)."""
        shown: dict[str, Any] = mask_secrets(self.artifact.payload)
        return shown

    def to_dict(self) -> dict[str, Any]:
        data = {**self.artifact.to_dict(), "payload": self.payload}
        data["lock"] = self.artifact.lock
        data["tools"] = self.artifact.tools
        return data


@dataclass
class PublishResult(ArtifactResult):
    """A publish: the artifact, and whether it is new (``published``) or was already latest
    (``unchanged``: the same content again records nothing, so a changelog given with it is
    not recorded either: ``changelog`` is the one asked for, the artifact keeps its own)."""

    status: str = "published"
    changelog: str = ""

    @property
    def unchanged(self) -> bool:
        return self.status == "unchanged"

    def to_dict(self) -> dict[str, Any]:
        data = {**super().to_dict(), "status": self.status, "unchanged": self.unchanged}
        if self.unchanged:
            data["changelog_recorded"] = False
            data["changelog_given"] = self.changelog
        return data


def publish(
    ws: Workspace,
    client: str,
    profile: str,
    *,
    changelog: str = "",
    file: str | os.PathLike[str] | None = None,
    payload: Payload | None = None,
    pin_tools: bool | None = None,
    resolve: bool = True,
) -> PublishResult:
    """Validate, resolve the lock, sign and store the draft (or a client config file as is, or
    a payload given inline) as latest; ``pin_tools`` probes each server and pins its tools."""
    prof = ws.profile(client, profile)
    before = prof.ref_id("latest")
    if payload is not None:
        data = read_payload(prof.client, payload)
        # validated like a file: errors refuse the publish, with the report
        check_payload(prof.client, data, target="payload").raise_for_errors("the payload")
        servers = server_map(prof.client, data)
        native = build_payload(prof.client, servers)
        lock = lock_for(prof.client, servers, resolve_now=resolve)
        tools = tool_pins(payload_servers(prof.client, native)) if pin_tools else None
        record = publish_under_policy(
            prof,
            native,
            changelog=changelog,
            details={"source": "payload"},
            lock=lock,
            tools=tools,
        )
        art = Artifact.adopt(record, prof)
    elif file is not None:
        art = prof.publish_file(
            file, changelog=changelog, pin_tools=bool(pin_tools), resolve=resolve
        )
    else:
        art = prof.draft.publish(changelog=changelog, pin_tools=pin_tools, resolve=resolve)
    status = "unchanged" if art.artifact_id == before else "published"
    return PublishResult(art, status, changelog)


@dataclass
class DeployResult(Result):
    deployment: Deployment

    def to_dict(self) -> dict[str, Any]:
        dep = self.deployment.to_dict()
        status = "dry-run" if self.deployment.dry_run else "deployed"
        return {**dep, "status": status, "config_path": self.deployment.path}


def deploy(
    ws: Workspace,
    client: str,
    profile: str,
    *,
    artifact_id: str | None = None,
    path: str | os.PathLike[str] | None = None,
    scope: str = "user",
    project_dir: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    adopt: bool = False,
    force: bool = False,
) -> DeployResult:
    """Verify an artifact (default: latest) and write it into the client's file (``force``:
    even when the file is read-only)."""
    art = ws.profile(client, profile).artifact(artifact_id)
    dep = art.deploy(
        path=path,
        dry_run=dry_run,
        adopt=adopt,
        scope=scope,
        project_dir=project_dir,
        force=force,
    )
    return DeployResult(dep)


def get_config(
    ws: Workspace, client: str, profile: str, *, artifact_id: str | None = None
) -> ArtifactResult:
    """A published artifact (default: latest), verified."""
    return ArtifactResult(ws.profile(client, profile).artifact(artifact_id).verify())


@dataclass
class DiffResult(Result):
    diff: Diff

    def to_dict(self) -> dict[str, Any]:
        return self.diff.to_dict()


def diff_config(
    ws: Workspace,
    client: str,
    profile: str,
    *,
    path: str | os.PathLike[str] | None = None,
    from_artifact: str | None = None,
    to_artifact: str | None = None,
) -> DiffResult:
    """The client's file against latest (or ``to_artifact``); with ``from_artifact``, two
    artifacts. Status up-to-date, outdated or diverged."""
    prof = ws.profile(client, profile)
    if from_artifact:
        return DiffResult(diff(prof.artifact(from_artifact), prof.artifact(to_artifact)))
    return DiffResult(prof.diff(path, to_artifact))


@dataclass
class DriftResult(Result):
    report: DriftReport

    @property
    def ok(self) -> bool:
        return not self.report.drifted

    def to_dict(self) -> dict[str, Any]:
        return self.report.to_dict()


def drift(
    ws: Workspace,
    client: str,
    profile: str,
    *,
    path: str | os.PathLike[str] | None = None,
    tools: bool = False,
    timeout: float = 30.0,
) -> DriftResult:
    """Managed entries edited, removed or added by hand since the last deploy; with ``tools``,
    each managed server probed and compared with the tool manifest its release pinned."""
    kw: dict[str, Any] = {"timeout": timeout} if tools else {}
    return DriftResult(ws.profile(client, profile).drift(path, tools=tools, **kw))


@dataclass
class RollbackResult(Result):
    artifact: Artifact
    deployment: Deployment | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.artifact.to_dict(),
            "payload": mask_secrets(self.artifact.payload),
            "deployment": DeployResult(self.deployment).to_dict() if self.deployment else None,
        }


def rollback(
    ws: Workspace,
    client: str,
    profile: str,
    *,
    artifact_id: str | None = None,
    deploy: bool = False,
    path: str | os.PathLike[str] | None = None,
) -> RollbackResult:
    """Point latest back at an earlier artifact (a revert event); deploy it if asked."""
    art = ws.profile(client, profile).rollback(artifact_id)
    return RollbackResult(art, art.deploy(path=path) if deploy else None)


@dataclass
class RollbackPreview(Result):
    """What ``rollback(..., deploy=True)`` would do, nothing changed: the artifact it goes
    back to and the dry run of its deploy (``deployment.overwritten``: the hand edits it
    would replace)."""

    artifact: Artifact
    deployment: Deployment

    def to_dict(self) -> dict[str, Any]:
        return {
            "artifact_id": self.artifact.artifact_id,
            "deployment": DeployResult(self.deployment).to_dict(),
        }


def rollback_preview(
    ws: Workspace,
    client: str,
    profile: str,
    *,
    artifact_id: str | None = None,
    path: str | os.PathLike[str] | None = None,
) -> RollbackPreview:
    """The artifact a rollback goes back to (``artifact_id``, default: latest's parent) and
    the dry run of deploying it; ``latest`` and the client's file are left as they are."""
    prof = ws.profile(client, profile)
    current = prof.latest()
    if current is None:
        raise NotFound(f"{prof.ref} has nothing published", "publish the draft first")
    if artifact_id is None and current.parent is None:
        raise NotFound(
            f"{prof.ref}: the latest artifact has no parent to roll back to",
            "name the artifact to roll back to",
        )
    target = prof.artifact(artifact_id or current.parent).verify()
    return RollbackPreview(target, target.deploy(path=path, dry_run=True))


@dataclass
class RestoreResult(Result):
    restored: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.restored)


def restore(
    ws: Workspace, client: str, profile: str, *, backup: str | None = None
) -> RestoreResult:
    """Put a client file back as it was before a deploy (default: the newest backup)."""
    return RestoreResult(ws.profile(client, profile).restore(backup))


@dataclass
class BackupsResult(Result):
    backups: list[dict[str, str]]

    def to_dict(self) -> dict[str, Any]:
        return {"backups": self.backups}


def list_backups(ws: Workspace, client: str, profile: str) -> BackupsResult:
    """A profile's backups, newest first."""
    return BackupsResult(ws.profile(client, profile).backups())


@dataclass
class PruneResult(Result):
    """One prune per profile: each with what it removed (or would remove: ``dry_run``)."""

    dry_run: bool
    profiles: list[dict[str, Any]]

    @property
    def removed(self) -> int:
        return sum(len(p["removed"]) for p in self.profiles)

    @property
    def bytes_freed(self) -> int:
        return sum(int(p["bytes_freed"]) for p in self.profiles)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "removed": self.removed,
            "bytes_freed": self.bytes_freed,
            "profiles": self.profiles,
        }


def prune_backups(
    ws: Workspace,
    client: str | None = None,
    profile: str | None = None,
    *,
    keep: int | None = None,
    dry_run: bool = False,
) -> PruneResult:
    """Remove all but the newest ``keep`` backups (default: each profile's ``keep_backups``
    setting) of one profile, of every profile of ``client``, or of every profile with backups."""
    if keep is not None:
        check_keep(keep)
    if client is not None and profile is not None:
        where = [ws.profile(client, profile)]
    else:
        if client is not None:
            ws.profile(client)  # an unknown client is an error, not "nothing to prune"
        where = [
            ws.profile(c, p)
            for c, p in backup_profiles(ws)
            if client is None or c == client
            if profile is None or p == profile
        ]
    return PruneResult(dry_run, [p.prune_backups(keep, dry_run=dry_run) for p in where])


@dataclass
class HistoryResult(Result):
    profile: Profile
    history: History
    latest: str | None
    deployed: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "client": self.profile.client.id,
            "profile": self.profile.id,
            "latest": self.latest,
            "deployed": self.deployed,
            "artifacts": self.history.to_dict(),
            "count": len(self.history),
        }


def config_history(ws: Workspace, client: str, profile: str, *, limit: int = 20) -> HistoryResult:
    """The artifacts of a profile, newest first, with what latest and deployed point to."""
    prof = ws.profile(client, profile)
    return HistoryResult(
        prof, prof.history(limit=limit), prof.ref_id("latest"), prof.ref_id("deployed")
    )


#: What ``init-configs`` publishes (each client row's ``sample_servers``), deployed nowhere.
SAMPLES: dict[str, list[str]] = {
    c.id: list(c.sample_servers) for c in list_clients() if c.sample_servers
}


@dataclass
class SamplesResult(Result):
    published: list[Artifact] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "published": [
                {
                    "client": a.client,
                    "profile": a.profile,
                    "artifact_id": a.artifact_id,
                    "servers": sorted(a.servers),
                }
                for a in self.published
            ]
        }


def init_configs(ws: Workspace, *, profile: str = "sample") -> SamplesResult:
    """Publish signed sample configs (:data:`SAMPLES`) for a first look. Deploys nothing."""
    registry = ws.registry()
    result = SamplesResult()
    for client, ids in SAMPLES.items():
        prof = ws.profile(client, profile)
        for sid in ids:
            registry.find(sid).add_to(prof)
        art = prof.draft.validate().publish(changelog="sample config (mcp-orch init-configs)")
        result.published.append(art)
    return result
