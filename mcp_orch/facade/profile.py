"""Profiles: one client's named configuration in a workspace, with its draft and its releases.

>>> profile = ws.profile("cursor")       # profile id defaults to "default"
>>> profile.draft, profile.latest(), profile.history().frame()
>>> profile.drift(), profile.diff(), profile.rollback(deploy=True)
>>> profile.sync_to(["vscode", "codex"], deploy=True)
"""

from __future__ import annotations

import os
from datetime import datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp_orch.core import charts
from mcp_orch.core.errors import NotFound, UsageError
from mcp_orch.core.fs import read_text_file
from mcp_orch.core.markup import html_table, safe_html
from mcp_orch.core.text import plural
from mcp_orch.domain.clients import ClientSpec, build_payload, current_os, server_map
from mcp_orch.domain.clients.dialects import read_config
from mcp_orch.domain.clients.payload import payload_servers
from mcp_orch.facade.artifact import Artifact, keep_backups_setting
from mcp_orch.facade.draft import Draft
from mcp_orch.facade.pinning import (
    OutdatedReport,
    UpgradeReport,
    lock_for,
    outdated,
    probe_against,
    tool_drift,
    tool_pins,
    upgrade,
)
from mcp_orch.facade.sync import ImportResult, SyncResult, import_client, sync_profile
from mcp_orch.services.policy.gates import publish_under_policy
from mcp_orch.services.probe import ProbeReport
from mcp_orch.services.release.artifact import Deployment
from mcp_orch.services.release.audit import default_actor
from mcp_orch.services.release.backups import auto_prune, backups, prune, restore
from mcp_orch.services.release.deploy import target_path
from mcp_orch.services.release.diff import Diff
from mcp_orch.services.release.drift import DriftReport, drift, file_diff
from mcp_orch.services.release.journal import Plan, changing, run
from mcp_orch.services.validation import check_payload

if TYPE_CHECKING:
    import polars as pl

    from mcp_orch.facade.workspace import Workspace

__all__ = ["History", "Profile"]


