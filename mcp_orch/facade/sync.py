"""Detect installed clients, import a client's existing servers, sync one set of servers to many.

    >>> ws.detect()                                    # which clients are here, and how many servers
    >>> result = ws.import_client("cursor")            # the file's servers become the draft
    >>> result.secrets                                 # literal secrets found (masked)
    >>> ws.profile("cursor").sync_to(["vscode", "codex"], deploy=True)

Import never changes the client's file. It keeps each entry as it is, except that literal
secrets are moved out: the draft holds ``${env:NAME}`` in their place and the report tells you
which variable to export (pass ``keep_secrets=True`` to keep them, and validation will flag them).
It takes every server it can and lists the others with the reason (a client's builtin extension,
a name the client cannot use, an entry with nothing to run); every entry is read and checked
before the draft is written, once, so a failure leaves the draft as it was. A file with no MCP
section imports nothing and says so.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp_orch.core.errors import MCPOrchError, NotFound
from mcp_orch.core.fs import MAX_DEPTH, nesting_depth, read_text_file
from mcp_orch.core.markup import html_table, safe_html
from mcp_orch.core.text import mask, plural
from mcp_orch.domain.clients import (
    ClientSpec,
    config_path,
    from_native,
    refs_from_placeholders,
    server_map,
    to_native,
    unwrap_remote,
)
from mcp_orch.domain.clients.dialects import read_config
from mcp_orch.domain.secrets import (
    env_name_for,
    is_placeholder,
    is_reference,
    refuse_secret_text,
    replacement_for,
    scan_field,
)
from mcp_orch.facade.artifact import Artifact
from mcp_orch.facade.registry import Registry
from mcp_orch.services.release.artifact import Deployment
from mcp_orch.services.release.deploy import render_secrets, secrets_setting

if TYPE_CHECKING:
    from mcp_orch.facade.profile import Profile


# ---- detect --------------------------------------------------------------------------------


# ---- import --------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import read: servers, catalog links and secrets moved out (masked)."""

    client: str
    profile: str
    path: str
    servers: list[str] = field(default_factory=list)
    linked: dict[str, str] = field(default_factory=dict)  # server name -> catalog id
    secrets: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # {"server", "reason"}
    disabled: list[str] = field(default_factory=list)  # imported switched off, as in the file
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "profile": self.profile,
            "path": self.path,
            "servers": self.servers,
            "linked": self.linked,
            "secrets": self.secrets,
            "skipped": self.skipped,
            "disabled": self.disabled,
            "notes": self.notes,
        }

    def __str__(self) -> str:
        lines = [
            f"imported {plural(len(self.servers), 'server')} from {self.path} into {self.client}/{self.profile}"
        ]
        lines += [f"  note: {note}" for note in self.notes]
        for name in self.servers:
            link = f" (catalog: {self.linked[name]})" if name in self.linked else ""
            off = " (switched off, as in the file)" if name in self.disabled else ""
            lines.append(f"  {name}{link}{off}")
        for s in self.secrets:
            lines.append(
                f"  secret in {s['server']} {s['field']}: {s['kind']} {s['masked']} -> {s['suggestion']}"
            )
        if self.skipped:
            lines.append(f"skipped {plural(len(self.skipped), 'entry', 'entries')}:")
            lines += [f"  {s['server']}: {s['reason']}" for s in self.skipped]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return safe_html(
            lambda: (
                html_table(
                    ["server", "catalog"],
                    [(n, self.linked.get(n, "")) for n in self.servers],
                    title=f"imported {plural(len(self.servers), 'server')} from {self.path} "
                    f"into {self.client}/{self.profile}",
                )
                + html_table(
                    ["server", "field", "kind", "masked", "suggestion"],
                    [
                        (s["server"], s["field"], s["kind"], s["masked"], s["suggestion"])
                        for s in self.secrets
                    ],
                )
            ),
            self,
        )


def _catalog_match(registry: Registry, neutral: dict[str, Any]) -> str | None:
    """The catalog id of a server whose package or remote URL this entry runs."""
    if neutral.get("transport") == "stdio":
        words = [str(neutral.get("command", ""))] + [str(a) for a in neutral.get("args") or []]
        for server in registry.all():
            for pkg in server.packages:
                ident = str(pkg.get("identifier", ""))
                base = ident.split(":")[0] if pkg.get("registryType") == "oci" else ident
                if not base:
                    continue
                for w in words:
                    w0 = w.split("@")[0] if not w.startswith("@") else "@" + w[1:].split("@")[0]
                    if w == ident or w0 == base or w.split(":")[0] == base:
                        return server.id
        return None
    url = str(neutral.get("url", "")).rstrip("/")
    for server in registry.all():
        for remote in server.remotes:
            if str(remote.get("url", "")).rstrip("/") == url:
                return server.id
    return None


