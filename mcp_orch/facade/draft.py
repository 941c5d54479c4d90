"""Drafts: the servers a profile will publish next, persisted in the workspace.

    >>> draft = ws.profile("cursor").draft
    >>> draft.add(registry.find("time"), params={"local_timezone": "Europe/Paris"})
    >>> draft.payload
    {'mcpServers': {'time': {'command': 'uvx', 'args': ['mcp-server-time', ...]}}}
    >>> draft.validate().publish(changelog="add time")

Every change is written at once (atomically, under a lock), so the CLI's ``add-server`` and
``remove-server`` work across invocations and two processes never lose each other's edits.
After each write the workspace's change signal hears of it (``ws.on_change``: a ``drafts``
change of this client and profile), so every widget showing the draft follows.
"""

from __future__ import annotations

import copy
import json
import os
import re
import warnings
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from mcp_orch.core import signals
from mcp_orch.core.clock import iso, now_utc
from mcp_orch.core.errors import (
    AlreadyExists,
    InvalidConfig,
    InvalidId,
    NotFound,
    ServerStatusWarning,
    StoreCorrupt,
    UsageError,
)
from mcp_orch.core.fs import MAX_DEPTH, locked, nesting_depth, read_limited, write_json
from mcp_orch.core.ids import sha256_id
from mcp_orch.core.markup import html_table, safe_html
from mcp_orch.core.text import plural
from mcp_orch.domain.catalog import Server
from mcp_orch.domain.clients import build_payload, from_native, header_env_name, to_native
from mcp_orch.domain.pins import PIN_MODES
from mcp_orch.domain.secrets import (
    is_reference,
    mask_secrets,
    refuse_secret_text,
    without_references,
)
from mcp_orch.domain.transport import env_ref, render_server
from mcp_orch.facade.artifact import Artifact
from mcp_orch.facade.pinning import lock_for, repinned_entry, tool_pins
from mcp_orch.facade.registry import Registry
from mcp_orch.services.policy.gates import publish_under_policy
from mcp_orch.services.probe import ProbeReport, probe_set
from mcp_orch.services.release.backups import DEFAULT_KEEP, check_keep
from mcp_orch.services.release.deploy import SECRETS_MODES
from mcp_orch.services.validation import (
    Finding,
    Subject,
    ValidationReport,
    check_subjects,
    rules_version,
)

if TYPE_CHECKING:
    import polars as pl

    from mcp_orch.facade.profile import Profile


#: How deeply a draft file may nest: a client's file may nest MAX_DEPTH levels, and a draft keeps
#: each entry one level deeper than the file does (in its record), plus one spare.
DRAFT_DEPTH = MAX_DEPTH + 2


def _draft_problem(data: Any) -> str | None:
    """What is wrong with the shape of a draft file's data (``None``: nothing)."""
    if nesting_depth(data, DRAFT_DEPTH) > DRAFT_DEPTH:
        return f"is nested deeper than {DRAFT_DEPTH} levels"
    if not isinstance(data, dict):
        return f"holds {_kind(data)}, not an object"
    if "servers" not in data:
        return "has no servers object"
    servers = data["servers"]
    if not isinstance(servers, dict):
        return f"has {_kind(servers)} as its servers, not an object of name -> record"
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        return f"has {_kind(settings)} as its settings, not an object"
    if settings.get("pin", "exact") not in PIN_MODES:
        return f"has the pin setting {settings.get('pin')!r}, not one of {', '.join(PIN_MODES)}"
    if not isinstance(settings.get("pin_tools", False), bool):
        return f"has {_kind(settings.get('pin_tools'))} as its pin_tools setting, not a boolean"
    if settings.get("secrets", "auto") not in SECRETS_MODES:
        return (
            f"has the secrets setting {settings.get('secrets')!r}, not one of "
            f"{', '.join(SECRETS_MODES)}"
        )
    keep = settings.get("keep_backups", DEFAULT_KEEP)
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
        return f"has {keep!r} as its keep_backups setting, not a whole number of at least 0"
    for name, record in servers.items():
        if not isinstance(record, dict):
            return f"has {_kind(record)} as the record of {name!r}, not an object"
        if not isinstance(record.get("entry"), dict):
            return f"has {_kind(record.get('entry'))} as the entry of {name!r}, not an object"
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "no value"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else "a number"


