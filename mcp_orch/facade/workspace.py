"""The workspace: where drafts, keys, objects, refs and the audit log live.

    >>> import mcp_orch as mo
    >>> ws = mo.Workspace("./demo")          # or Workspace(): $MCP_ORCH_HOME, else the user data dir
    >>> profile = ws.profile("cursor")       # profile id defaults to "default"
    >>> ws.profiles(), ws.registry(), ws.audit.frame(since="7d"), ws.verify()
    >>> stop = ws.on_change(print)           # called after every draft, ref, audit, deploy change

Layout::

    drafts/<client>/<profile>.json          catalog/<id>.json (your servers)
    keys/private.pem, public/, trusted/     objects/sha256/<ab>/<hex>.json
    refs/<client>/<profile>/{latest,deployed,index}
    deployments/<client>/<profile>.json     backups/<client>/<profile>/
    audit/events.jsonl, audit/head.json

This module stays light: opening a workspace and browsing its catalog (``mcp-orch
list-servers``) loads neither pydantic nor cryptography. The parts that need them (the store,
profiles with their releases) are imported when first used; each such import says so.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from functools import cached_property
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp_orch.core.errors import MCPOrchError, UsageError
from mcp_orch.core.fs import HOME_ENV, default_path
from mcp_orch.core.ids import check_id, short_id
from mcp_orch.core.markup import html_table, page, safe_html
from mcp_orch.core.signals import Change, ChangeSignal, signal_for
from mcp_orch.core.text import plural
from mcp_orch.domain.clients import get_client
from mcp_orch.facade.registry import Registry
from mcp_orch.services.policy.model import Policy, load_policy, workspace_policy_path

if TYPE_CHECKING:
    from mcp_orch.domain.clients.detect import Detection
    from mcp_orch.facade.artifact import Artifact
    from mcp_orch.facade.profile import Profile
    from mcp_orch.facade.sync import ImportResult
    from mcp_orch.services.release.audit import AuditLog
    from mcp_orch.services.release.signing import Keyring
    from mcp_orch.services.release.store import Store
    from mcp_orch.services.release.tokens import TokenStore
    from mcp_orch.services.release.verify import VerifyReport

__all__ = ["HOME_ENV", "Workspace", "default_path"]


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
            raise UsageError(
                f"{self.path} is a file, not a workspace folder", "choose another workspace folder"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        self.client_root = Path(client_root) if client_root is not None else None

    def __repr__(self) -> str:
        return f"<Workspace {self.path}>"

    def _repr_html_(self) -> str:
        def render() -> str:
            rows = []
            for prof in self.profiles():
                client, pid = prof.client.id, prof.id
                try:
                    draft: object = plural(len(prof.draft), "server")
                except MCPOrchError as exc:
                    draft = f"unreadable: {exc.message}"
                refs = []
                for name in ("latest", "deployed"):
                    try:
                        aid = self.store.get_ref(client, pid, name)
                    except MCPOrchError as exc:
                        aid = f"damaged: {exc.message}"
                    refs.append(short_id(aid) if aid and aid.startswith("sha256:") else aid or "-")
                rows.append((prof.ref, draft, *refs))
            head = (
                f"<div><b>Workspace</b> <code>{escape(str(self.path))}</code>"
                + (
                    f" · client root <code>{escape(str(self.client_root))}</code>"
                    if self.client_root
                    else ""
                )
                + f" · {escape(plural(len(rows), 'profile'))}"
                f" · audit log: {escape(plural(self.audit.event_count(), 'event'))}</div>"
            )
            table = html_table(["profile", "draft", "latest", "deployed"], rows)
            return page(head, table if rows else "")

        return safe_html(render, self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    # -- changes -----------------------------------------------------------------------------
    @property
    def changes(self) -> ChangeSignal:
        """This workspace's change signal, shared by every ``Workspace`` on the same folder
        (see :mod:`mcp_orch.core.signals`): ``ws.changes.subscribe(fn, kinds=["refs"])``."""
        return signal_for(self.path)

    def on_change(
        self,
        callback: Callable[[Change], Any],
        *,
        kinds: Iterable[str] | None = None,
        client: str | None = None,
        profile: str | None = None,
    ) -> Callable[[], None]:
        """Call ``callback(change)`` after every change to this workspace made in this process
        (by the Python API, a widget, an MCP tool served here), optionally only of ``kinds``
        (``drafts``, ``refs``, ``audit``, ``deploy``), ``client``, ``profile``. Returns the
        function that unsubscribes. Exceptions in ``callback`` are logged, never raised into
        the writer; a bound method is held weakly.

            >>> stop = ws.on_change(lambda c: print(c.kind, c.client, c.profile))
            >>> ws.profile("cursor").draft.remove("time")
            drafts cursor default
            >>> stop()
        """
        return self.changes.subscribe(callback, kinds=kinds, client=client, profile=profile)

    # -- parts -------------------------------------------------------------------------------
    @cached_property
    def store(self) -> Store[Artifact]:
        # the store's records are pydantic models (~0.2 s to import): off the light path
        from mcp_orch.facade.artifact import artifact_store

        return artifact_store(self.path)

    @cached_property
    def audit(self) -> AuditLog:
        # the release side's modules load when first used; browsing the catalog needs none
        # of them (measured: ~12 modules, ~10 ms of `mcp-orch list-servers`)
        from mcp_orch.services.release.audit import AuditLog

        return AuditLog(self.path / "audit")

    @cached_property
    def keys(self) -> Keyring:
        from mcp_orch.services.release.signing import Keyring  # (as for audit)

        return Keyring(self.path / "keys", audit=self.audit)

    @cached_property
    def tokens(self) -> TokenStore:
        from mcp_orch.services.release.tokens import TokenStore  # (as for audit)

        return TokenStore(self)

    @property
    def policy(self) -> Policy | None:
        """The workspace policy (``policy.toml`` in the workspace folder, read anew each time),
        or None when there is none: then publish and deploy have no policy gate."""
        return load_policy(self.policy_path)

    @property
    def policy_path(self) -> Path:
        return workspace_policy_path(self.path)

    def registry(self) -> Registry:
        return Registry(workspace=self)

    def profile(
        self, client_id: str, profile_id: str = "default", *, target_os: str | None = None
    ) -> Profile:
        """The profile ``profile_id`` of client ``client_id`` (ids are lowercase slugs)."""
        # profiles carry the release side (pydantic, cryptography): loaded on first use
        from mcp_orch.facade.profile import Profile

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
            except UsageError:  # a folder that is not a profile (unknown client, bad id)
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
        return self.profile(client, profile).publish_file(path, changelog=changelog)

    def detect(self, project_dir: str | os.PathLike[str] | None = None) -> Detection:
        """Which clients are installed under the client root, with file paths and server counts."""
        # it parses every client's file (dialects, JSONC): loaded only when asked
        from mcp_orch.domain.clients.detect import detect

        return detect(self.client_root, project_dir=project_dir)

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
        return self.profile(client, profile).import_from(
            scope=scope, path=path, project_dir=project_dir, keep_secrets=keep_secrets
        )

    def verify(self, *, full: bool = False) -> VerifyReport:
        """Check every stored object, every signature, every ref and the audit chain. The
        chain is checked from where the last verify left it (once the bytes before are found
        unchanged); ``full=True`` re-reads every event."""
        # verification loads every record (pydantic): off the light path
        from mcp_orch.services.release.verify import verify_store

        return verify_store(self.store, self.audit, self.keys, self, full=full)
