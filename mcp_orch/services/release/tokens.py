"""Bearer tokens for ``mcp-orch serve --http``: only their hashes are stored, in the workspace.

    >>> store = TokenStore(ws)
    >>> token = store.create("laptop")       # shown once; only sha256(token) is written
    >>> store.verify(token)                  # -> "laptop" (the actor recorded in audit events)
    >>> store.list(), store.revoke("laptop")

The store is ``tokens.json`` in the workspace (mode 0600)::

    {"version": 1, "tokens": {"laptop": {"hash": "sha256:…", "created": "…Z"}}}

Tokens are 256 random bits, so a plain SHA-256 is enough (no salt or slow hash needed) and the
comparison is constant-time. ``verify`` re-reads the file only when it changed, so a token
created or revoked by another process (``mcp-orch token revoke``) takes effect on the next
request of a running server.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Protocol

from mcp_orch.core.clock import iso, now_utc
from mcp_orch.core.errors import AlreadyExists, IntegrityError, NotFound
from mcp_orch.core.fs import atomic_write, locked
from mcp_orch.core.ids import check_id
from mcp_orch.core.text import plural
from mcp_orch.services.release.audit import AuditLog


class _Home(Protocol):
    """A workspace's folder and audit log (token events are recorded there)."""

    @property
    def path(self) -> Path: ...

    @property
    def audit(self) -> AuditLog: ...


__all__ = ["TOKEN_PREFIX", "TokenStore", "hash_token"]

TOKEN_PREFIX = "mco_"
FILE_NAME = "tokens.json"


def hash_token(token: str) -> str:
    """``sha256:<hex>`` of a token (what the store keeps)."""
    import hashlib  # stdlib; the token helpers load theirs only when used

    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore:
    """The workspace's bearer tokens (names and hashes only)."""

    def __init__(self, workspace: _Home) -> None:
        self.workspace = workspace
        self.path: Path = workspace.path / FILE_NAME
        self._cache: tuple[tuple[int, int, int], dict[str, dict[str, Any]]] | None = None
        self._cache_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<TokenStore {self.path}: {plural(len(self), 'token')}>"

    # -- storage -----------------------------------------------------------------------------
    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return {}
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self._cache_lock:
            if self._cache is not None and self._cache[0] == key:
                return self._cache[1]
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            tokens: dict[str, dict[str, Any]] = dict(data["tokens"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(
                f"the token store {self.path} is damaged: {exc}",
                "delete it and create the tokens again",
            ) from None
        with self._cache_lock:
            self._cache = (key, tokens)
        return tokens

    def _save(self, tokens: dict[str, dict[str, Any]]) -> None:
        text = json.dumps({"version": 1, "tokens": tokens}, indent=2, sort_keys=True) + "\n"
        atomic_write(self.path, text, mode=0o600)

    def _audit(self, event: str, name: str) -> None:
        self.workspace.audit.append("key", details={"event": event, "token": name})

    # -- public API --------------------------------------------------------------------------
    def create(self, name: str) -> str:
        """Make a token called ``name`` and return it; it is never shown again."""
        check_id(name, "token name")
        import secrets  # stdlib, only to make a token

        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with locked(self.path):
            tokens = dict(self._load())
            if name in tokens:
                raise AlreadyExists(
                    f"a token named {name!r} already exists",
                    f"revoke the token {name!r} first, or choose another name",
                )
            tokens[name] = {"hash": hash_token(token), "created": iso(now_utc())}
            self._save(tokens)
        self._audit("token-create", name)
        return token

    def revoke(self, name: str) -> None:
        """Delete the token called ``name``; requests that use it get 401 from then on."""
        with locked(self.path):
            tokens = dict(self._load())
            if name not in tokens:
                raise NotFound(
                    f"no token named {name!r}",
                    f"tokens: {', '.join(sorted(tokens)) or '(none)'}",
                )
            del tokens[name]
            self._save(tokens)
        self._audit("token-revoke", name)

    def list(self) -> list[dict[str, str]]:
        """Name and creation time of every token (never the token or its hash)."""
        return [
            {"name": name, "created": str(rec.get("created", ""))}
            for name, rec in sorted(self._load().items())
        ]

    def verify(self, token: str | None) -> str | None:
        """The name of the token, or ``None`` when it is unknown (or revoked)."""
        import hmac  # stdlib, only to check a token

        if not token:
            return None
        digest = hash_token(token)
        found = None
        for name, rec in self._load().items():
            if hmac.compare_digest(digest, str(rec.get("hash", ""))):
                found = name
        return found

    def __len__(self) -> int:
        return len(self._load())

    def __bool__(self) -> bool:
        return True