def entry_name(server: Server) -> str:
    """The entry name a catalog server gets by default: its id, or, for an id that is a
    registry name (its short id was another server's), the name's tail (a ``/`` is not valid
    in a client's server name)."""
    return server.id.rsplit("/", 1)[1] if "/" in server.id else server.id


#: The remote transports a server added by URL may name (``streamable-http`` by default).
CUSTOM_REMOTES = ("streamable-http", "sse")


def _custom_entry(
    command: str | None,
    args: list[str],
    env: dict[str, str],
    url: str | None,
    headers: dict[str, str],
    transport: str | None,
) -> dict[str, Any]:
    """The neutral entry of a server given by its command or its URL (see
    :meth:`Draft.add_custom`), or a typed error saying which inputs do not go together."""
    if (command is None) == (url is None):
        raise UsageError(
            "a server that is not in the catalog needs a command to run or a URL, not "
            + ("both" if command is not None else "neither"),
            "give the command and its arguments for a local server, or the URL of a remote one",
            inputs=("command", "url"),
        )
    if command is not None:
        if not isinstance(command, str) or not command.strip() or "\n" in command:
            raise UsageError(
                f"the command must be one line of text, not {command!r}",
                "give the program to run, then its arguments",
                inputs=("command",),
            )
        if headers or transport not in (None, "stdio"):
            raise UsageError(
                "a local server (a command) takes no headers and no remote transport",
                "headers and the transport are for a server given by its URL",
                inputs=("headers", "transport"),
            )
        return {
            "transport": "stdio",
            "command": command,
            "args": [str(a) for a in args],
            "env": {str(k): str(v) for k, v in env.items()},
        }
    if args or env:
        raise UsageError(
            "a remote server (a URL) takes no command arguments and no environment variables",
            "send what it needs as headers (secrets as ${env:NAME} references)",
            inputs=("args", "env", "headers"),
        )
    kind = transport or CUSTOM_REMOTES[0]
    if kind not in CUSTOM_REMOTES:
        raise UsageError(
            f"a remote server's transport is {' or '.join(CUSTOM_REMOTES)}, not {kind!r}",
            "leave the transport out for streamable HTTP",
            inputs=("transport",),
        )
    parsed = urlparse(str(url))
    if (
        parsed.scheme not in ("http", "https")
        or not parsed.hostname
        or any(c.isspace() for c in str(url))
    ):
        raise UsageError(
            f"{url!r} is not an http(s) URL",
            "give the server's full URL, such as https://mcp.example.com/mcp",
            inputs=("url",),
        )
    return {
        "transport": kind,
        "url": str(url),
        "headers": {str(k): str(v) for k, v in headers.items()},
    }