class Profile:
    """One client's named configuration (``default``, ``work``, ...) in a workspace."""

    def __init__(
        self,
        workspace: Workspace,
        client: ClientSpec,
        profile_id: str,
        *,
        target_os: str | None = None,
    ) -> None:
        self.workspace = workspace
        self.client = client
        self.id = profile_id
        self.target_os = target_os or current_os()

    @property
    def ref(self) -> str:
        return f"{self.client.id}/{self.id}"

    def __repr__(self) -> str:
        return f"<Profile {self.ref}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Profile) and (other.workspace, other.client.id, other.id) == (
            self.workspace,
            self.client.id,
            self.id,
        )

    def __hash__(self) -> int:
        return hash((self.workspace, self.client.id, self.id))

    @property
    def draft(self) -> Draft:
        return Draft(self)

    def config_path(self, scope: str = "user", project_dir: str | None = None) -> Path:
        return target_path(self, None, scope, project_dir)

    # -- artifacts ---------------------------------------------------------------------------
    def ref_id(self, name: str) -> str | None:
        """The artifact id a ref (``latest``, ``deployed``) points to, or None."""
        return self.workspace.store.get_ref(self.client.id, self.id, name)

    def _ref(self, name: str) -> Artifact | None:
        aid = self.ref_id(name)
        return self.workspace.store.get(aid).bind(self) if aid else None

    def latest(self) -> Artifact | None:
        return self._ref("latest")

    def deployed(self) -> Artifact | None:
        return self._ref("deployed")

    def artifact(self, artifact_id: str | None = None) -> Artifact:
        """An artifact of this profile by (prefix of) id, or ``latest``."""
        if artifact_id is None:
            latest = self.latest()
            if latest is None:
                raise NotFound(f"{self.ref} has nothing published", "publish the draft first")
            return latest
        art = self.workspace.store.get(artifact_id).bind(self)
        if (art.client, art.profile) != (self.client.id, self.id):
            raise UsageError(
                f"artifact {art.short_id} belongs to {art.client}/{art.profile}",
                f"ask for it through its own profile: client {art.client}, profile {art.profile}",
            )
        return art

    def history(self, limit: int | None = None) -> History:
        store = self.workspace.store
        ids = list(reversed(store.index(self.client.id, self.id)))
        if limit:
            ids = ids[:limit]
        return History(self, [store.get(i).bind(self) for i in ids])

    def publish(
        self, changelog: str = "", *, pin_tools: bool | None = None, resolve: bool = True
    ) -> Artifact:
        return self.draft.publish(changelog=changelog, pin_tools=pin_tools, resolve=resolve)

    # -- settings and pins ---------------------------------------------------------------------
    @property
    def settings(self) -> dict[str, Any]:
        """``pin`` (exact, minor, floating), ``pin_tools``, ``keep_backups`` and ``secrets``
        (launcher, inline, auto): see :attr:`Draft.settings`."""
        return self.draft.settings

    def configure(
        self,
        *,
        pin: str | None = None,
        pin_tools: bool | None = None,
        keep_backups: int | None = None,
        secrets: str | None = None,
    ) -> Profile:
        self.draft.configure(
            pin=pin, pin_tools=pin_tools, keep_backups=keep_backups, secrets=secrets
        )
        return self

    def outdated(self, servers: list[str] | None = None, **kw: Any) -> OutdatedReport:
        """Managed servers whose registries have newer versions (see facade/pinning.py)."""
        return outdated(self, servers, **kw)

    def upgrade(self, server: str | None = None, **kw: Any) -> UpgradeReport:
        """Put the newer pins into the draft (``to=VERSION`` for one server)."""
        return upgrade(self, server, **kw)

    def probe_against(self, against: str = "latest", **kw: Any) -> ProbeReport:
        """Probe the servers of the release ``against`` (``latest``, ``deployed`` or an
        artifact id) and compare each with the tool manifest that release pinned."""
        art = self._against(against)
        return probe_against(art, art.tools, f"{art.label} ({against})", **kw)

    def _against(self, against: str) -> Artifact:
        if against in ("latest", "deployed"):
            art = self._ref(against)
            if art is None:
                raise NotFound(
                    f"{self.ref} has no {against} release",
                    "publish (and deploy) first",
                    inputs=("against",),
                )
            return art
        return self.artifact(against)

    def publish_file(
        self,
        path: str | os.PathLike[str],
        changelog: str = "",
        *,
        pin_tools: bool = False,
        resolve: bool = True,
    ) -> Artifact:
        """Publish a client-native config file as is (validated like a draft)."""
        file = Path(path)
        try:
            text = read_text_file(file)
        except FileNotFoundError:
            raise NotFound(f"no such file: {file}", "check the path") from None
        data = read_config(self.client, text, str(file))
        # the file as it is (like validating the file), so a malformed server map is refused
        check_payload(self.client, data, target=str(file)).raise_for_errors(str(file))
        servers = server_map(self.client, data)
        if not servers:  # most likely the wrong file; publishing it would remove every server
            raise UsageError(
                f"{file} has no MCP servers for {self.client.name}, so publishing it would make "
                "a release that removes every server mcp-orch manages in that client's file; "
                "nothing was published",
                "check the path (and the client); to remove every server on purpose, clear the "
                "draft and publish it",
                inputs=("file", "client"),
            )
        payload = build_payload(self.client, servers)
        lock = lock_for(self.client, servers, resolve_now=resolve)
        tools = tool_pins(payload_servers(self.client, payload)) if pin_tools else None
        record = publish_under_policy(
            self, payload, changelog=changelog, details={"file": str(file)}, lock=lock, tools=tools
        )
        return Artifact.adopt(record, self)

    def deploy(
        self, artifact_id: str | None = None, path: str | os.PathLike[str] | None = None, **kw: Any
    ) -> Deployment:
        return self.artifact(artifact_id).deploy(path=path, **kw)

    def drift(
        self, path: str | os.PathLike[str] | None = None, *, tools: bool = False, **kw: Any
    ) -> DriftReport:
        """Managed entries edited, removed or added by hand since the last deploy; with
        ``tools``, each managed server is also probed and compared with the tool manifest the
        deployed release pinned (``kw``: probe options such as ``timeout``)."""
        report = drift(self, path)
        if tools:
            tool_drift(self, report, **kw)
        return report

    def restore(self, backup: str | None = None) -> dict[str, str]:
        chosen = restore(self, backup)
        keep = keep_backups_setting(self)  # the restore took a backup too
        if keep is not None:
            auto_prune(self, keep)
        return chosen

    def backups(self) -> list[dict[str, str]]:
        return backups(self)

    def prune_backups(self, keep: int | None = None, *, dry_run: bool = False) -> dict[str, Any]:
        """Remove all but the newest ``keep`` backups (default: the ``keep_backups`` setting;
        when that is 0, every backup is kept), recorded as a ``prune`` audit event. With
        ``dry_run``, ``removed`` lists what would go and nothing changes."""
        if keep is None:
            keep = self.settings["keep_backups"]
            if keep == 0:  # keep every backup: nothing to prune
                listed = backups(self)
                return {
                    "client": self.client.id,
                    "profile": self.id,
                    "keep": 0,
                    "dry_run": dry_run,
                    "removed": [],
                    "kept": len(listed),
                    "bytes_freed": 0,
                }
        return prune(self, keep, dry_run=dry_run)

    def rollback(
        self, artifact_id: str | None = None, *, deploy: bool = False, path: str | None = None
    ) -> Artifact:
        """Point ``latest`` back at the parent (or the given artifact); deploy it if asked."""
        ws = self.workspace
        store = ws.store
        ws.audit.check_ready()
        with changing(ws), store.lock(self.client.id, self.id):
            current = self.latest()
            if current is None:
                raise NotFound(f"{self.ref} has nothing published", "publish the draft first")
            if artifact_id is None:
                if current.parent is None:
                    raise NotFound(
                        f"{self.ref}: the latest artifact has no parent to roll back to",
                        "name the artifact to roll back to",
                    )
                target = self.artifact(current.parent)
            else:
                target = self.artifact(artifact_id)
            target.verify()
            plan = Plan("revert", self.client.id, self.id)
            plan.set_ref(self.client.id, self.id, "latest", target.artifact_id)
            plan.event(
                "revert",
                client=self.client.id,
                profile=self.id,
                artifact_id=target.artifact_id,
                changelog=f"rollback from {current.short_id} to {target.short_id}",
                actor=default_actor(),
                details={"from": current.artifact_id},
            )
            run(ws, plan)
        if deploy:
            target.deploy(path=path)
        return target

    def diff(
        self, path: str | os.PathLike[str] | None = None, artifact_id: str | None = None
    ) -> Diff:
        """The client's file (its managed entries) against ``latest`` (or ``artifact_id``):
        up-to-date, outdated (the file holds an older release) or diverged (edited by hand)."""
        latest = self.artifact(artifact_id)
        label = f"{'latest ' if artifact_id is None else ''}{latest.short_id}"
        return file_diff(self, latest, target_path(self, path), label)

    # -- other clients -----------------------------------------------------------------------
    def import_from(
        self,
        *,
        scope: str = "user",
        path: str | os.PathLike[str] | None = None,
        project_dir: str | os.PathLike[str] | None = None,
        keep_secrets: bool = False,
    ) -> ImportResult:
        """Read this client's existing config into this profile's draft (the file is kept)."""
        return import_client(
            self, scope=scope, path=path, project_dir=project_dir, keep_secrets=keep_secrets
        )

    def sync_to(
        self, clients: list[str], *, deploy: bool = False, changelog: str = ""
    ) -> SyncResult:
        """Render this profile's servers natively for each client; validate, publish, deploy."""
        return sync_profile(self, clients, deploy=deploy, changelog=changelog)


