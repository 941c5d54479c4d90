"""``DraftEditor(draft)``: edit a draft's servers, validate, publish, preview and deploy.

    >>> from mcp_orch.frontends.widgets import DraftEditor
    >>> editor = DraftEditor(ws.profile("cursor").draft)
    >>> editor.rows["time"].form.field("timezone").value = "Europe/Paris"
    >>> editor.rows["time"].save_button.click()

A thin front end, like the CLI: each button calls one operation (``mcp_orch.operations``) and
shows its result; errors are drawn by ``frontends.render.error_html`` with hints naming fields.
Below, ``...`` stands for the draft's ``ws, client, profile``.

===============  =====================================================  ===========================
control          operation                                              CLI
===============  =====================================================  ===========================
Save (a server)  ``drafts.add_server(..., name=, replace=True)``        ``add-server --replace``
Remove           ``drafts.remove_server(..., name)``                    ``remove-server``
Validate         ``drafts.validate_draft(...)``                         ``validate-draft``
pin, pin tools   ``pins.settings(..., pin=, pin_tools=)``               ``profile-settings``
Outdated         ``pins.outdated(...)``                                 ``outdated``
Upgrade          ``pins.upgrade(...)`` (every outdated server)          ``upgrade``
Publish          ``releases.publish(..., changelog=, pin_tools=)``      ``publish-config``
Preview deploy   ``releases.deploy(..., path=, adopt=, dry_run=True)``  ``deploy-config --dry-run``
Deploy           ``releases.deploy(..., artifact_id=, path=, adopt=)``  ``deploy-config``
Reload           reads ``Draft.records``, ``settings`` and the refs     ``show-draft``
===============  =====================================================  ===========================

Deploy is enabled only after a preview, and only for the artifact, path and adopt setting that
were previewed: you always see the diff against the real file before anything is written. Like
``deploy-config``, it notes the managed entries whose hand edits it replaced. The server rows and
the title (the draft's records, ``latest`` and ``deployed``) are read from the draft itself.

The *pin* dropdown and the *pin tools* checkbox show the profile's settings; changing one stores
it (servers added afterwards are written at the new mode; entries already in the draft keep their
pins until they are added again or upgraded). *Outdated* shows the registries' newest versions as
a table, *Upgrade* puts them into the draft (the rows then show the new pins; publish to release
them). *Publish* passes the *pin tools* box as ``pin_tools=`` and shows the lock's summary (how
many packages it resolved, and why the first unresolved one is not) with the artifact.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from mcp_orch.core.errors import NotFound, UsageError
from mcp_orch.core.ids import short_id
from mcp_orch.domain.pins import PIN_MODES
from mcp_orch.domain.secrets import mask_secrets
from mcp_orch.frontends.widgets._common import (
    InputForm,
    Message,
    deployment_note,
    failure_html,
    json_html,
    note_html,
    ok_html,
    style,
)
from mcp_orch.operations import drafts, pins, releases

if TYPE_CHECKING:
    from mcp_orch.domain.catalog import Server
    from mcp_orch.facade.artifact import Artifact
    from mcp_orch.facade.draft import Draft
    from mcp_orch.facade.workspace import Workspace
    from mcp_orch.services.release.artifact import Deployment


def lock_summary(art: Artifact) -> str:
    """One line on what a release pins, as ``publish-config`` says it: the lock's resolved and
    unresolved packages (with the first unresolved one's reason) and the tool pins."""
    lock = art.lock or {}
    if not lock:
        text = "lock: no registry packages"
    else:
        unresolved = [(n, r) for n, r in lock.items() if r.get("status") != "resolved"]
        text = f"lock: {len(lock) - len(unresolved)} resolved, {len(unresolved)} unresolved"
        if unresolved:
            name, row = unresolved[0]
            text += f" ({name}: {row.get('reason') or 'no reason given'})"
    if art.tools is not None:
        text += f"; tools pinned for {len(art.tools)} server(s)"
    return text


def lines_html(text: str, ok: bool = True) -> str:
    """A report of several lines (``str()`` of an operation's report) in one message box."""
    colour = "#1e8449" if ok else "#b7950b"
    body = "<br>".join(escape(line) for line in text.splitlines())
    return f"<div style='border-left:4px solid {colour};padding:4px 8px'>{body}</div>"


class ServerRow:
    """One server of the draft: its fields (for catalog servers), Save and Remove."""

    def __init__(self, editor: DraftEditor, name: str, record: dict[str, Any]) -> None:
        self.editor = editor
        self.name = name
        self.record = record
        self.server: Server | None = None
        self.form: InputForm | None = None
        self.save_button: w.Button | None = None
        if record.get("catalog_id"):
            try:
                self.server = editor.draft.profile.workspace.registry().get(record["catalog_id"])
            except NotFound:
                self.server = None
        self.remove_button = w.Button(description="Remove", button_style="danger", icon="trash")
        self.remove_button.on_click(lambda _b: editor.remove(name))
        parts: list[w.Widget] = []
        origin = record.get("origin", "")
        head = f"<b>{escape(name)}</b> <i>{escape(origin)}</i>"
        if self.server is not None:
            head += f" · catalog <code>{escape(self.server.id)}</code>"
            self.form = InputForm(
                self.server,
                record.get("transport"),
                current={
                    "param": record.get("params") or {},
                    "env": record.get("env") or {},
                    "header": record.get("headers") or {},
                },
            )
            self.save_button = w.Button(description="Save", icon="check")
            self.save_button.on_click(lambda _b: editor.save(name))
            parts.append(self.form.box)
        else:
            parts.append(
                w.HTML(
                    "<i>a native entry (from a file or an artifact): remove it, or add the "
                    "server again from the catalog to edit its inputs</i>"
                )
            )
        parts.append(w.HTML(json_html(mask_secrets(record.get("entry")))))  # shown masked
        buttons = [b for b in (self.save_button, self.remove_button) if b is not None]
        self.box = w.VBox(
            [w.HTML(head), *parts, w.HBox(buttons)],
            layout=w.Layout(border="1px solid #ddd", padding="4px", margin="2px 0", width="100%"),
        )
        self.box.add_class("mco-draft-server")


class DraftEditor(w.VBox):
    """The draft's servers with editable params and env, remove buttons, validate, publish and a
    deploy that always shows the diff against the real file first."""

    def __init__(self, draft: Draft) -> None:
        self.draft = draft
        self.profile = draft.profile
        self.rows: dict[str, ServerRow] = {}
        self.artifact: Artifact | None = None  # the last artifact published here
        self.deployment: Deployment | None = None  # the last preview or deploy
        self._previewed: tuple[str, str, bool] | None = None

        self.title = w.HTML()
        self.servers_box = w.VBox(layout=w.Layout(width="100%"))
        self.reload_button = w.Button(description="Reload", icon="refresh")
        self.validate_button = w.Button(description="Validate", icon="stethoscope")
        self.pin = w.Dropdown(
            options=list(PIN_MODES),
            value="exact",
            description="pin",
            tooltip="how new servers and upgrades write versions: pkg@1.2.3, pkg@~1.2.3, pkg",
            layout=w.Layout(width="auto"),
        )
        self.pin_tools = w.Checkbox(
            value=False,
            description="pin tools",
            tooltip="every publish probes the servers and pins their tool manifests",
            indent=False,
            layout=w.Layout(width="auto"),
        )
        self.outdated_button = w.Button(description="Outdated", icon="search")
        self.upgrade_button = w.Button(description="Upgrade", icon="arrow-up")
        self._syncing = False  # True while refresh() shows the stored settings
        self._settings: dict[str, Any] = {"pin": "exact", "pin_tools": False}  # as last read
        self.report = w.HTML()
        self.report.add_class("mco-report")
        self.changelog = w.Text(placeholder="what changed and why", description="changelog")
        self.publish_button = w.Button(description="Publish", button_style="primary", icon="tag")
        try:
            default_path = str(self.profile.config_path())
        except Exception:
            default_path = "the client's file"
        self.path = w.Text(
            placeholder=f"default: {default_path}",
            description="path",
            layout=w.Layout(width="60%"),
        )
        self.adopt = w.Checkbox(
            value=False,
            description="adopt same-named unmanaged entries",
            indent=False,
            layout=w.Layout(width="auto"),
        )
        self.preview_button = w.Button(description="Preview deploy", icon="eye")
        self.deploy_button = w.Button(
            description="Deploy", button_style="warning", icon="upload", disabled=True
        )
        self.preview = w.HTML()
        self.preview.add_class("mco-preview")
        self.message = Message()
        self.message.add_class("mco-message")

        super().__init__(
            [
                style(),
                self.title,
                self.servers_box,
                w.HBox([self.reload_button, self.validate_button]),
                w.HBox([self.pin, self.pin_tools, self.outdated_button, self.upgrade_button]),
                self.report,
                w.HBox([self.changelog, self.publish_button]),
                w.HBox([self.path, self.adopt]),
                w.HBox([self.preview_button, self.deploy_button]),
                self.preview,
                self.message,
            ]
        )
        self.add_class("mco-widget")
        self.add_class("mco-draft-editor")
        self.reload_button.on_click(lambda _b: self.refresh())
        self.validate_button.on_click(self.validate)
        self.pin.observe(lambda c: self._setting_changed(pin=c["new"]), names="value")
        self.pin_tools.observe(lambda c: self._setting_changed(pin_tools=c["new"]), names="value")
        self.outdated_button.on_click(self.outdated)
        self.upgrade_button.on_click(self.upgrade)
        self.publish_button.on_click(self.publish)
        self.preview_button.on_click(self.preview_deploy)
        self.deploy_button.on_click(self.deploy)
        self.path.observe(lambda _c: self._forget_preview(), names="value")
        self.adopt.observe(lambda _c: self._forget_preview(), names="value")
        self.refresh()

    # -- display -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the draft again and rebuild the server rows."""
        try:
            records = self.draft.records
        except Exception as exc:
            self.message.show(failure_html(exc))
            records = {}
        old = self.rows
        self.rows = {}
        for name, rec in records.items():
            kept = old.get(name)  # an unchanged server keeps its row, and any unsaved typing
            self.rows[name] = (
                kept if kept is not None and kept.record == rec else ServerRow(self, name, rec)
            )
        self.servers_box.children = tuple(r.box for r in self.rows.values()) or (
            w.HTML("<i>the draft is empty: add servers with the CatalogBrowser</i>"),
        )
        self._show_settings()
        refs = []
        for ref in ("latest", "deployed"):
            try:
                art = self.profile.latest() if ref == "latest" else self.profile.deployed()
            except Exception:
                art = None
            refs.append(f"{ref}: <code>{escape(art.short_id) if art else '-'}</code>")
        self.title.value = (
            f"<b>Draft</b> {escape(self.profile.ref)} · {len(records)} server(s) · "
            + " · ".join(refs)
        )

    def _show_settings(self) -> None:
        """Put the profile's stored settings into the pin controls (without storing them); if
        they cannot be read, the last ones shown."""
        try:
            self._settings = dict(self.draft.settings)
        except Exception:
            pass  # a damaged draft: the message says why
        self._syncing = True
        try:
            self.pin.value = self._settings["pin"]
            self.pin_tools.value = self._settings["pin_tools"]
        finally:
            self._syncing = False

    def _forget_preview(self) -> None:
        self._previewed = None
        self.deploy_button.disabled = True
        self.deploy_button.description = "Deploy"

    @property
    def _where(self) -> tuple[Workspace, str, str]:
        """``(ws, client, profile)``: the first arguments of every operation."""
        return self.profile.workspace, self.profile.client.id, self.profile.id

    # -- actions -----------------------------------------------------------------------------
    def save(self, name: str) -> bool:
        """Re-render a catalog server with the row's values: ``drafts.add_server(...,
        replace=True)``."""
        row = self.rows[name]

        def action() -> str:
            if row.server is None or row.form is None:
                raise UsageError(f"{name} is a native entry", "add it again from the catalog")
            params, env, headers = row.form.values()
            drafts.add_server(
                *self._where,
                row.server.id,
                params=params,
                env=env,
                headers=headers,
                name=name,
                transport=row.record.get("transport"),
                replace=True,
                target_os=self.profile.target_os,
            )
            moved = row.form.commit_secrets()
            note = f"; secrets {', '.join(moved)} kept only in this kernel" if moved else ""
            return ok_html(f"saved {name}{note}")

        done = self.message.run(action)
        if done:
            self.refresh()
        return done

    def remove(self, name: str) -> bool:
        """``drafts.remove_server(..., name)``."""

        def action() -> str:
            result = drafts.remove_server(*self._where, name)
            return ok_html(f"removed {name} from the draft of {result.draft.profile.ref}")

        done = self.message.run(action)
        self.refresh()
        return done

    def validate(self, _button: Any = None) -> bool:
        """``drafts.validate_draft(...)``: every finding, shown inline."""

        def action() -> str:
            report = drafts.validate_draft(*self._where).report
            self.report.value = report._repr_html_()
            return ok_html(report.summary())

        return self.message.run(action)

    def change_settings(self, *, pin: str | None = None, pin_tools: bool | None = None) -> bool:
        """``pins.settings(..., pin=, pin_tools=)``: store the profile's settings (what the pin
        controls call when they change) and show them as ``profile-settings`` does."""

        def action() -> str:
            result = pins.settings(*self._where, pin=pin, pin_tools=pin_tools)
            values = result.values
            line = (
                f"{result.client}/{result.profile}: pin = {values['pin']}, "
                f"pin_tools = {str(values['pin_tools']).lower()}"
            )
            if pin is not None:
                line += (
                    f"; servers added from now on are written at {values['pin']} (entries in "
                    "the draft keep their pins until added again or upgraded)"
                )
            return ok_html(line)

        done = self.message.run(action)
        self._show_settings()  # the stored values (unchanged if storing failed)
        return done

    def _setting_changed(self, **change: Any) -> None:
        if not self._syncing:
            self.change_settings(**change)

    def outdated(self, _button: Any = None) -> bool:
        """``pins.outdated(...)``: the registries' newest versions, as a table."""

        def action() -> str:
            self.report.value = ""
            report = pins.outdated(*self._where).report
            self.report.value = report._repr_html_()
            if not report.rows:
                return note_html(f"{report.profile}: no managed server runs a registry package")
            newer = len(report.outdated)
            line = f"{newer} of {len(report.rows)} outdated"
            if newer:
                line += "; Upgrade puts the newer pins into the draft"
            unresolved = [r for r in report.rows if r.status == "unresolved"]
            if unresolved:
                line += (
                    f"; {len(unresolved)} unresolved ({unresolved[0].server}: "
                    f"{unresolved[0].reason or 'no reason given'})"
                )
            return (ok_html if newer or not unresolved else note_html)(line)

        return self.message.run(action)

    def upgrade(self, _button: Any = None) -> bool:
        """``pins.upgrade(...)``: the newer pin of every outdated server into the draft."""

        def action() -> str:
            report = pins.upgrade(*self._where).report
            self.report.value = ""  # an Outdated table shown before is stale now
            return lines_html(str(report), ok=bool(report.changed))

        done = self.message.run(action)
        if done:
            self.refresh()  # the rows show the new pins
        return done

    def publish(self, _button: Any = None) -> bool:
        """``releases.publish(..., changelog=, pin_tools=)``: validate, resolve the lock, sign,
        store, move ``latest``."""

        def action() -> str:
            self.report.value = ""
            result = releases.publish(
                *self._where, changelog=self.changelog.value, pin_tools=self.pin_tools.value
            )
            art = result.artifact
            self.artifact = art
            self._forget_preview()
            verb = "published" if result.status == "published" else "unchanged (already latest):"
            return lines_html(f"{verb} {art.artifact_id}\n{lock_summary(art)}") + art._repr_html_()

        done = self.message.run(action)
        self.refresh()
        return done

    def _target(self) -> str | None:
        return self.path.value.strip() or None

    def preview_deploy(self, _button: Any = None) -> bool:
        """``releases.deploy(..., dry_run=True)`` of latest: the diff against the real file."""

        def action() -> str:
            self._forget_preview()
            dep = releases.deploy(
                *self._where, path=self._target(), dry_run=True, adopt=self.adopt.value
            ).deployment
            self.deployment = dep
            self.preview.value = dep._repr_html_()
            self._previewed = (dep.artifact_id, self.path.value, self.adopt.value)
            self.deploy_button.disabled = False
            self.deploy_button.description = f"Deploy {short_id(dep.artifact_id)}"
            state = "would change" if dep.changed else "is already up to date:"
            return ok_html(f"preview: {short_id(dep.artifact_id)} {state} {dep.path}")

        return self.message.run(action)

    def deploy(self, _button: Any = None) -> bool:
        """``releases.deploy(..., artifact_id=)`` for the artifact that was previewed."""

        def action() -> str:
            if self._previewed is None:
                raise UsageError("preview the deploy first", "click Preview deploy")
            dep = releases.deploy(
                *self._where,
                artifact_id=self._previewed[0],
                path=self._target(),
                adopt=self.adopt.value,
            ).deployment
            self.deployment = dep
            self._forget_preview()
            self.preview.value = dep._repr_html_()
            verb = "deployed" if dep.changed else "already up to date:"
            return ok_html(f"{verb} {short_id(dep.artifact_id)} to {dep.path}") + deployment_note(
                dep
            )

        done = self.message.run(action)
        self.refresh()
        return done

    def __repr__(self) -> str:
        try:
            names = ", ".join(self.draft.names) or "(empty)"
        except Exception:
            names = "?"
        return f"<DraftEditor {self.profile.ref}: {names}; deploy {'ready' if self._previewed else 'needs a preview'}>"
