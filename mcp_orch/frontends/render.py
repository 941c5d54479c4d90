"""The one renderer of the front ends: errors and tables, as text, JSON and HTML.

    >>> from mcp_orch.frontends.render import error_lines, error_document, table, CLI
    >>> error_lines(exc, CLI)          # ['error: …', <the report>, 'hint: … (--replace, --name)']
    >>> error_document(exc)            # {'ok': False, 'error': 'AlreadyExists', 'message': …}
    >>> table(["id", "title"], rows)   # a plain-text table that fits the terminal

An error's hint is written in terms of the concept; ``exc.inputs`` names the inputs it is about.
Each front end has a :class:`Spelling` that turns those names into its own vocabulary: the CLI's
flags, the MCP server's tool arguments, the notebook widgets' field labels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from mcp_orch.core.errors import FileError, InternalError, MCPOrchError


class Spelling:
    """How one front end names the inputs an error's hint is about."""

    __slots__ = ("name", "renames", "spell")

    def __init__(
        self, name: str, spell: Callable[[str], str], renames: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.spell = spell
        self.renames = dict(renames or {})

    def __call__(self, inputs: Sequence[str]) -> str:
        words = [self.renames.get(i, self.spell(i)) for i in inputs]
        return ", ".join(dict.fromkeys(w for w in words if w))


#: CLI flags: ``replace`` -> ``--replace``, ``artifact_id`` -> ``--artifact-id``.
CLI = Spelling(
    "cli",
    lambda i: "--" + i.replace("_", "-"),
    {"params": "--param", "headers": "--header", "paths": "PATH...", "document": "FILE"},
)
#: MCP tool arguments, as the tools name them.
MCP = Spelling(
    "mcp",
    lambda i: i,
    {"client": "client_id", "profile": "profile_id", "name": "server_name", "env": "env_vars"},
)
#: The pytest plugin's options (``--mcp-client``; the ini file has ``mcp_client``).
PYTEST = Spelling("pytest", lambda i: "--mcp-" + i.replace("_", "-"))
#: Notebook widget fields.
WIDGET = Spelling("widget", lambda i: i.replace("_", " "))


def spelled_hint(exc: MCPOrchError, spelling: Spelling) -> str:
    """The hint with the inputs it names spelled for one front end."""
    if not exc.inputs:
        return exc.hint
    words = spelling(exc.inputs)
    label = {"mcp": "tool arguments: ", "widget": "fields: "}.get(spelling.name, "")
    return f"{exc.hint} ({label}{words})" if exc.hint else f"({label}{words})"


def as_error(exc: BaseException) -> MCPOrchError:
    """Any exception as a typed mcp-orch error (unexpected ones as :class:`InternalError`)."""
    if isinstance(exc, MCPOrchError):
        return exc
    if isinstance(exc, OSError):
        return FileError.from_os_error(exc)
    if isinstance(exc, UnicodeDecodeError):
        return FileError(f"a file is not UTF-8 text ({exc.reason})", "save it as UTF-8")
    return InternalError.wrap(exc)


def error_lines(exc: MCPOrchError, spelling: Spelling) -> list[str]:
    """``error: …``, the validation report (if any), ``hint: …``."""
    lines = [f"error: {exc.message}"]
    report = getattr(exc, "report", None)
    if report is not None:
        # the hint ends the message: a finding's line that says the same is left out
        same = f"hint: {exc.hint}" if exc.hint else None
        lines += [line for line in str(report).splitlines() if line.strip() != same]
    hint = spelled_hint(exc, spelling)
    if hint:
        lines.append(f"hint: {hint}")
    return lines


def error_document(exc: MCPOrchError) -> dict[str, Any]:
    """The JSON form of a failure: ``{"ok": false, "error", "message", "hint", ...}``."""
    return {"ok": False, **exc.to_dict()}


def error_html(exc: BaseException, spelling: Spelling = WIDGET) -> str:
    """An error for a notebook widget: kind, message and hint (escaped)."""
    err = as_error(exc)
    hint = spelled_hint(err, spelling)
    return (
        f"<div class='mco-err'><b>{escape(err.code)}</b>: {escape(err.message)}"
        + (f"<br><i>hint:</i> {escape(hint)}" if hint else "")
        + "</div>"
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int = 60) -> str:
    """A plain-text table: upper-case headers, cells cut at ``max_width`` with an ellipsis."""

    def cell(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, list | tuple):
            v = ", ".join(str(x) for x in v)
        s = str(v).replace("\n", " ")
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    body = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for r in body:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    if not rows:
        lines.append("(none)")
    return "\n".join(lines)
