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
    │   ├── MissingSecret          a secret reference with no value in the environment
    │   └── InvalidPolicy          a policy file that does not parse or names an unknown rule
    ├── InvalidConfig              a draft or file failed validation; carries the report (exit 1)
    │   └── PolicyViolation        a release or file the workspace policy refuses; carries its report
    ├── ParseError                 a client config file or document that does not parse (exit 1)
    ├── FileError                  a file or folder that cannot be read or written (exit 1)
    ├── ConflictError              deploy would overwrite an entry mcp-orch does not manage (exit 1)
    │   ├── FileChanged            another program saved the file while mcp-orch was writing it
    │   └── RemoteConflict         a remote's ref is not an ancestor (push) or descendant (pull)
    ├── IntegrityError             a stored object or the audit chain does not match its digest (exit 1)
    │   ├── SignatureError         a signature does not verify, or its key is not trusted
    │   ├── StoreCorrupt           a workspace file (draft, record, ref, audit head) is damaged
    │   └── HistoryRewritten       the local audit log no longer matches its anchor in a remote
    ├── KeyringError               a signing key is missing, unreadable or locked (exit 1)
    ├── SecretStoreError           the secret store (OS keyring or encrypted file) cannot be used (exit 1)
    ├── RemoteError                an OCI registry is unreachable or answered with an error (exit 1)
    │   └── RemoteAuthError        the registry refused the credentials
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
    "HistoryRewritten",
    "IntegrityError",
    "InternalError",
    "InvalidConfig",
    "InvalidId",
    "InvalidPolicy",
    "KeyringError",
    "MCPOrchError",
    "MissingDependency",
    "MissingSecret",
    "NotFound",
    "ParseError",
    "PolicyViolation",
    "RemoteAuthError",
    "RemoteConflict",
    "RemoteError",
    "SecretStoreError",
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


class InvalidPolicy(UsageError):
    """A policy file that does not parse, has an unknown key or a value of the wrong type
    (``path`` and ``line`` name where, when known); nothing was published or deployed."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        path: str | None = None,
        line: int | None = None,
        inputs: Sequence[str] = (),
    ) -> None:
        super().__init__(message, hint, inputs=inputs)
        self.path = path
        self.line = line


class PolicyViolation(InvalidConfig):
    """The workspace policy refuses a release (at publish or deploy) or a file; ``report`` is
    the :class:`~mcp_orch.services.policy.PolicyReport` with a rule code on every finding."""


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


class RemoteConflict(ConflictError):
    """A remote's ref moved in a way that is not fast-forward: push finds releases there that
    this workspace lacks, or pull finds a release that does not descend from local latest.
    ``diff`` lists the releases on the other side (id, changelog, created, signer)."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        diff: Sequence[dict[str, Any]] = (),
        inputs: Sequence[str] = (),
    ) -> None:
        super().__init__(message, hint, inputs=inputs)
        self.diff = [dict(d) for d in diff]

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "diff": self.diff}


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


class HistoryRewritten(IntegrityError):
    """The audit event a remote's anchor names (seq and hash, signed by this workspace) is no
    longer in the local log as anchored: the shared history was rewritten."""


class RemoteError(MCPOrchError):
    """An OCI registry that cannot be reached, or that answered with an error."""


class RemoteAuthError(RemoteError):
    """The registry refused the credentials (or asked for some and none were given)."""


class KeyringError(MCPOrchError):
    """A signing key that is missing, unreadable, or locked with a passphrase."""


class SecretStoreError(MCPOrchError):
    """The secret store cannot be used: no backend, a locked or damaged encrypted file."""


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
