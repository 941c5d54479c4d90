"""Draft actions: profiles, add and remove servers, show and validate a draft, import, sync."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp_orch.core.errors import NotFound, ParseError, ServerStatusWarning, UsageError
from mcp_orch.core.fs import read_text_file
from mcp_orch.domain.clients import ClientSpec, build_payload, get_client
from mcp_orch.domain.clients.detect import Detection
from mcp_orch.domain.clients.dialects import read_config
from mcp_orch.domain.secrets import mask_entries, mask_secrets
from mcp_orch.facade.draft import Draft, entry_name
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
    warnings: list[str] = field(default_factory=list)

    @property
    def entry(self) -> dict[str, Any]:
        return self.draft.servers[self.name]

    def to_dict(self) -> dict[str, Any]:
        entry = mask_secrets(self.entry)  # shown masked; the draft keeps the real values
        data = {"added": self.name, "entry": entry, "draft": self.draft.names}
        if self.warnings:
            data["warnings"] = list(self.warnings)
        return data


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
    version: str | None = None,
    package: str | None = None,
    command: str | None = None,
    args: list[str] | tuple[str, ...] | None = None,
    url: str | None = None,
) -> AddResult:
    """Add a catalog server to a profile's draft, its package pinned (at the catalog's
    version, or ``version``) as the profile's ``pin`` setting says; ``package`` picks one of
    several packages. ``warnings`` says when the registry lists the server as deprecated or
    deleted.

    With ``command`` (and ``args``, ``env``) or ``url`` (and ``headers``, ``transport``),
    ``server_id`` is the name of a server that is not in the catalog, added as given
    (:meth:`~mcp_orch.facade.draft.Draft.add_custom`)."""
    prof = ws.profile(client, profile, target_os=target_os)
    if command is not None or url is not None or args:
        catalog_only = {"params": params, "version": version, "package": package}
        extra = [k for k, v in catalog_only.items() if v]
        if extra:
            raise UsageError(
                f"{', '.join(extra)} apply to catalog servers, not to one given by its "
                "command or URL",
                "write the arguments into the command, or add the server from the catalog",
                inputs=tuple(extra),
            )
        if command is None and url is None:
            raise UsageError(
                "arguments were given without the command to run",
                "give the command first, then its arguments",
                inputs=("command", "args"),
            )
        entry_as = name or server_id
        draft = prof.draft.add_custom(
            entry_as,
            command=command,
            args=list(args or ()),
            env=env,
            url=url,
            headers=headers,
            transport=transport,
            replace=replace,
        )
        return AddResult(draft, entry_as)
    server = (registry or ws.registry()).find(server_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ServerStatusWarning)
        draft = server.add_to(
            prof,
            params=params,
            env=env,
            name=name,
            headers=headers,
            transport=transport,
            replace=replace,
            version=version,
            package=package,
        )
    notes = [str(w.message) for w in caught if issubclass(w.category, ServerStatusWarning)]
    for w in caught:  # any other warning goes on as it came
        if not issubclass(w.category, ServerStatusWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return AddResult(draft, name or entry_name(server), notes)


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
class ServerEntryResult(Result):
    """One entry of a draft: its record (where it came from, its inputs) and the entry as
    the client will get it."""

    draft: Draft
    name: str
    record: dict[str, Any]

    @property
    def entry(self) -> dict[str, Any]:
        """The client-native entry, secrets the scanner flags masked."""
        shown: dict[str, Any] = mask_secrets(self.record["entry"])
        return shown

    @property
    def payload(self) -> dict[str, Any]:
        """The entry in place in the client's file (the part of it this entry writes)."""
        shown: dict[str, Any] = mask_secrets(
            build_payload(self.draft.client, {self.name: self.record["entry"]})
        )
        return shown

    @property
    def details(self) -> dict[str, Any]:
        """The record without the entry: origin, catalog id and version, params, env, headers
        (secrets are references; anything else that looks like one is masked)."""
        shown: dict[str, Any] = mask_secrets({k: v for k, v in self.record.items() if k != "entry"})
        return shown

    def to_dict(self) -> dict[str, Any]:
        return {
            "client": self.draft.client.id,
            "profile": self.draft.profile.id,
            "name": self.name,
            "record": self.details,
            "entry": self.entry,
            "payload": self.payload,
        }


def get_server(ws: Workspace, client: str, profile: str, name: str) -> ServerEntryResult:
    """One entry of a profile's draft, or ``NotFound`` whose hint lists the draft's names."""
    draft = ws.profile(client, profile).draft
    records = draft.records
    if name not in records:
        raise NotFound(
            f"no server {name!r} in the draft of {draft.profile.ref}",
            f"servers in the draft: {', '.join(records) or '(none)'}",
        )
    return ServerEntryResult(draft, name, records[name])


@dataclass
class DraftResult(Result):
    draft: Draft

    @property
    def payload(self) -> dict[str, Any]:
        """The payload as shown: every secret the scanner flags masked."""
        shown: dict[str, Any] = mask_secrets(self.draft.payload)
        return shown

    def to_dict(self) -> dict[str, Any]:
        data = self.draft.to_dict()  # shown masked; the draft keeps the real values
        shown = {"servers": mask_entries(data["servers"]), "payload": mask_secrets(data["payload"])}
        return {**data, **shown}


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


#: What a payload given inline is: a document as the client's file holds it (an object, or its
#: text in the client's own format), or ``{"servers": {name: entry}}`` with client-native entries.
Payload = dict[str, Any] | str


def read_payload(spec: ClientSpec, payload: Payload) -> dict[str, Any]:
    """An inline payload as the client-native document it stands for (what a file would hold).

    Text is read in the client's own format (JSON, JSONC, TOML, YAML), like a file. A document
    without the client's servers key but with a ``servers`` map is that map in the client's
    shape. A document with neither is refused: it would publish an empty config."""
    data: Any = read_config(spec, payload, "the payload") if isinstance(payload, str) else payload
    if not isinstance(data, dict):
        raise ParseError("the payload must be an object", "pass the config document itself")
    node: Any = data
    for key in spec.servers_key:
        node = node.get(key) if isinstance(node, dict) else None
    if node is not None:
        return data
    servers = data.get("servers")
    if isinstance(servers, dict) and all(isinstance(e, dict) for e in servers.values()):
        return build_payload(spec, servers)
    where = ".".join(spec.servers_key)
    raise UsageError(
        f"the payload has no {where!r} (where {spec.name} keeps its servers) and no 'servers' map",
        f'give the document as the client\'s file holds it, e.g. {{"{where}": {{...}}}}, '
        'or {"servers": {NAME: ENTRY}}',
        inputs=("payload",),
    )


def validate_draft(
    ws: Workspace,
    client: str,
    profile: str,
    *,
    file: str | os.PathLike[str] | None = None,
    payload: Payload | None = None,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
) -> ReportResult:
    """Validate a draft (or a client config file, or a payload given inline) against the
    client's schema and the rules."""
    if payload is not None:
        spec = ws.profile(client, profile).client  # the ids are checked as for the draft
        data = read_payload(spec, payload)
        return ReportResult(
            check_payload(spec, data, target="payload", select=select, ignore=ignore)
        )
    if file is not None:
        spec = get_client(client)
        try:
            text = read_text_file(Path(file))
        except FileNotFoundError:
            raise NotFound(f"no such file: {file}", "check the path") from None
        data = read_config(spec, text, str(file), strict=False)  # MCP010 reports the types
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
