"""HTML for notebook displays: one stylesheet, escaped tables, and displays that never raise.

>>> from mcp_orch.core.markup import html_table, safe_html
>>> html_table(["id", "title"], [("time", "Time")], limit=50)
>>> safe_html(lambda: render(obj), obj)      # on any failure: an escaped repr, logged
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from html import escape
from typing import Any

STYLE = (
    "<style>.mco table{border-collapse:collapse;font-size:12px}"
    ".mco th,.mco td{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}"
    ".mco th{background:#f4f4f4}.mco .err{color:#c0392b}.mco .warn{color:#b9770e}"
    ".mco .sug{color:#2471a3}.mco .add{color:#1e8449}.mco .del{color:#c0392b}"
    ".mco .mod{color:#b9770e}.mco code{font-size:11px}</style>"
)


def html_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], limit: int = 50, title: str = ""
) -> str:
    rows = list(rows)
    shown = rows[:limit]
    out = [STYLE, "<div class='mco'>"]
    if title:
        out.append(f"<b>{escape(title)}</b>")
    out.append("<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr>")
    for row in shown:
        out.append("<tr>" + "".join(f"<td>{escape(_cell(c))}</td>" for c in row) + "</tr>")
    out.append("</table>")
    if len(rows) > limit:
        out.append(f"<i>… {len(rows) - limit} more (showing {limit} of {len(rows)})</i>")
    out.append("</div>")
    return "".join(out)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


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