class History(list[Artifact]):
    """A profile's artifacts, newest first."""

    def __init__(self, profile: Profile, artifacts: list[Artifact]) -> None:
        super().__init__(artifacts)
        self.profile = profile

    def frame(self) -> pl.DataFrame:
        import polars as pl

        latest = self.profile.workspace.store.get_ref(
            self.profile.client.id, self.profile.id, "latest"
        )
        deployed = self.profile.workspace.store.get_ref(
            self.profile.client.id, self.profile.id, "deployed"
        )
        return pl.DataFrame(
            {
                "artifact_id": [a.artifact_id for a in self],
                "created": [datetime.fromisoformat(a.created.replace("Z", "+00:00")) for a in self],
                "client": [a.client for a in self],
                "profile": [a.profile for a in self],
                "changelog": [a.changelog for a in self],
                "servers": [len(a.servers) for a in self],
                "server_names": [sorted(a.servers) for a in self],
                "parent": [a.parent for a in self],
                "key_id": [a.key_id for a in self],
                "is_latest": [a.artifact_id == latest for a in self],
                "is_deployed": [a.artifact_id == deployed for a in self],
            },
            schema={
                "artifact_id": pl.String,
                "created": pl.Datetime("us", "UTC"),
                "client": pl.String,
                "profile": pl.String,
                "changelog": pl.String,
                "servers": pl.Int64,
                "server_names": pl.List(pl.String),
                "parent": pl.String,
                "key_id": pl.String,
                "is_latest": pl.Boolean,
                "is_deployed": pl.Boolean,
            },
        )

    def chart(self, every: str = "1d") -> Any:
        """This profile's publishes, deploys and rollbacks over time (from its audit events),
        as an altair chart; for every profile at once: ``ws.audit.releases_chart()``.

            >>> ws.profile("cursor").history().chart(every="1h")
        """
        audit, profile = self.profile.workspace.audit, self.profile
        frame = audit.frame(client=profile.client.id, profile=profile.id)
        return charts.releases(frame, every=every, title=f"releases of {profile.ref}")

    def to_dict(self) -> list[dict[str, Any]]:
        return [
            {
                "artifact_id": a.artifact_id,
                "created": a.created,
                "changelog": a.changelog,
                "servers": sorted(a.servers),
                "parent": a.parent,
                "key_id": a.key_id,
                "approvals": [x["key_id"] for x in a.approvals()],
                "policy": a.policy,
            }
            for a in self
        ]

    def __repr__(self) -> str:
        return f"<History {self.profile.ref}: {plural(len(self), 'artifact')}>"

    def _repr_html_(self) -> str:
        return safe_html(
            lambda: (
                f"<div class='mco'><b>History</b> {escape(self.profile.ref)}</div>"
                + html_table(
                    ["artifact", "created", "changelog", "servers"],
                    [(a.short_id, a.created, a.changelog, sorted(a.servers)) for a in self],
                )
            ),
            self,
        )
