"""HTML for notebook displays: one theme-following stylesheet, escaped tables, coloured diffs,
severity badges, and displays that never raise.

>>> from mcp_orch.core.markup import badge, diff_html, html_table, page, plural, safe_html
>>> html_table(["id", "title"], [("time", "Time")], limit=50)
>>> diff_html(deployment.diff_text)           # unified diff -> coloured <pre>
>>> badge("error"), plural(1, "server")       # '✗ error' in red; '1 server'
>>> safe_html(lambda: render(obj), obj)      # on any failure: an escaped repr, logged

Every display must read well in a light and a dark notebook theme, and keep its meaning when
the notebook is opened untrusted (JupyterLab then strips ``<style>`` blocks but keeps ``style``
attributes):

- the stylesheet takes its colours from the theme: JupyterLab's ``--jp-*`` variables, else VS
  Code's ``--vscode-*`` ones, else ``inherit`` / ``currentColor`` / translucent greys that work
  on any background (classic Notebook, Colab);
- what carries meaning is also written inline, in plain colours (no variables: a sanitiser keeps
  hex and ``rgba()``): cell alignment and borders, severity and diff-line colours; and every
  colour has a symbol next to it (✗ error, ⚠ warning, ✓ ok, ``+`` / ``-`` / ``~`` diff lines),
  so nothing depends on colour or on the stylesheet alone.

The colours are mid-tones with a contrast of at least 3:1 on white and on ``#111``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from html import escape
from typing import Any

from mcp_orch.core.text import plural

__all__ = [
    "COLOURS",
    "STYLE",
    "Raw",
    "badge",
    "diff_block",
    "diff_html",
    "diff_line",
    "html_table",
    "page",
    "plural",
    "safe_html",
    "status",
    "styled",
]

#: Readable on light and dark backgrounds (contrast >= 3:1 against white and #111).
COLOURS = {
    "error": "#d9534f",
    "warning": "#b88300",
    "ok": "#2e9e4f",
    "suggestion": "#3b82c4",
    "info": "#3b82c4",
    "add": "#2e9e4f",
    "del": "#d9534f",
    "mod": "#b88300",
    "hunk": "#3b82c4",
    "muted": "#888888",
}
#: The symbol that says what a colour says.
SYMBOLS = {
    "error": "✗",
    "failed": "✗",
    "warning": "⚠",
    "ok": "✓",
    "suggestion": "ℹ",
    "info": "ℹ",
}
_TINT = {  # translucent line backgrounds: a tint on any theme
    "add": "rgba(46,158,79,.14)",
    "del": "rgba(217,83,79,.14)",
    "mod": "rgba(184,131,0,.14)",
    "hunk": "rgba(59,130,196,.10)",
}

_FG = "var(--jp-ui-font-color1,var(--vscode-editor-foreground,inherit))"
_MUTED = "var(--jp-ui-font-color2,var(--vscode-descriptionForeground,inherit))"
_HEAD_BG = "var(--jp-layout-color2,var(--vscode-editorWidget-background,rgba(127,127,127,.15)))"
_BORDER = "var(--jp-border-color2,var(--vscode-editorWidget-border,rgba(127,127,127,.35)))"
_CODE_BG = "var(--jp-layout-color1,var(--vscode-textCodeBlock-background,rgba(127,127,127,.08)))"
#: ``div.mco table.mco-t td`` (0,2,3) outranks JupyterLab's right alignment,
#: ``:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td`` (0,2,1).
_CELL = "div.mco table.mco-t"

# the class names the stylesheet colours (kept for displays written against the old sheet)
_CLASSES = {"err": "error", "warn": "warning", "ok": "ok", "sug": "suggestion", "add": "add"}
_CLASSES |= {"del": "del", "mod": "mod"}

STYLE = (
    "<style>"
    f".mco{{color:{_FG}}}"
    f"{_CELL}{{border-collapse:collapse;font-size:12px;color:inherit;margin:2px 0}}"
    f"{_CELL} th,{_CELL} td{{border:1px solid {_BORDER};padding:2px 6px;text-align:left;"
    "vertical-align:top;white-space:normal;color:inherit}"
    f"{_CELL} th{{background:{_HEAD_BG};color:{_FG};font-weight:600}}"
    f".mco .mco-muted{{color:{_MUTED}}}"
    ".mco code{font-size:11px}"
    f".mco pre.mco-diff{{background:{_CODE_BG};color:{_FG};padding:4px 0;margin:4px 0;"
    "font-size:11px;line-height:1.35;overflow-x:auto;text-align:left}"
    ".mco pre.mco-diff>span{display:block;padding:0 6px;white-space:pre}"
    + "".join(f".mco .{k}{{color:{COLOURS[v]}}}" for k, v in _CLASSES.items())
    + "</style>"
)

#: Inline on every cell: alignment and borders survive a stripped stylesheet.
CELL_STYLE = "text-align:left;border:1px solid rgba(127,127,127,.35);padding:2px 6px"
HEAD_STYLE = CELL_STYLE + ";font-weight:600;border-bottom:2px solid rgba(127,127,127,.6)"


class Raw(str):
    """Markup a display built itself (a badge, a link): a table cell shows it unescaped."""

    __slots__ = ()


def styled(text: str, kind: str, *, bold: bool = False) -> Raw:
    """``text`` (escaped) in the colour of ``kind`` (a key of :data:`COLOURS`), inline."""
    weight = ";font-weight:600" if bold else ""
    klass = {v: k for k, v in _CLASSES.items()}.get(kind, kind)
    return Raw(f"<span class='{klass}' style='color:{COLOURS[kind]}{weight}'>{escape(text)}</span>")


def badge(severity: str, text: str | None = None) -> Raw:
    """``✗ error``, ``⚠ warning``, ``ℹ suggestion``, ``✓ ok`` in their colours (inline), with
    ``text`` instead of the severity's name when given."""
    key = severity.lower()
    kind = "error" if key == "failed" else key if key in COLOURS else "muted"
    symbol = SYMBOLS.get(key, "•")
    return styled(f"{symbol} {text if text is not None else severity}", kind, bold=True)


