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

import os
import shutil
import sys
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
    {
        "params": "--param",
        "headers": "--header",
        "paths": "PATH...",
        "document": "FILE",
        "command": "-- COMMAND",
        "args": "-- COMMAND ARGS...",
    },
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


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 server``, ``2 servers`` (``many``: an irregular plural, ``1 entry``/``2 entries``)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


#: A terminal's width when it cannot be asked.
TERMINAL_WIDTH = 100
#: Width of piped output when ``COLUMNS`` is unset: unlimited, so a pipe to grep or a file
#: keeps whole cells (nothing is cut that the reader cannot scroll to).
PIPE_WIDTH = 1_000_000


def terminal_width(stream: Any = None) -> int:
    """Columns to draw in: ``COLUMNS`` if set, else the terminal's width on a TTY, else
    :data:`PIPE_WIDTH` (piped output is never cut: one whole row per line)."""
    cols = os.environ.get("COLUMNS", "").strip()
    if cols.isdigit() and int(cols) > 0:
        return int(cols)
    if is_terminal(sys.stdout if stream is None else stream):
        return shutil.get_terminal_size((TERMINAL_WIDTH, 24)).columns
    return PIPE_WIDTH


def colour_enabled(stream: Any = None) -> bool:
    """Whether to colour what goes to ``stream`` (default: stdout): never when ``NO_COLOR`` is
    set to anything (https://no-color.org), always when ``FORCE_COLOR`` is (and not ``0``),
    else only on a terminal that is not ``TERM=dumb``."""
    if os.environ.get("NO_COLOR"):
        return False
    force = os.environ.get("FORCE_COLOR")
    if force:
        return force != "0"
    if os.environ.get("TERM") == "dumb":
        return False
    return is_terminal(sys.stdout if stream is None else stream)


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is a terminal (a closed or odd stream is not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _fit(widths: list[int], floors: list[int], limit: int) -> list[int]:
    """Column widths within ``limit`` (two spaces between columns): the widest column gives up
    room first, down to the next widest, then both, and so on (a description or a path is cut
    before a title is); no column goes below its floor."""
    out = list(widths)
    excess = sum(out) + 2 * (len(out) - 1) - limit
    while excess > 0:
        room = [i for i, (w, f) in enumerate(zip(out, floors, strict=True)) if w > f]
        if not room:
            break
        top = max(out[i] for i in room)
        widest = [i for i in room if out[i] == top]
        below = max([out[i] for i in room if out[i] < top] + [max(floors[i] for i in widest)])
        step = min(top - below, max(excess // len(widest), 1)) or 1
        for i in widest:
            if excess <= 0:
                break
            out[i] -= min(step, excess)
            excess -= min(step, excess)
    return out


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list | tuple):
        v = ", ".join(str(x) for x in v)
    return str(v).replace("\n", " ")


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    max_width: int | None = None,
    *,
    width: int | None = None,
    keep: Sequence[int] = (0,),
    colour: bool | None = None,
) -> str:
    """A table sized to ``width`` columns (default: :func:`terminal_width`): upper-case
    headers; when the rows do not fit, the widest column shrinks first (see :func:`_fit`) and
    cells are cut with "…" (``keep``: the columns never cut, the ids; ``max_width`` caps every
    other cell). With ``colour`` (default: :func:`colour_enabled`), drawn by rich for a
    terminal: bold headers, the widest column wrapped instead of cut."""
    limit = terminal_width() if width is None else width
    body = [[_cell(v) for v in row] for row in rows]
    if max_width is not None:
        body = [
            [
                c if i in keep or len(c) <= max_width else c[: max_width - 1] + "…"
                for i, c in enumerate(r)
            ]
            for r in body
        ]
    if colour if colour is not None else colour_enabled():
        return _rich_table(headers, body, min(limit, 4 * TERMINAL_WIDTH), keep)
    natural = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    floors = [
        natural[i] if i in keep else min(natural[i], max(len(h), 6)) for i, h in enumerate(headers)
    ]
    widths = _fit(natural, floors, limit)

    def cut(c: str, w: int) -> str:
        return c if len(c) <= w else c[: max(w - 1, 0)] + "…"

    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for r in body:
        lines.append("  ".join(cut(c, w).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    if not rows:
        lines.append("(none)")
    return "\n".join(lines)


def _rich_table(
    headers: Sequence[str], body: list[list[str]], limit: int, keep: Sequence[int]
) -> str:
    # rich only here, when a terminal gets colour: it measures wide characters and wraps words
    import io

    from rich.console import Console
    from rich.table import Table

    natural = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    widest = max(
        (i for i in range(len(headers)) if i not in keep), key=lambda i: natural[i], default=-1
    )
    grid = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold", expand=False)
    for i, h in enumerate(headers):
        if i in keep:
            grid.add_column(h.upper(), no_wrap=True, min_width=natural[i])
        elif i == widest:
            grid.add_column(h.upper(), overflow="fold", ratio=None)
        else:
            grid.add_column(h.upper(), no_wrap=True, overflow="ellipsis")
    for r in body:
        grid.add_row(*r)
    out = io.StringIO()
    console = Console(
        file=out, width=limit, force_terminal=True, color_system="standard", highlight=False
    )
    console.print(grid)
    if not body:
        console.print("(none)", style="dim")
    return "\n".join(line.rstrip() for line in out.getvalue().rstrip("\n").splitlines())


#: Styles of :func:`paint` as ANSI SGR codes.
STYLES = {
    "error": "31",
    "warning": "33",
    "hint": "36",
    "dim": "2",
    "ok": "32",
    "bold": "1",
    "add": "32",
    "remove": "31",
    "hunk": "36",
}


def paint(text: str, style: str) -> str:
    """``text`` in one of :data:`STYLES` (ANSI; the caller decides whether to colour)."""
    return f"\x1b[{STYLES[style]}m{text}\x1b[0m" if text else text


_OK_VERBS = (
    "added ",
    "published ",
    "deployed ",
    "removed ",
    "restored ",
    "created ",
    "trusted ",
    "revoked ",
    "rotated",
    "imported ",
    "latest is now ",
)


def colour_line(line: str, *, diff: bool = False) -> str:
    """One output line coloured by what it says: errors red, warnings and notes yellow, hints
    cyan, successes green; with ``diff``, ``+`` lines green, ``-`` red and ``@@`` cyan."""
    if "\x1b[" in line:  # drawn already (a rich table)
        return line
    bare = line.lstrip()
    if diff:
        if bare.startswith(("+++ ", "--- ")):
            return paint(line, "bold")
        if bare.startswith("@@"):
            return paint(line, "hunk")
        if line.startswith("+"):
            return paint(line, "add")
        if line.startswith("-"):
            return paint(line, "remove")
        if bare.startswith(("added ", "+ ")):  # a drift or set diff: entries added, removed
            return paint(line, "add")
        if bare.startswith(("removed ", "- ")):
            return paint(line, "remove")
        if bare.startswith(("edited ", "~ ")):
            return paint(line, "warning")
    if bare.startswith(("error:", "error ", "FAILED")) or ": FAILED" in line:
        return paint(line, "error")
    if bare.startswith(("warning:", "warning ", "note:", "unchanged:")):
        return paint(line, "warning")
    if bare.startswith("hint:"):
        return paint(line, "hint")
    if line.startswith(_OK_VERBS):
        verb, sep, rest = line.partition(" ")
        return paint(verb, "ok") + sep + rest
    if line.endswith(": ok") or ": ok:" in line or ": ok " in line:
        return paint(line, "ok")
    return line


def colour_text(text: str, *, diff: bool = False) -> str:
    """Every line of ``text`` through :func:`colour_line`."""
    return "\n".join(colour_line(line, diff=diff) for line in text.split("\n"))
