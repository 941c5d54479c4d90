"""A profile's pins: the signed lock a publish records, tool manifests, ``outdated`` and ``upgrade``.

    >>> lock = lock_for(client, servers)            # server -> the package it runs, resolved
    >>> outdated(profile).frame()                  # managed servers with newer versions
    >>> upgrade(profile, "memory")                 # the newer pin into the draft

Every package an entry runs (see :mod:`mcp_orch.domain.pins`) is resolved against its registry
with the user's own registry configuration (:mod:`mcp_orch.services.pinning`); a publish records
the result in the signed envelope. With ``MCP_ORCH_OFFLINE=1`` in the environment (or
``resolve=False``) nothing is asked: the pins are kept and the lock says it is unresolved.
Tool pins (``publish(pin_tools=True)``) are the manifests a live probe of each server lists.
"""

from __future__ import annotations

import copy
import os
from dataclasses import asdict, dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp_orch.core.errors import InvalidConfig, MCPOrchError, NotFound, UsageError
from mcp_orch.core.markup import (
    badge,
    diff_block,
    diff_line,
    html_table,
    page,
    safe_html,
    status,
)
from mcp_orch.core.text import plural
from mcp_orch.domain.clients import ClientSpec, from_native, to_native
from mcp_orch.domain.clients.payload import ServerSet, read_server_file
from mcp_orch.domain.pins import PackageRef, package_of, repin
from mcp_orch.domain.transport import render_server
from mcp_orch.facade.artifact import Artifact
from mcp_orch.facade.registry import Registry
from mcp_orch.services.pinning import DEFAULT_TIMEOUT, Lock, resolve
from mcp_orch.services.probe import ProbeReport, probe_set
from mcp_orch.services.release.records import load_records
from mcp_orch.services.validation import ValidationReport
from mcp_orch.services.validation.targets import probe_findings

if TYPE_CHECKING:
    import polars as pl

    from mcp_orch.facade.profile import Profile
    from mcp_orch.facade.workspace import Workspace
    from mcp_orch.services.release.drift import DriftReport
    from mcp_orch.services.validation.targets import Target

OFFLINE_ENV = "MCP_ORCH_OFFLINE"
#: Lock fields kept in the signed envelope (``latest`` and ``versions`` move with the registry:
#: they are for ``outdated``, not part of what a release pins).
SIGNED_LOCK_FIELDS = (
    "registry",
    "name",
    "spec",
    "status",
    "version",
    "published",
    "integrity",
    "files",
    "registry_url",
    "reason",
)


def offline() -> bool:
    """Whether ``MCP_ORCH_OFFLINE`` asks mcp-orch not to reach any package registry."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def packages(spec: ClientSpec, servers: dict[str, dict[str, Any]]) -> dict[str, PackageRef]:
    """server name -> the registry package its entry runs (bridges included)."""
    out: dict[str, PackageRef] = {}
    for name, entry in servers.items():
        try:
            neutral = from_native(spec, entry)
        except Exception:
            continue
        ref = package_of(neutral)
        if ref is not None:
            out[name] = ref
    return out


def _unresolved(ref: PackageRef, reason: str) -> Lock:
    return Lock(
        registry=ref.registry,
        name=ref.name,
        spec=ref.spec,
        status="unresolved",
        version=ref.version,
        published=None,
        integrity=None,
        files=(),
        latest=None,
        versions=(),
        registry_url="",
        reason=reason,
    )


def resolve_refs(
    refs: dict[str, PackageRef], *, resolve_now: bool = True, timeout: float = DEFAULT_TIMEOUT
) -> dict[str, Lock]:
    """server -> the lock of its package; unresolved rows (with the reason) when offline."""
    if not refs:
        return {}
    if not resolve_now or offline():
        why = (
            f"offline: {OFFLINE_ENV} is set"
            if resolve_now
            else "not resolved: the publish was asked not to reach the registries"
        )
        return {n: _unresolved(r, why) for n, r in refs.items()}
    names = list(refs)
    locks = resolve([refs[n] for n in names], timeout=timeout)
    return dict(zip(names, locks, strict=True))


def signed_row(lock: Lock) -> dict[str, Any]:
    """The signed fields of a lock row, as :meth:`Lock.to_dict` has them (read straight from
    the fields: ``dataclasses.asdict`` deep-copies every row, a tenth of a publish)."""
    row = {k: getattr(lock, k) for k in SIGNED_LOCK_FIELDS}
    if "files" in row:
        row["files"] = [dict(f) for f in lock.files]
    return row


def lock_for(
    spec: ClientSpec,
    servers: dict[str, dict[str, Any]],
    *,
    resolve_now: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, Any] | None:
    """The lock a publish signs: server -> its package resolved (see :data:`SIGNED_LOCK_FIELDS`),
    or None when no entry runs a registry package."""
    refs = packages(spec, servers)
    if not refs:
        return None
    return {
        n: signed_row(lock)
        for n, lock in resolve_refs(refs, resolve_now=resolve_now, timeout=timeout).items()
    }


def lock_key(lock: dict[str, Any] | None) -> dict[str, tuple[Any, ...]]:
    """What of a lock decides whether it pins the same thing: each resolved row's version and
    integrity (an unresolved row pins nothing more than its entry does)."""
    return {
        n: (row.get("version"), row.get("integrity"))
        for n, row in (lock or {}).items()
        if row.get("status") == "resolved"
    }


def lock_rows(lock: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A lock as table rows (server first), for the CLI, get-config and the notebook."""
    return [{"server": n, **row} for n, row in (lock or {}).items()]