def status(ok: bool, text: str) -> Raw:
    """A verdict line's head: ``✓ text`` in green, or ``✗ text`` in red."""
    return badge("ok" if ok else "error", text)


def page(*parts: str, title: str = "") -> str:
    """The stylesheet plus one ``mco`` block holding ``parts`` (already markup), with an
    optional bold (escaped) ``title`` line."""
    head = f"<div><b>{escape(title)}</b></div>" if title else ""
    body = "".join(parts).replace(STYLE, "")  # the tables' own copies: one is enough
    return f"{STYLE}<div class='mco'>{head}{body}</div>"


def html_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], limit: int = 50, title: str = ""
) -> str:
    """An escaped table (cells of type :class:`Raw` are markup), at most ``limit`` rows; the
    stylesheet comes with it."""
    rows = list(rows)
    shown = rows[:limit]
    out = [STYLE, "<div class='mco'>"]
    if title:
        out.append(f"<b>{escape(title)}</b>")
    out.append(
        "<table class='mco-t' style='border-collapse:collapse'><thead><tr>"
        + "".join(f"<th style='{HEAD_STYLE}'>{escape(h)}</th>" for h in headers)
        + "</tr></thead><tbody>"
    )
    for row in shown:
        out.append(
            "<tr>" + "".join(f"<td style='{CELL_STYLE}'>{_cell(c)}</td>" for c in row) + "</tr>"
        )
    out.append("</tbody></table>")
    if len(rows) > limit:
        out.append(f"<i>… {len(rows) - limit} more (showing {limit} of {len(rows)})</i>")
    out.append("</div>")
    return "".join(out)


def _cell(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return escape(", ".join(str(v) for v in value))
    if isinstance(value, dict):
        return escape(json.dumps(value, ensure_ascii=False))
    return escape(str(value))


def _line_kind(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "add"
    if line.startswith("-"):
        return "del"
    if line.startswith("~"):
        return "mod"
    return ""


def diff_line(line: str, kind: str | None = None) -> str:
    """One diff line as a block ``<span>`` with its colour and tint inline (``kind``: ``add``,
    ``del``, ``mod``, ``hunk``, ``file``; by default read from the line's first character)."""
    kind = _line_kind(line) if kind is None else kind
    if kind in _TINT:
        style = f"display:block;color:{COLOURS[kind]};background-color:{_TINT[kind]}"
        return f"<span class='{kind}' style='{style}'>{escape(line)}</span>"
    if kind == "file":
        return f"<span style='display:block;font-weight:600'>{escape(line)}</span>"
    return f"<span style='display:block'>{escape(line)}</span>"


def diff_html(lines: str | Iterable[str], *, limit: int = 400) -> str:
    """Unified-diff text (or its lines) as a ``<pre>`` whose lines carry their own colour and
    background tint: ``+`` green, ``-`` red, ``~`` amber, ``@@`` blue. At most ``limit`` lines,
    then how many more. An empty diff is an empty string."""
    items = lines.splitlines() if isinstance(lines, str) else list(lines)
    if not items:
        return ""
    body = [diff_line(line) for line in items[:limit]]
    if len(items) > limit:
        body.append(diff_line(f"… {plural(len(items) - limit, 'more line')}", "file"))
    return diff_block(body)


def diff_block(lines: Iterable[str]) -> str:
    """Lines already rendered by :func:`diff_line` in the diff ``<pre>``."""
    style = (
        "text-align:left;padding:4px 0;margin:4px 0;font-size:11px;line-height:1.35;"
        "overflow-x:auto;border:1px solid rgba(127,127,127,.35)"
    )
    return f"<pre class='mco-diff' style='{style}'>{''.join(lines)}</pre>"


def safe_html(render: Callable[[], str], obj: object) -> str:
    """Call a renderer; on any failure log it and fall back to an escaped repr (never raise)."""
    try:
        return render()
    except Exception:  # a display must never raise
        import logging  # only on the failure path

        logging.getLogger("mcp_orch").exception("HTML display of %s failed", type(obj).__name__)
        try:
            return f"<pre>{escape(repr(obj))}</pre>"
        except Exception:
            return "<pre>(unprintable)</pre>"
