"""``HistoryView(profile)``: a profile's artifacts and audit events, filtered, with rollback.

    >>> from mcp_orch.frontends.widgets import HistoryView
    >>> view = HistoryView(ws.profile("cursor"))
    >>> view.action.value = "deploy"; view.since.value = "7d"
    >>> view.artifacts.value = some_artifact_id; view.rollback_button.click()

A thin front end, like the CLI: the tables and the button each call one operation
(``mcp_orch.operations``) and show its result; errors are drawn by ``frontends.render.error_html``
with hints naming fields. Below, ``...`` stands for the profile's ``ws, client, profile``.

======================  ==================================================  =======================
control                 operation                                           CLI
======================  ==================================================  =======================
artifact list, history  ``releases.config_history(..., limit=)``            ``config-history``
audit table             ``releases.audit_log(ws, client=, profile=, ...)``  ``audit-log``
Refresh, action, since  the two above again (``action=``, ``since=``)      ``audit-log --since``
Roll back to selected   ``releases.rollback(..., artifact_id=, deploy=)``   ``rollback [--deploy]``
======================  ==================================================  =======================

Both tables show at most ``limit`` rows, newest first (``HistoryView(profile, limit=50)``). The
date filter reads the same ``7d`` / ``12h`` / ISO-date forms as ``--since``; the audit log takes
it as ``since=``, the history is cut at it here.

With "also deploy it", the rollback first computes the deployment of the chosen artifact as a
dry run (``releases.deploy(..., artifact_id=, dry_run=True)``): nothing is changed yet, and a
deploy that cannot be done (an unmanaged entry of the same name) is refused before ``latest``
moves. If it would replace entries edited by hand since the last deploy, the coloured diff is
shown with *Replace hand edits* and *Cancel*; only the confirmation rolls back and deploys, and
the result notes "replaced hand edits to … (backup …)", as ``deploy-config`` does. Otherwise it
rolls back and deploys at once, and shows the diff it wrote.

The view stays in sync with its workspace (``ws.changes``, see :mod:`mcp_orch.core.signals`): a
publish, rollback or deploy of this profile made anywhere in this kernel (a DraftEditor, the
Python API in another cell, an MCP tool) refreshes both tables at once, with the filters kept;
Refresh is there for changes made by another process. It refreshes once per change, never in
the middle of its own rollback, and no longer after ``close()``. The result of Roll back appears
right under its button (CSS ``mco-message``), above the diff and the tables.

Stable CSS classes: ``mco-artifacts``, ``mco-refresh``, ``mco-rollback``, ``mco-confirm``,
``mco-cancel``, ``mco-message``, ``mco-diff``, ``mco-history``, ``mco-audit``.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from mcp_orch.core.clock import parse_since
from mcp_orch.core.errors import UsageError
from mcp_orch.core.ids import short_id
from mcp_orch.core.text import plural
from mcp_orch.facade.profile import History
from mcp_orch.frontends.widgets._common import (
    ConfirmBar,
    Live,
    Message,
    ask_html,
    button,
    deployment_note,
    note_html,
    ok_html,
    style,
)
from mcp_orch.operations import releases
from mcp_orch.services.release.audit import ACTIONS

if TYPE_CHECKING:
    import polars as pl

    from mcp_orch.core.signals import Change
    from mcp_orch.facade.artifact import Artifact
    from mcp_orch.facade.profile import Profile
    from mcp_orch.facade.workspace import Workspace
    from mcp_orch.services.release.artifact import Deployment


def _created(art: Artifact) -> datetime:
    return datetime.fromisoformat(art.created.replace("Z", "+00:00"))


class HistoryView(Live, w.VBox):
    """History and audit tables with action and date filters, and a rollback button that asks
    before its deploy replaces hand edits; it follows the workspace's changes."""

    def __init__(self, profile: Profile, *, limit: int = 50) -> None:
        self.profile = profile
        self.limit = limit  # rows per table, newest first (the CLI's --limit)
        self.history: History = History(profile, [])
        self.pending: tuple[str, Deployment] | None = None  # (artifact, dry run) to confirm
        self.deployment: Deployment | None = None  # the last dry run or deploy
        self.action = w.Dropdown(
            options=[("any action", ""), *((a, a) for a in ACTIONS)], value="", description="action"
        )
        self.since = w.Text(
            placeholder="7d, 30d, 12h or 2026-01-31",
            description="since",
            continuous_update=False,
        )
        self.refresh_button = button("Refresh", "mco-refresh", icon="refresh")
        self.artifacts = w.Select(options=[], rows=8, layout=w.Layout(width="100%"))
        self.artifacts.add_class("mco-artifacts")
        self.also_deploy = w.Checkbox(
            value=False, description="also deploy it", indent=False, layout=w.Layout(width="auto")
        )
        self.rollback_button = button(
            "Roll back to selected", "mco-rollback", button_style="warning", icon="undo"
        )
        self.confirm = ConfirmBar(self.replace_hand_edits, self.cancel)
        self.preview = w.HTML()
        self.preview.add_class("mco-diff")
        self.history_table = w.HTML()
        self.history_table.add_class("mco-history")
        self.audit_table = w.HTML()
        self.audit_table.add_class("mco-audit")
        self.message = Message()
        self._messages = (self.message,)
        self._refresh_failed = False
        self._listing = False  # True while the artifact list is set again
        super().__init__(
            [
                style(),
                w.HTML(f"<b>History</b> {escape(profile.ref)}"),
                w.HBox([self.action, self.since, self.refresh_button]),
                self.artifacts,
                w.HBox([self.also_deploy, self.rollback_button]),
                self.confirm,
                self.message,  # right under the button, above the diff and the tables
                self.preview,
                self.history_table,
                self.audit_table,
            ]
        )
        self.add_class("mco-widget")
        self.add_class("mco-history-view")
        self.action.observe(lambda _c: self.refresh(), names="value")
        self.since.observe(lambda _c: self.refresh(), names="value")
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.rollback_button.on_click(self.rollback)
        self.also_deploy.observe(lambda _c: self._drop_pending("the deploy box changed"), "value")
        self.artifacts.observe(lambda _c: self._selection_changed(), "value")
        self.refresh()
        self._follow(profile.workspace)

    def _filters(self) -> dict[str, Any]:
        return {
            "client": self.profile.client.id,
            "profile": self.profile.id,
            "action": self.action.value or None,
            "since": self.since.value.strip() or None,
        }

    @property
    def _where(self) -> tuple[Workspace, str, str]:
        """``(ws, client, profile)``: the first arguments of the operations."""
        return self.profile.workspace, self.profile.client.id, self.profile.id

    def refresh(self) -> bool:
        """Read the history and the audit log again, with the current filters."""
        try:
            self._refresh()
        except Exception as exc:
            self.message.fail(exc)
            self._refresh_failed = True
            return False
        if self._refresh_failed and self.message.failed:  # the filter that failed is fixed
            self.message.clear()
        self._refresh_failed = False
        return True

    def _concerns(self, change: Change) -> bool:
        return change.kind in ("refs", "audit", "deploy") and change.concerns(
            self.profile.client.id, self.profile.id
        )

    def _changed_elsewhere(self, change: Change) -> None:
        if change.kind in ("refs", "deploy"):
            self._drop_pending(f"{change.kind} of {self.profile.ref} changed elsewhere")

    def _selection_changed(self) -> None:
        if not self._listing:  # a refresh keeps the selection (options are set again)
            self._drop_pending("another artifact was selected")

    def _drop_pending(self, why: str) -> None:
        if self.pending is None:
            return
        self.pending = None
        self.confirm.hide()
        self.message.show(note_html(f"rollback cancelled ({why}): nothing was changed"))

    def _refresh(self) -> None:
        filters = self._filters()
        start = parse_since(filters["since"])
        ws = self.profile.workspace
        result = releases.config_history(*self._where, limit=self.limit)
        history = History(self.profile, list(result.history))
        if start is not None:
            history = History(self.profile, [a for a in history if _created(a) >= start])
        self.history = history
        refs = {"latest": result.latest, "deployed": result.deployed}
        options = []
        for a in history:
            marks = " ".join(f"[{r}]" for r, aid in refs.items() if aid == a.artifact_id)
            label = f"{a.short_id}  {a.created[:19]}  {a.changelog[:50]}  {marks}".rstrip()
            options.append((label, a.artifact_id))
        keep = self.artifacts.value
        self._listing = True
        try:
            self.artifacts.options = options
            if keep in [v for _l, v in options]:
                self.artifacts.value = keep
        finally:
            self._listing = False
        self.rollback_button.disabled = not options
        self.history_table.value = history._repr_html_()
        events = releases.audit_log(ws, **filters, limit=self.limit).events
        self.audit_table.value = events._repr_html_()

    def frame(self) -> pl.DataFrame:
        """The audit events behind the table, as a polars DataFrame (same filters and limit)."""
        return releases.audit_log(
            self.profile.workspace, **self._filters(), limit=self.limit
        ).events.frame()

    def rollback(self, _button: Any = None) -> bool:
        """``releases.rollback(..., artifact_id=selected, deploy=also_deploy)``; with a deploy,
        a dry run first, and a confirmation if it would replace hand edits."""

        def action() -> str:
            self.pending = None
            self.confirm.hide()
            chosen = self.artifacts.value
            if not chosen:
                raise UsageError("select an artifact first", "pick one in the list above")
            if self.also_deploy.value:
                dry = releases.deploy(*self._where, artifact_id=chosen, dry_run=True).deployment
                self.deployment = dry
                self.preview.value = dry._repr_html_()
                if dry.overwritten:
                    return self._ask(chosen, dry)
            return self._roll_back(chosen)

        return self._run(self.message, action)

    def _ask(self, chosen: str, dry: Deployment) -> str:
        self.pending = (chosen, dry)
        self.confirm.show()
        return ask_html(
            f"rolling back to {escape(short_id(chosen))} and deploying it would replace hand "
            f"edits to <b>{escape(', '.join(dry.overwritten))}</b> in {escape(dry.path)} (the "
            "diff is below): <i>Replace hand edits</i> rolls back and writes it, keeping a "
            "backup; <i>Cancel</i> changes nothing. Nothing is changed yet."
        )

    def _roll_back(self, chosen: str) -> str:
        deploy = self.also_deploy.value
        result = releases.rollback(*self._where, artifact_id=chosen, deploy=deploy)
        art, dep = result.artifact, result.deployment
        head = ok_html(
            f"latest is now {art.short_id} ({art.changelog or 'no changelog'})"
            + (" and it is deployed" if dep is not None else "")
        )
        if dep is None:
            self.preview.value = ""
            return head
        self.deployment = dep
        self.preview.value = dep._repr_html_()
        verb = "deployed" if dep.changed else "already up to date:"
        return (
            head
            + ok_html(f"{verb} {short_id(dep.artifact_id)} to {dep.path}")
            + deployment_note(dep)
        )

    def replace_hand_edits(self, _button: Any = None) -> bool:
        """Confirm the pending rollback and deploy (if the file changed again since the diff
        was shown, the new diff is shown and asked about)."""

        def action() -> str:
            pending = self.pending
            if pending is None:
                raise UsageError("no rollback is waiting for confirmation", "click Roll back")
            chosen, dry = pending
            self.pending = None
            self.confirm.hide()
            again = releases.deploy(*self._where, artifact_id=chosen, dry_run=True).deployment
            if again.diff_text != dry.diff_text and again.overwritten:
                self.preview.value = again._repr_html_()
                changed = note_html("the file changed since the diff was shown")
                return changed + self._ask(chosen, again)
            return self._roll_back(chosen)

        return self._run(self.message, action)

    def cancel(self, _button: Any = None) -> None:
        """Drop the pending rollback: nothing is changed."""
        self._drop_pending("as asked")

    def __repr__(self) -> str:
        filters = ", ".join(
            f"{k}={v!r}" for k, v in self._filters().items() if v and k in ("action", "since")
        )
        return (
            f"<HistoryView {self.profile.ref}: {plural(len(self.history), 'artifact')}"
            f"{'; ' + filters if filters else ''}; selected: "
            f"{(self.artifacts.value or '-')[:19]}>"
        )
