"""Pieces the three widgets share: the input form built from a server's inputs, the message
area that shows results and errors, and small HTML helpers.

Nothing here decides anything about servers, drafts or releases: the form only collects what the
user typed and hands it to the operation the CLI calls; every rule lives in the library. Errors
are drawn by :func:`mcp_orch.frontends.render.error_html` with the widgets' spelling (hints name
widget fields), like every other front end's.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from mcp_orch.core.errors import InternalError, MCPOrchError
from mcp_orch.domain.secrets import is_reference
from mcp_orch.domain.transport import choose, env_ref
from mcp_orch.frontends.render import WIDGET, as_error
from mcp_orch.frontends.render import error_html as render_error_html

if TYPE_CHECKING:
    from mcp_orch.domain.catalog import Server
    from mcp_orch.services.release.artifact import Deployment

log = logging.getLogger("mcp_orch.widgets")

#: Widget HTML areas inherit the 28px line height of form controls; text reads better tighter.
CSS = (
    "<style>.mco-widget .widget-html-content{line-height:1.4}"
    ".mco-widget .widget-html-content pre{line-height:1.3;margin:0;font-family:monospace}"
    ".mco-widget .widget-html-content code{font-family:monospace}</style>"
)

#: The frame of an error (the one renderer's markup carries no style of its own).
ERROR_STYLE = "border-left:4px solid #c0392b;padding:4px 8px"


def style() -> w.HTML:
    """An invisible child that carries the widgets' CSS (scoped to ``.mco-widget``)."""
    return w.HTML(CSS, layout=w.Layout(height="0px", margin="0"))


def failure_html(exc: BaseException) -> str:
    """An error as the widgets show it: :func:`render.error_html` (kind, message, and a hint
    naming widget fields), then, for a validation failure, the report. An unexpected exception
    (shown as ``InternalError``) is also logged with its traceback."""
    err = as_error(exc)
    if isinstance(err, InternalError):
        log.exception("widget action failed", exc_info=exc)
    out = f"<div style='{ERROR_STYLE}'>{render_error_html(err, WIDGET)}</div>"
    report = getattr(err, "report", None)
    if report is not None:
        out += report._repr_html_()
    return out


def deployment_note(dep: Deployment) -> str:
    """What a deploy replaced by hand, as the CLI's ``deploy-config`` says it ("" if nothing)."""
    if dep.dry_run or not dep.overwritten:
        return ""
    backup = f"the backup {dep.backup} has them" if dep.backup else "the backup has them"
    return note_html(
        f"note: replaced hand edits to {', '.join(dep.overwritten)} "
        f"({backup}; `mcp-orch restore` puts them back)"
    )


def ok_html(text: str) -> str:
    return f"<div style='border-left:4px solid #1e8449;padding:4px 8px'>{escape(text)}</div>"


def note_html(text: str) -> str:
    return f"<div style='border-left:4px solid #b7950b;padding:4px 8px'>{escape(text)}</div>"


def json_html(value: Any, limit: int = 20_000) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    more = ""
    if len(text) > limit:
        more = f"\n… {len(text) - limit} more characters"
        text = text[:limit]
    return f"<pre style='font-size:11px;margin:0;line-height:1.3'>{escape(text + more)}</pre>"


class Message(w.HTML):
    """Where a widget reports what its last action did (or why it could not)."""

    def show(self, html: str) -> None:
        self.value = html

    def run(self, action: Callable[[], str]) -> bool:
        """Run ``action`` (returns HTML to show); show its error instead if it raises."""
        try:
            self.value = action()
            return True
        except Exception as exc:
            self.value = failure_html(exc)
            return False


def secret_ref_name(item: dict[str, Any]) -> str:
    """The environment variable that carries a secret input (``${env:NAME}``)."""
    return env_ref(item["name"])[len("${env:") : -1]