def lock_text(lock: dict[str, Any] | None) -> str:
    """A lock as lines: ``server  registry name version integrity (published)``."""
    if not lock:
        return "lock: none (no entry runs a registry package)"
    out = ["lock:"]
    for name, row in lock.items():
        what = f"{row.get('registry')} {row.get('name')}"
        if row.get("status") == "resolved":
            integrity = str(row.get("integrity") or "-")
            if len(integrity) > 24:
                integrity = integrity[:24] + "…"
            when = f" published {row['published']}" if row.get("published") else ""
            out.append(f"  {name}: {what} {row.get('version')} {integrity}{when}")
        else:
            pinned = f" {row['version']}" if row.get("version") else ""
            why = str(row.get("reason") or "no reason recorded").rstrip(".")
            out.append(f"  {name}: {what}{pinned} unresolved ({why})")
    return "\n".join(out)


# ---- tool pins -------------------------------------------------------------------------------


def tool_pins(source: ServerSet, *, timeout: float = 30.0, jobs: int = 4) -> dict[str, Any]:
    """server -> ``{"digest", "manifest"}`` from a live probe of every server of ``source``.
    A server that does not answer refuses the pin (``InvalidConfig`` with the probe's
    findings); a remote that needs an OAuth sign-in is recorded as such, without a manifest."""
    report = probe_set(source, timeout=timeout, jobs=jobs, progress=False)
    failed = [r for r in report.results if not r.ok and not r.needs_sign_in]
    if failed:
        findings = probe_findings(report, select=["PROBE"])
        names = ", ".join(r.server for r in failed)
        raise InvalidConfig(
            f"cannot pin the tools of {names}: the probe failed ({failed[0].error}); "
            "nothing was published",
            "fix the server (probing it shows why), or publish without pinning its tools",
            inputs=("pin_tools",),
            report=ValidationReport(findings, client=source.client_id, target=source.label),
        )
    out: dict[str, Any] = {}
    for r in report.results:
        if r.ok and r.manifest is not None:
            out[r.server] = {"digest": r.manifest_digest, "manifest": r.manifest}
        elif r.needs_sign_in:
            out[r.server] = {"digest": None, "manifest": None, "status": "needs sign-in (OAuth)"}
    return out


