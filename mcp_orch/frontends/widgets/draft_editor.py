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
Deploy           ``releases.deploy(..., dry_run=True)``, then             ``deploy-config``
                 ``releases.deploy(..., artifact_id=, path=, adopt=)``
Reload           reads ``Draft.records``, ``settings`` and the refs     ``show-draft``
===============  =====================================================  ===========================

*Deploy* first computes the deployment of ``latest`` as a dry run (``dry_run=True``). When it
would replace entries edited by hand since the last deploy (``Deployment.overwritten``), it
shows the coloured diff and waits: *Replace hand edits* writes exactly that artifact (if the
file changed again meanwhile, the new diff is shown and asked about again) and notes "replaced
hand edits to … (backup …)", as ``deploy-config`` does; *Cancel* writes nothing. Otherwise it
deploys at once and shows the diff it wrote. *Preview deploy* only shows the diff. Changing the
path or the adopt box, or a change of ``latest`` or of the file elsewhere, cancels a pending
confirmation.

The editor stays in sync with its workspace (``ws.changes``, see :mod:`mcp_orch.core.signals`):
a server added by a CatalogBrowser, by ``Draft.add`` in another cell or by an MCP tool in this
kernel appears at once, and the title follows ``latest`` and ``deployed`` wherever they move.
Rows whose record did not change keep what was typed in them. It refreshes once per change
(a publish is one), never in the middle of its own action, and no longer after ``close()``;
*Reload* is there for changes made by another process.

Feedback appears next to what caused it: a Save in its row, a Remove under the server list, the
buttons' results right under the button bars (CSS ``mco-message``), above the report and the
diff. A success clears the errors earlier actions left. Save is disabled, with the reason
beside it, while a required input is empty.

Stable CSS classes for tests and styles: ``mco-draft-server`` (a row), ``mco-save``,
``mco-remove``, ``mco-required``, ``mco-reload``, ``mco-validate``, ``mco-outdated``,
``mco-upgrade``, ``mco-publish``, ``mco-preview``, ``mco-deploy``, ``mco-confirm``,
``mco-cancel``, ``mco-message``, ``mco-report``, ``mco-diff`` (the diff shown by preview and
deploy).

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
from mcp_orch.core.text import plural
from mcp_orch.domain.pins import PIN_MODES
from mcp_orch.domain.secrets import mask_secrets
from mcp_orch.frontends.widgets._common import (
    NOTE,
    OK,
    ConfirmBar,
    InputForm,
    Live,
    Message,
    ask_html,
    button,
    checked_html,
    deployment_note,
    json_html,
    note_html,
    ok_html,
    problem_html,
    style,
)
from mcp_orch.operations import drafts, pins, releases

if TYPE_CHECKING:
    from mcp_orch.core.signals import Change
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
        text += f"; tools pinned for {plural(len(art.tools), 'server')}"
    return text


def lines_html(text: str, ok: bool = True) -> str:
    """A report of several lines (``str()`` of an operation's report) in one message box."""
    colour = OK if ok else NOTE
    body = "<br>".join(escape(line) for line in text.splitlines())
    return f"<div style='border-left:4px solid {colour};padding:4px 8px'>{body}</div>"


class ServerRow:
    """One server of the draft: its fields (for catalog servers), Save and Remove, and the
    message that says what Save did."""

    def __init__(self, editor: DraftEditor, name: str, record: dict[str, Any]) -> None:
        self.editor = editor
        self.name = name
        self.record = record
        self.server: Server | None = None
        self.form: InputForm | None = None
        self.save_button: w.Button | None = None
        self.message = Message()
        if record.get("catalog_id"):
            try:
                self.server = editor.draft.profile.workspace.registry().get(record["catalog_id"])
            except NotFound:
                self.server = None
        self.remove_button = button("Remove", "mco-remove", button_style="danger", icon="trash")
        self.remove_button.on_click(lambda _b: editor.remove(name))
        parts: list[w.Widget] = []
        origin = record.get("origin", "")
        head = f"<b>{escape(name)}</b> <i>{escape(origin)}</i>"
        extra: list[w.Widget] = []
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
            self.save_button = button("Save", "mco-save", icon="check")
            self.save_button.on_click(lambda _b: editor.save(name))
            self.form.bind(self.save_button)
            extra.append(self.form.reason)
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
            [w.HTML(head), *parts, w.HBox([*buttons, *extra]), self.message],
            layout=w.Layout(border="1px solid #8888", padding="4px", margin="2px 0", width="100%"),
        )
        self.box.add_class("mco-draft-server")


