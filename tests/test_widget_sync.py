"""Widgets that stay in sync: the workspace's change signal (mcp_orch.core.signals) and the
widgets that follow it, the required-input rule of the forms, feedback next to its button, and
the confirmation before a write replaces hand edits.

Driven headless as in tests/test_widgets.py: set values, click buttons, then check what the
widgets show and what is on disk.
"""

from __future__ import annotations

import gc
import json
import logging
from pathlib import Path
from typing import Any

import pytest

import mcp_orch as mo
from mcp_orch.core.signals import Change

pytest.importorskip("ipywidgets")

from mcp_orch.frontends.widgets import CatalogBrowser, DraftEditor, HistoryView


def _add(browser: CatalogBrowser, server_id: str, **fields: str) -> None:
    browser.search.value = ""
    browser.results.value = server_id
    assert browser.form is not None
    for name, value in fields.items():
        browser.form.field(name).value = value
    browser.add_button.click()


# ---- the change signal -----------------------------------------------------------------------


def test_library_writes_tell_the_signal_what_changed(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    seen: list[Change] = []
    stop = ws.on_change(seen.append)
    profile = ws.profile("cursor")
    registry.find("time").add_to(profile)
    assert [(c.kind, c.client, c.profile) for c in seen] == [("drafts", "cursor", "default")]

    seen.clear()
    art = profile.draft.publish(changelog="time")
    kinds = [(c.kind, c.client, c.profile) for c in seen if c.client]  # (and a key event)
    assert kinds == [("refs", "cursor", "default"), ("audit", "cursor", "default")]
    assert [c.detail["ref"] for c in seen if c.kind == "refs"] == ["latest"]
    assert len({c.batch for c in seen if c.client}) == 1  # one publish, one delivery

    seen.clear()
    art.deploy()
    assert {c.kind for c in seen} == {"refs", "audit", "deploy"}
    (dep,) = [c for c in seen if c.kind == "deploy"]
    assert dep.detail["path"] == str(profile.config_path())

    stop()
    stop()  # harmless twice
    seen.clear()
    profile.draft.remove("time")
    assert seen == []


def test_two_workspaces_on_one_folder_share_the_signal(ws: mo.Workspace, tmp_path: Path) -> None:
    link = tmp_path / "link-to-ws"
    link.symlink_to(ws.path)
    other = mo.Workspace(link)
    assert other.changes is ws.changes
    seen: list[Change] = []
    ws.on_change(seen.append, kinds=["drafts"])
    other.profile("cursor").draft.add_entry("local", {"command": "my-tool"})
    assert [c.kind for c in seen] == ["drafts"]
    assert mo.Workspace(tmp_path / "elsewhere").changes is not ws.changes


def test_subscriber_errors_are_logged_never_raised_into_the_writer(
    ws: mo.Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_change: Change) -> None:
        raise RuntimeError("display on fire")

    seen: list[Change] = []
    ws.on_change(broken)
    ws.on_change(seen.append)
    with caplog.at_level(logging.ERROR, logger="mcp_orch.signals"):
        ws.profile("cursor").draft.add_entry("local", {"command": "my-tool"})
    assert ws.profile("cursor").draft.names == ["local"]  # the write happened
    assert len(seen) == 1  # and the next subscriber still heard of it
    assert any("display on fire" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_filters_and_unknown_kinds(ws: mo.Workspace) -> None:
    seen: list[Change] = []
    ws.on_change(seen.append, client="cursor", profile="work")
    ws.profile("cursor").draft.add_entry("a", {"command": "a"})
    ws.profile("cursor", "work").draft.add_entry("b", {"command": "b"})
    assert [(c.client, c.profile) for c in seen] == [("cursor", "work")]
    with pytest.raises(ValueError, match="unknown change kind"):
        ws.on_change(seen.append, kinds=["draft"])


# ---- widgets follow each other and the library -----------------------------------------------


def test_browser_adds_show_in_the_editor_without_reload(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    editor = DraftEditor(ws.profile("cursor").draft)
    assert "the draft is empty" in editor.servers_box.children[0].value
    browser = CatalogBrowser(registry, client="cursor")
    for sid in ("time", "fetch", "memory"):
        _add(browser, sid)
    assert list(editor.rows) == ["time", "fetch", "memory"]
    assert "3 servers" in editor.title.value
    assert len(editor.servers_box.children) == 3
    assert editor.refreshes == 3  # once per add


def test_library_changes_in_another_cell_update_both_widgets(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    profile = ws.profile("cursor")
    editor = DraftEditor(profile.draft)
    view = HistoryView(profile)
    registry.find("time").add_to(profile)  # "another cell"
    assert list(editor.rows) == ["time"]
    assert view.artifacts.options == ()

    art = profile.draft.publish(changelog="from a cell")
    assert art.short_id in editor.title.value  # latest follows
    assert [v for _label, v in view.artifacts.options] == [art.artifact_id]
    assert "from a cell" in view.history_table.value
    assert "publish" in view.audit_table.value

    art.deploy()
    assert "[latest] [deployed]" in view.artifacts.options[0][0]
    assert f"deployed: <code>{art.short_id}</code>" in editor.title.value


def test_typing_in_one_row_survives_a_change_to_another(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    profile = ws.profile("cursor")
    registry.find("time").add_to(profile)
    editor = DraftEditor(profile.draft)
    editor.rows["time"].form.field("timezone").value = "Asia/Tokyo"  # not saved yet
    registry.find("fetch").add_to(profile)
    assert editor.rows["time"].form.field("timezone").value == "Asia/Tokyo"


def test_publish_from_the_editor_and_rollback_from_history_update_the_other(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    profile = ws.profile("cursor")
    registry.find("time").add_to(profile)
    editor = DraftEditor(profile.draft)
    view = HistoryView(profile)
    editor.changelog.value = "v1"
    assert editor.publish()
    v1 = profile.latest()
    assert [v for _label, v in view.artifacts.options] == [v1.artifact_id]
    registry.find("fetch").add_to(profile)
    editor.changelog.value = "v2"
    editor.publish_button.click()
    v2 = profile.latest()
    assert [v for _label, v in view.artifacts.options] == [v2.artifact_id, v1.artifact_id]
    assert view.refreshes == 2  # one refresh per publish (a ref move and an audit event)

    view.artifacts.value = v1.artifact_id
    view.rollback_button.click()
    assert profile.latest() == v1
    assert f"latest: <code>{v1.short_id}</code>" in editor.title.value
    assert "revert" in view.audit_table.value


def test_a_widget_refreshes_once_after_its_own_action(
    ws: mo.Workspace, registry: mo.Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = ws.profile("cursor")
    registry.find("time").add_to(profile)
    view = HistoryView(profile)
    profile.draft.publish(changelog="v1")
    registry.find("fetch").add_to(profile)
    profile.draft.publish(changelog="v2")
    refreshed: list[int] = []
    real = view._refresh
    monkeypatch.setattr(view, "_refresh", lambda: (refreshed.append(view._busy), real())[1])
    view.artifacts.value = view.artifacts.options[1][1]
    view.rollback_button.click()
    assert refreshed == [0]  # once, after the rollback, never in its middle


def test_a_closed_widget_no_longer_refreshes(ws: mo.Workspace, registry: mo.Registry) -> None:
    profile = ws.profile("cursor")
    editor = DraftEditor(profile.draft)
    view = HistoryView(profile)
    before = len(ws.changes)
    editor.close()
    view.close()
    assert len(ws.changes) == before - 2  # unsubscribed
    registry.find("time").add_to(profile)
    profile.draft.publish(changelog="v1")
    assert editor.rows == {} and editor.refreshes == 0
    assert view.artifacts.options == () and view.refreshes == 0


def test_a_widget_that_is_gone_is_not_kept_by_the_signal(ws: mo.Workspace) -> None:
    class Owner:
        def __init__(self) -> None:
            self.seen: list[Change] = []

        def on(self, change: Change) -> None:
            self.seen.append(change)

    owner = Owner()
    ws.on_change(owner.on)  # a bound method: held weakly
    assert len(ws.changes) == 1
    del owner
    gc.collect()
    assert len(ws.changes) == 0
    ws.profile("cursor").draft.add_entry("local", {"command": "my-tool"})  # nothing to call


def test_other_profiles_do_not_refresh_a_widget(ws: mo.Workspace, registry: mo.Registry) -> None:
    editor = DraftEditor(ws.profile("cursor").draft)
    view = HistoryView(ws.profile("cursor"))
    registry.find("time").add_to(ws.profile("cursor", "work"))
    registry.find("time").add_to(ws.profile("vscode"))
    ws.profile("vscode").draft.publish(changelog="elsewhere")
    assert editor.refreshes == 0 and view.refreshes == 0


# ---- required inputs, and what validation says after adding ----------------------------------


def test_required_field_empty_disables_add_with_a_reason(
    ws: mo.Workspace, registry: mo.Registry, tmp_path: Path
) -> None:
    browser = CatalogBrowser(registry, client="cursor")
    assert browser.add_button.disabled  # nothing selected
    browser.results.value = "filesystem"
    assert browser.form is not None
    assert browser.add_button.disabled
    assert "fill in the required param allowed_directory" in browser.required.value
    assert browser.required in browser.add_row.children  # next to the button

    browser.form.field("allowed_directory").value = str(tmp_path)
    assert not browser.add_button.disabled
    assert browser.required.value == ""
    browser.add_button.click()
    assert ws.profile("cursor").draft.servers["filesystem"]["args"][-1] == str(tmp_path)

    browser.form.field("allowed_directory").value = "  "
    assert browser.add_button.disabled  # blank is empty


def test_save_is_disabled_while_a_required_field_is_empty(
    ws: mo.Workspace, registry: mo.Registry, tmp_path: Path
) -> None:
    profile = ws.profile("cursor")
    registry.find("filesystem").add_to(profile)  # from Python, without its directory
    editor = DraftEditor(profile.draft)
    row = editor.rows["filesystem"]
    assert row.save_button is not None and row.save_button.disabled
    assert "allowed_directory" in row.form.reason.value
    row.form.field("allowed_directory").value = str(tmp_path)
    assert not row.save_button.disabled
    row.save_button.click()
    assert "saved filesystem" in editor.rows["filesystem"].message.value


def test_an_add_that_validation_flags_is_not_shown_as_a_success(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    browser = CatalogBrowser(registry, client="cursor")
    browser.results.value = "filesystem"
    browser.add()  # what the library does with the required input missing (Add is disabled)
    assert ws.profile("cursor").draft.names == ["filesystem"]  # the library added it ...
    value = browser.message.value
    assert "added filesystem" in value and "not valid" in value  # ... and the widget says so
    assert "MCP002" in value and "allowed_directory" in value
    assert "#2e9e4f" not in value.split("</div>")[0]  # not in green
    assert browser.message.failed


# ---- feedback next to its button; a success clears an earlier error ---------------------------


def test_feedback_sits_above_the_long_diff(ws: mo.Workspace, registry: mo.Registry) -> None:
    editor = DraftEditor(ws.profile("cursor").draft)
    order = list(editor.children)
    assert order.index(editor.message) < order.index(editor.report)
    assert order.index(editor.message) < order.index(editor.preview)
    bars = [i for i, c in enumerate(order) if editor.deploy_button in getattr(c, "children", ())]
    assert bars and bars[0] < order.index(editor.message)
    view = HistoryView(ws.profile("cursor"))
    vorder = list(view.children)
    assert vorder.index(view.message) < vorder.index(view.preview)
    assert vorder.index(view.message) < vorder.index(view.history_table)
    browser = CatalogBrowser(registry)
    assert browser.message in browser.children[2].children[1].children  # in the add pane
    for b in (editor.deploy_button, editor.publish_button, view.rollback_button):
        assert b.layout.width == "auto"


def test_a_success_clears_an_earlier_error(
    ws: mo.Workspace, registry: mo.Registry, tmp_path: Path
) -> None:
    profile = ws.profile("cursor")
    registry.find("filesystem").add_to(profile)
    editor = DraftEditor(profile.draft)
    editor.publish_button.click()
    assert "InvalidConfig" in editor.message.value and editor.message.failed
    editor.rows["filesystem"].form.field("allowed_directory").value = str(tmp_path)
    editor.save("filesystem")  # the fix, in its row: the old error goes
    assert editor.message.value == ""
    editor.validate_button.click()
    assert "InvalidConfig" not in editor.message.value

    editor.rows["filesystem"].remove_button.click()
    editor.validate_button.click()
    assert editor.report.value  # a report is shown
    registry.find("time").add_to(profile)  # the draft changes: that report is stale
    assert editor.report.value == ""

    browser = CatalogBrowser(registry, client="cursor")
    browser.results.value = "time"
    browser.entry_name.value = "Bad Name!"
    browser.add_button.click()
    assert "InvalidId" in browser.message.value
    browser.entry_name.value = "time2"
    browser.add_button.click()
    assert "InvalidId" not in browser.message.value
    assert "added time2" in browser.message.value


# ---- a write that replaces hand edits asks first ---------------------------------------------


def _hand_edit(path: Path) -> None:
    data = json.loads(path.read_text())
    data["mcpServers"]["time"]["args"] = ["edited by hand"]
    path.write_text(json.dumps(data))


def test_deploy_that_would_replace_hand_edits_asks_first(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    profile = ws.profile("cursor")
    registry.find("time").add_to(profile)
    profile.draft.publish(changelog="v1").deploy()
    registry.find("fetch").add_to(profile)
    editor = DraftEditor(profile.draft)
    editor.changelog.value = "v2"
    assert editor.publish()
    path = Path(profile.config_path())
    _hand_edit(path)
    edited = path.read_text()

    editor.deploy_button.click()
    assert path.read_text() == edited  # nothing written until confirmed
    assert editor.confirm.shown
    assert "would replace hand edits to" in editor.message.value and "time" in editor.message.value
    assert "edited by hand" in editor.preview.value  # the coloured diff
    assert editor.pending is not None and editor.pending.dry_run

    editor.confirm.cancel_button.click()
    assert path.read_text() == edited and not editor.confirm.shown
    assert "nothing was written" in editor.message.value

    editor.deploy_button.click()
    editor.confirm.confirm_button.click()
    data = json.loads(path.read_text())
    assert (
        data["mcpServers"]["time"]["args"] != ["edited by hand"] and "fetch" in data["mcpServers"]
    )
    assert "replaced hand edits to time" in editor.message.value
    dep = editor.deployment
    assert dep is not None and dep.backup and dep.backup in editor.message.value
    assert not editor.confirm.shown and editor.pending is None


def test_confirming_after_another_hand_edit_shows_the_new_diff(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    profile = ws.profile("cursor")
    registry.find("time").add_to(profile)
    profile.draft.publish(changelog="v1").deploy()
    editor = DraftEditor(profile.draft)
    path = Path(profile.config_path())
    _hand_edit(path)
    editor.deploy_button.click()
    assert editor.confirm.shown
    data = json.loads(path.read_text())
    data["mcpServers"]["time"]["args"] = ["edited again"]
    path.write_text(json.dumps(data))
    editor.confirm.confirm_button.click()
    assert json.loads(path.read_text())["mcpServers"]["time"]["args"] == ["edited again"]
    assert "changed since the diff was shown" in editor.message.value
    assert "edited again" in editor.preview.value and editor.confirm.shown


def test_a_deploy_elsewhere_cancels_a_pending_confirmation(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    profile = ws.profile("cursor")
    registry.find("time").add_to(profile)
    art = profile.draft.publish(changelog="v1")
    art.deploy()
    editor = DraftEditor(profile.draft)
    _hand_edit(Path(profile.config_path()))
    editor.deploy_button.click()
    assert editor.confirm.shown
    art.deploy()  # from another cell
    assert not editor.confirm.shown and editor.pending is None
    assert "changed elsewhere" in editor.message.value


def test_rollback_and_deploy_asks_before_replacing_hand_edits(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    profile = ws.profile("cursor")
    registry.find("time").add_to(profile)
    v1 = profile.draft.publish(changelog="v1")
    registry.find("fetch").add_to(profile)
    v2 = profile.draft.publish(changelog="v2")
    v2.deploy()
    path = Path(profile.config_path())
    _hand_edit(path)
    edited = path.read_text()
    view = HistoryView(profile)
    view.artifacts.value = v1.artifact_id
    view.also_deploy.value = True

    view.rollback_button.click()
    assert path.read_text() == edited  # nothing written ...
    assert profile.latest() == v2  # ... and latest has not moved
    assert view.confirm.shown and "would replace hand edits to" in view.message.value
    assert "edited by hand" in view.preview.value

    view.confirm.cancel_button.click()
    assert profile.latest() == v2 and path.read_text() == edited
    assert "nothing was changed" in view.message.value

    view.rollback_button.click()
    view.confirm.confirm_button.click()
    assert profile.latest() == v1 and profile.deployed() == v1
    assert "fetch" not in json.loads(path.read_text())["mcpServers"]
    assert "and it is deployed" in view.message.value
    assert "replaced hand edits to time" in view.message.value
    assert "(backup" in view.message.value or "backup " in view.message.value


def test_rollback_and_deploy_without_hand_edits_goes_at_once(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    profile = ws.profile("cursor")
    registry.find("time").add_to(profile)
    v1 = profile.draft.publish(changelog="v1")
    registry.find("fetch").add_to(profile)
    profile.draft.publish(changelog="v2").deploy()
    view = HistoryView(profile)
    view.artifacts.value = v1.artifact_id
    view.also_deploy.value = True
    view.rollback_button.click()
    assert not view.confirm.shown
    assert profile.deployed() == v1
    assert "and it is deployed" in view.message.value
    assert "fetch" in view.preview.value  # the diff it wrote (fetch removed)


def test_main_buttons_carry_stable_css_classes(ws: mo.Workspace, registry: mo.Registry) -> None:
    browser = CatalogBrowser(registry)
    editor = DraftEditor(ws.profile("cursor").draft)
    view = HistoryView(ws.profile("cursor"))

    def classes(widget: Any) -> set[str]:
        return set(widget._dom_classes)

    assert "mco-add" in classes(browser.add_button)
    assert "mco-validate" in classes(editor.validate_button)
    assert "mco-publish" in classes(editor.publish_button)
    assert "mco-preview" in classes(editor.preview_button)
    assert "mco-deploy" in classes(editor.deploy_button)
    assert "mco-confirm" in classes(editor.confirm.confirm_button)
    assert "mco-cancel" in classes(editor.confirm.cancel_button)
    assert "mco-rollback" in classes(view.rollback_button)
    assert "mco-confirm" in classes(view.confirm.confirm_button)
    for widget in (browser, editor, view):
        assert "mco-message" in classes(widget.message)
    assert "mco-diff" in classes(editor.preview) and "mco-diff" in classes(view.preview)
