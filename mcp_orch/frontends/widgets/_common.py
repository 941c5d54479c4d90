"""Pieces the three widgets share: the input form built from a server's inputs, the message
area that shows results and errors, the link to the workspace's change signal, and small HTML
helpers.

Nothing here decides anything about servers, drafts or releases: the form only collects what the
user typed and hands it to the operation the CLI calls; every rule lives in the library. Errors
are drawn by :func:`mcp_orch.frontends.render.error_html` with the widgets' spelling (hints name
widget fields), like every other front end's.

:class:`Live` keeps a widget in step with its workspace: it subscribes to ``ws.changes`` (see
:mod:`mcp_orch.core.signals`) and refreshes the widget when a change concerns it, once per batch
of changes, never while the widget is in the middle of its own action (it refreshes once when
the action ends), and not at all once the widget is closed.

The colours are mid tones that read on a light and a dark notebook theme alike.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html import escape
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from mcp_orch.core.errors import InternalError, MCPOrchError
from mcp_orch.core.markup import COLOURS, SYMBOLS
from mcp_orch.core.text import plural
from mcp_orch.domain.secrets import is_reference
from mcp_orch.domain.transport import choose, env_ref
from mcp_orch.frontends.render import WIDGET, as_error
from mcp_orch.frontends.render import error_html as render_error_html
from mcp_orch.operations import drafts

if TYPE_CHECKING:
    from mcp_orch.core.signals import Change
    from mcp_orch.domain.catalog import Server
    from mcp_orch.facade.workspace import Workspace
    from mcp_orch.services.release.artifact import Deployment

log = logging.getLogger("mcp_orch.widgets")

#: Widget HTML areas inherit the 28px line height of form controls; text reads better tighter.
CSS = (
    "<style>.mco-widget .widget-html-content{line-height:1.4}"
    ".mco-widget .widget-html-content pre{line-height:1.3;margin:0;font-family:monospace}"
    ".mco-widget .widget-html-content code{font-family:monospace}</style>"
)

#: The library's mid-tone colours (readable on light and dark themes): success, note, error.
OK, NOTE, ERROR = COLOURS["ok"], COLOURS["warning"], COLOURS["error"]

#: The frame of an error (the one renderer's markup carries no style of its own).
ERROR_STYLE = f"border-left:4px solid {ERROR};padding:4px 8px"


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
    """A success line (green frame, ✓)."""
    return _line(OK, SYMBOLS["ok"], text)


def note_html(text: str) -> str:
    """A note or warning line (amber frame, ⚠)."""
    return _line(NOTE, SYMBOLS["warning"], text)


def problem_html(text: str) -> str:
    """A line about something that is wrong but was not refused (red frame, ✗)."""
    return _line(ERROR, SYMBOLS["error"], text)


def _line(colour: str, symbol: str, text: str, *, raw: bool = False) -> str:
    """One framed message line; the symbol says what the colour says (no colour needed)."""
    body = text if raw else escape(text)
    return (
        f"<div style='border-left:4px solid {colour};padding:4px 8px'>"
        f"<span style='color:{colour};font-weight:600'>{symbol}</span> {body}</div>"
    )


def ask_html(text_html: str) -> str:
    """A question that waits for a confirmation (red frame, ⚠); ``text_html`` is markup."""
    return _line(ERROR, SYMBOLS["warning"], text_html, raw=True)


def button(description: str, css: str, **kw: Any) -> w.Button:
    """A button whose label always fits (``width: auto``) with the stable CSS class ``css``
    that browser tests and user styles find it by."""
    b = w.Button(description=description, layout=w.Layout(width="auto"), **kw)
    b.add_class(css)
    return b


def checked_html(
    ws: Workspace, client: str, profile: str, name: str, done: str
) -> tuple[str, bool]:
    """``(html, clean)`` after an add or save of entry ``name``: what ``drafts.validate_draft``
    (the ``validate-draft`` operation) says about that entry. An error (a required input left
    unfilled: MCP002) makes ``done`` a problem, followed by the report, with ``clean`` false;
    else ``done`` is a success, followed by a note for each warning (a command not installed
    here)."""
    report = drafts.validate_draft(ws, client, profile).report
    errors = [f for f in report.errors if f.server == name]
    if errors:
        first = errors[0]
        line = (
            f"{done}, but it is not valid: {plural(len(errors), 'error')} in {name} "
            f"(first: {first.code} {first.message}); fix the fields and save or add it again"
        )
        return problem_html(line) + report._repr_html_(), False
    notes = "".join(
        note_html(f"warning: {f.code} {f.message}") for f in report.warnings if f.server == name
    )
    return ok_html(done) + notes, True


def json_html(value: Any, limit: int = 20_000) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    more = ""
    if len(text) > limit:
        more = f"\n… {len(text) - limit} more characters"
        text = text[:limit]
    return f"<pre style='font-size:11px;margin:0;line-height:1.3'>{escape(text + more)}</pre>"


class Message(w.HTML):
    """Where a widget reports what its last action did (or why it could not); it sits next to
    the buttons whose results it shows (CSS class ``mco-message``)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.failed = False  # whether it shows an error now
        self.add_class("mco-message")

    def show(self, html: str, *, failed: bool = False) -> None:
        self.value = html
        self.failed = failed

    def fail(self, exc: BaseException) -> None:
        self.show(failure_html(exc), failed=True)

    def clear(self) -> None:
        self.show("")

    def run(self, action: Callable[[], str]) -> bool:
        """Run ``action`` (returns HTML to show); show its error instead if it raises."""
        try:
            html = action()
        except Exception as exc:
            self.fail(exc)
            return False
        self.show(html)
        return True