class DraftEditor(Live, w.VBox):
    """The draft's servers with editable params and env, remove buttons, validate, publish and a
    deploy that asks before it replaces hand edits; it follows the workspace's changes."""

    def __init__(self, draft: Draft) -> None:
        self.draft = draft
        self.profile = draft.profile
        self.rows: dict[str, ServerRow] = {}
        self.artifact: Artifact | None = None  # the last artifact published here
        self.deployment: Deployment | None = None  # the last preview or deploy
        self.pending: Deployment | None = None  # a dry run waiting for "Replace hand edits"
        self._shown_records: dict[str, dict[str, Any]] | None = None

        self.title = w.HTML()
        self.servers_box = w.VBox(layout=w.Layout(width="100%"))
        self.servers_message = Message()  # what Remove did, or why the draft cannot be read
        self.reload_button = button("Reload", "mco-reload", icon="refresh")
        self.validate_button = button("Validate", "mco-validate", icon="stethoscope")
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
        self.outdated_button = button("Outdated", "mco-outdated", icon="search")
        self.upgrade_button = button("Upgrade", "mco-upgrade", icon="arrow-up")
        self._syncing = False  # True while refresh() shows the stored settings
        self._settings: dict[str, Any] = {"pin": "exact", "pin_tools": False}  # as last read
        self.report = w.HTML()
        self.report.add_class("mco-report")
        self.changelog = w.Text(placeholder="what changed and why", description="changelog")
        self.publish_button = button("Publish", "mco-publish", button_style="primary", icon="tag")
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
        self.preview_button = button("Preview deploy", "mco-preview", icon="eye")
        self.deploy_button = button(
            "Deploy", "mco-deploy", button_style="warning", icon="upload", disabled=True
        )
        self.confirm = ConfirmBar(self.replace_hand_edits, self.cancel)
        self.preview = w.HTML()
        self.preview.add_class("mco-diff")
        self.message = Message()
        self._messages = (self.message, self.servers_message)

        super().__init__(
            [
                style(),
                self.title,
                self.servers_box,
                self.servers_message,
                w.HBox(
                    [
                        self.reload_button,
                        self.validate_button,
                        self.pin,
                        self.pin_tools,
                        self.outdated_button,
                        self.upgrade_button,
                    ]
                ),
                w.HBox([self.changelog, self.publish_button]),
                w.HBox([self.path, self.adopt]),
                w.HBox([self.preview_button, self.deploy_button]),
                self.confirm,
                self.message,  # under the button bars, above the long report and diff
                self.report,
                self.preview,
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
        self.path.observe(lambda _c: self._drop_pending("the path changed"), names="value")
        self.adopt.observe(
            lambda _c: self._drop_pending("the adopt setting changed"), names="value"
        )
        self.refresh()
        self._follow(self.profile.workspace)

    # -- display -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the draft, its settings and the refs again; rebuild the rows that changed."""
        try:
            records = self.draft.records
        except Exception as exc:
            self.servers_message.fail(exc)
            records = {}
        else:
            if self.servers_message.failed:  # readable again
                self.servers_message.clear()
        if self._shown_records is not None and records != self._shown_records:
            self.report.value = ""  # a validation or outdated report of another draft: stale
        self._shown_records = records
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
        latest: Artifact | None = None
        for ref in ("latest", "deployed"):
            try:
                art = self.profile.latest() if ref == "latest" else self.profile.deployed()
            except Exception:
                art = None
            if ref == "latest":
                latest = art
            refs.append(f"{ref}: <code>{escape(art.short_id) if art else '-'}</code>")
        self.title.value = (
            f"<b>Draft</b> {escape(self.profile.ref)} · {plural(len(records), 'server')} · "
            + " · ".join(refs)
        )
        self.deploy_button.disabled = latest is None
        self.deploy_button.description = f"Deploy {latest.short_id}" if latest else "Deploy"
        self.deploy_button.tooltip = (
            "deploy latest into the client's file (asks first if that replaces hand edits)"
            if latest
            else "publish first: there is nothing to deploy"
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

    def _message_areas(self) -> tuple[Message, ...]:
        return (*self._messages, *(row.message for row in self.rows.values()))

    def _concerns(self, change: Change) -> bool:
        return change.kind in ("drafts", "refs", "deploy") and change.concerns(
            self.profile.client.id, self.profile.id
        )

    def _changed_elsewhere(self, change: Change) -> None:
        if change.kind in ("refs", "deploy"):
            self._drop_pending(f"{change.kind} of {self.profile.ref} changed elsewhere")

    def _drop_pending(self, why: str) -> None:
        if self.pending is None:
            return
        self.pending = None
        self.confirm.hide()
        self.message.show(note_html(f"deploy cancelled ({why}): nothing was written"))

    @property
    def _where(self) -> tuple[Workspace, str, str]:
        """``(ws, client, profile)``: the first arguments of every operation."""
        return self.profile.workspace, self.profile.client.id, self.profile.id

    # -- actions -----------------------------------------------------------------------------
    def save(self, name: str) -> bool:
        """Re-render a catalog server with the row's values: ``drafts.add_server(...,
        replace=True)``; the result is shown in the row."""
        row = self.rows[name]
        shown, clean = "", True

        def action() -> str:
            nonlocal shown, clean
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
            shown, clean = checked_html(*self._where, name, f"saved {name}{note}")
            return shown

        done = self._run(row.message, action)
        new = self.rows.get(name, row)
        if done:  # in the row (rebuilt, when the record changed); an invalid entry is an error
            new.message.show(shown, failed=not clean)
        return done

    def remove(self, name: str) -> bool:
        """``drafts.remove_server(..., name)``."""

        def action() -> str:
            result = drafts.remove_server(*self._where, name)
            return ok_html(f"removed {name} from the draft of {result.draft.profile.ref}")

        return self._run(self.servers_message, action)

    def validate(self, _button: Any = None) -> bool:
        """``drafts.validate_draft(...)``: every finding, shown inline."""
        report = None

        def action() -> str:
            nonlocal report
            report = drafts.validate_draft(*self._where).report
            self.report.value = report._repr_html_()
            if not report.ok:
                return problem_html(report.summary())
            return (note_html if report.warnings else ok_html)(report.summary())

        done = self._run(self.message, action)
        if report is not None and not report.ok:
            self.message.failed = True  # a failed validation is an error a success clears
        return done

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

        done = self._run(self.message, action)
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

        return self._run(self.message, action)

    def upgrade(self, _button: Any = None) -> bool:
        """``pins.upgrade(...)``: the newer pin of every outdated server into the draft."""

        def action() -> str:
            report = pins.upgrade(*self._where).report
            self.report.value = ""  # an Outdated table shown before is stale now
            return lines_html(str(report), ok=bool(report.changed))

        return self._run(self.message, action)  # the rows then show the new pins

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
            verb = "published" if result.status == "published" else "unchanged (already latest):"
            return lines_html(f"{verb} {art.artifact_id}\n{lock_summary(art)}") + art._repr_html_()

        return self._run(self.message, action)

    def _target(self) -> str | None:
        return self.path.value.strip() or None

    def _dry_run(self, artifact_id: str | None = None) -> Deployment:
        dep = releases.deploy(
            *self._where,
            artifact_id=artifact_id,
            path=self._target(),
            dry_run=True,
            adopt=self.adopt.value,
        ).deployment
        self.deployment = dep
        self.preview.value = dep._repr_html_()
        return dep

    def preview_deploy(self, _button: Any = None) -> bool:
        """``releases.deploy(..., dry_run=True)`` of latest: the diff against the real file."""

        def action() -> str:
            self._drop_pending("a new preview")
            dep = self._dry_run()
            state = "would change" if dep.changed else "is already up to date:"
            line = ok_html(f"preview: {short_id(dep.artifact_id)} {state} {dep.path}")
            if dep.overwritten:
                line += note_html(
                    f"it would replace hand edits to {', '.join(dep.overwritten)}: Deploy asks "
                    "before it does"
                )
            return line

        return self._run(self.message, action)

    def deploy(self, _button: Any = None) -> bool:
        """A dry run of latest first; if it would replace hand edits, show the diff and wait
        for *Replace hand edits*; else ``releases.deploy(..., artifact_id=)`` at once."""

        def action() -> str:
            self.pending = None
            self.confirm.hide()
            dry = self._dry_run()
            if dry.overwritten:
                return self._ask(dry)
            return self._write(dry.artifact_id)

        return self._run(self.message, action)

    def _ask(self, dry: Deployment) -> str:
        self.pending = dry
        self.confirm.show()
        return ask_html(
            f"deploying {escape(short_id(dry.artifact_id))} would replace hand edits to "
            f"<b>{escape(', '.join(dry.overwritten))}</b> in {escape(dry.path)} (the diff is "
            "below): <i>Replace hand edits</i> writes it and keeps a backup; <i>Cancel</i> "
            "leaves the file as it is. Nothing is written yet."
        )

    def _write(self, artifact_id: str) -> str:
        dep = releases.deploy(
            *self._where, artifact_id=artifact_id, path=self._target(), adopt=self.adopt.value
        ).deployment
        self.deployment = dep
        self.preview.value = dep._repr_html_()
        verb = "deployed" if dep.changed else "already up to date:"
        return ok_html(f"{verb} {short_id(dep.artifact_id)} to {dep.path}") + deployment_note(dep)

    def replace_hand_edits(self, _button: Any = None) -> bool:
        """Confirm the pending deploy: write the artifact that was shown, unless the file
        changed again since (then the new diff is shown and asked about)."""

        def action() -> str:
            pending = self.pending
            if pending is None:
                raise UsageError("no deploy is waiting for confirmation", "click Deploy")
            self.pending = None
            self.confirm.hide()
            again = self._dry_run(pending.artifact_id)
            if again.diff_text != pending.diff_text and again.overwritten:
                changed = note_html("the file changed since the diff was shown")
                return changed + self._ask(again)
            return self._write(pending.artifact_id)

        return self._run(self.message, action)

    def cancel(self, _button: Any = None) -> None:
        """Drop the pending deploy: nothing is written."""
        self._drop_pending("as asked")

    def __repr__(self) -> str:
        try:
            names = ", ".join(self.draft.names) or "(empty)"
        except Exception:
            names = "?"
        state = "waits for confirmation" if self.pending is not None else "ready"
        return f"<DraftEditor {self.profile.ref}: {names}; deploy {state}>"