def _move_secrets(
    name: str, entry: dict[str, Any], found: list[dict[str, str]], keep: bool
) -> dict[str, Any]:
    """Replace literal secrets with ``${env:NAME}`` (unless ``keep``), named and detected by the
    same scanner as rule MCP003, so import and check suggest the same variable."""

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, str) or is_reference(value) or is_placeholder(value):
            return value  # ${input:ID}, ${NAME}: the client asks for the value, keep it
        hits = scan_field(path, value)
        if not hits:
            return value
        var = env_name_for(path, hits[0].kind, name, hits[0])
        replacement = replacement_for(path, value, hits[0], var)  # only the secret part moves
        found.append(
            {
                "server": name,
                "field": path,
                "kind": hits[0].label,
                "masked": mask(value),
                "suggestion": f"export {var}=<the value> and use {replacement}",
            }
        )
        return value if keep else replacement

    return dict(walk(entry, ""))


def import_client(
    prof: Profile,
    *,
    scope: str = "user",
    path: str | os.PathLike[str] | None = None,
    project_dir: str | os.PathLike[str] | None = None,
    keep_secrets: bool = False,
) -> ImportResult:
    """Read a client's existing file into the profile's draft (the file is not changed)."""
    ws, spec, profile = prof.workspace, prof.client, prof.id
    file = (
        Path(path)
        if path is not None
        else Path(config_path(spec, root=ws.client_root, scope=scope, project_dir=project_dir))
    )
    if not file.is_file():
        raise NotFound(
            f"{spec.name} has no config file at {file}",
            "name the file to read, or detect which clients are installed here",
        )
    servers = server_map(spec, read_config(spec, read_text_file(file), str(file)))
    registry = Registry(ws)
    result = ImportResult(spec.id, profile, str(file))
    if not servers:
        result.notes.append("no MCP servers configured here: nothing to import")
    records: dict[str, dict[str, Any]] = {}
    for key, entry in servers.items():
        name = key.rstrip(" ")  # " ": a name repeated in a list
        reason = _not_importable(spec, key, entry)
        if reason:
            result.skipped.append({"server": name, "reason": reason})
            continue
        entry = refs_from_placeholders(spec, entry)
        entry = _move_secrets(name, entry, result.secrets, keep_secrets)
        link = _catalog_match(registry, unwrap_remote(from_native(spec, entry)))
        record: dict[str, Any] = {"entry": copy.deepcopy(entry), "origin": "import"}
        if link:
            record["catalog_id"] = link
            result.linked[name] = link
        records[name] = record
        result.servers.append(name)
        if spec.switched_off(entry):
            result.disabled.append(name)
    if records:  # every entry read and checked: the draft is written once
        # one locked write of the draft (Draft's own writer; add_entry would write once each)
        prof.draft._update(lambda data: _merge(data["servers"], records))
    ws.audit.append(
        "import",
        client=spec.id,
        profile=profile,
        details={
            "path": str(file),
            "servers": result.servers,
            "skipped": {s["server"]: s["reason"] for s in result.skipped},
            "secrets_moved": 0 if keep_secrets else len(result.secrets),
        },
    )
    return result


def _merge(draft: dict[str, Any], records: dict[str, dict[str, Any]]) -> None:
    """Put imported records into a draft's servers; an entry already there unchanged keeps its
    record (its catalog link and parameters), as a re-run of the import."""
    for name, record in records.items():
        existing = draft.get(name)
        same = existing is not None and existing.get("entry") == record["entry"]
        draft[name] = {**existing, **record} if same and existing is not None else record