class ConfirmBar(w.HBox):
    """ "Replace hand edits" and "Cancel" (CSS ``mco-confirm``, ``mco-cancel``): shown only
    while a write that would replace hand edits waits for the user's word."""

    def __init__(self, on_confirm: Callable[[Any], Any], on_cancel: Callable[[Any], Any]) -> None:
        self.confirm_button = button(
            "Replace hand edits", "mco-confirm", button_style="danger", icon="check"
        )
        self.cancel_button = button("Cancel", "mco-cancel", icon="times")
        self.confirm_button.on_click(on_confirm)
        self.cancel_button.on_click(on_cancel)
        super().__init__([self.confirm_button, self.cancel_button])
        self.add_class("mco-confirm-bar")
        self.hide()

    @property
    def shown(self) -> bool:
        return self.layout.display != "none"

    def show(self) -> None:
        self.layout.display = "flex"

    def hide(self) -> None:
        self.layout.display = "none"


class Live:
    """Mixin for a widget that follows its workspace's change signal (see the module's doc).

    The widget calls :meth:`_follow` at the end of its ``__init__``, implements
    :meth:`_concerns` (which changes it shows) and :meth:`refresh`, wraps its actions in
    :meth:`_acting`, and lists its message areas in ``_messages`` so that a success clears the
    errors shown by earlier actions."""

    _messages: tuple[Message, ...] = ()
    _busy = 0  # actions running (nested: an action may call another)
    _stale = False  # a change arrived while busy or refreshing: refresh once afterwards
    _refreshing = False
    _closed = False
    _last_batch = -1
    #: How often a change refreshed this widget (not counting its own refresh() calls).
    refreshes = 0

    def _follow(self, ws: Workspace) -> None:
        # a bound method: the signal holds it weakly, and close() unsubscribes it
        self._unsubscribe = ws.changes.subscribe(self._on_change)

    def _concerns(self, change: Change) -> bool:
        raise NotImplementedError

    def refresh(self) -> Any:
        raise NotImplementedError

    def _changed_elsewhere(self, change: Change) -> None:
        """Hook: a change this widget did not make arrived (before the refresh)."""

    def _on_change(self, change: Change) -> None:
        if self._closed or not self._concerns(change):
            return
        if self._busy or self._refreshing:  # our own action, or a read that wrote: once after
            self._stale = True
            return
        if change.batch == self._last_batch:  # one refresh per batch (a publish is two changes)
            return
        self._last_batch = change.batch
        self._changed_elsewhere(change)
        self._do_refresh()

    def _do_refresh(self) -> None:
        self._refreshing = True
        try:
            self.refreshes += 1
            self.refresh()
        finally:
            self._refreshing = False
            self._stale = False

    @contextmanager
    def _acting(self) -> Iterator[None]:
        """Around an action: changes it causes refresh the widget once, when it ends."""
        self._busy += 1
        try:
            yield
        finally:
            self._busy -= 1
            if not self._busy and self._stale and not self._closed:
                self._do_refresh()

    def _run(self, message: Message, action: Callable[[], str]) -> bool:
        """``message.run(action)`` inside :meth:`_acting`; a success clears the errors that
        earlier actions left in the widget's other message areas."""
        with self._acting():
            done = message.run(action)
        if done:
            for other in self._message_areas():
                if other is not message and other.failed:
                    other.clear()
        return done

    def _message_areas(self) -> tuple[Message, ...]:
        return self._messages

    def close(self) -> None:
        """Stop following the workspace, then close the widget."""
        self._closed = True
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()
        super().close()  # type: ignore[misc]


def secret_ref_name(item: dict[str, Any]) -> str:
    """The environment variable that carries a secret input (``${env:NAME}``)."""
    return env_ref(item["name"])[len("${env:") : -1]


class InputForm:
    """One field per input of the package or remote a server renders for ``transport``.

    Secret inputs are password fields. What is typed there never reaches the draft: the field
    yields a ``${env:NAME}`` reference, and the typed value is put only in this kernel's
    environment (``os.environ[NAME]``) so that a deploy from the same session can resolve it for
    clients that cannot expand variables. A value typed as a reference is kept as it is.

    Required inputs (marked ``*``) without a default must be filled: :meth:`bind` keeps the
    Add or Save button disabled while one is empty, and :attr:`reason` (CSS class
    ``mco-required``, placed by the widget next to that button) says which.
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
        self.reason = w.HTML()
        self.reason.add_class("mco-required")
        self._buttons: list[w.Button] = []
        self.observe(lambda _change: self._update_buttons())

    def missing(self) -> list[str]:
        """The required inputs without a default that have no value yet (``kind name``)."""
        out = []
        for item in self.inputs:
            key = (item["kind"], item["name"])
            if not item["required"] or item.get("default") is not None or key in self.fixed:
                continue
            if self.fields[key].value.strip():
                continue
            if item["secret"] and self.current[item["kind"]].get(item["name"]) not in (None, ""):
                continue  # a secret already stored as a reference: left empty, it is kept
            out.append(f"{item['kind']} {item['name']}")
        return out

    def bind(self, button: w.Button) -> None:
        """Keep ``button`` disabled, with :attr:`reason` saying why, while :meth:`missing`
        names an input (or the server cannot be rendered for the transport)."""
        self._buttons.append(button)
        self._update_buttons()

    def _update_buttons(self) -> None:
        missing = self.missing()
        if self.problem:
            why = self.problem
        elif missing:
            why = "fill in the required " + ", ".join(missing)
        else:
            why = ""
        self.reason.value = f"<span style='color:{ERROR}'>{escape(why)}</span>" if why else ""
        for b in self._buttons:
            b.disabled = bool(why)
            b.tooltip = why or None

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
