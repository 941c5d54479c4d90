"""The workspace (drafts, keys, objects, refs, audit) and the per-client profiles in it.

    >>> import mcp_orch as mo
    >>> ws = mo.Workspace("./demo")          # or Workspace(): $MCP_ORCH_HOME, else the user data dir
    >>> profile = ws.profile("cursor")       # profile id defaults to "default"
    >>> profile.draft, profile.latest(), profile.history().frame()
    >>> profile.drift(), profile.rollback(deploy=True)

Layout::

    drafts/<client>/<profile>.json          catalog/<id>.json (your servers)
    keys/private.pem, public/, trusted/     objects/sha256/<ab>/<hex>.json
    refs/<client>/<profile>/{latest,deployed,index}
    deployments/<client>/<profile>.json     backups/<client>/<profile>/
    audit/events.jsonl, audit/head.json
"""

from __future__ import annotations

import os
from functools import cached_property
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._util import check_id, html_table, read_text_file, safe_html
from .clients import ClientSpec, current_os, get_client
from .errors import MCPOrchError

if TYPE_CHECKING:
    import polars as pl

    from .audit import AuditLog
    from .catalog import Registry
    from .deploy import DriftReport
    from .diffs import Diff
    from .draft import Draft
    from .models import Artifact, Deployment
    from .signing import Keyring
    from .store import Store
    from .sync import Detection, ImportResult, SyncResult

HOME_ENV = "MCP_ORCH_HOME"


def default_path() -> Path:
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("mcp-orch", appauthor=False))


