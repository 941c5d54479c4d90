"""The whole exception tree of mcp-orch.

Every error carries a one-line ``message`` and a ``hint`` (what to do next), written in terms of
the concept ("replace the entry", "name the artifact"), never of one front end's spelling.
``inputs`` names the inputs the hint is about (``("replace", "name")``); each front end spells
them its own way: the CLI as ``--replace``, the MCP server as tool arguments, the notebook
widgets as field labels. The CLI prints message and hint and exits with ``exit_code``; the MCP
server returns them as a tool error; notebooks show them. ``to_dict()`` is the same everywhere.

    MCPOrchError
    ├── UsageError                 bad input from the caller (exit 2)
    │   ├── InvalidId              an id that is not a lowercase slug, or looks like a path
    │   ├── NotFound               unknown server, client, profile, artifact, key, file
    │   ├── AlreadyExists          a server name already in the draft (replace it, or rename)
    │   └── MissingSecret          a secret reference with no value in the environment
    ├── InvalidConfig              a draft or file failed validation; carries the report (exit 1)
    ├── ParseError                 a client config file or document that does not parse (exit 1)
    ├── FileError                  a file or folder that cannot be read or written (exit 1)
    ├── ConflictError              deploy would overwrite an entry mcp-orch does not manage (exit 1)
    │   └── FileChanged            another program saved the file while mcp-orch was writing it
    ├── IntegrityError             a stored object or the audit chain does not match its digest (exit 1)
    │   ├── SignatureError         a signature does not verify, or its key is not trusted
    │   └── StoreCorrupt           a workspace file (draft, record, ref, audit head) is damaged
    ├── KeyringError               a signing key is missing, unreadable or locked (exit 1)
    ├── MissingDependency          an optional package (altair for charts) is not installed (exit 1)
    └── InternalError              a bug in mcp-orch: an unexpected exception, wrapped (exit 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "AlreadyExists",
    "ConflictError",
    "FileChanged",
    "FileError",
    "IntegrityError",
    "InternalError",
    "InvalidConfig",
    "InvalidId",
    "KeyringError",
    "MCPOrchError",
    "MissingDependency",
    "MissingSecret",
    "NotFound",
    "ParseError",
    "ServerStatusWarning",
    "SignatureError",
    "StoreCorrupt",
    "UsageError",
]


class ServerStatusWarning(UserWarning):
    """A server was added although the registry lists it as deprecated or deleted (the
    add goes through; the CLI, the MCP server and the widgets show the warning)."""


class MCPOrchError(Exception):
    """Base of every error mcp-orch raises on purpose."""

    exit_code = 1
    default_hint = ""

    def __init__(
        self, message: str, hint: str | None = None, *, inputs: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
        self.inputs = tuple(inputs)

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message

    @property
    def code(self) -> str:
        """A stable, machine-readable name of the error kind."""
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"error": self.code, "message": self.message, "hint": self.hint}
        if self.inputs:
            data["inputs"] = list(self.inputs)
        return data

    def _repr_html_(self) -> str:
        from html import escape  # stdlib, only when a notebook shows an error

        return (
            "<div style='border-left:4px solid #d9534f;padding:4px 8px;text-align:left'>"
            f"<b style='color:#d9534f'>✗ {escape(self.code)}</b>: {escape(self.message)}"
            + (f"<br><i>hint:</i> {escape(self.hint)}" if self.hint else "")
            + "</div>"
        )


class UsageError(MCPOrchError):
    """The caller asked for something that cannot be done as asked."""

    exit_code = 2


class InvalidId(UsageError):
    """An id that is not a lowercase slug (client, profile, server id or name)."""

    default_hint = "ids are lowercase letters, digits, '-' and '_', starting with a letter or digit"


class NotFound(UsageError):
    """An unknown server, client, profile, artifact, key or file."""


class AlreadyExists(UsageError):
    """A name that is already taken."""


class MissingSecret(UsageError):
    """A secret reference whose value is needed but not set in the environment."""


class InvalidConfig(MCPOrchError):
    """A draft, artifact payload or file failed validation; ``report`` has every finding."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        report: Any = None,
        *,
        inputs: Sequence[str] = (),
    ) -> None:
        super().__init__(message, hint, inputs=inputs)
        self.report = report

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        if self.report is not None:
            data["report"] = self.report.to_dict()
        return data


class ParseError(MCPOrchError):
    """A config file or document that does not parse; the file is left as it is."""


class FileError(MCPOrchError):
    """A file or folder that cannot be read or written (permissions, a folder in the way, a
    full disk); ``path`` names it. Nothing else was changed."""

    default_hint = "check the path and its permissions; nothing else was changed"

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        path: str | None = None,
        inputs: Sequence[str] = (),
    ) -> None:
        super().__init__(message, hint, inputs=inputs)
        self.path = path

    @classmethod
    def from_os_error(cls, exc: OSError) -> FileError:
        where = f": {exc.filename}" if exc.filename else ""
        return cls(
            f"{exc.strerror or type(exc).__name__}{where}",
            path=str(exc.filename) if exc.filename else None,
        )


class ConflictError(MCPOrchError):
    """A write would replace an entry that mcp-orch does not manage."""


class FileChanged(ConflictError):
    """Another program changed a file between mcp-orch's read and its write; nothing was
    written (deploy retries on its own before giving up)."""


class IntegrityError(MCPOrchError):
    """Stored bytes that no longer match their digest, or a broken audit chain."""


class SignatureError(IntegrityError):
    """A signature that does not verify, or one made by a key this workspace does not trust."""


class StoreCorrupt(IntegrityError):
    """A file of the workspace itself (a draft, a deployment record, a ref, the audit head) that
    cannot be read back; nothing was changed."""

    default_hint = (
        "restore the file from a backup (or remove it to start that part afresh), then verify "
        "the workspace; nothing was changed"
    )


class KeyringError(MCPOrchError):
    """A signing key that is missing, unreadable, or locked with a passphrase."""


class MissingDependency(MCPOrchError, ImportError):
    """An optional package that a feature needs (altair for ``.chart()``) is not installed;
    also an ``ImportError``, so code that guards optional imports catches it."""

    default_hint = 'install the notebook extra: pip install ".[notebook]" in the mcp-orch checkout'


class InternalError(MCPOrchError):
    """An unexpected exception inside mcp-orch (a bug), wrapped so no front end crashes."""

    default_hint = "this is a bug in mcp-orch: please report it with the steps that led here"

    @classmethod
    def wrap(cls, exc: BaseException) -> InternalError:
        return cls(f"internal error: {type(exc).__name__}: {exc}")
