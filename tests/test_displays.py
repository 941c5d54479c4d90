"""Notebook displays read well in light and dark themes and keep their meaning untrusted.

JupyterLab strips ``<style>`` from an untrusted notebook's output and keeps ``style``
attributes: every check on meaning is made on the HTML with its stylesheet removed.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import mcp_orch as mo
from mcp_orch.core.markup import COLOURS, STYLE, badge, diff_html, html_table, plural, safe_html
from mcp_orch.services.release.diff import compare
from mcp_orch.services.validation.report import Finding, ValidationReport

RED, GREEN, AMBER = COLOURS["error"], COLOURS["add"], COLOURS["warning"]


# -- helpers ---------------------------------------------------------------------------------
class Element:
    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag, self.attrs, self.text = tag, attrs, ""

    @property
    def style(self) -> dict[str, str]:
        out = {}
        for part in self.attrs.get("style", "").split(";"):
            if ":" in part:
                k, v = part.split(":", 1)
                out[k.strip()] = v.strip()
        return out


class Collect(HTMLParser):
    """Every element with its attributes and all the text inside it."""

    VOID = frozenset({"br", "hr", "img", "input", "meta", "link"})

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self.open: list[Element] = []
        self.style_blocks = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(el)
        if tag == "style":
            self.style_blocks += 1
        if tag not in self.VOID:
            self.open.append(el)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i].tag == tag:
                del self.open[i:]
                break

    def handle_data(self, data: str) -> None:
        for el in self.open:
            el.text += data

    def find(self, tag: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag]


def untrusted(html: str) -> str:
    """The HTML as an untrusted notebook shows it: without its ``<style>`` blocks."""
    return re.sub(r"<style>.*?</style>", "", html, flags=re.S)


def parse(html: str) -> Collect:
    p = Collect()
    p.feed(html)
    p.close()
    return p


def visible_text(html: str) -> str:
    p = parse(untrusted(html))
    return " ".join(p.elements[0].text.split()) if p.elements else ""


def check_theme_and_cells(html: str) -> Collect:
    """The stylesheet follows the theme; without it every cell is still left-aligned and
    bordered by its own style attribute."""
    assert "var(--jp-ui-font-color1" in html and "var(--jp-layout-color2" in html
    page = parse(untrusted(html))
    assert page.style_blocks == 0
    cells = page.find("td") + page.find("th")
    for cell in cells:
        assert cell.style.get("text-align") == "left", cell.attrs
        assert "border" in cell.style, cell.attrs
    return page


def coloured(page: Collect, colour: str) -> list[str]:
    """The texts of elements whose own style gives them ``colour``."""
    return [" ".join(e.text.split()) for e in page.elements if e.style.get("color") == colour]


def lum(hex_colour: str) -> float:
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def specificity(selector: str) -> tuple[int, int, int]:
    """(ids, classes/attributes/pseudo-classes, types) of a simple CSS selector; ``:not(x)``
    counts as ``x``."""
    selector = re.sub(r":not\(([^)]*)\)", r" \1", selector)
    ids = len(re.findall(r"#[\w-]+", selector))
    classes = len(re.findall(r"\.[\w-]+|\[[^]]*\]|:(?!:)[\w-]+", selector))
    types = len(re.findall(r"(?:^|[\s>+~])([a-z][\w-]*)", selector))
    return ids, classes, types


# -- fixtures --------------------------------------------------------------------------------
@pytest.fixture
def cursor(ws: mo.Workspace) -> mo.Profile:
    return ws.profile("cursor")


@pytest.fixture
def released(cursor: mo.Profile, registry: mo.Registry) -> mo.Deployment:
    """time published and deployed, then fetch added, published and deployed."""
    cursor.draft.add(registry.get("time"))
    cursor.publish(changelog="time").deploy()
    cursor.draft.add(registry.get("fetch"))
    return cursor.publish(changelog="fetch").deploy()


# -- the stylesheet --------------------------------------------------------------------------
def test_stylesheet_follows_the_theme_with_fallbacks_for_other_notebooks() -> None:
    for variable in ("--jp-layout-color2", "--jp-ui-font-color1", "--jp-border-color2"):
        assert f"var({variable}," in STYLE
    # VS Code's variables next, then values that work on any background (Colab, classic)
    assert "--vscode-editor-foreground" in STYLE and "inherit" in STYLE
    assert "rgba(127,127,127,.15)" in STYLE
    # no fixed light header any more (white text on it in a dark theme)
    assert "#f4f4f4" not in STYLE and "#ddd" not in STYLE


def test_cell_alignment_outranks_jupyterlab_right_alignment() -> None:
    jupyterlab = specificity(":not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td")
    rules = re.findall(r"([^{}]+)\{([^}]*)\}", STYLE.removeprefix("<style>"))
    left = [
        sel.strip()
        for sels, body in rules
        if "text-align:left" in body
        for sel in sels.split(",")
        if sel.strip().endswith("td")
    ]
    assert left and all(specificity(sel) > jupyterlab for sel in left)


@pytest.mark.parametrize("name", ["error", "warning", "ok", "suggestion", "add", "del", "mod"])
def test_colours_read_on_light_and_dark_backgrounds(name: str) -> None:
    assert contrast(COLOURS[name], "#ffffff") >= 3
    assert contrast(COLOURS[name], "#111111") >= 3


def test_helpers() -> None:
    assert (plural(1, "server"), plural(2, "server"), plural(0, "entry", "entries")) == (
        "1 server",
        "2 servers",
        "0 entries",
    )
    page = parse(badge("error"))
    assert page.elements[0].style["color"] == RED and page.elements[0].text == "✗ error"
    assert parse(badge("warning")).elements[0].text.startswith("⚠")
    assert parse(badge("ok")).elements[0].text.startswith("✓")
    # cells are escaped; a badge is markup
    table = html_table(["a", "b"], [("<b>x</b>", badge("error", "bad"))])
    cells = parse(untrusted(table)).find("td")
    assert cells[0].text == "<b>x</b>" and coloured(parse(table), RED) == ["✗ bad"]
    assert diff_html("") == ""
    assert "… 5 more lines" in visible_text(
        diff_html("\n".join(f"+{i}" for i in range(15)), limit=10)
    )


def test_a_failing_display_shows_an_escaped_repr(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> str:
        raise RuntimeError("boom")

    assert safe_html(broken, "<obj>") == "<pre>&#x27;&lt;obj&gt;&#x27;</pre>"
    assert "HTML display of str failed" in caplog.text


# -- displays --------------------------------------------------------------------------------
def test_deployment_diff_lines_carry_colour_and_symbol(released: mo.Deployment) -> None:
    html = released._repr_html_()
    check_theme_and_cells(html)
    page = parse(untrusted(html))
    added = coloured(page, GREEN)
    assert any(line.startswith('+ "fetch"') or line.startswith('+    "fetch"') for line in added)
    assert all(line.startswith("+") for line in added)
    lines = [e for e in page.find("span") if e.style.get("color") == GREEN]
    assert all("background-color" in e.style for e in lines)  # a tint, not only a colour
    pre = page.find("pre")[0]
    assert pre.style.get("text-align") == "left"
    assert "2 managed servers: fetch, time" in visible_text(html)


def test_removed_lines_are_red(cursor: mo.Profile, released: mo.Deployment) -> None:
    cursor.draft.remove("fetch")
    html = cursor.publish(changelog="no fetch").deploy()._repr_html_()
    removed = coloured(parse(untrusted(html)), RED)
    assert removed and all(line.startswith("-") for line in removed)
    assert any('"fetch"' in line for line in removed)


def test_artifact_diff_is_coloured(cursor: mo.Profile, released: mo.Deployment) -> None:
    history = list(cursor.history())  # newest first
    newer, older = history[0], history[-1]
    html = compare(older, newer)._repr_html_()
    page = check_theme_and_cells(html)
    assert coloured(page, GREEN) == ["+ fetch"]
    assert "1 server added, 0 removed, 0 modified" in visible_text(html)
    back = compare(newer, older)._repr_html_()
    assert coloured(parse(untrusted(back)), RED) == ["- fetch"]


def test_drift_lines_are_coloured(cursor: mo.Profile, released: mo.Deployment) -> None:
    clean = parse(untrusted(cursor.drift()._repr_html_()))
    assert coloured(clean, GREEN) == ["✓ clean"]
    path = Path(released.path)
    data = json.loads(path.read_text())
    data["mcpServers"]["time"]["args"].append("--edited")
    del data["mcpServers"]["fetch"]
    data["mcpServers"]["by-hand"] = {"command": "hand"}
    path.write_text(json.dumps(data, indent=2))
    html = cursor.drift()._repr_html_()
    page = parse(untrusted(html))
    assert coloured(page, AMBER)[0] == "⚠ drifted"
    assert any(t.startswith("~ time: edited args") for t in coloured(page, AMBER))
    assert coloured(page, RED) == ["- fetch: removed by hand"]
    assert coloured(page, GREEN) == ["+ by-hand: added by hand (not managed)"]


def test_validation_severities_survive_without_the_stylesheet() -> None:
    findings = [
        Finding("MCP001", "r1", "error", "time", "bad command", "fix it"),
        Finding("MCP006", "r6", "warning", "time", "not on PATH", "install it"),
        Finding("MCP020", "r20", "suggestion", "", "consider", "maybe"),
    ]
    html = ValidationReport(findings, client="cursor")._repr_html_()
    page = parse(untrusted(html))
    assert coloured(page, RED)[:2] == ["✗ FAILED", "✗ error"]
    assert coloured(page, AMBER) == ["⚠ warning"]
    assert coloured(page, COLOURS["suggestion"]) == ["ℹ suggestion"]
    assert "1 error, 1 warning, 1 suggestion" in visible_text(html)
    ok = ValidationReport([], client="cursor")._repr_html_()
    assert coloured(parse(untrusted(ok)), GREEN) == ["✓ ok"]
    assert "0 errors, 0 warnings, 0 suggestions" in visible_text(ok)


def test_plurals_in_displays(ws: mo.Workspace, registry: mo.Registry, cursor: mo.Profile) -> None:
    one = registry.search("time")[:1]
    view = type(registry.all())(one)
    assert repr(view).startswith("<CatalogView 1 server: ")
    assert "1 server" in visible_text(view._repr_html_())
    assert "1 servers" not in visible_text(view._repr_html_())
    cursor.draft.add(registry.get("time"))
    assert repr(cursor.draft) == "<Draft cursor/default: 1 server>"
    cursor.draft.add(registry.get("fetch"))
    assert repr(cursor.draft) == "<Draft cursor/default: 2 servers>"
    cursor.publish(changelog="one")
    assert repr(cursor.history()) == "<History cursor/default: 1 artifact>"
    events = ws.audit.query()
    assert repr(events) == f"<AuditView {plural(len(events), 'event')}>"
    assert repr(type(events)(list(events)[:1])) == "<AuditView 1 event>"


def test_registry_display(registry: mo.Registry) -> None:
    text = repr(registry)
    assert "object at 0x" not in text
    assert re.fullmatch(
        rf"<Registry .+: {len(registry)} servers \(bundled {len(registry)}\)>", text
    )
    html = registry._repr_html_()
    page = check_theme_and_cells(html)
    rows = [[c.text for c in row] for row in _rows(page)]
    assert ["bundled", str(len(registry)), str(len(registry)), "0"] in rows
    assert f"… {len(registry) - 20} more (showing 20 of {len(registry)})" in visible_text(html)


def _rows(page: Collect) -> list[list[Element]]:
    """The cells of each table row, in order (rows of every table on the page)."""
    out: list[list[Element]] = []
    for el in page.elements:
        if el.tag == "tr":
            out.append([])
        elif el.tag == "td" and out:
            out[-1].append(el)
    return [r for r in out if r]


def test_audit_log_keyring_store_workspace_displays(
    ws: mo.Workspace, cursor: mo.Profile, released: mo.Deployment
) -> None:
    for obj in (ws.audit, ws.keys, ws.store, ws):
        assert "object at 0x" not in repr(obj)
        check_theme_and_cells(obj._repr_html_())
    events = list(ws.audit.events())
    assert repr(ws.audit).endswith(f": {len(events)} events>")
    audit = visible_text(ws.audit._repr_html_())
    assert f"{len(events)} events · head {events[-1]['hash'][:19]}" in audit
    key = ws.keys.current_key_id()
    assert repr(ws.keys).endswith(f"signing key {key}>")
    keys = parse(untrusted(ws.keys._repr_html_()))
    assert coloured(keys, GREEN) == ["✓ current"]
    assert repr(ws.store).endswith(": 2 artifacts>")
    store_rows = [[c.text for c in row] for row in _rows(parse(ws.store._repr_html_()))]
    latest = cursor.latest().short_id
    assert store_rows == [["cursor/default", "2", latest, latest]]
    ws_rows = [[c.text for c in row] for row in _rows(parse(ws._repr_html_()))]
    assert ws_rows == [["cursor/default", "2 servers", latest, latest]]


def test_a_key_event_says_which_key(ws: mo.Workspace, cursor: mo.Profile) -> None:
    key = ws.keys.init()
    ws.tokens.create("ci")
    for html in (ws.audit.query()._repr_html_(), ws.audit._repr_html_()):
        about = [row[3].text for row in _rows(parse(html))]
        assert f"key init {key}" in about
        assert "token create ci" in about
        assert "/" not in about and "" not in about


def test_damaged_audit_head_still_displays(ws: mo.Workspace) -> None:
    ws.audit.append("key", details={"event": "init", "key_id": "x"})
    ws.audit.head_path.write_text("{not json")
    assert repr(ws.audit).endswith(": head damaged>")
    assert ws.audit._repr_html_().startswith("<pre>&lt;AuditLog ")


def test_verify_result_is_a_display_and_still_a_mapping(
    ws: mo.Workspace, released: mo.Deployment
) -> None:
    report = ws.verify()
    assert report["ok"] is True and report["artifacts"] == 2
    assert dict(report) == report.to_dict() and report == report.to_dict()
    assert set(report) == {
        "ok",
        "artifacts",
        "events",
        "verified_before",
        "problems",
        "repaired",
        "notes",
    }
    assert "object at 0x" not in repr(report)
    assert repr(report).startswith("<VerifyReport ok: 2 artifacts verified, ")
    assert repr(report).endswith(", 0 problems>")
    html = report._repr_html_()
    assert coloured(parse(untrusted(html)), GREEN) == ["✓ ok"]
    # a problem shows in red with its symbol
    (ws.path / "deployments" / "cursor" / "default.json").write_text("{}")
    bad = ws.verify()
    assert bad["ok"] is False
    red = coloured(parse(untrusted(bad._repr_html_())), RED)
    assert red[0] == "✗ PROBLEMS" and all(t.startswith("✗ ") for t in red)
    assert len(red) == 1 + len(bad["problems"])


def test_every_other_display_follows_the_theme(
    ws: mo.Workspace, registry: mo.Registry, cursor: mo.Profile, released: mo.Deployment
) -> None:
    latest = cursor.latest()
    shown = {
        "server": registry.get("time"),
        "catalog": registry.search("time"),
        "draft": cursor.draft,
        "artifact": latest,
        "history": cursor.history(),
        "detection": ws.detect(),
        "outdated": cursor.outdated(),
    }
    for name, obj in shown.items():
        html = obj._repr_html_()
        assert "object at 0x" not in html, name
        check_theme_and_cells(html)
    assert coloured(parse(untrusted(latest._repr_html_())), GREEN) == ["✓ signature ok"]
    installed = coloured(parse(untrusted(ws.detect()._repr_html_())), GREEN)
    assert installed and set(installed) == {"✓ installed"}  # cursor's file was deployed
    error = mo.UsageError("no such thing", "try another")._repr_html_()
    assert coloured(parse(error), RED) == ["✗ UsageError"]