class Draft:
    """The editable, not yet published server set of one profile."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.client = profile.client
        self.path: Path = (
            profile.workspace.path / "drafts" / profile.client.id / f"{profile.id}.json"
        )
        self._validated: str | None = None  # the content key of the last passing validate()

    # -- storage -----------------------------------------------------------------------------
    def _read(self) -> dict[str, Any]:
        try:
            raw = read_limited(self.path, what="draft")
        except FileNotFoundError:
            return {
                "version": 1,
                "client": self.client.id,
                "profile": self.profile.id,
                "target_os": self.profile.target_os,
                "servers": {},
            }
        try:
            data = json.loads(raw.decode("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise self._damaged(f"is damaged and cannot be read ({exc})") from None
        except RecursionError:
            raise self._damaged(f"is nested deeper than {DRAFT_DEPTH} levels") from None
        problem = _draft_problem(data)
        if problem:
            raise self._damaged(problem)
        checked: dict[str, Any] = data
        return checked

    def _damaged(self, problem: str) -> StoreCorrupt:
        return StoreCorrupt(
            f"the draft {self.path} {problem}",
            f"fix or delete {self.path} (deleting it empties the draft of {self.profile.ref}; "
            "its releases are kept), or restore the file from a backup; nothing was changed",
        )

    def _update(self, change: Callable[[dict[str, Any]], None]) -> None:
        with locked(self.path):
            data = self._read()
            change(data)
            data["updated"] = iso(now_utc())
            write_json(self.path, data, fsync=False)
        # after the lock is released: a subscriber may read the draft (or write it)
        signals.emit(self.profile.workspace.path, "drafts", self.client.id, self.profile.id)

    @property
    def records(self) -> dict[str, dict[str, Any]]:
        """name -> stored record (native entry plus where it came from)."""
        servers: dict[str, dict[str, Any]] = self._read()["servers"]
        return servers

    @property
    def servers(self) -> dict[str, dict[str, Any]]:
        """name -> the client-native entry."""
        return {name: rec["entry"] for name, rec in self.records.items()}

    @property
    def client_id(self) -> str:
        return self.client.id

    # -- settings ----------------------------------------------------------------------------
    @property
    def settings(self) -> dict[str, Any]:
        """The profile's settings: ``pin`` (``exact``, ``minor`` or ``floating``: how
        :meth:`add` and ``upgrade`` write package versions) and ``pin_tools`` (whether every
        publish pins each server's tool manifest, as ``publish(pin_tools=True)`` does) and
        ``keep_backups`` (how many backups of the client's files each deploy keeps: the newest
        ones, 20 unless set; 0 keeps every backup) and ``secrets`` (``launcher``, ``inline`` or
        ``auto``: how deploy writes secrets for a client that cannot expand variables; see
        :data:`~mcp_orch.services.release.deploy.SECRETS_MODES`)."""
        raw = self._read().get("settings") or {}
        return {
            "pin": raw.get("pin", "exact"),
            "pin_tools": bool(raw.get("pin_tools", False)),
            "keep_backups": raw.get("keep_backups", DEFAULT_KEEP),
            "secrets": raw.get("secrets", "auto"),
        }

    def configure(
        self,
        *,
        pin: str | None = None,
        pin_tools: bool | None = None,
        keep_backups: int | None = None,
        secrets: str | None = None,
    ) -> Draft:
        """Change the profile's settings (see :attr:`settings`); entries already in the draft
        keep their pins until they are added again or upgraded; a smaller ``keep_backups``
        prunes at the next deploy (or ``Profile.prune_backups()``)."""
        if pin is not None and pin not in PIN_MODES:
            raise UsageError(
                f"pin must be one of {', '.join(PIN_MODES)}, not {pin!r}",
                "exact writes pkg@1.2.3, minor pkg@~1.2.3, floating the bare name",
                inputs=("pin",),
            )
        if pin_tools is not None and not isinstance(pin_tools, bool):
            raise UsageError("pin_tools must be true or false", inputs=("pin_tools",))
        if keep_backups is not None:
            check_keep(keep_backups, "keep_backups", allow_all=True)
        if secrets is not None and secrets not in SECRETS_MODES:
            raise UsageError(
                f"secrets must be one of {', '.join(SECRETS_MODES)}, not {secrets!r}",
                "launcher: entries run the mcp-orch launcher, which reads the secret store as "
                "the server starts; inline: values written into the file; auto: the launcher "
                "for secrets in the store",
                inputs=("secrets",),
            )

        def change(data: dict[str, Any]) -> None:
            settings = dict(data.get("settings") or {})
            if pin is not None:
                settings["pin"] = pin
            if pin_tools is not None:
                settings["pin_tools"] = pin_tools
            if keep_backups is not None:
                settings["keep_backups"] = keep_backups
            if secrets == "auto":
                settings.pop("secrets", None)
            elif secrets is not None:
                settings["secrets"] = secrets
            data["settings"] = settings

        self._update(change)
        return self

    @property
    def label(self) -> str:
        return f"draft {self.profile.ref}"

    @property
    def names(self) -> list[str]:
        return list(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def __contains__(self, name: object) -> bool:
        return name in self.records

    @property
    def payload(self) -> dict[str, Any]:
        """The client-native config that would be published."""
        return build_payload(self.client, self.servers)

    # -- editing -----------------------------------------------------------------------------
    def _check_name(self, name: str) -> str:
        # in full: with re.match, "x\n" would pass the pattern's "$" and reach the client's file
        if not isinstance(name, str) or not re.fullmatch(self.client.name_pattern, name):
            raise InvalidId(
                f"invalid server name {name!r} for {self.client.name}",
                "use letters, digits, '-', '_' and '.', starting with a letter or digit "
                "(one line, no spaces or control characters)",
                inputs=("name",),
            )
        return name

    def add(
        self,
        server: Server,
        *,
        params: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        name: str | None = None,
        headers: dict[str, str] | None = None,
        transport: str | None = None,
        replace: bool = False,
        version: str | None = None,
        pin: str | None = None,
        package: str | None = None,
    ) -> Draft:
        """Render a catalog server for this client and add it, its package pinned at ``pin``
        (default: the profile's setting) at the catalog's version, or ``version``; ``package``
        picks one of several packages (its registry type, identifier or number). Refuses
        literal secrets; a server the registry lists as deprecated or deleted is added with a
        :class:`~mcp_orch.core.errors.ServerStatusWarning`."""
        # a name is signed and kept in the audit log; a catalog id is a registry name's,
        # which the registry checked (known token formats are refused, not random owners)
        random_words = name is not None and name != server.id
        name = self._check_name(name or entry_name(server))
        refuse_secret_text(name, "name", random_words=random_words)
        self._refuse_secret_params(name, server, params or {})
        pin = pin or self.settings["pin"]
        if pin not in PIN_MODES:
            raise UsageError(
                f"pin must be one of {', '.join(PIN_MODES)}, not {pin!r}", inputs=("pin",)
            )
        rendered = render_server(
            server.doc,
            params=params,
            env=env,
            headers=headers,
            transport=transport,
            pin=pin,
            version=version,
            package=package,
        )
        native = to_native(self.client, rendered.entry, self.profile.target_os, pin)
        record = {
            "entry": native,
            "origin": "catalog",
            "catalog_id": server.id,
            "catalog_name": server.name,
            "kind": rendered.kind,
            "index": rendered.index,
            "params": dict(params or {}),
            "env": dict(env or {}),
            "headers": dict(headers or {}),
            "transport": transport,
            "pin": pin,
            "catalog_version": server.version or None,
        }
        if version:
            record["version"] = version
        if package is not None:
            record["package"] = package
        self._guard_secrets(name, record)
        self._put(name, record, replace)
        note = server.status_warning()
        if note:
            warnings.warn(note, ServerStatusWarning, stacklevel=2)
        return self

    def add_entry(
        self,
        name: str,
        entry: dict[str, Any],
        *,
        replace: bool = False,
        origin: str = "file",
        catalog_id: str | None = None,
    ) -> Draft:
        """Add a client-native entry as is (from a file or an import)."""
        name = self._check_name(name)
        refuse_secret_text(name, "name")  # a name is signed and kept in the audit log
        if not isinstance(entry, dict):
            raise InvalidConfig(f"entry {name!r} must be an object", "see the client's format")
        if nesting_depth(entry) > MAX_DEPTH - 2:  # as deep as a client's file allows, no more
            raise InvalidConfig(
                f"entry {name!r} is nested deeper than {MAX_DEPTH - 2} levels",
                "see the client's format; nothing was written",
            )
        record: dict[str, Any] = {"entry": copy.deepcopy(entry), "origin": origin}
        if catalog_id:
            record["catalog_id"] = catalog_id
        self._put(name, record, replace)
        return self

    def add_custom(
        self,
        name: str,
        *,
        command: str | None = None,
        args: list[str] | tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        url: str | None = None,
        headers: dict[str, str] | None = None,
        transport: str | None = None,
        replace: bool = False,
    ) -> Draft:
        """Add a server that is not in the catalog: a local ``command`` with ``args`` and
        ``env``, or a remote ``url`` (``transport`` ``streamable-http``, the default, or
        ``sse``) with ``headers``. Rendered for this client as a catalog server is (a remote
        the client cannot run natively goes through mcp-remote, pinned as the profile's
        ``pin`` setting says); the name rules and the refusal of literal secrets are those of
        :meth:`add`."""
        name = self._check_name(name)
        refuse_secret_text(name, "name")  # a name is signed and kept in the audit log
        neutral = _custom_entry(command, list(args), env or {}, url, headers or {}, transport)
        pin = self.settings["pin"]
        native = to_native(self.client, neutral, self.profile.target_os, pin)
        record: dict[str, Any] = {
            "entry": native,
            "origin": "custom",
            "kind": "stdio" if command is not None else "remote",
            "env": dict(env or {}),
            "headers": dict(headers or {}),
            "transport": neutral["transport"],
            "pin": pin,
        }
        self._guard_secrets(name, record)
        self._put(name, record, replace)
        return self

    def _refuse_secret_params(self, name: str, server: Server, params: dict[str, Any]) -> None:
        """Arguments and URL/header variables the catalog marks secret must be references."""
        secret = {i["name"] for i in server.inputs() if i["kind"] == "param" and i["secret"]}
        bad = [
            k
            for k, v in params.items()
            if k in secret
            for item in (v if isinstance(v, list) else [v])
            if str(item) and not is_reference(str(item)) and without_references(str(item)).strip()
        ]
        if bad:
            key = bad[0]
            var = env_ref(key)[len("${env:") : -1]
            hint = f"give the parameter {key} the reference ${{env:{var}}} and export {var}"
            finding = Finding(
                "MCP003",
                "literal-secret",
                "error",
                name,
                f"{key} is marked secret in the catalog but holds a literal value",
                hint,
                f"params.{key}",
            )
            raise InvalidConfig(
                f"{name}: {finding.message}; nothing was written",
                hint,
                report=ValidationReport([finding], client=self.client.id),
                inputs=("params",),
            )

    def _guard_secrets(self, name: str, record: dict[str, Any]) -> None:
        subject = self._subject(name, record)
        report = check_subjects(
            self.client,
            [subject],
            build_payload(self.client, {name: record["entry"]}),
            select=["MCP003"],
        )
        if not report.ok:
            first = report.errors[0]
            raise InvalidConfig(
                f"{name}: {first.message}; nothing was written", first.hint, report=report
            )

    def _put(self, name: str, record: dict[str, Any], replace: bool) -> None:
        def change(data: dict[str, Any]) -> None:
            existing = data["servers"].get(name)
            if existing is not None and existing.get("entry") == record["entry"]:
                data["servers"][name] = {**existing, **record}  # same entry: a re-run, not a clash
                return
            if existing is not None and not replace:
                raise AlreadyExists(
                    f"{name!r} is already in the draft of {self.profile.ref}",
                    "replace the entry, or choose another name for the new one",
                    inputs=("replace", "name"),
                )
            data["servers"][name] = record

        self._update(change)

    def remove(self, name: str) -> Draft:
        def change(data: dict[str, Any]) -> None:
            if name not in data["servers"]:
                raise NotFound(
                    f"no server {name!r} in the draft of {self.profile.ref}",
                    f"servers in the draft: {', '.join(data['servers']) or '(none)'}",
                )
            del data["servers"][name]

        self._update(change)
        return self

    def clear(self) -> Draft:
        self._update(lambda data: data["servers"].clear())
        return self

    def replace_all(self, servers: dict[str, dict[str, Any]], origin: str = "artifact") -> Draft:
        """Make the draft hold exactly these native entries (rollback, import, sync)."""
        for name in servers:
            self._check_name(name)

        def change(data: dict[str, Any]) -> None:
            data["servers"] = {
                n: {"entry": copy.deepcopy(e), "origin": origin} for n, e in servers.items()
            }

        self._update(change)
        return self

    # -- checking ----------------------------------------------------------------------------
    def _subject(
        self, name: str, record: dict[str, Any], registry: Registry | None = None
    ) -> Subject:
        entry = record["entry"]
        neutral = from_native(self.client, entry)
        required: list[str] = []
        secret: set[str] = set()
        server = None
        if record.get("catalog_id"):
            if registry is None:
                registry = Registry(self.profile.workspace)
            try:
                server = registry.get(record["catalog_id"])
            except NotFound:
                server = None
        if server is not None:
            kind, index = record.get("kind"), record.get("index", 0)
            if kind == "package" and index < len(server.packages):
                for var in server.packages[index].get("environmentVariables") or []:
                    if var.get("isRequired"):
                        required.append(var["name"])
                    if var.get("isSecret"):
                        secret.add(var["name"])
            elif kind == "remote" and index < len(server.remotes):
                for h in server.remotes[index].get("headers") or []:
                    if h.get("isSecret"):
                        secret |= {h["name"], header_env_name(h["name"])}
        return Subject(name, entry, neutral, server, required, secret)

    def check(
        self, *, select: list[str] | None = None, ignore: list[str] | None = None
    ) -> ValidationReport:
        """Every finding for this draft (never raises on findings)."""
        registry = Registry(self.profile.workspace)  # one catalog load per check
        subjects = [self._subject(n, r, registry) for n, r in self.records.items()]
        return check_subjects(
            self.client,
            subjects,
            self.payload,
            target=f"draft {self.profile.ref}",
            select=select,
            ignore=ignore,
        )

    def validate(self, **kw: Any) -> Draft:
        """The draft itself, or ``InvalidConfig`` carrying the report. A draft that passed
        with the same content, options, rules and catalog is not checked again (so
        ``draft.validate().publish()`` validates once); any change to any of them checks
        it anew."""
        key = self._content_key(kw)
        if key is not None and key == self._validated:
            return self
        self.check(**kw).raise_for_errors(f"draft {self.profile.ref}")
        self._validated = key
        return self

    def _content_key(self, kw: dict[str, Any]) -> str | None:
        """A digest of everything a validation of this draft reads: the draft file's bytes,
        the options, the rules, the catalog folder (a catalog server's inputs are checked) and the environment (environment-level rules). ``None``: no draft file."""
        try:
            raw = read_limited(self.path, what="draft")
        except FileNotFoundError:
            return None
        try:  # catalog files are written by rename: any change moves the folder's mtime
            st = os.stat(self.profile.workspace.path / "catalog")
            listing: tuple[int, ...] = (st.st_mtime_ns, st.st_ino)
        except OSError:
            listing = ()
        extra = repr((sorted(kw.items()), rules_version(), listing, sorted(os.environ.items())))
        return sha256_id(raw + b"\0" + extra.encode("utf-8", "surrogatepass"))

    def set_version(self, name: str, version: str, pin: str | None = None) -> Draft:
        """Run ``name``'s package at ``version`` (written at ``pin``, default the profile's
        setting): a catalog server is rendered again at that version, any other entry has its
        package argument rewritten. ``Profile.upgrade`` uses this."""
        records = self.records
        if name not in records:
            raise NotFound(
                f"no server {name!r} in the draft of {self.profile.ref}",
                f"servers in the draft: {', '.join(records) or '(none)'}",
                inputs=("server",),
            )
        record = records[name]
        mode = pin or self.settings["pin"]
        server = None
        if record.get("origin") == "catalog" and record.get("kind") == "package":
            try:
                server = Registry(self.profile.workspace).get(record["catalog_id"])
            except (NotFound, KeyError):
                server = None
        if server is not None:
            return self.add(
                server,
                params=record.get("params") or {},
                env=record.get("env") or {},
                headers=record.get("headers") or {},
                transport=record.get("transport"),
                name=name,
                replace=True,
                version=version,
                pin=mode,
                package=record.get("package"),
            )
        native = repinned_entry(self.client, record["entry"], version, mode)
        if native is None:
            raise UsageError(
                f"{name} runs no registry package, so it has no version to set",
                "only npx, uvx, docker and dnx entries have pins",
                inputs=("server",),
            )
        self._put(name, {**record, "entry": native, "version": version, "pin": mode}, True)
        return self

    # -- release -----------------------------------------------------------------------------
    def publish(
        self,
        changelog: str = "",
        *,
        pin_tools: bool | None = None,
        resolve: bool = True,
        **kw: Any,
    ) -> Artifact:
        """Validate, resolve the lock (each package against its registry), with ``pin_tools``
        (default: the profile's setting) probe every server and pin its tool manifest, then
        sign, store, move ``latest`` and record the event (see publish.py)."""
        if not self.path.exists() and self.profile.latest() is None:
            raise NotFound(
                f"nothing to publish: {self.profile.ref} has no draft and no releases",
                "add servers to the draft first, or check the profile name",
                inputs=("profile",),
            )
        self.validate()
        data = self._read()  # once: the entries, the settings and the payload all come from it
        servers = {name: rec["entry"] for name, rec in data["servers"].items()}
        lock = lock_for(self.client, servers, resolve_now=resolve)
        saved = bool((data.get("settings") or {}).get("pin_tools", False))
        wants_tools = saved if pin_tools is None else pin_tools
        tools = tool_pins(self) if wants_tools and servers else None
        payload = build_payload(self.client, servers)
        names = {n: r["catalog_name"] for n, r in data["servers"].items() if r.get("catalog_name")}
        record = publish_under_policy(
            self.profile,
            payload,
            changelog=changelog,
            lock=lock,
            tools=tools,
            registry_names=names,
            **kw,
        )
        return Artifact.adopt(record, self.profile)

    def probe(self, **kw: Any) -> ProbeReport:
        """Start each server as the client would and run the MCP handshake."""
        return probe_set(self, **kw)

    # -- views -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = self._read()
        return {
            "client": self.client.id,
            "profile": self.profile.id,
            "target_os": data.get("target_os"),
            "servers": data["servers"],
            "payload": self.payload,
            "updated": data.get("updated"),
        }

    def frame(self) -> pl.DataFrame:
        import polars as pl

        rows = []
        for name, rec in self.records.items():
            neutral = from_native(self.client, rec["entry"])
            rows.append(
                {
                    "name": name,
                    "transport": neutral.get("transport"),
                    "command": neutral.get("command"),
                    "url": neutral.get("url"),
                    "args": [str(a) for a in neutral.get("args") or []],
                    "env_keys": sorted(neutral.get("env") or {}),
                    "catalog_id": rec.get("catalog_id"),
                    "origin": rec.get("origin"),
                }
            )
        schema: dict[str, Any] = {
            "name": pl.String,
            "transport": pl.String,
            "command": pl.String,
            "url": pl.String,
            "args": pl.List(pl.String),
            "env_keys": pl.List(pl.String),
            "catalog_id": pl.String,
            "origin": pl.String,
        }
        return pl.DataFrame(rows, schema=schema)

    def __repr__(self) -> str:
        return f"<Draft {self.profile.ref}: {plural(len(self), 'server')}>"

    def _repr_html_(self) -> str:
        def render() -> str:
            rows = []
            for name, rec in self.records.items():
                n = from_native(self.client, mask_secrets(rec["entry"]))  # shown masked
                target = n.get("url") or " ".join([n.get("command", ""), *map(str, n["args"])])
                rows.append((name, n.get("transport"), target, sorted(n.get("env") or {})))
            return f"<div class='mco'><b>Draft</b> {escape(self.profile.ref)}</div>" + html_table(
                ["name", "transport", "command / url", "env"], rows
            )

        return safe_html(render, self)
