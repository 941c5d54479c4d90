"""``CatalogBrowser(registry)``: search the catalog, inspect a server, add it to a draft.

    >>> from mcp_orch.frontends.widgets import CatalogBrowser
    >>> browser = CatalogBrowser(mo.Registry(workspace=ws))
    >>> browser                      # in a notebook: the widget
    >>> browser.search.value = "git" # what typing in the search box does

A thin front end, like the CLI: each control calls one operation (``mcp_orch.operations``) and
shows its result; errors are drawn by ``frontends.render.error_html`` with hints naming fields.

================  ===================================================  ============================
control           call (display-only ones marked)                      CLI
================  ===================================================  ============================
search, filters   ``catalog.list_servers(registry, search=, ...)``     ``list-servers``
detail pane       ``Server._repr_html_()`` (display)                   ``describe-server``
entry for client  ``Server.render(client, ...)`` (display)             ``describe-server --client``
Add to draft      ``drafts.add_server(ws, client, profile, id, ...)``  ``add-server``
================  ===================================================  ============================

The search passes ``transport=`` and ``tag=`` too. "Add to draft" passes the form's ``params=,
env=, headers=`` and ``name=, transport=, replace=, registry=`` (this browser's registry); ``ws``
is the registry's workspace (else the default one). The entry pane previews the entry "Add to
draft" would store (``Server.render`` with ``headers=`` too, for this machine's OS).

"Add to draft" is disabled, with the reason beside it, while a required input (``*``) without a
default is empty. After adding, the draft is validated (``drafts.validate_draft``, as
``validate-draft``): a finding about the added server (a placeholder left unfilled, MCP002) is
shown as a problem with the report, not as a plain success. The result appears right under the
button (CSS class ``mco-message``); a success replaces an earlier error. Every DraftEditor and
HistoryView on the same workspace sees the added server at once (the workspace's change signal).

Stable CSS classes for tests and styles: ``mco-search``, ``mco-results``, ``mco-detail``,
``mco-entry``, ``mco-add``, ``mco-required`` (why Add is disabled), ``mco-message``.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from mcp_orch.core.errors import UsageError
from mcp_orch.core.text import plural
from mcp_orch.domain.catalog import CatalogView
from mcp_orch.domain.clients import current_os, get_client, list_clients
from mcp_orch.facade.workspace import Workspace
from mcp_orch.frontends.widgets._common import (
    InputForm,
    Message,
    button,
    checked_html,
    failure_html,
    json_html,
    note_html,
    ok_html,
    style,
)
from mcp_orch.operations import catalog, drafts

if TYPE_CHECKING:
    from mcp_orch.domain.catalog import Server
    from mcp_orch.facade.draft import Draft
    from mcp_orch.facade.registry import Registry

SEARCH_TRANSPORTS = [
    ("any transport", ""),
    ("stdio", "stdio"),
    ("remote (any)", "remote"),
    ("streamable-http", "streamable-http"),
    ("sse", "sse"),
]


def _packages_html(server: Server) -> str:
    rows = []
    for p in server.packages[:20]:
        rows.append(
            f"<li>package: {escape(str(p.get('registryType', '')))} "
            f"<code>{escape(str(p.get('identifier', '')))}</code> "
            f"{escape(str(p.get('version', '')))} (runs with "
            f"{escape(str(p.get('runtimeHint') or p.get('registryType') or '?'))})</li>"
        )
    for r in server.remotes[:20]:
        rows.append(
            f"<li>remote: {escape(str(r.get('type', '')))} "
            f"<code>{escape(str(r.get('url', '')))}</code></li>"
        )
    more = len(server.packages) + len(server.remotes) - len(rows)
    if more > 0:
        rows.append(f"<li>… {more} more</li>")
    return "<ul style='margin:2px 0'>" + "".join(rows) + "</ul>"


class CatalogBrowser(w.VBox):
    """Search box, transport and tag filters, a live result list, a detail pane with the entry a
    chosen client would get, and an "add to draft" form built from the server's inputs."""

    def __init__(
        self, registry: Registry, *, client: str = "claude-desktop", profile: str = "default"
    ) -> None:
        get_client(client)  # an unknown client id: NotFound, with the closest ids as a hint
        self.registry = registry
        self.draft: Draft | None = None  # the draft the last "Add to draft" changed
        self.form: InputForm | None = None
        tags = sorted({t for s in registry.all() for t in s.tags})

        self.search = w.Text(
            placeholder="search: id, title, description, tags",
            continuous_update=True,
            layout=w.Layout(width="50%"),
        )
        self.search.add_class("mco-search")
        self.transport = w.Dropdown(options=SEARCH_TRANSPORTS, value="", description="transport")
        self.tag = w.Dropdown(options=[("any tag", ""), *((t, t) for t in tags)], description="tag")
        # deprecated and deleted registry records are hidden unless asked (list-servers --status)
        self.status = w.Dropdown(
            options=[
                ("active", "active"),
                ("deprecated", "deprecated"),
                ("deleted", "deleted"),
                ("any status", "any"),
            ],
            value="active",
            description="status",
        )
        self.count = w.HTML()
        self.count.add_class("mco-count")
        self.results = w.Select(options=[], rows=16, layout=w.Layout(width="100%"))
        self.results.add_class("mco-results")

        self.detail = w.HTML()
        self.detail.add_class("mco-detail")
        self.client = w.Dropdown(
            options=[(f"{c.name} ({c.id})", c.id) for c in list_clients()],
            value=client,
            description="client",
        )
        self.add_transport = w.Dropdown(options=[("auto", "")], value="", description="transport")
        self.entry = w.HTML()
        self.entry.add_class("mco-entry")
        self.profile = w.Text(value=profile, description="profile")
        self.entry_name = w.Text(placeholder="default: the server id", description="name")
        self.replace = w.Checkbox(value=False, description="replace same name", indent=False)
        self.form_box = w.VBox(layout=w.Layout(width="100%"))
        self.add_button = button(
            "Add to draft", "mco-add", button_style="primary", icon="plus", disabled=True
        )
        self.required = w.HTML()  # why Add is disabled (the form's reason)
        self.add_row = w.HBox([self.replace, self.add_button, self.required])
        self.message = Message()

        pane = w.VBox(
            [
                self.detail,
                w.HBox([self.client, self.add_transport]),
                w.HTML("<b>entry for this client</b>"),
                self.entry,
                w.HTML("<b>add to draft</b>"),
                w.HBox([self.profile, self.entry_name]),
                self.form_box,
                self.add_row,
                self.message,  # right under the button it reports on
            ],
            layout=w.Layout(width="61%", padding="0 0 0 8px"),
        )
        super().__init__(
            [
                style(),
                w.HBox([self.search, self.transport, self.tag, self.status]),
                w.HBox([w.VBox([self.count, self.results], layout=w.Layout(width="37%")), pane]),
            ]
        )
        self.add_class("mco-widget")
        self.add_class("mco-catalog-browser")

        for control in (self.search, self.transport, self.tag, self.status):
            control.observe(lambda _change: self.refresh(), names="value")
        self.results.observe(lambda _change: self._show_server(), names="value")
        self.client.observe(lambda _change: self._render_entry(), names="value")
        self.add_transport.observe(lambda _change: self._build_form(), names="value")
        self.add_button.on_click(self.add)
        self.refresh()

    # -- state -------------------------------------------------------------------------------
    @property
    def view(self) -> list[str]:
        """The ids the result list shows."""
        return [value for _label, value in self.results.options]

    @property
    def selected(self) -> Server | None:
        sid = self.results.value
        if not sid:
            return None
        try:
            return self.registry.get(sid)
        except Exception:
            return None

    def _transport(self) -> str | None:
        return self.add_transport.value or None

    # -- updates -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Run the search again (``catalog.list_servers``) and update the list."""
        try:
            found = catalog.list_servers(
                self.registry,
                search=self.search.value,
                transport=self.transport.value or None,
                tag=self.tag.value or None,
                status=self.status.value,
            ).page
        except Exception as exc:
            self.message.fail(exc)
            found = CatalogView()
        else:
            if self.message.failed:  # a search that works again clears its error
                self.message.clear()
        keep = self.results.value
        options = [
            (f"{s.id} — {s.title}" + ("" if s.status == "active" else f" [{s.status}]"), s.id)
            for s in found
        ]
        self.results.options = options
        ids = [s.id for s in found]
        if keep in ids:
            self.results.value = keep
        self.count.value = f"<b>{len(found)}</b> of {len(self.registry)} servers"
        if self.results.value is None:
            self._show_server()

    def _show_server(self) -> None:
        server = self.selected
        if server is None:
            self.detail.value = "<i>select a server in the list to see its details</i>"
            self.entry.value = ""
            self.form = None
            self.form_box.children = ()
            self.add_transport.options = [("auto", "")]
            self.add_button.disabled = True
            self.add_button.tooltip = "select a server in the list"
            self.required.value = ""
            return
        self.detail.value = server._repr_html_() + _packages_html(server)
        options = [("auto", ""), *((t, t) for t in server.transports)]
        if self.add_transport.options != tuple(options):
            self.add_transport.options = options
        self.add_transport.value = ""
        self._build_form()

    def _build_form(self) -> None:
        server = self.selected
        if server is None:
            return
        self.form = InputForm(server, self._transport())
        self.form.observe(lambda _change: self._render_entry())
        self.form_box.children = (self.form.box,)
        self.required = self.form.reason
        self.add_button.disabled = False
        self.form.bind(self.add_button)
        self.add_row.children = (self.replace, self.add_button, self.required)
        self._render_entry()

    def _render_entry(self) -> None:
        server = self.selected
        if server is None or self.form is None:
            self.entry.value = ""
            return
        try:
            params, env, headers = self.form.values()
            entry = server.render(
                self.client.value,
                params=params,
                env=env,
                headers=headers,
                transport=self._transport(),
                target_os=current_os(),
            )
            self.entry.value = json_html(entry)
        except Exception as exc:
            self.entry.value = failure_html(exc)

    # -- actions -----------------------------------------------------------------------------
    def add(self, _button: Any = None) -> None:
        """Add the selected server to the draft of (client, profile): ``drafts.add_server``."""
        clean = True

        def action() -> str:
            nonlocal clean
            server, form = self.selected, self.form
            if server is None or form is None:
                raise UsageError("select a server first", "pick one in the result list")
            ws = self.registry.workspace or Workspace()  # the registry's, else the default
            params, env, headers = form.values()
            result = drafts.add_server(
                ws,
                self.client.value,
                self.profile.value.strip() or "default",
                server.id,
                params=params,
                env=env,
                headers=headers,
                name=self.entry_name.value.strip() or None,
                transport=self._transport(),
                replace=self.replace.value,
                registry=self.registry,
            )
            moved = form.commit_secrets()
            draft = result.draft
            self.draft = draft
            note = ""
            if moved:
                note = ok_html(
                    f"secrets stored as references; the values you typed for {', '.join(moved)} "
                    "are kept only in this kernel's environment"
                )
            warnings = "".join(note_html(f"warning: {w}") for w in result.warnings)
            done, clean = checked_html(
                ws,
                draft.client.id,
                draft.profile.id,
                result.name,
                f"added {result.name} to the draft of {draft.profile.ref} ({plural(len(draft), 'server')})",
            )
            # a clean add shows the draft; a problem shows the report instead
            return done + warnings + note + (draft._repr_html_() if clean else "")

        if self.message.run(action) and not clean:
            self.message.failed = True  # added, but invalid: an error the next success clears

    def __repr__(self) -> str:
        filters = "".join(
            f", {k}={v!r}"
            for k, v in (("transport", self.transport.value), ("tag", self.tag.value))
            if v
        )
        return (
            f"<CatalogBrowser {len(self.results.options)} of {len(self.registry)} servers for "
            f"{self.search.value!r}{filters}; selected: {self.results.value or '-'}>"
        )