def pinned_manifests(tools: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """server -> the pinned manifest, from a release's ``tools``."""
    return {
        n: pin["manifest"]
        for n, pin in (tools or {}).items()
        if isinstance(pin, dict) and isinstance(pin.get("manifest"), dict)
    }


def probe_against(
    source: ServerSet, tools: dict[str, Any] | None, label: str, **kw: Any
) -> ProbeReport:
    """A live probe of ``source`` with each server's pinned manifest attached (the report and
    rule MCP014 then show every change since the release named ``label``)."""
    pins = pinned_manifests(tools)
    if not pins:
        raise NotFound(
            f"{label} has no pinned tools to compare with",
            "publish with tool pins first (or set the profile setting pin_tools)",
            inputs=("against", "pin_tools"),
        )
    report = probe_set(source, **kw)
    for r in report.results:
        if r.server in pins and r.pinned is None:
            r.pinned = pins[r.server]
    report.against = label
    return report


# ---- outdated and upgrade --------------------------------------------------------------------


@dataclass
class OutdatedRow:
    server: str
    registry: str
    package: str
    spec: str | None  # the version part as written in the entry
    pin: str  # exact, range or floating
    current: str | None  # the version the entry runs now (resolved for a range)
    latest: str | None  # the registry's newest version
    newer: bool
    status: str  # outdated, current, unresolved
    catalog_id: str | None = None
    catalog_version: str | None = None  # the catalog's version of the server now
    catalog_changed: bool = False  # the catalog would render another entry now
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class OutdatedReport:
    """Managed servers of a profile and whether their registries have newer versions."""

    profile: str
    rows: list[OutdatedRow] = field(default_factory=list)

    @property
    def outdated(self) -> list[OutdatedRow]:
        return [r for r in self.rows if r.newer]

    def __getitem__(self, server: str) -> OutdatedRow:
        for r in self.rows:
            if r.server == server:
                return r
        raise KeyError(server)

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "outdated": [r.server for r in self.outdated],
            "servers": [r.to_dict() for r in self.rows],
        }

    def frame(self) -> pl.DataFrame:
        import polars as pl

        schema: dict[str, Any] = {
            "server": pl.String,
            "registry": pl.String,
            "package": pl.String,
            "spec": pl.String,
            "pin": pl.String,
            "current": pl.String,
            "latest": pl.String,
            "newer": pl.Boolean,
            "status": pl.String,
            "catalog_id": pl.String,
            "catalog_version": pl.String,
            "catalog_changed": pl.Boolean,
            "reason": pl.String,
        }
        return pl.DataFrame([r.to_dict() for r in self.rows], schema=schema)

    def __str__(self) -> str:
        if not self.rows:
            return f"{self.profile}: no managed server runs a registry package"
        lines = []
        for r in self.rows:
            if r.status == "unresolved":
                state = f"unresolved ({r.reason})"
            elif r.newer:
                state = f"{r.current} -> {r.latest} available"
            else:
                state = f"{r.current} (latest)"
            cat = ""
            if r.catalog_changed:
                cat = f"; the catalog's entry changed (catalog version {r.catalog_version})"
            lines.append(f"{r.server:<20} {r.registry} {r.package} {state}{cat}")
        n = len(self.outdated)
        lines.append(
            f"{n} of {len(self.rows)} outdated"
            + ("; mcp-orch upgrade puts the newer pins into the draft" if n else "")
        )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<OutdatedReport {self.profile}: {len(self.outdated)}/{len(self.rows)} outdated>"

    def _repr_html_(self) -> str:
        def render() -> str:
            rows = [
                (
                    r.server,
                    f"{r.registry} {r.package}",
                    r.current or "-",
                    r.latest or "-",
                    badge("warning", "newer available")
                    if r.newer
                    else badge("warning", r.status)
                    if r.status == "unresolved"
                    else badge("ok", r.status),
                    badge("warning", "changed") if r.catalog_changed else "-",
                )
                for r in self.rows
            ]
            n = len(self.outdated)
            verdict = status(not n, f"{n} of {len(self.rows)} outdated")
            return page(
                f"<div><b>Outdated</b> {escape(self.profile)}: {verdict}</div>",
                html_table(
                    ["server", "package", "current", "latest", "status", "catalog entry"], rows
                ),
            )

        return safe_html(render, self)


def _is_newer(lock: Lock, current: str | None) -> bool:
    if not lock.latest or not current or lock.latest == current:
        return False
    versions = list(lock.versions)
    if lock.latest in versions and current in versions:
        return versions.index(lock.latest) > versions.index(current)
    return True


def _catalog_state(profile: Profile, record: dict[str, Any]) -> tuple[str | None, bool]:
    """(the catalog's version of the record's server now, whether the catalog's entry changed
    since the server was added: another version, or another entry at the same version)."""

    cid = record.get("catalog_id")
    if not cid or record.get("origin") != "catalog":
        return None, False
    try:
        server = Registry(profile.workspace).get(cid)
    except NotFound:
        return None, False
    try:
        rendered = render_server(
            server.doc,
            params=record.get("params") or {},
            env=record.get("env") or {},
            headers=record.get("headers") or {},
            transport=record.get("transport"),
            pin=record.get("pin", "exact"),
            version=record.get("version"),  # None: the catalog's own version now
            package=record.get("package"),
        )
        native = to_native(
            profile.client, rendered.entry, profile.target_os, record.get("pin", "exact")
        )
    except Exception:
        return server.version or None, True
    added_at = record.get("catalog_version")
    moved = bool(added_at and server.version and added_at != server.version)
    return server.version or None, moved or native != record.get("entry")


