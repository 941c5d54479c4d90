"""The ipywidgets front end, driven headless: set values, click buttons through their handlers,
then check the workspace (drafts, artifacts, client files, audit) and what the widget displays.

Covers ``CatalogBrowser``, ``DraftEditor``, ``HistoryView``; that every button goes through one
operation (as the CLI does) and errors through the one renderer with widget field names; the
stand-ins used when ipywidgets is missing, and that ``import mcp_orch`` does not pull in
ipywidgets or polars.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mcp_orch as mo

pytest.importorskip("ipywidgets")

from mcp_orch.frontends.widgets import CatalogBrowser, DraftEditor, HistoryView

TOKEN = "demo-" + "t0k3n" * 6  # what a user types into a password field


def _files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_text(errors="replace")]


# ---- CatalogBrowser --------------------------------------------------------------------------


def test_browser_lists_the_catalog_and_search_filters_as_you_type(
    registry: mo.Registry,
) -> None:
    browser = CatalogBrowser(registry)
    assert browser.view == registry.all().ids()
    assert f"{len(registry)}</b> of {len(registry)}" in browser.count.value

    browser.search.value = "time"
    assert browser.view == registry.search("time").ids()
    assert "time" in browser.view
    assert 0 < len(browser.view) < len(registry)
    assert f"<b>{len(browser.view)}</b> of" in browser.count.value

    browser.search.value = "time zone"  # every word must match
    assert browser.view == registry.search("time zone").ids()

    browser.search.value = "no-such-server-anywhere"
    assert browser.view == []
    assert browser.selected is None
    assert "select a server" in browser.detail.value
    assert "0 of" in repr(browser)


def test_browser_transport_and_tag_filters(registry: mo.Registry) -> None:
    browser = CatalogBrowser(registry)
    browser.transport.value = "sse"
    assert browser.view and browser.view == registry.search(transport="sse").ids()
    assert all("sse" in registry.get(i).transports for i in browser.view)

    browser.transport.value = ""
    browser.tag.value = "git"
    assert browser.view == registry.search(tag="git").ids()
    assert all("git" in registry.get(i).tags for i in browser.view)
    assert "tag='git'" in repr(browser)


def test_browser_detail_pane_shows_server_and_entry_for_the_chosen_client(
    registry: mo.Registry,
) -> None:
    browser = CatalogBrowser(registry, client="cursor")
    browser.results.value = "github"
    github = registry.get("github")
    assert github.description in browser.detail.value
    assert "ghcr.io/github/github-mcp-server" in browser.detail.value  # the package
    assert "GITHUB_PERSONAL_ACCESS_TOKEN" in browser.detail.value  # the inputs
    assert "docker" in browser.entry.value  # the stdio package, rendered for Cursor

    browser.add_transport.value = "streamable-http"
    assert "api.githubcopilot.com" in browser.entry.value
    assert "mcp-remote" not in browser.entry.value  # Cursor speaks streamable HTTP

    browser.client.value = "claude-desktop"  # needs the mcp-remote bridge
    assert "mcp-remote" in browser.entry.value
    expected = github.render("claude-desktop", transport="streamable-http", target_os="linux")
    assert json.loads(_unescape_pre(browser.entry.value)) == expected


def _unescape_pre(html: str) -> str:
    from html import unescape

    return unescape(html.split(">", 1)[1].rsplit("</pre>", 1)[0])


def test_form_fields_come_from_the_server_inputs(registry: mo.Registry) -> None:
    import ipywidgets as w

    browser = CatalogBrowser(registry)
    browser.results.value = "filesystem"
    assert browser.form is not None
    field = browser.form.field("allowed_directory")
    assert isinstance(field, w.Text) and not isinstance(field, w.Password)
    assert "*" in field.description  # required

    browser.results.value = "github"
    token = browser.form.field("GITHUB_PERSONAL_ACCESS_TOKEN")
    assert isinstance(token, w.Password)
    assert "${env:GITHUB_PERSONAL_ACCESS_TOKEN}" in token.placeholder
    names = [name for _kind, name in browser.form.fields]
    assert "github_token" not in names  # an input of the remote, not of the package

    browser.add_transport.value = "streamable-http"
    assert isinstance(browser.form.field("github_token"), w.Password)

    browser.results.value = "time"
    browser.form.field("timezone").value = "Asia/Tokyo"
    assert "--local-timezone=Asia/Tokyo" in browser.entry.value  # preview follows typing


def test_add_to_draft_is_the_add_server_operation(
    registry: mo.Registry, ws: mo.Workspace, cli_env: dict[str, str], mcp_orch_cmd: list[str]
) -> None:
    browser = CatalogBrowser(registry, client="cursor")
    browser.search.value = "time"
    browser.results.value = "time"
    browser.form.field("timezone").value = "Europe/Paris"
    browser.add_button.click()

    draft = ws.profile("cursor").draft
    assert draft.names == ["time"]
    assert "--local-timezone=Europe/Paris" in draft.servers["time"]["args"]
    assert "added time to the draft of cursor/default" in browser.message.value
    assert browser.draft is not None and browser.draft.names == ["time"]
    # the draft's display is shown under the message
    assert "<b>Draft</b> cursor/default" in browser.message.value

    # the CLI's add-server makes the same entry
    subprocess.run(
        [
            *mcp_orch_cmd,
            "add-server",
            "time",
            "--client",
            "cursor",
            "--profile",
            "cli",
            "--param",
            "timezone=Europe/Paris",
        ],
        env=cli_env,
        check=True,
        capture_output=True,
    )
    assert ws.profile("cursor", "cli").draft.servers == draft.servers


def test_add_to_another_profile_with_a_name(registry: mo.Registry, ws: mo.Workspace) -> None:
    browser = CatalogBrowser(registry, client="vscode", profile="work")
    browser.results.value = "fetch"
    browser.entry_name.value = "web-fetch"
    browser.add_button.click()
    assert ws.profile("vscode", "work").draft.names == ["web-fetch"]
    assert ws.profile("vscode").draft.names == []


def test_secret_input_stores_a_reference_never_the_typed_value(
    registry: mo.Registry, ws: mo.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_PERSONAL_ACCESS_TOKEN", "before")  # restored after the test
    monkeypatch.delenv("GITHUB_PERSONAL_ACCESS_TOKEN")
    browser = CatalogBrowser(registry, client="cursor")
    browser.results.value = "github"
    token = browser.form.field("GITHUB_PERSONAL_ACCESS_TOKEN")
    token.value = TOKEN
    assert TOKEN not in browser.entry.value  # the preview shows the reference too
    browser.add_button.click()

    entry = ws.profile("cursor").draft.servers["github"]
    assert entry["env"] == {"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GITHUB_PERSONAL_ACCESS_TOKEN}"}
    assert _files_containing(ws.path, TOKEN) == []  # nowhere in the workspace
    assert TOKEN not in browser.message.value
    assert token.value == ""  # the field is cleared
    assert os.environ["GITHUB_PERSONAL_ACCESS_TOKEN"] == TOKEN  # this kernel only
    assert "kept only in this kernel" in browser.message.value

    # and it is what a deploy from this session resolves for a client without placeholders
    desktop = CatalogBrowser(registry, client="claude-desktop")
    desktop.results.value = "github"
    # the token is optional (the image can sign in with OAuth): ask for it, by reference
    desktop.form.field("GITHUB_PERSONAL_ACCESS_TOKEN").value = "${env:GITHUB_PERSONAL_ACCESS_TOKEN}"
    desktop.add_button.click()
    artifact = ws.profile("claude-desktop").draft.publish(changelog="github")
    assert TOKEN not in json.dumps(artifact.payload)
    deployment = artifact.deploy()
    assert TOKEN in Path(deployment.path).read_text()
    assert TOKEN not in deployment.diff_text  # masked in what is shown


def test_secret_typed_as_a_reference_is_kept(
    registry: mo.Registry, ws: mo.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GH_TOKEN", raising=False)
    browser = CatalogBrowser(registry, client="cursor")
    browser.results.value = "github"
    browser.form.field("GITHUB_PERSONAL_ACCESS_TOKEN").value = "${env:GH_TOKEN}"
    browser.add_button.click()
    entry = ws.profile("cursor").draft.servers["github"]
    assert entry["env"] == {"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GH_TOKEN}"}
    assert "GH_TOKEN" not in os.environ


def test_add_errors_are_shown_and_nothing_is_written(
    registry: mo.Registry, ws: mo.Workspace
) -> None:
    browser = CatalogBrowser(registry, client="cursor")
    browser.add_button.click()  # nothing selected
    assert "select a server first" in browser.message.value

    browser.results.value = "time"
    browser.entry_name.value = "Bad Name!"
    browser.add_button.click()
    assert "InvalidId" in browser.message.value
    assert "Bad Name!" in browser.message.value  # the message names it, escaped or not
    assert ws.profile("cursor").draft.names == []

    browser.entry_name.value = ""
    browser.add_button.click()
    browser.form.field("timezone").value = "Asia/Tokyo"
    browser.add_button.click()  # same name, different entry, no replace
    assert "AlreadyExists" in browser.message.value
    assert "replace" in browser.message.value  # the hint
    assert "--local-timezone=Asia/Tokyo" not in ws.profile("cursor").draft.servers["time"]["args"]

    browser.replace.value = True
    browser.add_button.click()
    assert "--local-timezone=Asia/Tokyo" in ws.profile("cursor").draft.servers["time"]["args"]


def test_browser_escapes_catalog_text(registry: mo.Registry) -> None:
    doc = json.loads(json.dumps(registry.get("time").doc))
    evil = "<script>alert('x')</script>"
    doc.update(name="io.github.example/evil", title=evil, description=evil)
    doc["_meta"] = {"io.github.mcp-orch/catalog": {"id": "evil", "tags": ["x<y>"]}}
    registry.register(doc)
    browser = CatalogBrowser(registry)
    browser.results.value = "evil"
    assert "<script>" not in browser.detail.value
    assert "&lt;script&gt;" in browser.detail.value
    assert "x&lt;y&gt;" in browser.detail.value


# ---- DraftEditor -----------------------------------------------------------------------------


@pytest.fixture
def cursor(ws: mo.Workspace, registry: mo.Registry) -> mo.Profile:
    profile = ws.profile("cursor")
    registry.find("time").add_to(profile, params={"timezone": "Europe/Paris"})
    registry.find("filesystem").add_to(profile)  # missing its directory: MCP002
    return profile


def test_editor_shows_servers_with_their_values(cursor: mo.Profile) -> None:
    editor = DraftEditor(cursor.draft)
    assert list(editor.rows) == ["time", "filesystem"]
    assert editor.rows["time"].form is not None
    assert editor.rows["time"].form.field("timezone").value == "Europe/Paris"
    assert editor.rows["filesystem"].form.field("allowed_directory").value == ""
    assert "2 servers" in editor.title.value
    assert "time, filesystem" in repr(editor)


def test_editor_save_rerenders_the_entry(cursor: mo.Profile, tmp_path: Path) -> None:
    editor = DraftEditor(cursor.draft)
    editor.rows["filesystem"].form.field("allowed_directory").value = str(tmp_path)
    editor.rows["time"].form.field("timezone").value = "Asia/Tokyo"
    editor.save("filesystem")
    assert editor.rows["time"].save_button is not None
    editor.rows["time"].save_button.click()
    servers = cursor.draft.servers
    assert servers["filesystem"]["args"][-1] == str(tmp_path)
    assert "--local-timezone=Asia/Tokyo" in servers["time"]["args"]
    assert "saved time" in editor.rows["time"].message.value  # in the row, next to Save
    # the rebuilt rows show the stored values
    assert editor.rows["filesystem"].form.field("allowed_directory").value == str(tmp_path)


def test_editor_save_keeps_a_secret_reference_when_left_empty(
    ws: mo.Workspace, registry: mo.Registry
) -> None:
    profile = ws.profile("cursor")
    registry.find("github").add_to(profile, env={"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GH}"})
    editor = DraftEditor(profile.draft)
    field = editor.rows["github"].form.field("GITHUB_PERSONAL_ACCESS_TOKEN")
    assert field.value == "" and "${env:GH}" in field.placeholder
    editor.save("github")
    assert profile.draft.servers["github"]["env"] == {"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GH}"}


def test_editor_remove_button(cursor: mo.Profile) -> None:
    editor = DraftEditor(cursor.draft)
    editor.rows["filesystem"].remove_button.click()
    assert cursor.draft.names == ["time"]
    assert list(editor.rows) == ["time"]
    assert "removed filesystem" in editor.servers_message.value  # under the server list


def test_editor_validate_shows_the_report_inline(cursor: mo.Profile) -> None:
    editor = DraftEditor(cursor.draft)
    editor.validate_button.click()
    assert "FAILED" in editor.message.value
    assert "MCP002" in editor.report.value
    assert "filesystem" in editor.report.value
    assert "fix:" in editor.report.value  # the hint
    assert editor.report.value == cursor.draft.check()._repr_html_()


def test_editor_publish_validates_then_publishes(cursor: mo.Profile, tmp_path: Path) -> None:
    editor = DraftEditor(cursor.draft)
    editor.changelog.value = "first try"
    editor.publish_button.click()
    assert "InvalidConfig" in editor.message.value
    assert "MCP002" in editor.message.value  # the report comes with the error
    assert cursor.latest() is None

    editor.rows["filesystem"].form.field("allowed_directory").value = str(tmp_path)
    editor.save("filesystem")
    editor.changelog.value = "time and files"
    editor.publish_button.click()
    latest = cursor.latest()
    assert latest is not None and latest.changelog == "time and files"
    assert editor.artifact == latest
    assert latest.artifact_id in editor.message.value
    assert "signature ok" in editor.message.value
    assert latest.short_id in editor.title.value
    assert [e["action"] for e in cursor.workspace.audit.query(action="publish")] == ["publish"]


def _published(cursor: mo.Profile, tmp_path: Path) -> DraftEditor:
    cursor.draft.remove("filesystem")
    editor = DraftEditor(cursor.draft)
    editor.changelog.value = "time"
    assert editor.publish()
    return editor


def test_preview_shows_the_diff_and_deploy_writes_at_once_without_hand_edits(
    cursor: mo.Profile, tmp_path: Path
) -> None:
    assert DraftEditor(cursor.draft).deploy_button.disabled  # nothing published yet
    editor = _published(cursor, tmp_path)
    target = Path(cursor.config_path())
    assert not editor.deploy_button.disabled  # published: deploy is possible
    latest = cursor.latest()
    assert latest is not None and editor.deploy_button.description == f"Deploy {latest.short_id}"
    assert editor.deploy_button.layout.width == "auto"  # the whole label is visible

    editor.preview_button.click()
    assert not target.exists()  # a dry run writes nothing
    assert "dry run" in editor.preview.value
    assert "&quot;time&quot;" in editor.preview.value  # the unified diff
    assert editor.deployment is not None and editor.deployment.dry_run

    editor.deploy_button.click()  # no hand edits to replace: written at once, diff shown
    data = json.loads(target.read_text())
    assert "--local-timezone=Europe/Paris" in data["mcpServers"]["time"]["args"]
    assert "deployed" in editor.message.value
    assert not editor.confirm.shown
    assert editor.deployment is not None and not editor.deployment.dry_run
    assert "&quot;time&quot;" in editor.preview.value
    deployed = cursor.deployed()
    assert deployed is not None and deployed == cursor.latest()
    assert [e["action"] for e in cursor.workspace.audit.query(action="deploy")] == ["deploy"]


def test_deploy_goes_to_the_path_given(cursor: mo.Profile, tmp_path: Path) -> None:
    editor = _published(cursor, tmp_path)
    other = tmp_path / "elsewhere" / "mcp.json"
    editor.path.value = str(other)
    editor.preview_button.click()
    assert str(other) in editor.preview.value
    editor.deploy_button.click()
    assert other.exists()
    assert not Path(cursor.config_path()).exists()


def test_deploy_conflict_is_shown_and_adopt_takes_over(cursor: mo.Profile, tmp_path: Path) -> None:
    editor = _published(cursor, tmp_path)
    target = Path(cursor.config_path())
    target.parent.mkdir(parents=True)
    original = '{"mcpServers": {"time": {"command": "my-time"}}}\n'
    target.write_text(original)

    editor.preview_button.click()
    assert "ConflictError" in editor.message.value
    editor.deploy_button.click()
    assert "ConflictError" in editor.message.value
    assert target.read_text() == original

    editor.adopt.value = True
    editor.deploy_button.click()
    assert json.loads(target.read_text())["mcpServers"]["time"]["command"] == "uvx"
    assert "ConflictError" not in editor.message.value


def test_native_entries_can_only_be_removed(ws: mo.Workspace) -> None:
    profile = ws.profile("cursor")
    profile.draft.add_entry("local", {"command": "my-tool", "args": ["--x"]})
    editor = DraftEditor(profile.draft)
    row = editor.rows["local"]
    assert row.form is None and row.save_button is None
    assert any("my-tool" in getattr(c, "value", "") for c in row.box.children)  # the entry
    assert not editor.save("local")
    assert "native entry" in row.message.value
    row.remove_button.click()
    assert profile.draft.names == []


def test_editor_keeps_list_params_set_from_python(ws: mo.Workspace, registry: mo.Registry) -> None:
    profile = ws.profile("cursor")
    dirs = ["/srv/a", "/srv/b"]
    registry.find("filesystem").add_to(profile, params={"allowed_directory": dirs})
    editor = DraftEditor(profile.draft)
    field = editor.rows["filesystem"].form.field("allowed_directory")
    assert field.disabled and json.loads(field.value) == dirs
    before = profile.draft.servers["filesystem"]
    assert editor.save("filesystem")
    assert profile.draft.servers["filesystem"] == before


def test_browser_refuses_an_unknown_client(registry: mo.Registry) -> None:
    with pytest.raises(mo.NotFound, match="unknown client"):
        CatalogBrowser(registry, client="cursr")


# ---- HistoryView -----------------------------------------------------------------------------


@pytest.fixture
def released(ws: mo.Workspace, registry: mo.Registry) -> tuple[mo.Profile, list[mo.Artifact]]:
    profile = ws.profile("cursor")
    arts = []
    for ids, note in ((["time"], "v1 <b>bold</b>"), (["time", "fetch"], "v2")):
        profile.draft.clear()
        for sid in ids:
            registry.find(sid).add_to(profile)
        art = profile.draft.publish(changelog=note)
        art.deploy()
        arts.append(art)
    return profile, arts


def _audit_display(view: HistoryView) -> str:
    """The library's own display of the events the view's filters select."""
    from mcp_orch.operations import releases

    return releases.audit_log(
        view.profile.workspace, **view._filters(), limit=view.limit
    ).events._repr_html_()


def test_history_lists_artifacts_and_audit(
    released: tuple[mo.Profile, list[mo.Artifact]],
) -> None:
    profile, (v1, v2) = released
    view = HistoryView(profile)
    assert [v for _label, v in view.artifacts.options] == [v2.artifact_id, v1.artifact_id]
    labels = [label for label, _v in view.artifacts.options]
    assert "[latest] [deployed]" in labels[0] and "[latest]" not in labels[1]
    assert v2.short_id in view.history_table.value
    assert "<b>bold</b>" not in view.history_table.value  # user text is escaped
    assert "&lt;b&gt;bold" in view.history_table.value
    assert view.audit_table.value == _audit_display(view)
    assert view.frame().height == 4


def test_history_action_and_date_filters(
    released: tuple[mo.Profile, list[mo.Artifact]],
) -> None:
    profile, _ = released
    view = HistoryView(profile)
    view.action.value = "deploy"
    assert view.audit_table.value == _audit_display(view)
    assert "publish" not in view.audit_table.value
    assert view.frame()["action"].to_list() == ["deploy", "deploy"]

    view.since.value = "2999-01-01"
    assert view.audit_table.value == _audit_display(view)
    assert view.frame().height == 0
    assert view.artifacts.options == ()
    assert view.rollback_button.disabled

    view.since.value = "1h"
    assert len(view.artifacts.options) == 2

    view.since.value = "last tuesday"
    assert "cannot read the time" in view.message.value
    assert "7d" in view.message.value  # the hint
    view.since.value = "7d"  # fixed: the error goes
    assert "cannot read the time" not in view.message.value


def test_history_rollback_button(
    released: tuple[mo.Profile, list[mo.Artifact]],
) -> None:
    profile, (v1, v2) = released
    view = HistoryView(profile)
    view.artifacts.value = v1.artifact_id
    view.rollback_button.click()
    assert profile.latest() == v1
    assert profile.deployed() == v2  # not deployed unless asked
    assert f"latest is now {v1.short_id}" in view.message.value
    assert "[latest]" in dict((v, k) for k, v in view.artifacts.options)[v1.artifact_id]
    assert "revert" in view.audit_table.value

    view.artifacts.value = v2.artifact_id
    view.also_deploy.value = True
    view.rollback_button.click()
    assert profile.latest() == v2 and profile.deployed() == v2
    assert "fetch" in json.loads(Path(profile.config_path()).read_text())["mcpServers"]
    assert "and it is deployed" in view.message.value
    actions = [e["action"] for e in profile.workspace.audit.query(client="cursor")]
    assert actions[:3] == ["deploy", "revert", "revert"]


def test_history_of_an_empty_profile(ws: mo.Workspace) -> None:
    view = HistoryView(ws.profile("cursor"))
    assert view.artifacts.options == ()
    view.rollback()
    assert "select an artifact first" in view.message.value


def test_history_tables_show_at_most_limit_rows(
    released: tuple[mo.Profile, list[mo.Artifact]],
) -> None:
    profile, (_v1, v2) = released
    view = HistoryView(profile, limit=1)
    assert [v for _label, v in view.artifacts.options] == [v2.artifact_id]
    assert view.audit_table.value == _audit_display(view)
    assert view.frame().height == 1


def test_rollback_with_deploy_notes_replaced_hand_edits(
    released: tuple[mo.Profile, list[mo.Artifact]],
) -> None:
    profile, (v1, _v2) = released
    path = Path(profile.config_path())
    data = json.loads(path.read_text())
    data["mcpServers"]["time"]["args"] = ["edited by hand"]
    path.write_text(json.dumps(data))

    view = HistoryView(profile)
    view.artifacts.value = v1.artifact_id
    view.also_deploy.value = True
    view.rollback_button.click()  # asks first (tests/test_widget_sync.py has the details)
    assert view.confirm.shown
    view.confirm.confirm_button.click()
    assert "and it is deployed" in view.message.value
    assert "replaced hand edits to time" in view.message.value  # as deploy-config says it
    assert json.loads(path.read_text())["mcpServers"]["time"]["args"] != ["edited by hand"]


def test_deploy_notes_replaced_hand_edits(cursor: mo.Profile, tmp_path: Path) -> None:
    editor = _published(cursor, tmp_path)
    editor.preview_button.click()
    editor.deploy_button.click()
    assert "replaced hand edits" not in editor.message.value
    path = Path(cursor.config_path())
    data = json.loads(path.read_text())
    data["mcpServers"]["time"]["args"] = ["edited by hand"]
    path.write_text(json.dumps(data))

    editor.deploy_button.click()  # asks first (tests/test_widget_sync.py has the details)
    assert "replaced hand edits" not in editor.message.value
    editor.confirm.confirm_button.click()
    assert "replaced hand edits to time" in editor.message.value
    assert editor.deployment is not None and editor.deployment.overwritten == ["time"]


# ---- one operation per action, one renderer of errors ----------------------------------------


def test_every_action_calls_one_operation(
    registry: mo.Registry, ws: mo.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mcp_orch.operations import catalog, drafts, releases

    calls: list[tuple[str, dict[str, object]]] = []

    def spy(module: object, name: str) -> None:
        real = getattr(module, name)

        def recorded(*args: object, **kwargs: object) -> object:
            calls.append((name, kwargs))
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, recorded)

    spy(catalog, "list_servers")
    for name in ("add_server", "remove_server", "validate_draft"):
        spy(drafts, name)
    for name in ("publish", "deploy", "rollback", "config_history", "audit_log"):
        spy(releases, name)

    def names() -> list[str]:
        out = [n for n, _kw in calls]
        calls.clear()
        return out

    browser = CatalogBrowser(registry, client="cursor")
    browser.search.value = "time"
    assert set(names()) == {"list_servers"}
    browser.results.value = "time"
    browser.add_button.click()
    assert calls[0][1]["registry"] is registry  # the browser's own catalog
    assert names() == ["add_server", "validate_draft"]  # what validate-draft says of it
    browser.search.value = "fetch"
    browser.results.value = "fetch"
    names()
    browser.add_button.click()
    assert names() == ["add_server", "validate_draft"]

    editor = DraftEditor(ws.profile("cursor").draft)
    editor.save("time")
    assert calls[0][1]["replace"] is True
    editor.rows["fetch"].remove_button.click()
    editor.validate_button.click()
    editor.publish_button.click()
    editor.preview_button.click()
    editor.deploy_button.click()
    (_, preview), (_, dry), (_, deploy) = calls[-3:]
    assert preview["dry_run"] is True and preview.get("artifact_id") is None
    assert dry["dry_run"] is True  # Deploy looks first: would it replace hand edits?
    assert deploy["artifact_id"] == ws.profile("cursor").latest().artifact_id  # the looked at
    assert not deploy.get("dry_run")
    assert names() == [
        "add_server",
        "validate_draft",  # what validate-draft says of the saved entry
        "remove_server",
        "validate_draft",
        "publish",
        "deploy",
        "deploy",
        "deploy",
    ]
    editor.close()  # (it would follow the rollback below)

    view = HistoryView(ws.profile("cursor"))
    assert names() == ["config_history", "audit_log"]
    view.artifacts.value = view.artifacts.options[0][1]
    view.also_deploy.value = True
    view.rollback_button.click()
    assert calls[0][1]["dry_run"] is True  # the deploy it would do, first
    assert calls[1][1] == {"artifact_id": view.artifacts.value, "deploy": True}
    assert names() == ["deploy", "rollback", "config_history", "audit_log"]


def test_error_hints_name_widget_fields(ws: mo.Workspace) -> None:
    editor = DraftEditor(ws.profile("cursor", "empty").draft)
    editor.publish_button.click()
    assert "NotFound" in editor.message.value
    assert "nothing to publish" in editor.message.value
    assert "(fields: profile)" in editor.message.value  # the hint's inputs, as widget fields
    assert "--profile" not in editor.message.value
    assert editor.message.value.count("mco-err") == 1  # drawn by frontends.render.error_html


def test_unexpected_errors_are_logged_and_shown_as_internal_errors(
    cursor: mo.Profile, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from mcp_orch.operations import drafts

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(drafts, "validate_draft", broken)
    editor = DraftEditor(cursor.draft)
    with caplog.at_level(logging.ERROR, logger="mcp_orch.widgets"):
        assert not editor.validate()
    assert "InternalError" in editor.message.value
    assert "disk on fire" in editor.message.value
    assert "please report it" in editor.message.value
    logged = [r for r in caplog.records if r.name == "mcp_orch.widgets"]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert logged[0].exc_info[0] is RuntimeError  # with the traceback


# ---- packaging -------------------------------------------------------------------------------


def test_without_ipywidgets_widgets_explain_how_to_install() -> None:
    code = (
        "import sys; sys.modules['ipywidgets'] = None\n"
        "import mcp_orch.frontends.widgets as w\n"
        "for cls in (w.CatalogBrowser, w.DraftEditor, w.HistoryView):\n"
        "    try:\n"
        "        cls(None)\n"
        "    except ImportError as exc:\n"
        "        print(cls.__name__, exc.name, repr(str(exc)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == ["CatalogBrowser", "DraftEditor", "HistoryView"]
    for line in lines:
        assert "ipywidgets" in line
        assert 'pip install ".[notebook]"' in line


def test_import_mcp_orch_does_not_import_ipywidgets_or_polars() -> None:
    code = (
        "import sys, mcp_orch as mo\n"
        "mo.Workspace, mo.Registry, mo.Draft\n"
        "print(sorted(m for m in ('ipywidgets', 'polars') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