class Workspace:
    """Where drafts, keys, objects, refs and the audit log live. Created on first use."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        client_root: str | os.PathLike[str] | None = None,
    ) -> None:
        self.path = Path(path).expanduser().absolute() if path is not None else default_path()
        if self.path.exists() and not self.path.is_dir():
            from .errors import UsageError

            raise UsageError(f"{self.path} is a file, not a workspace folder", "use another path")
        self.path.mkdir(parents=True, exist_ok=True)
        self.client_root = Path(client_root) if client_root is not None else None

    def __repr__(self) -> str:
        return f"<Workspace {self.path}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    # -- parts -------------------------------------------------------------------------------
    @cached_property
    def store(self) -> Store:
        from .store import Store

        return Store(self.path)

    @cached_property
    def audit(self) -> AuditLog:
        from .audit import AuditLog

        return AuditLog(self.path / "audit")

    @cached_property
    def keys(self) -> Keyring:
        from .signing import Keyring

        return Keyring(self.path / "keys", audit=self.audit)

    def registry(self) -> Registry:
        from .catalog import Registry

        return Registry(workspace=self)

    def profile(
        self, client_id: str, profile_id: str = "default", *, target_os: str | None = None
    ) -> Profile:
        """The profile ``profile_id`` of client ``client_id`` (ids are lowercase slugs)."""
        check_id(client_id, "client id")
        check_id(profile_id, "profile id")
        return Profile(self, get_client(client_id), profile_id, target_os=target_os)

    def profiles(self) -> list[Profile]:
        """Every profile that has a draft or a published artifact."""
        seen: dict[tuple[str, str], None] = {}
        drafts = self.path / "drafts"
        if drafts.is_dir():
            for f in sorted(drafts.glob("*/*.json")):
                seen[(f.parent.name, f.stem)] = None
        for pair in self.store.profiles():
            seen[pair] = None
        out = []
        for client, prof in sorted(seen):
            try:
                out.append(self.profile(client, prof))
            except Exception:
                continue
        return out

    # -- release helpers ---------------------------------------------------------------------
    def publish_file(
        self,
        client: str,
        profile: str,
        path: str | os.PathLike[str],
        changelog: str = "",
    ) -> Artifact:
        """Publish a client-native config file as is (validated like a draft)."""
        from .clients.dialects import read_config
        from .draft import build_payload
        from .errors import InvalidConfig, NotFound
        from .publish import publish_payload
        from .validation import check_payload, server_map

        prof = self.profile(client, profile)
        file = Path(path)
        try:
            text = read_text_file(file)
        except FileNotFoundError:
            raise NotFound(f"no such file: {file}", "check the path") from None
        data = read_config(prof.client, text, str(file))
        payload = build_payload(prof.client, server_map(prof.client, data))
        # the file as it is (like validate-draft --file), so a malformed server map is refused
        report = check_payload(prof.client, data, target=str(file))
        if not report.ok:
            first = report.errors[0]
            raise InvalidConfig(
                f"{file} has {len(report.errors)} error(s); first: "
                f"{first.server + ': ' if first.server else ''}{first.message}",
                first.hint,
                report=report,
            )
        return publish_payload(prof, payload, changelog=changelog, details={"file": str(file)})

    def detect(self, project_dir: str | os.PathLike[str] | None = None) -> Detection:
        """Which clients are installed under the client root, with file paths and server counts."""
        from .sync import detect

        return detect(self, project_dir=project_dir)

    def import_client(
        self,
        client: str,
        *,
        profile: str = "default",
        scope: str = "user",
        path: str | os.PathLike[str] | None = None,
        project_dir: str | os.PathLike[str] | None = None,
        keep_secrets: bool = False,
    ) -> ImportResult:
        """Read a client's existing config into a draft; the client's file is not changed."""
        from .sync import import_client

        return import_client(
            self,
            client,
            profile=profile,
            scope=scope,
            path=path,
            project_dir=project_dir,
            keep_secrets=keep_secrets,
        )

    def verify(self) -> dict[str, Any]:
        """Check every stored object, every signature, every ref and the audit chain."""
        from .errors import MCPOrchError

        problems: list[str] = list(self.store.verify_all())
        checked = 0
        for aid in self.store.all_ids():  # every object's signature, not only indexed ones
            try:
                art = self.store.get(aid)
                art.bind(self.profile(art.client, art.profile)).verify()
                checked += 1
            except MCPOrchError as exc:
                if not any(aid in p for p in problems):
                    problems.append(f"{aid[:19]}: {exc.message}")
        for client, prof in self.store.profiles():
            indexed = set(self.store.index(client, prof))
            for ref in ("latest", "deployed"):
                target = self.store.get_ref(client, prof, ref)
                if not target:
                    continue
                if not self.store._object_path(target).exists():
                    problems.append(f"{client}/{prof}: ref {ref} points to a missing object")
                elif target not in indexed:
                    problems.append(
                        f"{client}/{prof}: ref {ref} points to {target[:19]}, which this "
                        "profile never published"
                    )
        events = 0
        try:
            events = self.audit.verify()
        except MCPOrchError as exc:
            problems.append(f"audit: {exc.message}")
        return {"ok": not problems, "artifacts": checked, "events": events, "problems": problems}


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
        from .draft import Draft

        return Draft(self)

    def config_path(self, scope: str = "user", project_dir: str | None = None) -> Path:
        from .deploy import target_path

        return target_path(self, None, scope, project_dir)

    # -- artifacts ---------------------------------------------------------------------------
    def _ref(self, name: str) -> Artifact | None:
        aid = self.workspace.store.get_ref(self.client.id, self.id, name)
        return self.workspace.store.get(aid).bind(self) if aid else None

    def latest(self) -> Artifact | None:
        return self._ref("latest")

    def deployed(self) -> Artifact | None:
        return self._ref("deployed")

    def artifact(self, artifact_id: str | None = None) -> Artifact:
        """An artifact of this profile by (prefix of) id, or ``latest``."""
        from .errors import NotFound, UsageError

        if artifact_id is None:
            latest = self.latest()
            if latest is None:
                raise NotFound(f"{self.ref} has nothing published", "publish first: publish-config")
            return latest
        art = self.workspace.store.get(artifact_id).bind(self)
        if (art.client, art.profile) != (self.client.id, self.id):
            raise UsageError(
                f"artifact {art.short_id} belongs to {art.client}/{art.profile}",
                f"use --client {art.client} --profile {art.profile}",
            )
        return art

    def history(self, limit: int | None = None) -> History:
        store = self.workspace.store
        ids = list(reversed(store.index(self.client.id, self.id)))
        if limit:
            ids = ids[:limit]
        return History(self, [store.get(i).bind(self) for i in ids])

    def publish(self, changelog: str = "") -> Artifact:
        return self.draft.publish(changelog=changelog)

    def deploy(
        self, artifact_id: str | None = None, path: str | os.PathLike[str] | None = None, **kw: Any
    ) -> Deployment:
        return self.artifact(artifact_id).deploy(path=path, **kw)

    def drift(self, path: str | os.PathLike[str] | None = None) -> DriftReport:
        from .deploy import drift

        return drift(self, path)

    def restore(self, backup: str | None = None) -> dict[str, str]:
        from .deploy import restore

        return restore(self, backup)

    def backups(self) -> list[dict[str, str]]:
        from .deploy import backups

        return backups(self)

    def rollback(
        self, artifact_id: str | None = None, *, deploy: bool = False, path: str | None = None
    ) -> Artifact:
        """Point ``latest`` back at the parent (or the given artifact); deploy it if asked."""
        from .errors import NotFound

        store = self.workspace.store
        with store.lock(self.client.id, self.id):  # type: ignore[attr-defined]
            current = self.latest()
            if current is None:
                raise NotFound(f"{self.ref} has nothing published", "publish first")
            if artifact_id is None:
                if current.parent is None:
                    raise NotFound(
                        f"{self.ref}: the latest artifact has no parent to roll back to",
                        "name an artifact: rollback --artifact-id ID",
                    )
                target = self.artifact(current.parent)
            else:
                target = self.artifact(artifact_id)
            target.verify()
            store.set_ref(self.client.id, self.id, "latest", target.artifact_id)
            self.workspace.audit.append(
                "revert",
                client=self.client.id,
                profile=self.id,
                artifact_id=target.artifact_id,
                changelog=f"rollback from {current.short_id} to {target.short_id}",
                details={"from": current.artifact_id},
            )
        if deploy:
            target.deploy(path=path)
        return target

    def diff(
        self, path: str | os.PathLike[str] | None = None, artifact_id: str | None = None
    ) -> Diff:
        """The client's file (its managed entries) against ``latest`` (or ``artifact_id``):
        up-to-date, outdated (the file holds an older release) or diverged (edited by hand)."""
        from .clients.dialects import read_config
        from .deploy import drift, entry_digest, load_records, render_secrets, target_path
        from .diffs import Diff, field_changes
        from .errors import MissingSecret
        from .validation import server_map

        latest = self.artifact(artifact_id)
        file = target_path(self, path)
        text = read_text_file(file, missing_ok=True)
        current = server_map(self.client, read_config(self.client, text, str(file)))
        records = load_records(self).get("targets", {}).get(str(file), {})
        same_by_digest: set[str] = set()
        try:
            wanted, _ = render_secrets(self.client, latest.servers)
        except MissingSecret:
            # the values are not in this shell: an entry is unchanged when the file still holds
            # exactly what the last deploy wrote and that deploy had the same entry
            wanted = latest.servers
            try:
                deployed = self.workspace.store.get(records["artifact_id"]).servers
            except (KeyError, MCPOrchError):
                deployed = {}
            digests = records.get("entry_digests", {})
            same_by_digest = {
                n
                for n in wanted
                if n in current
                and deployed.get(n) == wanted[n]
                and digests.get(n) == entry_digest(current[n])
            }
        managed = set(records.get("managed", [])) | set(wanted)
        d = Diff(a=str(file), b=f"{'latest ' if artifact_id is None else ''}{latest.short_id}")
        for name, entry in wanted.items():
            if name not in current:
                d.added[name] = entry
            elif current[name] != entry and name not in same_by_digest:
                d.modified[name] = field_changes(current[name], entry, secret_safe=True)
        for name in managed - set(wanted):
            if name in current:
                d.removed[name] = current[name]
        if not d.changed:
            d.status, d.recommendation = "up-to-date", "nothing to do"
            return d
        hand_edited = False
        if records:
            try:
                hand_edited = drift(self, file).drifted
            except Exception:
                hand_edited = False
        if hand_edited:
            d.status = "diverged"
            d.recommendation = (
                "the file was edited by hand since the last deploy: review `mcp-orch drift`, "
                "then deploy (overwrites the managed entries) or publish the file's version"
            )
        else:
            d.status = "outdated"
            d.recommendation = f"deploy the latest release: mcp-orch deploy-config --client {self.client.id} --profile {self.id}"
        return d

    def sync_to(
        self, clients: list[str], *, deploy: bool = False, changelog: str = ""
    ) -> SyncResult:
        """Render this profile's servers natively for each client; validate, publish, deploy."""
        from .sync import sync_profile

        return sync_profile(self, clients, deploy=deploy, changelog=changelog)


class History(list["Artifact"]):
    """A profile's artifacts, newest first."""

    def __init__(self, profile: Profile, artifacts: list[Artifact]) -> None:
        super().__init__(artifacts)
        self.profile = profile

    def frame(self) -> pl.DataFrame:
        from datetime import datetime

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

    def to_dict(self) -> list[dict[str, Any]]:
        return [
            {
                "artifact_id": a.artifact_id,
                "created": a.created,
                "changelog": a.changelog,
                "servers": sorted(a.servers),
                "parent": a.parent,
                "key_id": a.key_id,
            }
            for a in self
        ]

    def __repr__(self) -> str:
        return f"<History {self.profile.ref}: {len(self)} artifact(s)>"

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
