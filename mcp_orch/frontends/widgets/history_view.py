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
it as ``since=``, the history is cut at it here. With "also deploy it", the rollback deploys the
artifact and, like ``deploy-config``, notes the managed entries whose hand edits it replaced.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from mcp_orch.core.clock import parse_since
from mcp_orch.core.errors import UsageError
from mcp_orch.core.ids import short_id
from mcp_orch.facade.profile import History
from mcp_orch.frontends.widgets._common import (
    Message,
    deployment_note,
    failure_html,
    ok_html,
    style,
)
from mcp_orch.operations import releases
from mcp_orch.services.release.audit import ACTIONS

if TYPE_CHECKING:
    import polars as pl

    from mcp_orch.facade.artifact import Artifact
    from mcp_orch.facade.profile import Profile
    from mcp_orch.facade.workspace import Workspace


def _created(art: Artifact) -> datetime:
    return datetime.fromisoformat(art.created.replace("Z", "+00:00"))


class HistoryView(w.VBox):
    """History and audit tables with action and date filters, and a rollback button."""

    def __init__(self, profile: Profile, *, limit: int = 50) -> None:
        self.profile = profile
        self.limit = limit  # rows per table, newest first (the CLI's --limit)
        self.history: History = History(profile, [])
        self.action = w.Dropdown(
            options=[("any action", ""), *((a, a) for a in ACTIONS)], value="", description="action"
        )
        self.since = w.Text(
            placeholder="7d, 30d, 12h or 2026-01-31",
            description="since",
            continuous_update=False,
        )
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.artifacts = w.Select(options=[], rows=8, layout=w.Layout(width="100%"))
        self.artifacts.add_class("mco-artifacts")
        self.also_deploy = w.Checkbox(
            value=False, description="also deploy it", indent=False, layout=w.Layout(width="auto")
        )
        self.rollback_button = w.Button(
            description="Roll back to selected",
            button_style="warning",
            icon="undo",
            layout=w.Layout(width="auto"),
        )
        self.history_table = w.HTML()
        self.history_table.add_class("mco-history")
        self.audit_table = w.HTML()
        self.audit_table.add_class("mco-audit")
        self.message = Message()
        self.message.add_class("mco-message")
        super().__init__(
            [
                style(),
                w.HTML(f"<b>History</b> {escape(profile.ref)}"),
                w.HBox([self.action, self.since, self.refresh_button]),
                self.artifacts,
                w.HBox([self.also_deploy, self.rollback_button]),
                self.message,
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
        self.refresh()

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
            return True
        except Exception as exc:
            self.message.show(failure_html(exc))
            return False

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
        self.artifacts.options = options
        if keep in [v for _l, v in options]:
            self.artifacts.value = keep
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
        """``releases.rollback(..., artifact_id=selected, deploy=also_deploy)``."""

        def action() -> str:
            chosen = self.artifacts.value
            if not chosen:
                raise UsageError("select an artifact first", "pick one in the list above")
            result = releases.rollback(
                *self._where, artifact_id=chosen, deploy=self.also_deploy.value
            )
            art, dep = result.artifact, result.deployment
            head = ok_html(
                f"latest is now {art.short_id} ({art.changelog or 'no changelog'})"
                + (" and it is deployed" if dep is not None else "")
            )
            if dep is None:
                return head
            verb = "deployed" if dep.changed else "already up to date:"
            return (
                head
                + ok_html(f"{verb} {short_id(dep.artifact_id)} to {dep.path}")
                + deployment_note(dep)
            )

        done = self.message.run(action)
        if done:
            self.refresh()
        return done

    def __repr__(self) -> str:
        filters = ", ".join(
            f"{k}={v!r}" for k, v in self._filters().items() if v and k in ("action", "since")
        )
        return (
            f"<HistoryView {self.profile.ref}: {len(self.history)} artifact(s)"
            f"{'; ' + filters if filters else ''}; selected: "
            f"{(self.artifacts.value or '-')[:19]}>"
        )