class InputForm:
    """One field per input of the package or remote a server renders for ``transport``.

    Secret inputs are password fields. What is typed there never reaches the draft: the field
    yields a ``${env:NAME}`` reference, and the typed value is put only in this kernel's
    environment (``os.environ[NAME]``) so that a deploy from the same session can resolve it for
    clients that cannot expand variables. A value typed as a reference is kept as it is.
    """

    def __init__(
        self,
        server: Server,
        transport: str | None = None,
        current: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.server = server
        self.transport = transport
        current = current or {}
        self.current = {k: dict(current.get(k) or {}) for k in ("param", "env", "header")}
        try:
            kind, index = choose(server.doc, transport)
            where = f"{kind}[{index}]"
            self.problem = ""
        except MCPOrchError as exc:
            where = ""
            self.problem = exc.message
        self.inputs = [i for i in server.inputs() if i["where"].split(" ", 1)[0] == where]
        known = {(i["kind"], i["name"]) for i in self.inputs}
        for kind in ("param", "env", "header"):  # values the user gave that no input describes
            for name in self.current[kind]:
                if (kind, name) not in known:
                    self.inputs.append(
                        {
                            "kind": kind,
                            "name": name,
                            "required": False,
                            "secret": False,
                            "default": None,
                            "description": "",
                        }
                    )
        self.fields: dict[tuple[str, str], w.Text | w.Password] = {}
        self.fixed: dict[tuple[str, str], Any] = {}  # list or object values: kept, not edited
        rows: list[w.Widget] = []
        for item in self.inputs:
            key = (item["kind"], item["name"])
            now = self.current[item["kind"]].get(item["name"])
            label = f"{item['kind']} {item['name']}{' *' if item['required'] else ''}"
            if isinstance(now, list | dict):
                self.fixed[key] = now
                field: w.Text | w.Password = w.Text(
                    value=json.dumps(now, ensure_ascii=False),
                    description=label,
                    tooltip="set from Python; re-add the server to change it",
                    disabled=True,
                    style={"description_width": "initial"},
                    layout=w.Layout(width="98%"),
                )
            elif item["secret"]:
                ref = now if isinstance(now, str) and is_reference(now) else None
                field = w.Password(
                    placeholder=f"secret: stored as {ref or '${env:' + secret_ref_name(item) + '}'}",
                    description=label,
                    tooltip=item.get("description") or None,
                    style={"description_width": "initial"},
                    layout=w.Layout(width="98%"),
                )
            else:
                default = item.get("default")
                field = w.Text(
                    value="" if now is None else str(now),
                    placeholder=(
                        f"default: {default}" if default is not None else item.get("description")
                    )
                    or "",
                    description=label,
                    tooltip=item.get("description") or None,
                    style={"description_width": "initial"},
                    layout=w.Layout(width="98%"),
                )
            field.add_class(f"mco-input-{item['kind']}")
            self.fields[key] = field
            rows.append(field)
        if self.problem:
            rows.insert(0, w.HTML(f"<i>{escape(self.problem)}</i>"))
        elif not self.inputs:
            rows.append(w.HTML("<i>this server takes no inputs</i>"))
        self.box = w.VBox(rows, layout=w.Layout(width="100%"))

    def field(self, name: str, kind: str | None = None) -> w.Text | w.Password:
        """The field of input ``name`` (give ``kind`` when a name is both a param and an env)."""
        for (k, n), f in self.fields.items():
            if n == name and (kind is None or k == kind):
                return f
        raise KeyError(name)

    def observe(self, callback: Callable[[Any], None]) -> None:
        for f in self.fields.values():
            f.observe(callback, names="value")

    def values(self) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
        """``(params, env, headers)`` as the library takes them; secrets as references."""
        out: dict[str, dict[str, Any]] = {"param": {}, "env": {}, "header": {}}
        by_key = {(i["kind"], i["name"]): i for i in self.inputs}
        for key, f in self.fields.items():
            kind, name = key
            item = by_key[key]
            typed = f.value
            if key in self.fixed:
                out[kind][name] = self.fixed[key]
            elif item["secret"]:
                if not typed:
                    now = self.current[kind].get(name)
                    if now not in (None, ""):
                        out[kind][name] = now
                elif is_reference(typed):
                    out[kind][name] = typed
                else:
                    out[kind][name] = "${env:" + secret_ref_name(item) + "}"
            elif typed != "":
                out[kind][name] = typed
        return out["param"], out["env"], out["header"]

    def commit_secrets(self) -> list[str]:
        """After a successful add or save: move each typed secret into this kernel's
        environment, clear its field, and return the variable names."""
        moved = []
        by_key = {(i["kind"], i["name"]): i for i in self.inputs}
        for key, f in self.fields.items():
            item = by_key[key]
            if item["secret"] and f.value and not is_reference(f.value):
                var = secret_ref_name(item)
                os.environ[var] = f.value
                f.value = ""
                moved.append(var)
        return moved