def _not_importable(spec: ClientSpec, key: str, entry: Any) -> str | None:
    """Why the entry ``key`` of ``spec``'s file cannot go into a draft (``None``: it can)."""
    if not isinstance(entry, dict):
        return "the entry is not an object"
    if spec.is_builtin(entry):
        key_, _ = spec.builtin_kinds or ("", ())
        return f"{spec.name} runs it itself ({key_}: {entry.get(key_)}): nothing to deploy"
    if key != key.rstrip(" "):
        return "a second server with the same name (the first one is imported)"
    if not re.fullmatch(spec.name_pattern, key):
        return (
            f"the name is not one {spec.name} accepts (letters, digits, '-', '_' and '.'); "
            "add it again under another name"
        )
    try:
        refuse_secret_text(key, "name")  # a name is signed and kept in the audit log
    except MCPOrchError as exc:
        return exc.message
    if nesting_depth(entry) > MAX_DEPTH - 2:
        return f"the entry is nested deeper than {MAX_DEPTH - 2} levels"
    neutral = from_native(spec, entry)
    if neutral.get("transport") == "stdio" and not neutral.get("command"):
        return (
            f"neither a command nor a URL mcp-orch reads for {spec.name} (a transport or an "
            "entry type it does not support)"
        )
    return None


# ---- sync ----------------------------------------------------------------------------------


@dataclass
class SyncResult:
    source: str
    targets: dict[str, Artifact] = field(default_factory=dict)
    deployments: dict[str, Deployment] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "targets": {
                c: {
                    "artifact_id": a.artifact_id,
                    "servers": sorted(a.servers),
                    "deployed_to": self.deployments[c].path if c in self.deployments else None,
                }
                for c, a in self.targets.items()
            },
        }

    def __str__(self) -> str:
        lines = [f"synced {self.source} to {plural(len(self.targets), 'client')}"]
        for c, a in self.targets.items():
            dep = self.deployments.get(c)
            where = f" -> {dep.path}" if dep else ""
            lines.append(f"  {c}: {a.short_id} ({plural(len(a.servers), 'server')}){where}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<SyncResult {self.source} to {plural(len(self.targets), 'client')}>"

    def _repr_html_(self) -> str:
        def render() -> str:
            rows = []
            for c, a in self.targets.items():
                dep = self.deployments.get(c)
                rows.append(
                    (c, a.short_id, plural(len(a.servers), "server"), dep.path if dep else "-")
                )
            return html_table(
                ["client", "artifact", "servers", "deployed to"],
                rows,
                title=f"synced {self.source} to {plural(len(self.targets), 'client')}",
            )

        return safe_html(render, self)


def neutral_servers(profile: Profile) -> dict[str, dict[str, Any]]:
    """The profile's servers (latest artifact, else the draft) in the neutral shape."""
    latest = profile.latest()
    servers = latest.servers if latest is not None else profile.draft.servers
    spec = profile.client
    out = {}
    for name, entry in servers.items():
        neutral = unwrap_remote(from_native(spec, refs_from_placeholders(spec, entry)))
        out[name] = neutral
    return out


def sync_profile(
    profile: Profile,
    clients: list[str],
    *,
    deploy: bool = False,
    changelog: str = "",
) -> SyncResult:
    """Render the profile's servers natively for each client, validate all, publish, deploy."""
    ws = profile.workspace
    neutral = neutral_servers(profile)
    if not neutral:
        raise NotFound(f"{profile.ref} has no servers to sync", "add servers or publish first")
    targets = [ws.profile(c, profile.id) for c in dict.fromkeys(clients) if c != profile.client.id]
    rendered = {
        t.client.id: {n: to_native(t.client, e, t.target_os) for n, e in neutral.items()}
        for t in targets
    }
    # validate every target before publishing any, so a bad target publishes nothing
    for t in targets:
        t.draft.replace_all(rendered[t.client.id], origin=f"sync:{profile.ref}")
    for t in targets:
        t.draft.validate()
    result = SyncResult(profile.ref)
    note = changelog or f"sync from {profile.ref}"
    for t in targets:
        result.targets[t.client.id] = t.draft.publish(changelog=note)
    if deploy:
        for t in targets:  # every secret must be available before any file is written
            render_secrets(t.client, result.targets[t.client.id].servers, mode=secrets_setting(t))
        for t in targets:
            result.deployments[t.client.id] = result.targets[t.client.id].deploy()
    ws.audit.append(
        "sync",
        client=profile.client.id,
        profile=profile.id,
        changelog=note,
        details={
            "targets": {c: a.artifact_id for c, a in result.targets.items()},
            "deployed": sorted(result.deployments),
        },
    )
    return result