def outdated(
    profile: Profile, servers: list[str] | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> OutdatedReport:
    """Each managed server of the draft that runs a registry package, with the registry's
    newest version (and whether the catalog's entry changed since it was added)."""
    draft = profile.draft
    records = draft.records
    if servers:
        unknown = [s for s in servers if s not in records]
        if unknown:
            raise NotFound(
                f"no server {unknown[0]!r} in the draft of {profile.ref}",
                f"servers in the draft: {', '.join(records) or '(none)'}",
                inputs=("server",),
            )
        records = {n: r for n, r in records.items() if n in servers}
    refs = packages(profile.client, {n: r["entry"] for n, r in records.items()})
    locks = resolve_refs(refs, timeout=timeout)
    report = OutdatedReport(profile.ref)
    for name, ref in refs.items():
        lock = locks[name]
        current = ref.version or (lock.version if lock.status == "resolved" else None)
        newer = lock.status == "resolved" and _is_newer(lock, current)
        cat_version, cat_changed = _catalog_state(profile, records[name])
        report.rows.append(
            OutdatedRow(
                server=name,
                registry=ref.registry,
                package=ref.name,
                spec=ref.spec,
                pin=ref.pin,
                current=current,
                latest=lock.latest,
                newer=newer,
                status="unresolved"
                if lock.status != "resolved"
                else ("outdated" if newer else "current"),
                catalog_id=records[name].get("catalog_id"),
                catalog_version=cat_version,
                catalog_changed=cat_changed,
                reason=lock.reason,
            )
        )
    return report


@dataclass
class UpgradeReport:
    """What ``upgrade`` put into the draft: server -> (old version, new version)."""

    profile: str
    changed: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    unresolved: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "changed": {n: {"from": a, "to": b} for n, (a, b) in self.changed.items()},
            "unchanged": self.unchanged,
            "unresolved": self.unresolved,
        }

    def __str__(self) -> str:
        lines = [f"{n}: {a or 'unpinned'} -> {b}" for n, (a, b) in self.changed.items()]
        lines += [f"{n}: unresolved ({why})" for n, why in self.unresolved.items()]
        if not self.changed:
            lines.append(f"{self.profile}: nothing to upgrade")
        else:
            lines.append(
                f"{plural(len(self.changed), 'server')} upgraded in the draft of {self.profile}; "
                "validate and publish it to release them"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<UpgradeReport {self.profile}: {len(self.changed)} upgraded>"

    def _repr_html_(self) -> str:
        def render() -> str:
            lines = [
                diff_line(f"~ {n}: {a or 'unpinned'} → {b}", "mod")
                for n, (a, b) in self.changed.items()
            ]
            lines += [
                diff_line(f"  {n}: unresolved ({why})", "") for n, why in self.unresolved.items()
            ]
            head = (
                f"<div><b>Upgrade</b> {escape(self.profile)}: "
                + (
                    escape(f"{plural(len(self.changed), 'server')} upgraded in the draft")
                    if self.changed
                    else badge("ok", "nothing to upgrade")
                )
                + "</div>"
            )
            return page(head, diff_block(lines) if lines else "")

        return safe_html(render, self)


def upgrade(
    profile: Profile,
    server: str | None = None,
    *,
    to: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> UpgradeReport:
    """Put the newest version (or ``to``, for one ``server``) of each managed package into the
    draft, written at the profile's ``pin`` setting. Nothing is published."""
    if to is not None and server is None:
        raise UsageError(
            "one version was named for every server: say which server it is for",
            "name the server together with the version",
            inputs=("to", "server"),
        )
    report_in = outdated(profile, [server] if server else None, timeout=timeout)
    draft = profile.draft
    mode = draft.settings["pin"]
    result = UpgradeReport(profile.ref)
    for row in report_in.rows:
        if to is None and row.status == "unresolved":
            result.unresolved[row.server] = row.reason or "unresolved"
            continue
        target = to or (row.latest if row.newer else None)
        if target is None:
            result.unchanged.append(row.server)
            continue
        draft.set_version(row.server, target, mode)
        result.changed[row.server] = (row.current, target)
    return result


def repinned_entry(
    spec: ClientSpec, entry: dict[str, Any], version: str, mode: str
) -> dict[str, Any] | None:
    """A copy of a native entry with the package it runs set to ``version`` (written at
    ``mode``), every other field kept; None when it runs no registry package."""
    shape = spec.stdio
    native = copy.deepcopy(entry)
    command = native.get(shape.command)
    if shape.command_array and isinstance(command, list) and command:
        extra = native.get(shape.args) if shape.args != shape.command else None
        new = repin({"command": command[0], "args": command[1:]}, version, mode)
        if new is None or extra:
            return None if new is None else _repin_args(native, shape.args, version, mode, command)
        native[shape.command] = [command[0], *new["args"]]
        return native
    args = native.get(shape.args) or []
    if not isinstance(command, str) or not isinstance(args, list):
        return None
    new = repin({"command": command, "args": args}, version, mode)
    if new is None:
        return None
    native[shape.args] = new["args"]
    return native


def _repin_args(
    native: dict[str, Any], key: str, version: str, mode: str, command: list[Any]
) -> dict[str, Any] | None:
    new = repin({"command": command[0], "args": native.get(key) or []}, version, mode)
    if new is None:
        return None
    native[key] = new["args"]
    return native


# ---- which release a check target is compared with ------------------------------------------


def deployed_profile(ws: Workspace, target: Target) -> Profile | None:
    """The profile of ``ws`` whose last deploy wrote the file ``target`` is (None: none)."""
    if target.path is None:
        return None
    key = str(Path(target.path).expanduser().absolute())
    for prof in ws.profiles():
        if prof.client.id != target.client.id:
            continue
        try:
            if key in load_records(prof).get("targets", {}):
                return prof
        except MCPOrchError:
            continue
    return None


def release_for(ws: Workspace, target: Target, against: str | None = None) -> Artifact | None:
    """The release a check or probe of ``target`` compares with: ``against`` (``latest``,
    ``deployed`` or an artifact id) of the target's profile, or by default an artifact
    target itself, a draft's latest and a file's deployed release."""
    if target.kind == "artifact" and target.artifact is not None:
        art = target.artifact
        prof: Profile | None = ws.profile(art.client, art.profile)
        if against is None:
            return Artifact.adopt(art, prof) if prof is not None else None
    elif target.kind == "draft" and target.draft is not None:
        prof = getattr(target.draft, "profile", None)
    else:
        prof = deployed_profile(ws, target)
    if prof is None:
        if against is not None:
            raise NotFound(
                f"no release of mcp-orch was deployed to {target.label}, so there is nothing "
                f"to compare it with the release {against!r}",
                "probe draft:CLIENT/PROFILE or artifact:ID instead, or deploy the profile",
                inputs=("against",),
            )
        return None
    ref = against or ("latest" if target.kind == "draft" else "deployed")
    if ref in ("latest", "deployed"):
        art_ = prof.latest() if ref == "latest" else prof.deployed()
        if art_ is None and against is not None:
            raise NotFound(f"{prof.ref} has no {ref} release", "publish (and deploy) first")
        return art_
    return prof.artifact(ref)


def target_pins(ws: Workspace, target: Target) -> dict[str, dict[str, Any]] | None:
    """The pinned manifests a live check of ``target`` compares with (None: no pins)."""
    art = release_for(ws, target)
    pins = pinned_manifests(art.tools if art is not None else None)
    return pins or None


def tool_drift(profile: Profile, report: DriftReport, **kw: Any) -> DriftReport:
    """Fill ``report``'s tool fields: probe the managed servers as the deployed file has them
    and compare each with the tool manifest of the release deployed there."""
    report.tools_checked = True
    if report.artifact_id is None:
        return report
    art = profile.workspace.store.get(report.artifact_id)
    pins = pinned_manifests(art.tools)
    present = read_server_file(profile.client, report.path)
    managed = [n for n in art.servers if n in present.servers and n not in report.removed]
    report.unpinned = [n for n in managed if n not in pins]
    wanted = [n for n in managed if n in pins]
    if not wanted:
        return report
    kw.setdefault("progress", False)
    probed = probe_set(present, servers=wanted, **kw)
    for r in probed.results:
        r.pinned = pins[r.server]
        if not r.ok:
            report.tool_errors[r.server] = r.error or r.status
        elif r.changes:
            report.tool_changes[r.server] = [c.to_dict() for c in r.changes]
        else:
            report.tools_same.append(r.server)
    return report
