"""Issue 13 in the notebook: ``DraftEditor``'s pin controls, driven headless.

The *pin* dropdown and *pin tools* checkbox show and store the profile's settings
(``pins.settings``), *Outdated* shows ``pins.outdated``'s table, *Upgrade* runs ``pins.upgrade``
and reloads the rows, and *Publish* passes ``pin_tools=`` and shows the lock's summary. The tests
run with ``MCP_ORCH_OFFLINE=1`` (tests/conftest.py), so locks and outdated rows are unresolved;
the upgrade that changes pins answers from a stand-in for the registries (``pinning.resolve``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any

import pytest

import mcp_orch as mo

pytest.importorskip("ipywidgets")

from mcp_orch.domain.pins import PackageRef
from mcp_orch.facade import pinning
from mcp_orch.frontends.widgets import CatalogBrowser, DraftEditor
from mcp_orch.operations import pins, releases
from mcp_orch.services.pinning import Lock

OFFLINE = "offline: MCP_ORCH_OFFLINE is set"
MEMORY_PACKAGE = "@modelcontextprotocol/server-memory"


@pytest.fixture
def cursor(ws: mo.Workspace, registry: mo.Registry) -> mo.Profile:
    """A draft with two registry packages: ``time`` (PyPI) and ``memory`` (npm), pinned exactly."""
    profile = ws.profile("cursor")
    registry.find("time").add_to(profile)
    registry.find("memory").add_to(profile)
    return profile


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """Every call of the pin operations and ``releases.publish`` (then run for real)."""
    seen: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def spy(module: object, name: str) -> None:
        real: Callable[..., Any] = getattr(module, name)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            seen.append((name, args[3:], kwargs))  # after ws, client, profile
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, recorded)

    for name in ("settings", "outdated", "upgrade"):
        spy(pins, name)
    spy(releases, "publish")
    return seen


def _texts(editor: DraftEditor, name: str) -> str:
    return " ".join(getattr(c, "value", "") for c in editor.rows[name].box.children)


# ---- the pin settings ------------------------------------------------------------------------


def test_controls_show_the_stored_settings(cursor: mo.Profile, calls: list[Any]) -> None:
    editor = DraftEditor(cursor.draft)
    assert (editor.pin.value, editor.pin_tools.value) == ("exact", False)
    assert list(editor.pin.options) == ["exact", "minor", "floating"]

    cursor.configure(pin="floating", pin_tools=True)  # changed elsewhere (Python, a tool)
    assert (editor.pin.value, editor.pin_tools.value) == ("floating", True)  # shown at once
    assert DraftEditor(cursor.draft).pin.value == "floating"
    assert calls == []  # showing the settings stores nothing


def test_the_pin_dropdown_stores_the_mode_new_servers_are_written_at(
    cursor: mo.Profile, registry: mo.Registry, calls: list[Any]
) -> None:
    time_before = cursor.draft.servers["time"]
    assert time_before["args"][-1].startswith("mcp-server-time@")  # exact: name@version
    editor = DraftEditor(cursor.draft)
    editor.pin.value = "minor"
    assert calls == [("settings", (), {"pin": "minor", "pin_tools": None})]
    assert cursor.settings == {
        "pin": "minor",
        "pin_tools": False,
        "keep_backups": 20,
        "secrets": "auto",
    }
    assert "cursor/default: pin = minor, pin_tools = false" in editor.message.value
    assert "servers added from now on are written at minor" in editor.message.value

    # a server added afterwards (from the catalog browser, in the same notebook) is a range
    version = registry.get("memory").version
    cursor.draft.remove("memory")
    browser = CatalogBrowser(registry, client="cursor")
    browser.results.value = "memory"
    browser.add_button.click()
    assert "added memory" in browser.message.value
    editor.reload_button.click()
    assert editor.rows["memory"].record["entry"]["args"] == ["-y", f"{MEMORY_PACKAGE}@~{version}"]
    assert f"{MEMORY_PACKAGE}@~{version}" in _texts(editor, "memory")  # the row shows it
    assert cursor.draft.servers["time"] == time_before  # already in the draft: kept exact
    assert editor.pin.value == "minor"  # the reload did not undo it

    editor.pin.value = "floating"
    registry.find("fetch").add_to(cursor)
    editor.refresh()
    assert not any("==" in a or "@" in a for a in editor.rows["fetch"].record["entry"]["args"])


def test_the_pin_tools_checkbox_stores_the_setting(cursor: mo.Profile, calls: list[Any]) -> None:
    editor = DraftEditor(cursor.draft)
    editor.pin_tools.value = True
    assert calls == [("settings", (), {"pin": None, "pin_tools": True})]
    assert cursor.settings == {
        "pin": "exact",
        "pin_tools": True,
        "keep_backups": 20,
        "secrets": "auto",
    }
    assert "pin = exact, pin_tools = true" in editor.message.value
    editor.pin_tools.value = False
    assert cursor.settings["pin_tools"] is False


def test_a_setting_that_cannot_be_stored_is_shown_and_the_controls_go_back(
    cursor: mo.Profile,
) -> None:
    editor = DraftEditor(cursor.draft)
    data = json.loads(cursor.draft.path.read_text())
    data["settings"] = {"pin": "sometimes"}  # damaged by hand
    cursor.draft.path.write_text(json.dumps(data))
    editor.pin.value = "minor"  # does not raise
    assert "StoreCorrupt" in editor.message.value
    assert "sometimes" in editor.message.value
    assert editor.pin.value == "exact"  # what was last read, not what failed to be stored
    assert json.loads(cursor.draft.path.read_text())["settings"] == {"pin": "sometimes"}


# ---- Outdated and Upgrade --------------------------------------------------------------------


def test_outdated_shows_the_table_naming_the_servers(cursor: mo.Profile, calls: list[Any]) -> None:
    editor = DraftEditor(cursor.draft)
    editor.outdated_button.click()
    assert [c[0] for c in calls] == ["outdated"]
    report = cursor.outdated()
    assert editor.report.value == report._repr_html_()
    assert "<b>Outdated</b> cursor/default" in editor.report.value
    for name in ("time", "memory"):
        assert re.search(f"<td[^>]*>{name}</td>", editor.report.value)
    assert MEMORY_PACKAGE in editor.report.value
    assert [r.status for r in report.rows] == ["unresolved", "unresolved"]  # offline
    assert "unresolved" in editor.report.value
    assert "0 of 2 outdated" in editor.message.value
    assert f"2 unresolved (time: {OFFLINE})" in editor.message.value


def test_outdated_of_a_draft_without_packages(ws: mo.Workspace) -> None:
    profile = ws.profile("cursor")
    profile.draft.add_entry("local", {"command": "my-tool", "args": ["--x"]})
    editor = DraftEditor(profile.draft)
    editor.outdated_button.click()
    assert "no managed server runs a registry package" in editor.message.value
    assert "<b>Outdated</b>" in editor.report.value


def test_upgrade_with_nothing_resolvable_changes_nothing(
    cursor: mo.Profile, calls: list[Any]
) -> None:
    editor = DraftEditor(cursor.draft)
    before = cursor.draft.servers
    editor.outdated_button.click()
    calls.clear()
    editor.upgrade_button.click()
    assert calls == [("upgrade", (), {})]  # every outdated server, as `mcp-orch upgrade`
    assert "cursor/default: nothing to upgrade" in editor.message.value
    assert f"memory: unresolved ({OFFLINE})" in editor.message.value
    assert f"time: unresolved ({OFFLINE})" in editor.message.value
    assert editor.report.value == ""  # the outdated table shown before is stale
    assert cursor.draft.servers == before


def _registry_answers(monkeypatch: pytest.MonkeyPatch, newest: dict[str, str]) -> None:
    """Stand in for the package registries: each package resolves to the version its entry
    names (a range to its lowest version), and its newest version is ``newest[name]``
    (default: that same version)."""

    def resolve(refs: list[PackageRef], timeout: float = 10.0) -> list[Lock]:
        out = []
        for ref in refs:
            version = ref.version or (ref.spec or "").lstrip("~^") or "1.0.0"  # ~1.2.3: 1.2.3
            latest = newest.get(ref.name, version)
            out.append(
                Lock(
                    registry=ref.registry,
                    name=ref.name,
                    spec=ref.spec,
                    status="resolved",
                    version=version,
                    integrity=f"sha256:{'0' * 64}",
                    latest=latest,
                    versions=tuple(dict.fromkeys([version, latest])),
                    registry_url="http://127.0.0.1:1/",
                )
            )
        return out

    monkeypatch.delenv("MCP_ORCH_OFFLINE")
    monkeypatch.setattr(pinning, "resolve", resolve)


def test_upgrade_puts_the_newer_pins_into_the_draft_and_the_rows(
    cursor: mo.Profile, monkeypatch: pytest.MonkeyPatch, calls: list[Any]
) -> None:
    _registry_answers(monkeypatch, {MEMORY_PACKAGE: "2099.1.0"})
    old = cursor.draft.servers["memory"]["args"][-1]
    editor = DraftEditor(cursor.draft)
    editor.outdated_button.click()
    assert "1 of 2 outdated; Upgrade puts the newer pins into the draft" in editor.message.value
    assert "newer available" in editor.report.value and "2099.1.0" in editor.report.value

    editor.pin.value = "minor"  # upgrade writes at the profile's mode
    time_before = cursor.draft.servers["time"]
    calls.clear()
    editor.upgrade_button.click()
    assert [c[0] for c in calls] == ["upgrade"]
    assert "2099" not in old
    assert f"memory: {old.rsplit('@', 1)[1]} -> 2099.1.0" in unescape(editor.message.value)
    assert "1 server upgraded in the draft of cursor/default" in editor.message.value
    assert cursor.draft.servers["memory"]["args"] == ["-y", f"{MEMORY_PACKAGE}@~2099.1.0"]
    assert cursor.draft.servers["time"] == time_before
    # the rows were reloaded: the new pin shows
    assert editor.rows["memory"].record["entry"] == cursor.draft.servers["memory"]
    assert f"{MEMORY_PACKAGE}@~2099.1.0" in _texts(editor, "memory")

    editor.upgrade_button.click()  # already upgraded
    assert "nothing to upgrade" in editor.message.value


def test_outdated_and_upgrade_errors_are_shown_not_raised(
    cursor: mo.Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = DraftEditor(cursor.draft)
    cursor.draft.path.write_text("{not json")
    assert not editor.outdated()
    assert "StoreCorrupt" in editor.message.value and "damaged" in editor.message.value
    editor.upgrade_button.click()
    assert "StoreCorrupt" in editor.message.value

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("registry on fire")

    monkeypatch.setattr(pins, "upgrade", broken)
    assert not editor.upgrade()
    assert "InternalError" in editor.message.value and "registry on fire" in editor.message.value


# ---- Publish ---------------------------------------------------------------------------------


def test_publish_shows_the_lock_summary(cursor: mo.Profile, calls: list[Any]) -> None:
    editor = DraftEditor(cursor.draft)
    editor.changelog.value = "pinned"
    editor.publish_button.click()
    art = cursor.latest()
    assert art is not None and editor.artifact == art
    assert calls == [("publish", (), {"changelog": "pinned", "pin_tools": False})]
    assert {r["status"] for r in art.lock.values()} == {"unresolved"}
    assert f"published {art.artifact_id}" in editor.message.value
    assert f"lock: 0 resolved, 2 unresolved (time: {OFFLINE})" in editor.message.value
    assert "<b>Lock</b>" in editor.message.value  # and the artifact's lock table
    assert "tools pinned" not in editor.message.value and art.tools is None

    editor.publish_button.click()  # the same draft again
    assert f"unchanged (already latest): {art.artifact_id}" in editor.message.value


def test_publish_shows_a_resolved_lock(cursor: mo.Profile, monkeypatch: pytest.MonkeyPatch) -> None:
    _registry_answers(monkeypatch, {})
    editor = DraftEditor(cursor.draft)
    assert editor.publish()
    assert "lock: 2 resolved, 0 unresolved" in editor.message.value
    assert "unresolved (" not in editor.message.value


def test_publish_of_entries_without_packages(ws: mo.Workspace, tmp_path: Path) -> None:
    profile = ws.profile("cursor")
    profile.draft.add_entry("local", {"command": "my-tool", "args": ["--x"]})
    editor = DraftEditor(profile.draft)
    assert editor.publish(), editor.message.value
    assert "lock: no registry packages" in editor.message.value


def test_publish_honours_the_pin_tools_checkbox(
    ws: mo.Workspace, tmp_path: Path, calls: list[Any]
) -> None:
    profile = ws.profile("cursor")
    missing = str(tmp_path / "no-such-mcp-server")
    profile.draft.add_entry("local", {"command": missing, "args": []})
    editor = DraftEditor(profile.draft)
    editor.pin_tools.value = True  # stored, and passed to the publish
    calls.clear()
    editor.publish_button.click()
    assert calls == [("publish", (), {"changelog": "", "pin_tools": True})]
    # the probe of a server that cannot start refuses the tool pin: nothing is published
    assert "cannot pin the tools of local" in editor.message.value
    assert profile.latest() is None

    editor.pin_tools.value = False
    calls.clear()
    assert editor.publish()
    assert calls == [("publish", (), {"changelog": "", "pin_tools": False})]
    art = profile.latest()
    assert art is not None and art.tools is None
